//! The audit trail (FR-LOG-003, DAT-LOG, CON-SEC-002).
//!
//! `append_audit_entry` writes inside the caller's transaction, so the entry commits or
//! rolls back with the change it records. It locks the chain head row until that
//! transaction ends: appends are serialised and the hash chain can never fork. The append
//! is the database function `audit_append` (migration 0013), so a statement can write its
//! entry itself; the hash is computed by `audit_entry_hash` (migration 0005), which
//! verification uses as well.

mod checkpoints;
mod events;
mod export;
pub(crate) mod ingest;
pub mod personal;
mod reseal;
mod retention;
mod search;
mod tenant_log;
mod verification;
pub use checkpoints::*;
pub use events::{event_body, EventType, SubscribableEventType, EVENTS_CHANNEL};
pub use export::*;
pub use ingest::*;
pub use reseal::*;
pub use retention::*;
pub use search::*;
pub use tenant_log::*;
pub use verification::*;

use crate::permissions::Actor;
use crate::DomainError;
use anyhow::Context as _;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{PgConnection, PgPool, Row};
use std::net::IpAddr;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorType {
    User,
    Operator,
    System,
    Application,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::Operator => "operator",
            ActorType::System => "system",
            ActorType::Application => "application",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

/// Where a request came from; recorded in every audit entry's metadata.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: Option<String>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// The audit actor for an operation started by `actor`, or by the system (`None`).
pub fn actor_of(actor: Option<&Actor>) -> (ActorType, Option<Uuid>) {
    match actor {
        Some(a) if a.role.is_platform() => (ActorType::Operator, Some(a.user_id)),
        Some(a) => (ActorType::User, Some(a.user_id)),
        None => (ActorType::System, None),
    }
}

/// One entry to append. Build with [`AuditEntry::new`] and the chained setters.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: String,
    pub tenant_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub actor_type: ActorType,
    pub resource: Option<String>,
    pub outcome: Outcome,
    pub metadata: Map<String, Value>,
    pub occurred_at: Option<OffsetDateTime>,
}

/// Metadata keys that could carry a secret; their values are never stored.
const SECRET_MARKERS: &[&str] = &[
    "password",
    "secret",
    "token",
    "seed",
    "cookie",
    "session_id",
];

impl AuditEntry {
    /// `action` is dotted lowercase, e.g. `tenant.create`, `auth.login.failure`.
    pub fn new(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            tenant_id: None,
            actor_id: None,
            actor_type: ActorType::System,
            resource: None,
            outcome: Outcome::Success,
            metadata: Map::new(),
            occurred_at: None,
        }
    }

    pub fn tenant(mut self, tenant_id: Option<Uuid>) -> Self {
        self.tenant_id = tenant_id;
        self
    }

    pub fn actor(mut self, actor_type: ActorType, actor_id: Option<Uuid>) -> Self {
        self.actor_type = actor_type;
        self.actor_id = actor_id;
        self
    }

    /// The actor of an operation started by `actor`, or by the system (`None`: CLI, demo,
    /// background work).
    pub fn by(self, actor: Option<&Actor>) -> Self {
        let (actor_type, actor_id) = actor_of(actor);
        self.actor(actor_type, actor_id)
    }

    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    pub fn failure(mut self) -> Self {
        self.outcome = Outcome::Failure;
        self
    }

    /// Adds a metadata value. Keys that look like secrets are stored as "[redacted]".
    pub fn meta(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.metadata
            .insert(key.to_owned(), redacted(key, value.into()));
        self
    }
}

/// `value`, or "[redacted]" when `key` looks like it names a secret.
pub(crate) fn redacted(key: &str, value: Value) -> Value {
    let lower = key.to_ascii_lowercase();
    if SECRET_MARKERS.iter().any(|m| lower.contains(m)) {
        Value::String("[redacted]".into())
    } else {
        value
    }
}

/// The stored position of an appended entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendedEntry {
    pub id: Uuid,
    pub seq: i64,
    pub hash: Vec<u8>,
}

/// Appends `entry` to the audit trail inside the caller's transaction.
#[tracing::instrument(skip_all, fields(action = %entry.action))]
pub async fn append_audit_entry(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    entry: AuditEntry,
) -> Result<AppendedEntry, DomainError> {
    let published = events::publication(&entry).map(|p| (entry.tenant_id, p));
    let args = AuditArgs::sealed(conn, ctx, entry).await?;
    let id = args.id;
    let row = args
        .bind(sqlx::query(
            "SELECT out_seq AS seq, out_hash AS hash
             FROM audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        ))
        .fetch_one(&mut *conn)
        .await
        .context("appending the audit entry")?;
    if let Some((tenant_id, (event, data))) = published {
        events::publish(conn, tenant_id, event, data).await?;
    }
    Ok(AppendedEntry {
        id,
        seq: row.try_get("seq").context("audit seq")?,
        hash: row.try_get("hash").context("audit hash")?,
    })
}

/// The twelve arguments of the database function `audit_append` (migration 0027), for a
/// statement that appends its entry itself (`audit_append($n, ..., $n+11)`), such as the
/// one-statement sign-in. The request's IP and user agent join the metadata here, and the
/// personal values are sealed under their subjects' keys (CON-COMP-001).
pub(crate) struct AuditArgs {
    pub(crate) id: Uuid,
    entry: AuditEntry,
    request_id: Option<String>,
    ip: personal::IpRef,
}

impl AuditArgs {
    pub(crate) async fn sealed(
        conn: &mut PgConnection,
        ctx: &RequestContext,
        mut entry: AuditEntry,
    ) -> Result<Self, DomainError> {
        if let Some(ip) = ctx.ip {
            entry
                .metadata
                .entry("ip")
                .or_insert_with(|| Value::String(ip.to_string()));
        }
        if let Some(ua) = &ctx.user_agent {
            let ua: String = ua.chars().take(300).collect();
            entry
                .metadata
                .entry("user_agent")
                .or_insert(Value::String(ua));
        }
        let ip = personal::seal_entry(conn, &mut entry).await?;
        Ok(Self {
            id: Uuid::now_v7(),
            entry,
            request_id: ctx.request_id.clone(),
            ip,
        })
    }

    /// Binds the twelve arguments, in order, after whatever `query` has bound already.
    pub(crate) fn bind<'q>(
        self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        let e = self.entry;
        query
            .bind(self.id)
            .bind(e.occurred_at)
            .bind(e.tenant_id)
            .bind(e.actor_id)
            .bind(e.actor_type.as_str())
            .bind(e.action)
            .bind(e.resource)
            .bind(match e.outcome {
                Outcome::Success => "success",
                Outcome::Failure => "failure",
            })
            .bind(Value::Object(e.metadata))
            .bind(self.request_id)
            .bind(self.ip.ip_ref)
            .bind(self.ip.subject)
    }
}

/// The result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub entries: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The first problem found, if any: a changed entry, a gap, or a broken link.
    pub problem: Option<String>,
    /// The position of the first broken entry.
    pub broken_seq: Option<i64>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }

    fn broken(&mut self, seq: i64, problem: String) {
        if self.problem.is_none() {
            self.problem = Some(problem);
            self.broken_seq = Some(seq);
        }
    }
}

/// Walks the audit trail in order, streaming (constant memory), and checks every link
/// (FR-LOG-001 tamper evidence): each entry's hash against its fields, each link to its
/// predecessor, the first entry against the chain's recorded start (so removing the oldest
/// entries is seen; retention moves the start when it drops a partition) and the last
/// against the head.
pub async fn verify_audit_chain(pool: &PgPool) -> Result<ChainReport, DomainError> {
    verify_audit_chain_with(pool, |_| {}).await
}

/// [`verify_audit_chain`], calling `progress` with the entries checked so far every
/// 10,000 entries.
pub async fn verify_audit_chain_with(
    pool: &PgPool,
    mut progress: impl FnMut(u64),
) -> Result<ChainReport, DomainError> {
    use futures_util::TryStreamExt;
    let mut report = ChainReport {
        entries: 0,
        first_seq: None,
        last_seq: None,
        problem: None,
        broken_seq: None,
    };
    let (start_seq, start_prev): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, prev_hash FROM audit_chain_start WHERE singleton")
            .fetch_one(pool)
            .await?;
    let mut rows = sqlx::query(
        r#"SELECT seq, prev_hash, hash,
                  audit_entry_hash(prev_hash, seq, id, recorded_at, occurred_at, tenant_id, actor_id,
                                   actor_type, action, resource, outcome, metadata, request_id, source,
                                   application_id) AS expected
           FROM audit_log ORDER BY seq"#,
    )
    .fetch(pool);
    let mut previous: Option<(i64, Vec<u8>)> = Some((start_seq - 1, start_prev));
    while let Some(row) = rows.try_next().await? {
        let seq: i64 = row.try_get("seq").context("seq")?;
        let prev_hash: Vec<u8> = row.try_get("prev_hash").context("prev_hash")?;
        let hash: Vec<u8> = row.try_get("hash").context("hash")?;
        let expected: Vec<u8> = row.try_get("expected").context("expected")?;
        report.entries += 1;
        if report.entries.is_multiple_of(10_000) {
            progress(report.entries);
        }
        report.first_seq.get_or_insert(seq);
        report.last_seq = Some(seq);
        if expected != hash {
            report.broken(seq, format!("entry {seq} was changed after it was written"));
        } else if let Some((prev_seq, prev_entry_hash)) = &previous {
            if seq != prev_seq + 1 {
                report.broken(
                    seq,
                    if seq > prev_seq + 1 {
                        format!("entries {} to {} are missing", prev_seq + 1, seq - 1)
                    } else {
                        format!("entry {seq} comes before the chain's start")
                    },
                );
            } else if &prev_hash != prev_entry_hash {
                report.broken(
                    seq,
                    format!("entry {seq} does not link to entry {prev_seq}"),
                );
            }
        }
        previous = Some((seq, hash));
    }
    progress(report.entries);
    if report.problem.is_none() {
        let head = sqlx::query("SELECT seq, hash FROM audit_chain_head WHERE singleton")
            .fetch_one(pool)
            .await?;
        let head_seq: i64 = head.try_get("seq").context("head seq")?;
        let head_hash: Vec<u8> = head.try_get("hash").context("head hash")?;
        match &previous {
            Some((seq, hash)) if *seq != head_seq || (report.entries > 0 && *hash != head_hash) => {
                report.broken(
                    seq + 1,
                    format!(
                        "the chain ends at {seq} but its head says {head_seq}: entries were removed"
                    ),
                );
            }
            _ => {}
        }
    }
    Ok(report)
}

/// Makes sure the monthly partitions for this month and the next three exist.
pub async fn ensure_audit_partitions(pool: &PgPool) -> Result<(), DomainError> {
    sqlx::query(
        "SELECT audit_log_ensure_partition(now() + make_interval(months => m))
           FROM generate_series(0, 3) AS m",
    )
    .execute(pool)
    .await?;
    Ok(())
}
