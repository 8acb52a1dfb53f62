//! Where backups live: the local directory (kept to `GATEHOUSE_BACKUP_KEEP`) and an
//! S3-compatible bucket through `object_store`. Uploads go in parts (`BufWriter` switches
//! to a multipart upload past 10 MiB); downloads stream to a file. A backup counts only
//! once its manifest, written last, is there.

use super::archive::{is_backup_name, CHECKSUM, DUMP, MANIFEST, PARTIAL};
use super::{BackupError, Destinations, S3Config};
use anyhow::Context as _;
use futures_util::TryStreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, ObjectStore};
use secrecy::ExposeSecret;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::AsyncWriteExt as _;

/// What a run that died left behind is removed after this long.
const STALE: Duration = Duration::from_secs(24 * 3600);

/// Where a backup is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// The local directory (`GATEHOUSE_BACKUP_DIR`).
    Local,
    /// The bucket (`GATEHOUSE_BACKUP_S3_URL`).
    S3,
}

/// A complete backup found in a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub name: String,
    pub place: Place,
    /// The encrypted archive's size.
    pub size_bytes: Option<u64>,
}

/// The complete backups in `dir`, oldest first (names sort by time).
pub(super) fn local_backups(dir: &Path) -> Result<Vec<Listed>, BackupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(BackupError::Unexpected(
                anyhow::Error::new(e).context(format!("reading {}", dir.display())),
            ))
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(MANIFEST).map(str::to_owned))
        .filter(|n| is_backup_name(n))
        .collect();
    names.sort();
    Ok(names
        .into_iter()
        .map(|name| Listed {
            size_bytes: std::fs::metadata(dir.join(format!("{name}{DUMP}")))
                .ok()
                .map(|m| m.len()),
            name,
            place: Place::Local,
        })
        .collect())
}

/// Keeps the newest `keep` complete backups in `dir` and removes the files of older ones
/// (the manifest first, so a set half removed is no longer listed), and, after a day,
/// what runs that died left behind. Returns the names removed.
pub(super) fn prune_local(dir: &Path, keep: usize) -> Result<Vec<String>, BackupError> {
    let backups = local_backups(dir)?;
    let excess = backups.len().saturating_sub(keep.max(1));
    let mut removed = Vec::new();
    for old in backups.iter().take(excess) {
        for ext in [MANIFEST, CHECKSUM, DUMP] {
            let path = dir.join(format!("{}{ext}", old.name));
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(BackupError::Unexpected(
                        anyhow::Error::new(e).context(format!("removing {}", path.display())),
                    ))
                }
            }
        }
        removed.push(old.name.clone());
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.filter_map(Result::ok) {
            let file = entry.file_name().to_string_lossy().into_owned();
            // A run that died leaves a `.partial` file, or an archive and checksum
            // without the manifest that would have completed them.
            let orphan = [DUMP, CHECKSUM].iter().any(|ext| {
                file.strip_suffix(ext).is_some_and(|name| {
                    is_backup_name(name) && !dir.join(format!("{name}{MANIFEST}")).exists()
                })
            });
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > STALE);
            if (file.ends_with(PARTIAL) || orphan) && old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(removed)
}

/// Creates the backup directory, mode 0700, when missing.
pub(super) fn make_private_dir(dir: &Path) -> Result<(), BackupError> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("setting the mode of {}", dir.display()))?;
        }
    }
    Ok(())
}

/// The complete backups in a place, oldest first.
pub async fn list_backups(from: &Destinations, place: Place) -> Result<Vec<Listed>, BackupError> {
    match place {
        Place::Local => local_backups(&from.dir),
        Place::S3 => bucket(from)?.backups().await,
    }
}

pub(super) fn bucket(from: &Destinations) -> Result<Bucket, BackupError> {
    match &from.s3 {
        Some(config) => Bucket::open(config),
        None => Err(BackupError::Config(
            "GATEHOUSE_BACKUP_S3_URL is not set".into(),
        )),
    }
}

/// A bucket and the prefix backups go under.
pub(super) struct Bucket {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    url: String,
}

impl Bucket {
    pub(super) fn open(config: &S3Config) -> Result<Self, BackupError> {
        let url = url::Url::parse(&config.url).map_err(|_| {
            BackupError::Config(
                "GATEHOUSE_BACKUP_S3_URL is not a URL like s3://bucket/prefix".into(),
            )
        })?;
        if url.scheme() != "s3" || url.host_str().is_none_or(str::is_empty) {
            return Err(BackupError::Config(
                "GATEHOUSE_BACKUP_S3_URL must look like s3://bucket/prefix".into(),
            ));
        }
        let prefix = ObjectPath::from_url_path(url.path())
            .map_err(|e| BackupError::Config(format!("GATEHOUSE_BACKUP_S3_URL's prefix: {e}")))?;
        let mut builder = AmazonS3Builder::from_env().with_url(config.url.clone());
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint.clone())
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &config.region {
            builder = builder.with_region(region.clone());
        }
        if let Some(key) = &config.access_key_id {
            builder = builder.with_access_key_id(key.clone());
        }
        if let Some(secret) = &config.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose_secret());
        }
        let store = builder
            .build()
            .map_err(|e| BackupError::Config(format!("GATEHOUSE_BACKUP_S3_*: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            prefix,
            url: config.url.trim_end_matches('/').to_owned(),
        })
    }

    fn at(&self, file: &str) -> ObjectPath {
        self.prefix.clone().join(file)
    }

    /// `s3://bucket/prefix/file`, for messages and reports.
    pub(super) fn url_of(&self, file: &str) -> String {
        format!("{}/{file}", self.url)
    }

    fn failed(&self, doing: &str, e: object_store::Error) -> BackupError {
        match e {
            object_store::Error::NotFound { path, .. } => {
                BackupError::NotFound(format!("{}: {path} does not exist", self.url))
            }
            other => BackupError::Storage(format!("{doing} {}: {other}", self.url)),
        }
    }

    /// Uploads a local file as `file`, in parts when large; an upload that fails is
    /// aborted, so no partial object is left behind.
    pub(super) async fn upload(&self, local: &Path, file: &str) -> Result<(), BackupError> {
        let mut source = tokio::fs::File::open(local)
            .await
            .with_context(|| format!("opening {}", local.display()))?;
        let mut writer =
            object_store::buffered::BufWriter::new(Arc::clone(&self.store), self.at(file));
        if let Err(e) = tokio::io::copy(&mut source, &mut writer).await {
            let _ = writer.abort().await;
            return Err(BackupError::Storage(format!(
                "uploading {}: {e}",
                self.url_of(file)
            )));
        }
        writer
            .shutdown()
            .await
            .map_err(|e| BackupError::Storage(format!("uploading {}: {e}", self.url_of(file))))?;
        Ok(())
    }

    /// Downloads `file` into a new local file.
    pub(super) async fn download(&self, file: &str, local: &Path) -> Result<(), BackupError> {
        let found = self
            .store
            .get_opts(&self.at(file), GetOptions::default())
            .await
            .map_err(|e| self.failed("reading", e))?;
        let mut stream = found.into_stream();
        let mut out = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(local)
            .await
            .with_context(|| format!("creating {}", local.display()))?;
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|e| self.failed("reading", e))?
        {
            out.write_all(&chunk)
                .await
                .with_context(|| format!("writing {}", local.display()))?;
        }
        out.sync_all()
            .await
            .with_context(|| format!("writing {}", local.display()))?;
        Ok(())
    }

    /// The complete backups directly under the prefix, oldest first.
    pub(super) async fn backups(&self) -> Result<Vec<Listed>, BackupError> {
        let mut listing = self.store.list(Some(&self.prefix));
        let mut manifests = Vec::new();
        let mut sizes = BTreeMap::new();
        while let Some(meta) = listing
            .try_next()
            .await
            .map_err(|e| self.failed("listing", e))?
        {
            if meta.location.parent().as_ref() != Some(&self.prefix) {
                continue;
            }
            let Some(file) = meta.location.filename() else {
                continue;
            };
            if let Some(name) = file.strip_suffix(MANIFEST) {
                if is_backup_name(name) {
                    manifests.push(name.to_owned());
                }
            } else if let Some(name) = file.strip_suffix(DUMP) {
                sizes.insert(name.to_owned(), meta.size);
            }
        }
        manifests.sort();
        Ok(manifests
            .into_iter()
            .map(|name| Listed {
                size_bytes: sizes.get(&name).copied(),
                name,
                place: Place::S3,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_the_newest_complete_backups() {
        let dir = std::env::temp_dir().join(format!("gatehouse-prune-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "gatehouse-20261201T020000Z",
            "gatehouse-20261202T020000Z",
            "gatehouse-20261203T020000Z",
        ] {
            for ext in [DUMP, CHECKSUM, MANIFEST] {
                std::fs::write(dir.join(format!("{name}{ext}")), b"x").unwrap();
            }
        }
        // Incomplete (no manifest): never listed, never counted.
        std::fs::write(dir.join("gatehouse-20261204T020000Z.dump.age"), b"x").unwrap();
        let removed = prune_local(&dir, 2).unwrap();
        assert_eq!(removed, ["gatehouse-20261201T020000Z"]);
        let left: Vec<String> = local_backups(&dir)
            .unwrap()
            .into_iter()
            .map(|b| b.name)
            .collect();
        assert_eq!(
            left,
            ["gatehouse-20261202T020000Z", "gatehouse-20261203T020000Z"]
        );
        assert!(!dir.join("gatehouse-20261201T020000Z.dump.age").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bucket_url_names_bucket_and_prefix() {
        let config = |url: &str| S3Config {
            url: url.into(),
            endpoint: Some("http://127.0.0.1:1".into()),
            region: Some("us-east-1".into()),
            access_key_id: Some("k".into()),
            secret_access_key: Some(secrecy::SecretString::from("s".to_owned())),
        };
        let bucket = Bucket::open(&config("s3://backups/gatehouse/prod/")).unwrap();
        assert_eq!(bucket.at("x.sha256").as_ref(), "gatehouse/prod/x.sha256");
        assert_eq!(bucket.url_of("x"), "s3://backups/gatehouse/prod/x");
        let root = Bucket::open(&config("s3://backups")).unwrap();
        assert_eq!(root.at("x").as_ref(), "x");
        assert!(matches!(
            Bucket::open(&config("https://example.com/x")),
            Err(BackupError::Config(_))
        ));
    }
}
