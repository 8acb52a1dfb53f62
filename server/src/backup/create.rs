//! `create`: the dump, encrypted and hashed on its way to the local directory, then its
//! checksum and manifest, then the upload (the manifest last everywhere) and the local
//! pruning, recorded as one run.

use super::archive::{
    self, checksum_line, dump_encrypted, with_suffix, write_complete, ArchiveInfo, DumpJob,
    Manifest, CHECKSUM, DUMP, FORMAT, MANIFEST, PARTIAL,
};
use super::postgres::{self, Libpq, Snapshot};
use super::runs::{self, Outcome, RunKind, Trigger};
use super::store::{self, Bucket};
use super::{BackupError, Destinations, Recipients};
use anyhow::Context as _;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::PgPool;
use std::path::PathBuf;
use time::OffsetDateTime;

/// A backup written.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub name: String,
    /// The local directory holding its three files.
    pub dir: PathBuf,
    /// The archive's URL in the bucket, when uploaded.
    pub s3: Option<String>,
    /// Older local backups removed to keep `GATEHOUSE_BACKUP_KEEP`.
    pub pruned: Vec<String>,
    pub manifest: Manifest,
}

/// Writes a backup now: the dump encrypted to `recipients`, its checksum and manifest, in
/// `to.dir` and, when configured, the bucket; then prunes the local directory. Recorded
/// and audited as a `create` run.
pub async fn create_backup(
    pool: &PgPool,
    database_url: &SecretString,
    recipients: &Recipients,
    to: &Destinations,
) -> Result<Created, BackupError> {
    create(pool, database_url, recipients, to, Trigger::Manual)
        .await?
        .ok_or_else(|| BackupError::Unexpected(anyhow::anyhow!("the run was not recorded")))
}

/// [`create_backup`] for a trigger; `None` when a scheduled slot was already taken.
pub(super) async fn create(
    pool: &PgPool,
    database_url: &SecretString,
    recipients: &Recipients,
    to: &Destinations,
    trigger: Trigger,
) -> Result<Option<Created>, BackupError> {
    // The snapshot comes first: the run's own row, written next, is not in the backup.
    let mut snapshot = Snapshot::export(pool).await?;
    let run = match runs::start(pool, RunKind::Create, trigger).await {
        Ok(Some(run)) => run,
        Ok(None) => {
            snapshot.close().await;
            return Ok(None);
        }
        Err(e) => {
            snapshot.close().await;
            return Err(e);
        }
    };
    let written = write_local(database_url, recipients, to, &mut snapshot).await;
    snapshot.close().await;
    let result = match written {
        Ok((name, manifest)) => publish(to, name, manifest).await,
        Err(e) => Err(e),
    };
    let outcome = match &result {
        Ok(created) => Outcome {
            ok: true,
            backup: Some(created.name.as_str()),
            size: Some(created.manifest.archive.size_bytes),
            detail: match &created.s3 {
                Some(url) => format!("written to {} and {url}", created.dir.display()),
                None => format!("written to {}", created.dir.display()),
            },
        },
        Err(e) => Outcome {
            ok: false,
            backup: None,
            size: None,
            detail: e.to_string(),
        },
    };
    if let Err(e) = runs::finish(pool, run, &outcome).await {
        tracing::error!(error = %e, "recording the backup run failed");
    }
    result.map(Some)
}

/// The dump, checksum and manifest in the local directory (the manifest last).
async fn write_local(
    database_url: &SecretString,
    recipients: &Recipients,
    to: &Destinations,
    snapshot: &mut Snapshot,
) -> Result<(String, Manifest), BackupError> {
    let created_at = OffsetDateTime::now_utc();
    let name = archive::name_at(created_at)?;
    store::make_private_dir(&to.dir)?;
    let dump = to.dir.join(format!("{name}{DUMP}"));
    let partial = with_suffix(&dump, PARTIAL);
    if dump.exists() || partial.exists() {
        return Err(BackupError::Config(format!(
            "a backup named {name} exists or is being written; try again in a second"
        )));
    }
    let job = DumpJob {
        pg_dump: postgres::program("pg_dump")?,
        conn: Libpq::from_url(database_url)?,
        snapshot: snapshot.id.clone(),
        recipients: recipients.clone(),
        out: partial.clone(),
    };
    // The dump and the counts read the same snapshot at the same time.
    let dumping = tokio::task::spawn_blocking(move || dump_encrypted(job));
    let facts = snapshot.facts().await;
    let digest = match dumping.await {
        Ok(result) => result,
        Err(e) => Err(BackupError::Unexpected(anyhow::anyhow!(
            "the dump's thread failed: {e}"
        ))),
    };
    let (facts, digest) = match (facts, digest) {
        (Ok(facts), Ok(digest)) => (facts, digest),
        // The dump's error first: it is the likelier cause of both.
        (_, Err(e)) | (Err(e), _) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &dump)
        .with_context(|| format!("renaming {} into place", partial.display()))?;
    let dump_file = format!("{name}{DUMP}");
    write_complete(
        &to.dir.join(format!("{name}{CHECKSUM}")),
        checksum_line(&digest.sha256, &dump_file).as_bytes(),
    )?;
    let manifest = Manifest {
        format: FORMAT,
        name: name.clone(),
        created_at,
        gatehouse_version: env!("CARGO_PKG_VERSION").to_owned(),
        postgres_version: facts.postgres_version,
        schema_version: facts.schema_version,
        tables: facts.tables,
        audit_head: facts.audit_head,
        archive: ArchiveInfo {
            file: dump_file,
            size_bytes: digest.size,
            sha256: digest.sha256,
            encryption: "age X25519; pg_dump custom format inside".into(),
            recipients: recipients.public_keys(),
        },
    };
    let text = serde_json::to_vec_pretty(&manifest).context("writing the manifest")?;
    write_complete(&to.dir.join(format!("{name}{MANIFEST}")), &text)?;
    Ok((name, manifest))
}

/// Uploads the backup (the manifest last) and prunes the local directory. A failed
/// upload fails the run (3-2-1 needs the offsite copy); the local copy stays.
async fn publish(
    to: &Destinations,
    name: String,
    manifest: Manifest,
) -> Result<Created, BackupError> {
    let s3 = match &to.s3 {
        Some(config) => {
            let bucket = Bucket::open(config)?;
            for ext in [DUMP, CHECKSUM, MANIFEST] {
                let file = format!("{name}{ext}");
                bucket
                    .upload(&to.dir.join(&file), &file)
                    .await
                    .map_err(|e| match e {
                        BackupError::Storage(message) => BackupError::Storage(format!(
                            "{message} (the backup {name} is complete in {})",
                            to.dir.display()
                        )),
                        other => other,
                    })?;
            }
            Some(bucket.url_of(&format!("{name}{DUMP}")))
        }
        None => None,
    };
    let pruned = store::prune_local(&to.dir, to.keep)?;
    Ok(Created {
        name,
        dir: to.dir.clone(),
        s3,
        pruned,
        manifest,
    })
}
