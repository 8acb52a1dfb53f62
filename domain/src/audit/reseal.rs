//! The one-time sealing of entries written before personal data was sealed (CON-COMP-001).
//!
//! At start-up, under the chain head's lock (so appends wait, and a second instance finds
//! the work done), every entry's plaintext personal values are sealed as a new entry's
//! would be, and the chain is linked again from the first changed entry: each hash is
//! computed by `audit_entry_hash`, as for an append. The checkpoints signed before cover
//! hashes that no longer exist; they move to `audit_checkpoints_superseded` (kept, not
//! checked), the caller signs a new one, and `audit.personal_data.sealed` records the old and
//! new head hashes. Verification passes on the re-linked chain; exports downloaded before
//! still verify on their own, since each carries its rows and its signed note.

use super::personal;
use super::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::DomainError;
use anyhow::Context as _;
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Entries read per page while sealing.
const PAGE: i64 = 2_000;

/// What the sealing did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResealReport {
    pub entries: i64,
    pub sealed: i64,
    pub checkpoints_superseded: i64,
}

/// Seals the trail's older entries once; `None` when that was done before.
pub async fn seal_existing_entries(pool: &PgPool) -> Result<Option<ResealReport>, DomainError> {
    let mut tx = pool.begin().await?;
    let (head_seq, old_head): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, hash FROM audit_chain_head WHERE singleton FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    let done: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM audit_reseal)")
        .fetch_one(&mut *tx)
        .await?;
    if done {
        tx.commit().await?;
        return Ok(None);
    }
    sqlx::query("SET LOCAL gatehouse.audit_reseal = 'on'")
        .execute(&mut *tx)
        .await?;
    let mut entries = 0i64;
    let mut sealed = 0i64;
    let mut first_changed: Option<i64> = None;
    let mut after = 0i64;
    let mut changed_resource = false;
    loop {
        let rows = sqlx::query(
            "SELECT seq, recorded_at, actor_type, actor_id, resource, source, application_id, metadata
               FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
        )
        .bind(after)
        .bind(head_seq)
        .bind(PAGE)
        .fetch_all(&mut *tx)
        .await
        .context("reading entries to seal")?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("seq").context("seq")?;
        for row in rows {
            entries += 1;
            let seq: i64 = row.try_get("seq").context("seq")?;
            let metadata: Value = row.try_get("metadata").context("metadata")?;
            let Value::Object(map) = metadata.clone() else {
                continue;
            };
            let source: String = row.try_get("source").context("source")?;
            let (map, ip) = if source == "application" {
                let app: Option<Uuid> = row.try_get("application_id").context("application")?;
                let mut map = map;
                let ip = personal::seal_event(&mut tx, app.unwrap_or_default(), &mut map).await?;
                (map, ip)
            } else {
                let actor_type: String = row.try_get("actor_type").context("actor_type")?;
                let mut entry = AuditEntry::new("reseal").actor(
                    match actor_type.as_str() {
                        "user" => ActorType::User,
                        "operator" => ActorType::Operator,
                        "application" => ActorType::Application,
                        _ => ActorType::System,
                    },
                    row.try_get("actor_id").context("actor_id")?,
                );
                let resource: Option<String> = row.try_get("resource").context("resource")?;
                entry.resource = resource.clone();
                entry.metadata = map;
                let ip = personal::seal_entry(&mut tx, &mut entry).await?;
                if entry.resource != resource {
                    sqlx::query(
                        "UPDATE audit_log SET resource = $3 WHERE seq = $1 AND recorded_at = $2",
                    )
                    .bind(seq)
                    .bind(
                        row.try_get::<time::OffsetDateTime, _>("recorded_at")
                            .context("recorded_at")?,
                    )
                    .bind(&entry.resource)
                    .execute(&mut *tx)
                    .await
                    .context("naming an address by its reference")?;
                    first_changed.get_or_insert(seq);
                    sealed += 1;
                    changed_resource = true;
                }
                (entry.metadata, ip)
            };
            let recorded_at: time::OffsetDateTime =
                row.try_get("recorded_at").context("recorded_at")?;
            if let (Some(ip_ref), Some(subject)) = (ip.ip_ref, ip.subject) {
                sqlx::query(
                    "INSERT INTO audit_ip_refs (ip_ref, seq, recorded_at, subject)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(ip_ref)
                .bind(seq)
                .bind(recorded_at)
                .bind(subject)
                .execute(&mut *tx)
                .await?;
            }
            let map = Value::Object(map);
            if map != metadata {
                if !std::mem::take(&mut changed_resource) {
                    sealed += 1;
                }
                first_changed.get_or_insert(seq);
                sqlx::query(
                    "UPDATE audit_log SET metadata = $3 WHERE seq = $1 AND recorded_at = $2",
                )
                .bind(seq)
                .bind(recorded_at)
                .bind(map)
                .execute(&mut *tx)
                .await
                .context("sealing an entry")?;
            }
        }
    }
    let mut superseded = 0;
    if let Some(from) = first_changed {
        // Link the chain again from the first changed entry, as the appends hashed it.
        sqlx::query("SELECT set_config('gatehouse.reseal_from', $1, true)")
            .bind(from.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DO $$
             DECLARE r record; prev bytea; h bytea;
             BEGIN
                 SELECT l.prev_hash INTO prev FROM audit_log l
                  WHERE l.seq = current_setting('gatehouse.reseal_from')::bigint;
                 FOR r IN SELECT * FROM audit_log
                           WHERE seq >= current_setting('gatehouse.reseal_from')::bigint ORDER BY seq LOOP
                     h := audit_entry_hash(prev, r.seq, r.id, r.recorded_at, r.occurred_at, r.tenant_id,
                                           r.actor_id, r.actor_type, r.action, r.resource, r.outcome,
                                           r.metadata, r.request_id, r.source, r.application_id);
                     UPDATE audit_log SET prev_hash = prev, hash = h
                      WHERE seq = r.seq AND recorded_at = r.recorded_at;
                     prev := h;
                 END LOOP;
                 UPDATE audit_chain_head SET hash = prev WHERE singleton;
             END $$",
        )
        .execute(&mut *tx)
        .await
        .context("linking the chain again")?;
        superseded = sqlx::query(
            "WITH moved AS (DELETE FROM audit_checkpoints RETURNING *)
             INSERT INTO audit_checkpoints_superseded SELECT * FROM moved",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
    }
    let new_head: Vec<u8> = sqlx::query_scalar("SELECT hash FROM audit_chain_head WHERE singleton")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO audit_reseal (done_at, entries, sealed, old_head_hash, new_head_hash)
         VALUES (now(), $1, $2, $3, $4)",
    )
    .bind(entries)
    .bind(sealed)
    .bind(&old_head)
    .bind(&new_head)
    .execute(&mut *tx)
    .await?;
    sqlx::query("SET LOCAL gatehouse.audit_reseal = 'off'")
        .execute(&mut *tx)
        .await?;
    if sealed > 0 {
        append_audit_entry(
            &mut tx,
            &RequestContext::default(),
            AuditEntry::new("audit.personal_data.sealed")
                .meta("entries", entries)
                .meta("sealed", sealed)
                .meta("first_seq", first_changed.unwrap_or_default())
                .meta("old_head_hash", hex::encode(&old_head))
                .meta("new_head_hash", hex::encode(&new_head))
                .meta("checkpoints_superseded", superseded),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(ResealReport {
        entries,
        sealed,
        checkpoints_superseded: superseded,
    }))
}
