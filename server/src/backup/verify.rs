//! `verify`: a backup restored into a scratch database made for it, its counts compared
//! with the manifest, the copy's audit chain, head and checkpoints verified, the scratch
//! database dropped, and the result recorded.

use super::archive::Manifest;
use super::postgres;
use super::restore::{
    check, compare, fetch, identity_opens, restore_into, CountMismatch, Fetched, Which,
};
use super::runs::{self, Outcome, RunKind, Trigger};
use super::{BackupError, Destinations, Identity};
use secrecy::SecretString;
use serde::Serialize;
use sqlx::PgPool;
use std::path::Path;
use std::time::Instant;
use time::OffsetDateTime;

/// The audit trail of a restored copy.
#[derive(Debug, Clone, Serialize)]
pub struct AuditCheck {
    pub entries: u64,
    /// Every entry's hash and link holds (`audit verify` on the copy).
    pub intact: bool,
    pub problem: Option<String>,
    /// The copy's chain head is the manifest's.
    pub head_matches: bool,
    /// The signed checkpoints check against the copy; `None` when it has no signing key.
    pub checkpoints_intact: Option<bool>,
}

/// The report of a verify.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub backup: String,
    pub ok: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub backup_created_at: OffsetDateTime,
    pub size_bytes: u64,
    pub schema_version: Option<i64>,
    /// The scratch database it was restored into (dropped afterwards).
    pub scratch_database: String,
    pub tables_checked: usize,
    pub rows_checked: i64,
    pub mismatches: Vec<CountMismatch>,
    pub audit: AuditCheck,
    pub restore_seconds: f64,
    pub seconds: f64,
}

impl VerifyReport {
    /// One line for a person.
    pub fn summary(&self) -> String {
        if self.ok {
            format!(
                "backup {} verified: restored in {:.1} s; {} tables, {} rows as in its manifest; audit chain intact ({} entries, head as recorded)",
                self.backup, self.restore_seconds, self.tables_checked, self.rows_checked, self.audit.entries
            )
        } else {
            let mut problems = Vec::new();
            if !self.mismatches.is_empty() {
                problems.push(format!(
                    "{} tables differ from the manifest ({})",
                    self.mismatches.len(),
                    self.mismatches
                        .iter()
                        .take(5)
                        .map(|m| m.table.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !self.audit.intact {
                problems.push(format!(
                    "the audit chain is broken: {}",
                    self.audit.problem.as_deref().unwrap_or("unknown")
                ));
            }
            if !self.audit.head_matches {
                problems.push("the audit chain's head is not the manifest's".into());
            }
            if self.audit.checkpoints_intact == Some(false) {
                problems.push("a signed checkpoint does not match".into());
            }
            format!(
                "backup {} FAILED verification: {}",
                self.backup,
                problems.join("; ")
            )
        }
    }
}

/// The key a verify decrypts with: given, or read from a file once the run is recorded
/// (so a schedule whose key file went missing records a failed verify).
pub(super) enum Key<'a> {
    Given(&'a Identity),
    File(&'a Path),
}

/// Verifies a backup: fetched and checked as for a restore, restored into a new scratch
/// database on the server at `scratch_server_url`, its row counts compared with the
/// manifest, its audit chain and checkpoints verified and its head compared, and the
/// scratch database dropped. Recorded and audited as a `verify` run in `pool`'s database.
/// A backup that restores but does not match is a report with `ok: false`; one that
/// cannot be read or restored is an error.
pub async fn verify_backup(
    pool: &PgPool,
    from: &Destinations,
    which: &Which,
    identity: &Identity,
    scratch_server_url: &SecretString,
) -> Result<VerifyReport, BackupError> {
    verify(
        pool,
        from,
        which,
        Key::Given(identity),
        scratch_server_url,
        Trigger::Manual,
    )
    .await?
    .ok_or_else(|| BackupError::Unexpected(anyhow::anyhow!("the run was not recorded")))
}

/// [`verify_backup`] for a trigger; `None` when a scheduled slot was already taken.
pub(super) async fn verify(
    pool: &PgPool,
    from: &Destinations,
    which: &Which,
    key: Key<'_>,
    scratch_server_url: &SecretString,
    trigger: Trigger,
) -> Result<Option<VerifyReport>, BackupError> {
    let Some(run) = runs::start(pool, RunKind::Verify, trigger).await? else {
        return Ok(None);
    };
    let started = Instant::now();
    let mut name = None;
    let mut size = None;
    let result: Result<VerifyReport, BackupError> = async {
        let identity = match key {
            Key::Given(identity) => identity.clone(),
            Key::File(path) => Identity::from_file(path)?,
        };
        let fetched = fetch(from, which).await?;
        name = Some(fetched.name.clone());
        let manifest = check(&fetched).await?;
        size = Some(manifest.archive.size_bytes);
        identity_opens(&fetched, &identity).await?;
        verify_in_scratch(&fetched, &manifest, &identity, scratch_server_url, started).await
    }
    .await;
    let outcome = Outcome {
        ok: matches!(&result, Ok(report) if report.ok),
        backup: name.as_deref(),
        size,
        detail: match &result {
            Ok(report) => report.summary(),
            Err(e) => e.to_string(),
        },
    };
    if let Err(e) = runs::finish(pool, run, &outcome).await {
        tracing::error!(error = %e, "recording the verify run failed");
    }
    result.map(Some)
}

async fn verify_in_scratch(
    fetched: &Fetched,
    manifest: &Manifest,
    identity: &Identity,
    scratch_server_url: &SecretString,
    started: Instant,
) -> Result<VerifyReport, BackupError> {
    let admin = postgres::connect(scratch_server_url).await?;
    let scratch = format!(
        "gatehouse_verify_{}",
        uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .get(..12)
            .unwrap_or("0")
    );
    let result = async {
        postgres::create_database(&admin, &scratch).await?;
        let url = postgres::with_database_name(scratch_server_url, &scratch)?;
        let restore_started = Instant::now();
        restore_into(fetched, identity, &url, false).await?;
        let restore_seconds = restore_started.elapsed().as_secs_f64();
        let copy = postgres::connect(&url).await?;
        let checked = check_copy(&copy, manifest).await;
        copy.close().await;
        let (mismatches, audit) = checked?;
        let ok = mismatches.is_empty()
            && audit.intact
            && audit.head_matches
            && audit.checkpoints_intact != Some(false);
        Ok::<_, BackupError>(VerifyReport {
            backup: manifest.name.clone(),
            ok,
            backup_created_at: manifest.created_at,
            size_bytes: manifest.archive.size_bytes,
            schema_version: manifest.schema_version,
            scratch_database: scratch.clone(),
            tables_checked: manifest.tables.len(),
            rows_checked: manifest.rows(),
            mismatches,
            audit,
            restore_seconds,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
    .await;
    if let Err(e) = postgres::drop_database(&admin, &scratch).await {
        tracing::warn!(error = %e, database = %scratch, "dropping the scratch database failed");
    }
    admin.close().await;
    result
}

/// Counts, audit chain, head and checkpoints of a restored copy.
async fn check_copy(
    copy: &PgPool,
    manifest: &Manifest,
) -> Result<(Vec<CountMismatch>, AuditCheck), BackupError> {
    use gatehouse_domain::audit::{verify_audit_chain, verify_checkpoints, Verifier};
    let facts = {
        let mut conn = copy.acquire().await?;
        postgres::facts(&mut conn).await?
    };
    let mismatches = compare(&manifest.tables, &facts.tables);
    let chain = verify_audit_chain(copy)
        .await
        .map_err(|e| anyhow::anyhow!("verifying the copy's audit chain: {e}"))?;
    let checkpoints_intact = match Verifier::stored(copy)
        .await
        .map_err(|e| anyhow::anyhow!("reading the copy's checkpoint key: {e}"))?
    {
        Some(verifier) => Some(
            verify_checkpoints(copy, &verifier)
                .await
                .map_err(|e| anyhow::anyhow!("verifying the copy's checkpoints: {e}"))?
                .is_none(),
        ),
        None => None,
    };
    Ok((
        mismatches,
        AuditCheck {
            entries: chain.entries,
            intact: chain.is_intact(),
            problem: chain.problem,
            head_matches: facts.audit_head == manifest.audit_head,
            checkpoints_intact,
        },
    ))
}
