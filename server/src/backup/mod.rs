//! Backups (`gatehouse backup …`, `GATEHOUSE_BACKUP_*`): logical backups of the Gatehouse
//! database, encrypted so that only the holder of a key kept off the server can read them,
//! written to a local directory and to an S3-compatible bucket, restored, and verified by
//! restoring them into a scratch database.
//!
//! A backup is three files named after its UTC time, `gatehouse-YYYYMMDDTHHMMSSZ`:
//! - `.dump.age`: a `pg_dump` custom-format archive encrypted with age to the X25519 public
//!   keys in `GATEHOUSE_BACKUP_RECIPIENTS`. The matching private key (the identity) is not
//!   the master key and is never needed to write a backup, so a stolen server, master key
//!   and all, cannot read old backups. It is given to `restore` and `verify` as a file.
//! - `.manifest.json`: what a verify checks the restored copy against (time, versions, the
//!   row count of every table, the audit chain's head, the archive's size and SHA-256). It
//!   is not encrypted and holds no personal data: counts, names of tables, hashes.
//! - `.sha256`: the archive's checksum in `sha256sum` format, for tools without Gatehouse.
//!
//! The manifest is written last, locally and in the bucket: a backup without one is
//! incomplete and never listed. Nothing is held whole in memory: `pg_dump`'s output is
//! encrypted and hashed on its way to the file, and the file is uploaded in parts.
//!
//! The counts and the dump come from one snapshot (`pg_export_snapshot()` handed to
//! `pg_dump --snapshot`), so a verify compares like with like on a busy server.
//!
//! Why these pieces: `pg_dump`/`pg_restore` are PostgreSQL's own consistent logical backup
//! and are installed with the server; age (the `age` crate) is a small, audited file
//! encryption format with public-key recipients and a streaming, authenticated payload, so
//! a truncated or altered archive fails to decrypt; `object_store` is the Rust ecosystem's
//! S3 client (Apache Arrow's), on the same reqwest/rustls/ring stack as the rest of the
//! server. Point-in-time recovery (WAL archiving) is PostgreSQL's job, not this module's:
//! the README explains it with pgBackRest.

mod archive;
mod create;
mod postgres;
mod restore;
mod runs;
pub mod schedule;
mod store;
mod verify;

pub use archive::{ArchiveInfo, AuditHead, Manifest};
pub use create::{create_backup, Created};
pub use postgres::with_database_name;
pub use restore::{restore_backup, CountMismatch, Restored, Which};
pub use runs::{publish_metrics, recent_runs, RunKind, RunLine};
pub use store::{list_backups, Listed, Place};
pub use verify::{verify_backup, AuditCheck, VerifyReport};

use crate::config::Settings;
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Backups kept in the local directory when `GATEHOUSE_BACKUP_KEEP` does not say.
pub const DEFAULT_KEEP: usize = 14;

/// Why a backup operation failed. Refusals a person can act on have a variant of their
/// own; everything else is `Unexpected`, with its cause chain.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A setting or argument is missing or wrong.
    #[error("{0}")]
    Config(String),
    /// No backup matches.
    #[error("{0}")]
    NotFound(String),
    /// The archive's bytes are not the ones its checksum was taken of.
    #[error("{file}: the checksum does not match (expected {expected}, found {actual}); the file is damaged or was changed")]
    ChecksumMismatch {
        file: String,
        expected: String,
        actual: String,
    },
    /// The identity is not one of the recipients the backup was encrypted to.
    #[error("the identity does not decrypt this backup: it was encrypted to other keys (its manifest lists their public keys)")]
    WrongIdentity,
    /// The archive or its manifest cannot be read as a backup.
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    /// The restore target already holds tables.
    #[error("the target database is not empty ({tables} tables); restore with --force to replace what the backup holds (stop every Gatehouse instance first)")]
    TargetNotEmpty { tables: i64 },
    /// `pg_dump` or `pg_restore` failed; the message is the end of what it wrote.
    #[error("{program} failed: {message}")]
    Tool {
        program: &'static str,
        message: String,
    },
    /// The bucket refused or could not be reached.
    #[error("S3: {0}")]
    Storage(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        Self::Unexpected(anyhow::Error::new(e).context("database"))
    }
}

/// Where backups are written and read: a local directory, and a bucket when configured.
#[derive(Debug, Clone)]
pub struct Destinations {
    pub dir: PathBuf,
    /// Complete backups kept in `dir` after a create; older ones are deleted. The bucket
    /// is never pruned by Gatehouse: its lifecycle rules (and object lock) do that, so a
    /// compromised server cannot delete the offsite copies.
    pub keep: usize,
    pub s3: Option<S3Config>,
}

impl Destinations {
    /// A local directory only.
    pub fn local(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            keep: DEFAULT_KEEP,
            s3: None,
        }
    }

    pub fn with_s3(mut self, s3: S3Config) -> Self {
        self.s3 = Some(s3);
        self
    }

    /// `GATEHOUSE_BACKUP_DIR` (default `{data_dir}/backups`), `GATEHOUSE_BACKUP_KEEP` and
    /// `GATEHOUSE_BACKUP_S3_*`.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            dir: settings
                .backup_dir
                .clone()
                .unwrap_or_else(|| settings.data_dir.join("backups")),
            keep: usize::try_from(settings.backup_keep).unwrap_or(DEFAULT_KEEP),
            s3: settings.backup_s3_url.as_ref().map(|url| S3Config {
                url: url.clone(),
                endpoint: settings.backup_s3_endpoint.clone(),
                region: settings.backup_s3_region.clone(),
                access_key_id: None,
                secret_access_key: None,
            }),
        }
    }
}

/// An S3-compatible bucket. Credentials come from the environment as the AWS tools read
/// them (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, or the
/// instance's role) unless given here.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// `s3://bucket/prefix`.
    pub url: String,
    /// An endpoint other than AWS's (MinIO, Ceph, Garage, moto): `http(s)://host:port`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
}

/// The age X25519 public keys backups are encrypted to. Any one of their identities
/// decrypts a backup.
#[derive(Clone)]
pub struct Recipients(Vec<age::x25519::Recipient>);

impl Recipients {
    /// A comma-separated list of `age1…` public keys. A value is never echoed back in an
    /// error: a private key pasted here by mistake must not reach a log.
    pub fn parse(list: &str) -> Result<Self, BackupError> {
        let mut keys = Vec::new();
        for (i, raw) in list
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .enumerate()
        {
            if raw.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
                return Err(BackupError::Config(format!(
                    "GATEHOUSE_BACKUP_RECIPIENTS: entry {} is a private key (identity): give its public key (age1…) and keep the private key off this server",
                    i + 1
                )));
            }
            let key = raw.parse::<age::x25519::Recipient>().map_err(|e| {
                BackupError::Config(format!(
                    "GATEHOUSE_BACKUP_RECIPIENTS: entry {} is not an age X25519 public key (age1…): {e}",
                    i + 1
                ))
            })?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(BackupError::Config(
                "GATEHOUSE_BACKUP_RECIPIENTS is empty: give at least one age public key (age1…)"
                    .into(),
            ));
        }
        Ok(Self(keys))
    }

    /// `GATEHOUSE_BACKUP_RECIPIENTS`, required to write a backup.
    pub fn from_settings(settings: &Settings) -> Result<Self, BackupError> {
        match settings.backup_recipients.as_deref() {
            Some(list) => Self::parse(list),
            None => Err(BackupError::Config(
                "GATEHOUSE_BACKUP_RECIPIENTS is not set: backups are encrypted to age public keys (age1…); make a key pair with `gatehouse backup keygen --output FILE` on the machine that will keep the private key".into(),
            )),
        }
    }

    pub fn from_keys(keys: Vec<age::x25519::Recipient>) -> Self {
        Self(keys)
    }

    /// The public keys, as written in the manifest.
    pub fn public_keys(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn age::Recipient> + '_ {
        self.0.iter().map(|r| r as &dyn age::Recipient)
    }
}

/// The private keys that decrypt backups (an age identity file). Read for one restore or
/// verify and dropped after it; never stored by the server, never logged.
#[derive(Clone)]
pub struct Identity(Arc<Vec<Box<dyn age::Identity + Send + Sync>>>);

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity([redacted])")
    }
}

impl Identity {
    /// An identity file as `age-keygen` and `gatehouse backup keygen` write it: `#`
    /// comments and `AGE-SECRET-KEY-1…` lines.
    pub fn from_file(path: &Path) -> Result<Self, BackupError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            BackupError::Config(format!(
                "cannot read the identity file {}: {e}",
                path.display()
            ))
        })?;
        Self::parse(&SecretString::from(text)).map_err(|e| match e {
            BackupError::Config(message) => {
                BackupError::Config(format!("{}: {message}", path.display()))
            }
            other => other,
        })
    }

    /// The text of an identity file. Errors name a line number, never its content.
    pub fn parse(text: &SecretString) -> Result<Self, BackupError> {
        // Lines are trimmed: a file edited on Windows ends them with \r.
        let cleaned = SecretString::from(
            text.expose_secret()
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("\n"),
        );
        let file = age::IdentityFile::from_buffer(cleaned.expose_secret().as_bytes())
            .map_err(|e| BackupError::Config(format!("not an age identity file: {e}")))?;
        let identities = file
            .into_identities()
            .map_err(|e| BackupError::Config(format!("not an age identity file: {e}")))?;
        if identities.is_empty() {
            return Err(BackupError::Config(
                "the identity file holds no age identity (AGE-SECRET-KEY-1…)".into(),
            ));
        }
        Ok(Self(Arc::new(identities)))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn age::Identity> + '_ {
        self.0.iter().map(|i| &**i as &dyn age::Identity)
    }
}

/// Makes an age key pair for backups: writes the identity to `path` in age-keygen's
/// format (created, never overwritten, mode 0600) and returns the public key for
/// `GATEHOUSE_BACKUP_RECIPIENTS`.
pub fn generate_identity_file(path: &Path) -> Result<String, BackupError> {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let text = SecretString::from(format!(
        "# created: {created}\n# public key: {public}\n{}\n",
        identity.to_string().expose_secret()
    ));
    archive::write_new_private(path, text.expose_secret().as_bytes())?;
    Ok(public)
}

/// The URL of the Gatehouse database: `DATABASE_URL`, or the embedded cluster's (which
/// must be running: the commands start it through `Database::connect`).
pub fn connection_url(settings: &Settings) -> Result<SecretString, BackupError> {
    match &settings.database_url {
        Some(url) => Ok(url.clone()),
        None => crate::embedded_pg::EmbeddedPostgres::existing(&settings.data_dir)
            .map(|pg| SecretString::from(pg.url()))
            .map_err(BackupError::Unexpected),
    }
}

/// Where `verify` makes its scratch database: `GATEHOUSE_BACKUP_VERIFY_DATABASE_URL` (a
/// server of its own keeps the restore's load off production), else the Gatehouse
/// database's server. The user needs the CREATEDB privilege there.
pub fn scratch_server_url(settings: &Settings) -> Result<SecretString, BackupError> {
    match &settings.backup_verify_database_url {
        Some(url) => Ok(url.clone()),
        None => connection_url(settings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_public_keys_and_a_private_key_is_refused_without_being_echoed() {
        let identity = age::x25519::Identity::generate();
        let public = identity.to_public().to_string();
        let two = Recipients::parse(&format!(" {public} ,{public},")).unwrap();
        assert_eq!(two.public_keys(), vec![public.clone(), public]);

        let secret = identity.to_string().expose_secret().to_owned();
        let err = Recipients::parse(&secret).err().unwrap().to_string();
        assert!(err.contains("entry 1 is a private key"), "{err}");
        assert!(!err.contains(&secret));

        let err = Recipients::parse("age1nonsense").err().unwrap().to_string();
        assert!(
            err.contains("entry 1 is not an age X25519 public key"),
            "{err}"
        );
        assert!(matches!(
            Recipients::parse(" , "),
            Err(BackupError::Config(_))
        ));
    }

    #[test]
    fn an_identity_file_is_read_with_comments_and_windows_line_ends() {
        let identity = age::x25519::Identity::generate();
        let text = format!(
            "# created: now\r\n# public key: {}\r\n{}\r\n",
            identity.to_public(),
            identity.to_string().expose_secret()
        );
        assert!(Identity::parse(&SecretString::from(text)).is_ok());
        let err = Identity::parse(&SecretString::from("# nothing\n".to_owned()))
            .err()
            .unwrap();
        assert!(err.to_string().contains("no age identity"), "{err}");
        let err = Identity::parse(&SecretString::from("not a key\n".to_owned()))
            .err()
            .unwrap();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert_eq!(
            format!(
                "{:?}",
                Identity::parse(&SecretString::from(
                    identity.to_string().expose_secret().to_owned()
                ))
                .unwrap()
            ),
            "Identity([redacted])"
        );
    }
}
