//! A backup's files: names, the manifest, the checksum, and the two pipes through age —
//! `pg_dump` → encrypt → file, and file → decrypt → `pg_restore` — each hashing or
//! checking as the bytes pass, never holding the archive in memory. These run on blocking
//! threads (`spawn_blocking`): the age crate and the child processes are synchronous I/O.

use super::postgres::Libpq;
use super::{BackupError, Identity, Recipients};
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use time::OffsetDateTime;

pub(super) const DUMP: &str = ".dump.age";
pub(super) const MANIFEST: &str = ".manifest.json";
pub(super) const CHECKSUM: &str = ".sha256";
/// The suffix of a file still being written; renamed when complete.
pub(super) const PARTIAL: &str = ".partial";
const PREFIX: &str = "gatehouse-";
const BUFFER: usize = 1 << 20;
/// How much of a tool's error output is kept: its error is at the end.
const STDERR_TAIL: usize = 4000;

/// The manifest's format; a reader refuses others.
pub(super) const FORMAT: u32 = 1;

/// What a backup holds, for the verify to check a restored copy against. No personal
/// data: counts, table names, hashes, public keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub gatehouse_version: String,
    pub postgres_version: String,
    /// The newest applied migration (its version number).
    pub schema_version: Option<i64>,
    /// Rows per table (partitioned tables counted whole), from the dump's own snapshot.
    pub tables: BTreeMap<String, i64>,
    pub audit_head: AuditHead,
    pub archive: ArchiveInfo,
}

impl Manifest {
    pub fn rows(&self) -> i64 {
        self.tables.values().sum()
    }
}

/// The audit chain's head at the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub seq: i64,
    /// Hex.
    pub hash: String,
}

/// The encrypted archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveInfo {
    pub file: String,
    pub size_bytes: u64,
    /// Hex SHA-256 of the encrypted file, as in the `.sha256` file.
    pub sha256: String,
    /// `age` with X25519 recipients; the inner archive is `pg_dump --format=custom`.
    pub encryption: String,
    /// The public keys it was encrypted to (any one's identity decrypts it).
    pub recipients: Vec<String>,
}

/// The name of a backup taken at `at` (UTC, to the second).
pub(super) fn name_at(at: OffsetDateTime) -> Result<String, BackupError> {
    let stamp = at
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .context("formatting the backup's time")?;
    Ok(format!("{PREFIX}{stamp}"))
}

/// `gatehouse-YYYYMMDDTHHMMSSZ`.
pub(super) fn is_backup_name(name: &str) -> bool {
    let Some(stamp) = name.strip_prefix(PREFIX) else {
        return false;
    };
    let b = stamp.as_bytes();
    b.len() == 16
        && b.get(8) == Some(&b'T')
        && b.get(15) == Some(&b'Z')
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || i == 15 || c.is_ascii_digit())
}

/// The SHA-256 and length of what passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Digest {
    pub sha256: String,
    pub size: u64,
}

/// A writer that hashes and counts what it passes on.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn into_parts(self) -> (W, Digest) {
        let digest = Digest {
            sha256: hex::encode(self.hasher.finalize()),
            size: self.bytes,
        };
        (self.inner, digest)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(written) = buf.get(..n) {
            self.hasher.update(written);
        }
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The SHA-256 and size of a file.
pub(super) fn sha256_file(path: &Path) -> Result<Digest, BackupError> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hashing = Hashing::new(io::sink());
    io::copy(&mut file, &mut hashing).with_context(|| format!("reading {}", path.display()))?;
    Ok(hashing.into_parts().1)
}

/// A `.sha256` file's line, as `sha256sum` writes it.
pub(super) fn checksum_line(sha256: &str, file: &str) -> String {
    format!("{sha256}  {file}\n")
}

/// The hex digest of a `.sha256` file's first line.
pub(super) fn parse_checksum(text: &str) -> Option<String> {
    let digest = text.split_whitespace().next()?.to_ascii_lowercase();
    (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())).then_some(digest)
}

/// Creates `path` for writing, mode 0600, failing if it exists.
pub(super) fn create_private(path: &Path) -> Result<File, BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            BackupError::Config(format!("{} already exists", path.display()))
        } else {
            BackupError::Unexpected(
                anyhow::Error::new(e).context(format!("creating {}", path.display())),
            )
        }
    })
}

/// Writes a new file, mode 0600, synced to disk.
pub(super) fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let mut file = create_private(path)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Writes `bytes` to `path` through a `.partial` file renamed into place, so a reader
/// sees the whole file or none.
pub(super) fn write_complete(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let partial = with_suffix(path, PARTIAL);
    write_new_private(&partial, bytes)?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("renaming {} into place", partial.display()))?;
    Ok(())
}

pub(super) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// What `dump_encrypted` needs, owned, for its blocking thread.
pub(super) struct DumpJob {
    pub pg_dump: PathBuf,
    pub conn: Libpq,
    pub snapshot: String,
    pub recipients: Recipients,
    pub out: PathBuf,
}

/// `pg_dump --format=custom` of the snapshot, encrypted to the recipients into `out`
/// (created, mode 0600), hashed on the way. Blocking.
pub(super) fn dump_encrypted(job: DumpJob) -> Result<Digest, BackupError> {
    let encryptor = age::Encryptor::with_recipients(job.recipients.iter())
        .map_err(|e| anyhow::anyhow!("age: {e}"))?;
    let file = create_private(&job.out)?;
    let mut sealed = encryptor
        .wrap_output(Hashing::new(io::BufWriter::with_capacity(BUFFER, file)))
        .context("writing the age header")?;
    let mut command = job.conn.command(&job.pg_dump);
    command
        .arg("--format=custom")
        // A lock held by a long migration fails the backup instead of stalling it.
        .arg("--lock-wait-timeout=120s")
        .arg(format!("--snapshot={}", job.snapshot))
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let (mut child, stderr) = spawn_collecting(&mut command, "pg_dump")?;
    let copied = match child.stdout.take() {
        Some(mut out) => io::copy(&mut out, &mut sealed),
        None => Err(io::Error::other("pg_dump has no standard output")),
    };
    if let Err(e) = copied {
        // Our side failed (a full disk, say): stop pg_dump rather than leave it blocked.
        let _ = child.kill();
        let _ = child.wait();
        return Err(BackupError::Unexpected(
            anyhow::Error::new(e).context("writing the encrypted archive"),
        ));
    }
    let status = child.wait().context("waiting for pg_dump")?;
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        return Err(BackupError::Tool {
            program: "pg_dump",
            message: failure(status, &stderr),
        });
    }
    let hashing = sealed.finish().context("finishing the encrypted archive")?;
    let (writer, digest) = hashing.into_parts();
    let file = writer
        .into_inner()
        .map_err(io::IntoInnerError::into_error)
        .context("writing the encrypted archive")?;
    file.sync_all().context("syncing the encrypted archive")?;
    Ok(digest)
}

/// The archive's plaintext, decrypted as it is read. Fails before anything is read when
/// the identity is not a recipient.
fn open_decrypted(
    file: &Path,
    identity: &Identity,
) -> Result<age::stream::StreamReader<io::BufReader<File>>, BackupError> {
    let f = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let decryptor = age::Decryptor::new_buffered(io::BufReader::with_capacity(BUFFER, f))
        .map_err(undecryptable)?;
    decryptor.decrypt(identity.iter()).map_err(undecryptable)
}

fn undecryptable(e: age::DecryptError) -> BackupError {
    match e {
        age::DecryptError::NoMatchingKeys => BackupError::WrongIdentity,
        other => BackupError::Damaged(format!("it does not decrypt: {other}")),
    }
}

/// Whether `identity` opens the archive (reads its header only). Blocking.
pub(super) fn check_identity(file: &Path, identity: &Identity) -> Result<(), BackupError> {
    open_decrypted(file, identity).map(drop)
}

/// What `restore_decrypted` needs, owned, for its blocking thread.
pub(super) struct RestoreJob {
    pub pg_restore: PathBuf,
    pub conn: Libpq,
    pub file: PathBuf,
    pub identity: Identity,
    /// Drop what the archive holds before creating it (a non-empty target, `--force`).
    pub clean: bool,
}

/// The archive decrypted into `pg_restore`, in one transaction: a restore that fails
/// part-way (a damaged chunk, a refused statement) leaves the target as it was. Blocking.
pub(super) fn restore_decrypted(job: RestoreJob) -> Result<(), BackupError> {
    let mut plain = open_decrypted(&job.file, &job.identity)?;
    let mut command = job.conn.command(&job.pg_restore);
    // Owners and grants name roles of the source server, which the target may lack;
    // everything restored belongs to the restoring user, as Gatehouse's migrations expect.
    command.args(["--no-owner", "--no-acl", "--single-transaction"]);
    if job.clean {
        command.args(["--clean", "--if-exists"]);
    }
    command.stdin(Stdio::piped()).stdout(Stdio::null());
    let (mut child, stderr) = spawn_collecting(&mut command, "pg_restore")?;
    let mut input = child.stdin.take();
    let copied = match input.as_mut() {
        Some(input) => io::copy(&mut plain, input),
        None => Err(io::Error::other("pg_restore has no standard input")),
    };
    // A broken pipe is pg_restore giving up (its own error follows); anything else is the
    // archive failing to decrypt: pg_restore is killed before it sees an end of input, so
    // its transaction rolls back.
    let reading_failed = matches!(&copied, Err(e) if e.kind() != io::ErrorKind::BrokenPipe);
    if reading_failed {
        let _ = child.kill();
    }
    drop(input);
    let status = child.wait().context("waiting for pg_restore")?;
    let stderr = stderr.join().unwrap_or_default();
    match copied {
        Err(e) if reading_failed => Err(BackupError::Damaged(format!(
            "it does not decrypt to the end ({e}); nothing was restored"
        ))),
        _ if !status.success() => Err(BackupError::Tool {
            program: "pg_restore",
            message: failure(status, &stderr),
        }),
        Err(e) => Err(BackupError::Unexpected(
            anyhow::Error::new(e).context("feeding pg_restore"),
        )),
        Ok(_) => Ok(()),
    }
}

/// Spawns `command` with its standard error collected on a thread of its own (so a chatty
/// tool never blocks on a full pipe), keeping the last few KiB.
fn spawn_collecting(
    command: &mut Command,
    program: &'static str,
) -> Result<(Child, std::thread::JoinHandle<String>), BackupError> {
    let mut child = command
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BackupError::Tool {
            program,
            message: format!("cannot be started: {e}"),
        })?;
    let stderr = child.stderr.take();
    let collector = std::thread::spawn(move || {
        let mut kept: Vec<u8> = Vec::new();
        if let Some(mut stderr) = stderr {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                kept.extend_from_slice(chunk.get(..n).unwrap_or_default());
                if kept.len() > 4 * STDERR_TAIL {
                    kept.drain(..kept.len() - STDERR_TAIL);
                }
            }
        }
        let start = kept.len().saturating_sub(STDERR_TAIL);
        String::from_utf8_lossy(kept.get(start..).unwrap_or_default()).into_owned()
    });
    Ok((child, collector))
}

fn failure(status: std::process::ExitStatus, stderr: &str) -> String {
    let text = stderr.trim();
    if text.is_empty() {
        status.to_string()
    } else {
        format!("{text} ({status})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_utc_second_and_are_recognised() {
        let at = time::macros::datetime!(2026-12-06 02:00:07 UTC);
        let name = name_at(at).unwrap();
        assert_eq!(name, "gatehouse-20261206T020007Z");
        assert!(is_backup_name(&name));
        for bad in [
            "gatehouse-20261206T020007",
            "gatehouse-2026120T6020007Z",
            "other-20261206T020007Z",
            "gatehouse-20261206T02000xZ",
        ] {
            assert!(!is_backup_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_checksum_file_is_sha256sum_s_format() {
        let line = checksum_line(&"ab".repeat(32), "x.dump.age");
        assert_eq!(line, format!("{}  x.dump.age\n", "ab".repeat(32)));
        assert_eq!(parse_checksum(&line), Some("ab".repeat(32)));
        assert_eq!(parse_checksum("nothex  x"), None);
        assert_eq!(parse_checksum(""), None);
    }

    #[test]
    fn hashing_counts_and_hashes_what_passes() {
        let mut h = Hashing::new(Vec::new());
        h.write_all(b"hello ").unwrap();
        h.write_all(b"world").unwrap();
        let (inner, digest) = h.into_parts();
        assert_eq!(inner, b"hello world");
        assert_eq!(digest.size, 11);
        assert_eq!(
            digest.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
    }
}
