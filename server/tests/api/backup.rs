//! Backups as an operator runs them: a backup is encrypted (nothing of the database in
//! clear), described by a manifest that matches the database and checked by its checksum;
//! it restores into a fresh database with the same rows and an intact audit chain, and a
//! verify proves it in a scratch database that it drops; a wrong key, a damaged file and a
//! non-empty target are refused with a reason; and the same round trip goes through a real
//! S3-compatible server (moto) on loopback.

use crate::helpers::{person, spawn_app, tenant};
use gatehouse_domain::audit::verify_audit_chain;
use gatehouse_domain::types::Role;
use gatehouse_server::backup::{
    create_backup, list_backups, restore_backup, verify_backup, with_database_name, BackupError,
    Created, Destinations, Identity, Manifest, Place, Recipients, S3Config, Which,
};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PROBE_EMAIL: &str = "backup-probe@acme.test";

/// A directory of the test's own, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("gatehouse-{what}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A key pair made with the age crate: the identity in a file, the recipient for backups.
struct Keys {
    age: age::x25519::Identity,
    file: PathBuf,
    recipients: Recipients,
}

fn keys(dir: &Path, name: &str) -> Keys {
    let age = age::x25519::Identity::generate();
    let file = dir.join(format!("{name}.key"));
    std::fs::write(
        &file,
        format!("# test key\n{}\n", age.to_string().expose_secret()),
    )
    .unwrap();
    let recipients = Recipients::from_keys(vec![age.to_public()]);
    Keys {
        age,
        file,
        recipients,
    }
}

impl Keys {
    fn identity(&self) -> Identity {
        Identity::from_file(&self.file).unwrap()
    }
}

/// The URL of the test's own database (sqlx::test makes one per test on DATABASE_URL's
/// server): what pg_dump reads.
async fn database_url(pool: &PgPool) -> SecretString {
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let master = SecretString::from(std::env::var("DATABASE_URL").unwrap());
    with_database_name(&master, &name).unwrap()
}

/// A new, empty database on the same server; dropped with [`drop_database`].
async fn fresh_database(pool: &PgPool, base: &SecretString) -> (String, SecretString) {
    let name = format!(
        "gatehouse_test_restore_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
        .execute(pool)
        .await
        .unwrap();
    let url = with_database_name(base, &name).unwrap();
    (name, url)
}

async fn drop_database(pool: &PgPool, name: &str) {
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(pool)
        .await
        .unwrap();
}

async fn tables_in(url: &SecretString) -> i64 {
    let pool = PgPool::connect(url.expose_secret()).await.unwrap();
    let n = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    n
}

/// Every table's rows, as the manifest counts them.
async fn row_counts(pool: &PgPool, tables: &BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for table in tables.keys() {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM public.\"{table}\""))
            .fetch_one(pool)
            .await
            .unwrap();
        counts.insert(table.clone(), n);
    }
    counts
}

/// A tenant with a person, and an operator: rows in the main tables and audit entries.
async fn seed(pool: &PgPool) {
    let acme = tenant(pool, "acme").await;
    person(pool, Some(acme), PROBE_EMAIL, Role::User, None).await;
    person(pool, None, "ops@gatehouse.test", Role::Operator, None).await;
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn backup_of(pool: &PgPool, keys: &Keys, dir: &Path) -> Created {
    create_backup(
        pool,
        &database_url(pool).await,
        &keys.recipients,
        &Destinations::local(dir),
    )
    .await
    .unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_backup_is_encrypted_and_its_manifest_matches_the_database(pool: PgPool) {
    seed(&pool).await;
    let dir = TempDir::new("backup");
    let keys = keys(&dir.0, "operator");
    let users = count(&pool, "SELECT count(*) FROM users").await;
    let entries = count(&pool, "SELECT count(*) FROM audit_log").await;
    let head: i64 = count(&pool, "SELECT seq FROM audit_chain_head").await;

    let created = backup_of(&pool, &keys, &dir.0).await;

    let name = &created.name;
    let dump = dir.0.join(format!("{name}.dump.age"));
    for ext in [".dump.age", ".manifest.json", ".sha256"] {
        assert!(dir.0.join(format!("{name}{ext}")).is_file(), "{name}{ext}");
    }
    // The manifest on disk is the one returned, and it counts what the database held.
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(dir.0.join(format!("{name}.manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest, created.manifest);
    assert_eq!(manifest.tables["users"], users);
    assert_eq!(manifest.tables["tenants"], 1);
    assert_eq!(manifest.tables["audit_log"], entries);
    assert!(
        !manifest.tables.keys().any(|t| t.starts_with("audit_log_")),
        "partitions are counted in their table"
    );
    assert_eq!(manifest.audit_head.seq, head);
    assert_eq!(
        manifest.archive.recipients,
        vec![keys.age.to_public().to_string()]
    );
    let manifest_text =
        std::fs::read_to_string(dir.0.join(format!("{name}.manifest.json"))).unwrap();
    assert!(
        !manifest_text.contains(PROBE_EMAIL),
        "no personal data in the manifest"
    );

    // The checksum file is sha256sum's, and matches the archive and the manifest.
    let bytes = std::fs::read(&dump).unwrap();
    let sha256 = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    assert_eq!(
        std::fs::read_to_string(dir.0.join(format!("{name}.sha256"))).unwrap(),
        format!("{sha256}  {name}.dump.age\n")
    );
    assert_eq!(manifest.archive.sha256, sha256);
    assert_eq!(manifest.archive.size_bytes, bytes.len() as u64);

    // Encrypted: an age file, with neither pg_dump's archive header nor a person's email
    // in clear; the identity opens it to a pg_dump custom-format archive.
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    assert!(!contains(&bytes, b"PGDMP"));
    assert!(!contains(&bytes, PROBE_EMAIL.as_bytes()));
    let plain = age::decrypt(&keys.age, &bytes).unwrap();
    assert!(
        plain.starts_with(b"PGDMP"),
        "a pg_dump custom archive inside"
    );

    // The run is on record, and audited.
    let (kind, ok, size): (String, Option<bool>, Option<i64>) =
        sqlx::query_as("SELECT kind, ok, size_bytes FROM backup_runs")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), ok, size),
        ("create", Some(true), Some(bytes.len() as i64))
    );
    let (outcome, resource): (String, Option<String>) =
        sqlx::query_as("SELECT outcome, resource FROM audit_log WHERE action = 'backup.create'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(outcome, "success");
    assert_eq!(resource, Some(format!("backup:{name}")));
    let listed = list_backups(&Destinations::local(&dir.0), Place::Local)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(&listed[0].name, name);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_restore_gives_the_same_rows_and_an_intact_audit_chain(pool: PgPool) {
    seed(&pool).await;
    let dir = TempDir::new("backup");
    let keys = keys(&dir.0, "operator");
    let created = backup_of(&pool, &keys, &dir.0).await;
    let base = database_url(&pool).await;
    let from = Destinations::local(&dir.0);
    let which = Which::Named(created.name.clone(), Place::Local);

    // A database that holds tables is refused, and left alone.
    let entries = count(&pool, "SELECT count(*) FROM audit_log").await;
    let refused = restore_backup(&from, &which, &keys.identity(), &base, false).await;
    assert!(
        matches!(refused, Err(BackupError::TargetNotEmpty { tables }) if tables > 0),
        "{refused:?}"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM audit_log").await,
        entries
    );

    let (name, url) = fresh_database(&pool, &base).await;
    let restored = restore_backup(&from, &which, &keys.identity(), &url, false)
        .await
        .unwrap();
    assert!(restored.mismatches.is_empty(), "{:?}", restored.mismatches);
    assert!(!restored.replaced);
    assert_eq!(restored.tables, created.manifest.tables.len());

    let copy = PgPool::connect(url.expose_secret()).await.unwrap();
    let mut counts = row_counts(&copy, &created.manifest.tables).await;
    // The restore is recorded and audited in the database it restored: one row and one
    // entry more than the backup holds.
    assert_eq!(
        counts.remove("backup_runs"),
        Some(created.manifest.tables["backup_runs"] + 1)
    );
    assert_eq!(
        counts.remove("audit_log"),
        Some(created.manifest.tables["audit_log"] + 1)
    );
    let mut expected = created.manifest.tables.clone();
    expected.remove("backup_runs");
    expected.remove("audit_log");
    assert_eq!(counts, expected);
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE email = $1")
        .bind(PROBE_EMAIL)
        .fetch_optional(&copy)
        .await
        .unwrap();
    assert_eq!(email.as_deref(), Some(PROBE_EMAIL));
    let chain = verify_audit_chain(&copy).await.unwrap();
    assert!(chain.is_intact(), "{chain:?}");
    assert_eq!(chain.last_seq, Some(created.manifest.audit_head.seq + 1));
    let restore_entry: String = sqlx::query_scalar(
        "SELECT resource FROM audit_log WHERE action = 'backup.restore' AND outcome = 'success'",
    )
    .fetch_one(&copy)
    .await
    .unwrap();
    assert_eq!(restore_entry, format!("backup:{}", created.name));
    copy.close().await;
    drop_database(&pool, &name).await;
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_wrong_identity_is_refused_before_the_database_is_touched(pool: PgPool) {
    seed(&pool).await;
    let dir = TempDir::new("backup");
    let keys = keys(&dir.0, "operator");
    let thief = self::keys(&dir.0, "thief");
    let created = backup_of(&pool, &keys, &dir.0).await;
    let base = database_url(&pool).await;
    let from = Destinations::local(&dir.0);
    let which = Which::Named(created.name.clone(), Place::Local);

    let (name, url) = fresh_database(&pool, &base).await;
    let refused = restore_backup(&from, &which, &thief.identity(), &url, false).await;
    assert!(
        matches!(refused, Err(BackupError::WrongIdentity)),
        "{refused:?}"
    );
    assert_eq!(tables_in(&url).await, 0, "nothing restored");
    drop_database(&pool, &name).await;

    let refused = verify_backup(&pool, &from, &which, &thief.identity(), &base).await;
    let err = refused.err().unwrap();
    assert!(matches!(err, BackupError::WrongIdentity), "{err:?}");
    assert!(err.to_string().contains("other keys"), "{err}");
    let detail: String =
        sqlx::query_scalar("SELECT detail FROM backup_runs WHERE kind = 'verify' AND ok = false")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(detail.contains("does not decrypt"), "{detail}");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_damaged_backup_fails_its_checksum_and_never_restores(pool: PgPool) {
    seed(&pool).await;
    let dir = TempDir::new("backup");
    let keys = keys(&dir.0, "operator");
    let created = backup_of(&pool, &keys, &dir.0).await;
    let base = database_url(&pool).await;
    let from = Destinations::local(&dir.0);
    let which = Which::Named(created.name.clone(), Place::Local);
    let dump = dir.0.join(format!("{}.dump.age", created.name));
    let mut bytes = std::fs::read(&dump).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&dump, &bytes).unwrap();

    let (name, url) = fresh_database(&pool, &base).await;
    let refused = restore_backup(&from, &which, &keys.identity(), &url, false).await;
    match refused {
        Err(BackupError::ChecksumMismatch {
            expected, actual, ..
        }) => {
            assert_eq!(expected, created.manifest.archive.sha256);
            assert_ne!(actual, expected);
        }
        other => panic!("expected a checksum mismatch, got {other:?}"),
    }
    let refused = verify_backup(&pool, &from, &which, &keys.identity(), &base).await;
    assert!(
        matches!(refused, Err(BackupError::ChecksumMismatch { .. })),
        "{refused:?}"
    );
    let (ok, outcome): (Option<bool>, String) = sqlx::query_as(
        "SELECT r.ok, l.outcome FROM backup_runs r, audit_log l
          WHERE r.kind = 'verify' AND l.action = 'backup.verify'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((ok, outcome.as_str()), (Some(false), "failure"));

    // Even with its checksum files rewritten to match, the altered archive does not
    // decrypt (age authenticates every chunk) and nothing reaches the database.
    let sha256 = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    std::fs::write(
        dir.0.join(format!("{}.sha256", created.name)),
        format!("{sha256}  {}.dump.age\n", created.name),
    )
    .unwrap();
    let mut manifest = created.manifest.clone();
    manifest.archive.sha256 = sha256;
    std::fs::write(
        dir.0.join(format!("{}.manifest.json", created.name)),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    let refused = restore_backup(&from, &which, &keys.identity(), &url, false).await;
    assert!(
        matches!(refused, Err(BackupError::Damaged(_))),
        "{refused:?}"
    );
    assert_eq!(tables_in(&url).await, 0, "nothing restored");
    drop_database(&pool, &name).await;
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn verify_restores_into_a_scratch_database_checks_and_drops_it(pool: PgPool) {
    seed(&pool).await;
    let dir = TempDir::new("backup");
    let keys = keys(&dir.0, "operator");
    let created = backup_of(&pool, &keys, &dir.0).await;
    let base = database_url(&pool).await;
    let from = Destinations::local(&dir.0);

    let report = verify_backup(
        &pool,
        &from,
        &Which::Newest(Place::Local),
        &keys.identity(),
        &base,
    )
    .await
    .unwrap();
    assert!(report.ok, "{}", report.summary());
    assert_eq!(report.backup, created.name);
    assert_eq!(report.tables_checked, created.manifest.tables.len());
    assert_eq!(report.rows_checked, created.manifest.rows());
    assert!(report.mismatches.is_empty());
    assert!(report.audit.intact && report.audit.head_matches);
    assert_eq!(
        report.audit.entries,
        created.manifest.tables["audit_log"] as u64
    );
    assert!(
        report.summary().contains("verified"),
        "{}",
        report.summary()
    );
    let scratch_left = count(
        &pool,
        &format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{}'",
            report.scratch_database
        ),
    )
    .await;
    assert_eq!(scratch_left, 0, "the scratch database is dropped");

    // Both runs on record and in the audit trail, which stays intact.
    let kinds: Vec<(String, Option<bool>)> =
        sqlx::query_as("SELECT kind, ok FROM backup_runs ORDER BY started_at")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        kinds,
        vec![
            ("create".to_owned(), Some(true)),
            ("verify".to_owned(), Some(true))
        ]
    );
    let audited = count(
        &pool,
        "SELECT count(*) FROM audit_log WHERE action IN ('backup.create', 'backup.verify') AND outcome = 'success'",
    )
    .await;
    assert_eq!(audited, 2);
    assert!(verify_audit_chain(&pool).await.unwrap().is_intact());

    // And on /metrics.
    let app = spawn_app(pool.clone()).await;
    let metrics = app.metrics().await.text().await.unwrap();
    for line in [
        "gatehouse_backup_last_success_timestamp_seconds{kind=\"create\"}",
        "gatehouse_backup_last_success_timestamp_seconds{kind=\"verify\"}",
        "gatehouse_backup_duration_seconds{kind=\"verify\"}",
        "gatehouse_backup_size_bytes",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
}

/// moto's S3 in server mode on a free loopback port, stopped when dropped.
struct Moto {
    _server: tokio::process::Child,
    endpoint: String,
    python: String,
}

async fn start_moto() -> Option<Moto> {
    let Ok(python) = std::env::var("E2E_PYTHON") else {
        eprintln!(
            "SKIPPED backups_round_trip_through_an_s3_bucket: E2E_PYTHON is unset (a Python with moto[server], as scripts/test.sh sets up)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = tokio::process::Command::new(&python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starting moto (pip install 'moto[server]' into E2E_PYTHON's environment)");
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..150 {
        if client.get(&endpoint).send().await.is_ok() {
            return Some(Moto {
                _server: server,
                endpoint,
                python,
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("moto did not answer on {endpoint} within 30 s");
}

impl Moto {
    /// Creates a bucket with boto3 (moto's own dependency), as an operator's tooling would.
    async fn create_bucket(&self, bucket: &str) {
        let script = format!(
            "import boto3; boto3.client('s3', endpoint_url='{}', aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1').create_bucket(Bucket='{bucket}')",
            self.endpoint
        );
        let status = tokio::process::Command::new(&self.python)
            .args(["-c", &script])
            .status()
            .await
            .unwrap();
        assert!(status.success(), "creating the bucket {bucket}");
    }

    fn s3(&self, url: &str) -> S3Config {
        S3Config {
            url: url.into(),
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some("test".into()),
            secret_access_key: Some(SecretString::from("test".to_owned())),
        }
    }
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn backups_round_trip_through_an_s3_bucket(pool: PgPool) {
    let Some(moto) = start_moto().await else {
        return;
    };
    moto.create_bucket("gatehouse-backups").await;
    seed(&pool).await;
    let server = TempDir::new("backup-server");
    let keys = keys(&server.0, "operator");
    let to = Destinations::local(&server.0).with_s3(moto.s3("s3://gatehouse-backups/nightly"));
    let created = create_backup(&pool, &database_url(&pool).await, &keys.recipients, &to)
        .await
        .unwrap();
    assert_eq!(
        created.s3.as_deref(),
        Some(format!("s3://gatehouse-backups/nightly/{}.dump.age", created.name).as_str())
    );
    let listed = list_backups(&to, Place::S3).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, created.name);
    assert_eq!(
        listed[0].size_bytes,
        Some(created.manifest.archive.size_bytes)
    );

    // A new machine: an empty local directory, the bucket, the key.
    let elsewhere = TempDir::new("backup-restore");
    let from = Destinations::local(&elsewhere.0).with_s3(moto.s3("s3://gatehouse-backups/nightly"));
    let base = database_url(&pool).await;
    let (name, url) = fresh_database(&pool, &base).await;
    let restored = restore_backup(
        &from,
        &Which::Newest(Place::S3),
        &keys.identity(),
        &url,
        false,
    )
    .await
    .unwrap();
    assert_eq!(restored.backup, created.name);
    assert!(restored.mismatches.is_empty(), "{:?}", restored.mismatches);
    let copy = PgPool::connect(url.expose_secret()).await.unwrap();
    assert!(verify_audit_chain(&copy).await.unwrap().is_intact());
    let users = count(&copy, "SELECT count(*) FROM users").await;
    assert_eq!(users, created.manifest.tables["users"]);
    copy.close().await;
    drop_database(&pool, &name).await;
    let leftovers: Vec<_> = std::fs::read_dir(&elsewhere.0).unwrap().collect();
    assert!(
        leftovers.is_empty(),
        "the download is removed: {leftovers:?}"
    );

    // A bucket that does not exist is a clear refusal.
    let missing = Destinations::local(&elsewhere.0).with_s3(moto.s3("s3://no-such-bucket/x"));
    let err = list_backups(&missing, Place::S3).await.err().unwrap();
    assert!(
        matches!(err, BackupError::Storage(_) | BackupError::NotFound(_)),
        "{err:?}"
    );
}
