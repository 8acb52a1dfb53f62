//! `restore`: a backup fetched (downloaded from the bucket when asked), checked against
//! its checksum, opened with the identity before the target is touched, and decrypted
//! into `pg_restore` in one transaction; then its rows counted against the manifest.

use super::archive::{
    self, check_identity, parse_checksum, restore_decrypted, sha256_file, Manifest, RestoreJob,
    CHECKSUM, DUMP, FORMAT, MANIFEST,
};
use super::postgres::{self, Libpq};
use super::runs::{self, Outcome};
use super::store::{self, Place};
use super::{BackupError, Destinations, Identity};
use anyhow::Context as _;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use time::OffsetDateTime;

/// Which backup to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// The newest complete one in a place.
    Newest(Place),
    /// One by name (`gatehouse-YYYYMMDDTHHMMSSZ`) in a place.
    Named(String, Place),
    /// The `.dump.age` file at a path, its manifest and checksum beside it.
    File(PathBuf),
}

/// A table whose row count differs from the manifest's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountMismatch {
    pub table: String,
    pub expected: i64,
    /// `None`: the table is missing.
    pub found: Option<i64>,
}

/// A restore done.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub backup: String,
    #[serde(with = "time::serde::rfc3339")]
    pub backup_created_at: OffsetDateTime,
    /// The target held tables and `--force` replaced what the backup holds.
    pub replaced: bool,
    pub tables: usize,
    pub rows: i64,
    /// Tables whose restored rows differ from the manifest (none when all is well).
    pub mismatches: Vec<CountMismatch>,
    pub seconds: f64,
}

/// A backup's three files on local disk; a download's directory is removed when dropped.
pub(super) struct Fetched {
    dir: PathBuf,
    pub(super) name: String,
    _download: Option<DownloadDir>,
}

impl Fetched {
    pub(super) fn file(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}{ext}", self.name))
    }
}

struct DownloadDir(PathBuf);

impl Drop for DownloadDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) async fn fetch(from: &Destinations, which: &Which) -> Result<Fetched, BackupError> {
    let (name, place) = match which {
        Which::File(path) => {
            let file_name = path
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or_default();
            let Some(name) = file_name.strip_suffix(DUMP) else {
                return Err(BackupError::Config(format!(
                    "{} is not a backup archive (*{DUMP})",
                    path.display()
                )));
            };
            if !path.is_file() {
                return Err(BackupError::NotFound(format!(
                    "{} does not exist",
                    path.display()
                )));
            }
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            return Ok(Fetched {
                dir,
                name: name.to_owned(),
                _download: None,
            });
        }
        Which::Named(name, place) => {
            if !archive::is_backup_name(name) {
                return Err(BackupError::Config(format!(
                    "{name} is not a backup name (gatehouse-YYYYMMDDTHHMMSSZ) or the path of a *{DUMP} file"
                )));
            }
            (name.clone(), *place)
        }
        Which::Newest(place) => {
            let newest = store::list_backups(from, *place)
                .await?
                .pop()
                .ok_or_else(|| {
                    BackupError::NotFound(match place {
                        Place::Local => format!("no backup in {}", from.dir.display()),
                        Place::S3 => "no backup in the bucket".to_owned(),
                    })
                })?;
            (newest.name, *place)
        }
    };
    match place {
        Place::Local => {
            if !from.dir.join(format!("{name}{DUMP}")).is_file() {
                return Err(BackupError::NotFound(format!(
                    "no backup {name} in {}",
                    from.dir.display()
                )));
            }
            Ok(Fetched {
                dir: from.dir.clone(),
                name,
                _download: None,
            })
        }
        Place::S3 => {
            let bucket = store::bucket(from)?;
            store::make_private_dir(&from.dir)?;
            let dir = from
                .dir
                .join(format!(".download-{}", uuid::Uuid::now_v7().simple()));
            std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let download = DownloadDir(dir.clone());
            for ext in [MANIFEST, CHECKSUM, DUMP] {
                let file = format!("{name}{ext}");
                bucket.download(&file, &dir.join(&file)).await?;
            }
            Ok(Fetched {
                dir,
                name,
                _download: Some(download),
            })
        }
    }
}

/// Reads the manifest and checks the archive against its checksum file and the manifest,
/// before anything decrypts it.
pub(super) async fn check(fetched: &Fetched) -> Result<Manifest, BackupError> {
    let manifest_path = fetched.file(MANIFEST);
    let text = std::fs::read(&manifest_path)
        .map_err(|e| BackupError::NotFound(format!("{}: {e}", manifest_path.display())))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| BackupError::Damaged(format!("its manifest cannot be read: {e}")))?;
    if manifest.format != FORMAT || manifest.name != fetched.name {
        return Err(BackupError::Damaged(format!(
            "its manifest is for {} (format {}), not {}",
            manifest.name, manifest.format, fetched.name
        )));
    }
    let checksum_path = fetched.file(CHECKSUM);
    let expected = std::fs::read_to_string(&checksum_path)
        .ok()
        .and_then(|t| parse_checksum(&t))
        .ok_or_else(|| {
            BackupError::Damaged(format!(
                "{} is missing or unreadable",
                checksum_path.display()
            ))
        })?;
    let dump = fetched.file(DUMP);
    let path = dump.clone();
    let actual = tokio::task::spawn_blocking(move || sha256_file(&path))
        .await
        .map_err(|e| anyhow::anyhow!("the checksum's thread failed: {e}"))??;
    let file = dump.display().to_string();
    if actual.sha256 != expected {
        return Err(BackupError::ChecksumMismatch {
            file,
            expected,
            actual: actual.sha256,
        });
    }
    if actual.sha256 != manifest.archive.sha256 {
        return Err(BackupError::ChecksumMismatch {
            file,
            expected: manifest.archive.sha256,
            actual: actual.sha256,
        });
    }
    Ok(manifest)
}

pub(super) async fn identity_opens(
    fetched: &Fetched,
    identity: &Identity,
) -> Result<(), BackupError> {
    let (file, identity) = (fetched.file(DUMP), identity.clone());
    tokio::task::spawn_blocking(move || check_identity(&file, &identity))
        .await
        .map_err(|e| anyhow::anyhow!("the decryption's thread failed: {e}"))?
}

/// Decrypts the fetched archive into the database at `target_url`.
pub(super) async fn restore_into(
    fetched: &Fetched,
    identity: &Identity,
    target_url: &SecretString,
    clean: bool,
) -> Result<(), BackupError> {
    let job = RestoreJob {
        pg_restore: postgres::program("pg_restore")?,
        conn: Libpq::from_url(target_url)?,
        file: fetched.file(DUMP),
        identity: identity.clone(),
        clean,
    };
    tokio::task::spawn_blocking(move || restore_decrypted(job))
        .await
        .map_err(|e| anyhow::anyhow!("the restore's thread failed: {e}"))?
}

pub(super) fn compare(
    expected: &BTreeMap<String, i64>,
    found: &BTreeMap<String, i64>,
) -> Vec<CountMismatch> {
    expected
        .iter()
        .filter_map(|(table, &n)| match found.get(table) {
            Some(&m) if m == n => None,
            other => Some(CountMismatch {
                table: table.clone(),
                expected: n,
                found: other.copied(),
            }),
        })
        .collect()
}

/// Restores a backup into the database at `target_url`: fetched (downloaded from the
/// bucket when asked), checked against its checksum, decrypted with `identity` into
/// `pg_restore` in one transaction. A target holding tables is refused unless `force`
/// (then what the backup holds is dropped and recreated). The restored rows are counted
/// against the manifest, and the restore is recorded and audited in the target.
pub async fn restore_backup(
    from: &Destinations,
    which: &Which,
    identity: &Identity,
    target_url: &SecretString,
    force: bool,
) -> Result<Restored, BackupError> {
    let started = Instant::now();
    let fetched = fetch(from, which).await?;
    let manifest = check(&fetched).await?;
    // A wrong key is refused before the target is touched.
    identity_opens(&fetched, identity).await?;
    let target = postgres::connect(target_url).await?;
    let result = restore_checked(&fetched, &manifest, identity, target_url, &target, force).await;
    if let Err(BackupError::TargetNotEmpty { .. }) = &result {
        // Refused: the target is left exactly as it was.
        target.close().await;
        return result;
    }
    let outcome = match &result {
        Ok(r) if r.mismatches.is_empty() => Outcome {
            ok: true,
            backup: Some(manifest.name.as_str()),
            size: Some(manifest.archive.size_bytes),
            detail: format!("{} tables, {} rows", r.tables, r.rows),
        },
        Ok(r) => Outcome {
            ok: false,
            backup: Some(manifest.name.as_str()),
            size: Some(manifest.archive.size_bytes),
            detail: format!(
                "restored, but {} tables differ from the manifest",
                r.mismatches.len()
            ),
        },
        Err(e) => Outcome {
            ok: false,
            backup: Some(manifest.name.as_str()),
            size: Some(manifest.archive.size_bytes),
            detail: e.to_string(),
        },
    };
    if let Err(e) = runs::record_restore(&target, started, &outcome).await {
        tracing::warn!(error = %e, "recording the restore in the target failed");
    }
    target.close().await;
    result.map(|mut r| {
        r.seconds = started.elapsed().as_secs_f64();
        r
    })
}

async fn restore_checked(
    fetched: &Fetched,
    manifest: &Manifest,
    identity: &Identity,
    target_url: &SecretString,
    target: &PgPool,
    force: bool,
) -> Result<Restored, BackupError> {
    let tables = postgres::user_tables(target).await?;
    if tables > 0 && !force {
        return Err(BackupError::TargetNotEmpty { tables });
    }
    restore_into(fetched, identity, target_url, tables > 0).await?;
    let mut conn = target.acquire().await?;
    let facts = postgres::facts(&mut conn).await?;
    Ok(Restored {
        backup: manifest.name.clone(),
        backup_created_at: manifest.created_at,
        replaced: tables > 0,
        tables: manifest.tables.len(),
        rows: manifest.rows(),
        mismatches: compare(&manifest.tables, &facts.tables),
        seconds: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_compared_table_by_table() {
        let expected: BTreeMap<String, i64> = [
            ("a".to_owned(), 1),
            ("b".to_owned(), 2),
            ("c".to_owned(), 3),
        ]
        .into();
        let found: BTreeMap<String, i64> = [
            ("a".to_owned(), 1),
            ("b".to_owned(), 5),
            ("z".to_owned(), 9),
        ]
        .into();
        assert_eq!(
            compare(&expected, &found),
            vec![
                CountMismatch {
                    table: "b".into(),
                    expected: 2,
                    found: Some(5)
                },
                CountMismatch {
                    table: "c".into(),
                    expected: 3,
                    found: None
                },
            ]
        );
    }
}
