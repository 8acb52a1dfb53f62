//! The PostgreSQL side of backups: finding `pg_dump`/`pg_restore`, handing them the
//! connection with the password in their environment rather than on their command line
//! (where `ps` shows it), the one snapshot a dump and its manifest share, what a database
//! holds (counts, audit head, versions), and scratch databases.

use super::archive::AuditHead;
use super::BackupError;
use anyhow::Context as _;
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;
use url::Url;

/// A PostgreSQL program: `GATEHOUSE_PG_BIN_DIR`, else the newest
/// `/usr/lib/postgresql/*/bin` (pg_dump must be at least the server's major version),
/// else `PATH`.
pub(super) fn program(name: &str) -> Result<PathBuf, BackupError> {
    if let Some(dir) = std::env::var_os("GATEHOUSE_PG_BIN_DIR") {
        let path = PathBuf::from(dir).join(name);
        if path.is_file() {
            return Ok(path);
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let version = e.file_name().to_str()?.parse::<u32>().ok()?;
                    let path = e.path().join("bin").join(name);
                    path.is_file().then_some((version, path))
                })
                .collect()
        })
        .unwrap_or_default();
    versioned.sort();
    if let Some((_, path)) = versioned.pop() {
        return Ok(path);
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let path = dir.join(name);
            if path.is_file() {
                return Ok(path);
            }
        }
    }
    Err(BackupError::Config(format!(
        "{name} not found: install PostgreSQL's client programs (Debian: postgresql-client) or set GATEHOUSE_PG_BIN_DIR"
    )))
}

/// A database URL as libpq (`pg_dump`, `pg_restore`) takes it: the URL without its
/// password, and the password apart, for `PGPASSWORD`.
pub(super) struct Libpq {
    dbname: String,
    password: Option<SecretString>,
}

impl Libpq {
    /// Translates sqlx's URL: its own parameter spellings become libpq's, and its
    /// statement cache setting (unknown to libpq, which would refuse the URL) is dropped.
    pub(super) fn from_url(url: &SecretString) -> Result<Self, BackupError> {
        let mut parsed = Url::parse(url.expose_secret())
            .map_err(|_| BackupError::Config("the database URL is not a valid URL".into()))?;
        let mut password = match parsed.password() {
            Some(p) => Some(
                percent_decode_str(p)
                    .decode_utf8()
                    .map_err(|_| {
                        BackupError::Config("the database URL's password is not UTF-8".into())
                    })?
                    .into_owned(),
            ),
            None => None,
        };
        let _ = parsed.set_password(None);
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let mut query: Vec<(String, String)> = Vec::new();
        let mut options: Vec<String> = Vec::new();
        for (key, value) in pairs {
            let key = match key.as_str() {
                "password" => {
                    password = Some(value);
                    continue;
                }
                "statement-cache-capacity" => continue,
                "options" => {
                    options.push(value);
                    continue;
                }
                "ssl-mode" => "sslmode".to_owned(),
                "ssl-root-cert" | "ssl-ca" => "sslrootcert".to_owned(),
                "ssl-cert" => "sslcert".to_owned(),
                "ssl-key" => "sslkey".to_owned(),
                other => {
                    if let Some(setting) = other
                        .strip_prefix("options[")
                        .and_then(|rest| rest.strip_suffix(']'))
                    {
                        options.push(format!("-c {setting}={value}"));
                        continue;
                    }
                    other.to_owned()
                }
            };
            query.push((key, value));
        }
        if !options.is_empty() {
            query.push(("options".into(), options.join(" ")));
        }
        // Percent-encoded by hand: libpq does not read `+` as a space.
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, NON_ALPHANUMERIC),
                    utf8_percent_encode(v, NON_ALPHANUMERIC)
                )
            })
            .collect();
        let joined = encoded.join("&");
        parsed.set_query((!joined.is_empty()).then_some(joined.as_str()));
        Ok(Self {
            dbname: parsed.to_string(),
            password: password.map(SecretString::from),
        })
    }

    /// `program --no-password --dbname=…`, with `PGPASSWORD` set when there is one.
    pub(super) fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .arg("--no-password")
            .arg(format!("--dbname={}", self.dbname));
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password.expose_secret());
        }
        command
    }
}

/// `url` naming database `name` instead (a scratch or restore-target database on the same
/// server, reached with the same credentials).
pub fn with_database_name(url: &SecretString, name: &str) -> Result<SecretString, BackupError> {
    let mut parsed = Url::parse(url.expose_secret())
        .map_err(|_| BackupError::Config("the database URL is not a valid URL".into()))?;
    parsed.set_path(&format!("/{name}"));
    if parsed.query_pairs().any(|(k, _)| k == "dbname") {
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "dbname")
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok(SecretString::from(parsed.to_string()))
}

/// A small pool on `url`.
pub(super) async fn connect(url: &SecretString) -> Result<PgPool, BackupError> {
    let options = PgConnectOptions::from_str(url.expose_secret()).map_err(|_| {
        BackupError::Config("the database URL is not a valid PostgreSQL URL".into())
    })?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .context("connecting to PostgreSQL")?;
    Ok(pool)
}

pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(super) async fn create_database(admin: &PgPool, name: &str) -> Result<(), BackupError> {
    let sql = format!("CREATE DATABASE {}", quote_ident(name));
    sqlx::raw_sql(&sql)
        .execute(admin)
        .await
        .with_context(|| format!("creating the database {name} (the user needs CREATEDB)"))?;
    Ok(())
}

pub(super) async fn drop_database(admin: &PgPool, name: &str) -> Result<(), BackupError> {
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    sqlx::raw_sql(&sql)
        .execute(admin)
        .await
        .with_context(|| format!("dropping the database {name}"))?;
    Ok(())
}

/// Tables outside PostgreSQL's own schemas: a restore target with any is not empty.
pub(super) async fn user_tables(pool: &PgPool) -> Result<i64, BackupError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(pool)
    .await?)
}

pub(super) async fn has_table(pool: &PgPool, table: &str) -> Result<bool, BackupError> {
    Ok(sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(format!("public.{table}"))
        .fetch_one(pool)
        .await?)
}

/// An open transaction whose snapshot `pg_dump --snapshot` imports, so the dump and the
/// manifest's counts see the same rows. It must stay open until `pg_dump` has started;
/// it is closed after the dump ends.
pub(super) struct Snapshot {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    pub(super) id: String,
}

impl Snapshot {
    pub(super) async fn export(pool: &PgPool) -> Result<Self, BackupError> {
        let mut tx = pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await?;
        Ok(Self { tx, id })
    }

    pub(super) async fn facts(&mut self) -> Result<Facts, BackupError> {
        facts(&mut self.tx).await
    }

    pub(super) async fn close(self) {
        let _ = self.tx.rollback().await;
    }
}

/// What a database holds, as the manifest records it.
#[derive(Debug, Clone)]
pub(super) struct Facts {
    pub tables: BTreeMap<String, i64>,
    pub audit_head: AuditHead,
    pub schema_version: Option<i64>,
    pub postgres_version: String,
}

/// Counts every table of the `public` schema (a partitioned table whole, its partitions
/// not again), the audit chain's head and the versions.
pub(super) async fn facts(conn: &mut PgConnection) -> Result<Facts, BackupError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = BTreeMap::new();
    for name in names {
        let sql = format!("SELECT count(*) FROM public.{}", quote_ident(&name));
        let count: i64 = sqlx::query_scalar(&sql)
            .persistent(false)
            .fetch_one(&mut *conn)
            .await
            .with_context(|| format!("counting the rows of {name}"))?;
        tables.insert(name, count);
    }
    let head: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_chain_head WHERE singleton")
            .fetch_optional(&mut *conn)
            .await?;
    let (seq, hash) = head.unwrap_or_default();
    let schema_version: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *conn)
            .await?;
    let postgres_version: String = sqlx::query_scalar("SELECT current_setting('server_version')")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Facts {
        tables,
        audit_head: AuditHead {
            seq,
            hash: hex::encode(hash),
        },
        schema_version,
        postgres_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn libpq(url: &str) -> (String, Option<String>) {
        let l = Libpq::from_url(&SecretString::from(url.to_owned())).unwrap();
        (l.dbname, l.password.map(|p| p.expose_secret().to_owned()))
    }

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let (url, password) =
            libpq("postgres://gh:p%40ss%2Fword@db.example:5433/gatehouse?sslmode=require");
        assert_eq!(
            url,
            "postgres://gh@db.example:5433/gatehouse?sslmode=require"
        );
        assert_eq!(password.as_deref(), Some("p@ss/word"));
        let (url, password) =
            libpq("postgres://gh@db/gatehouse?password=secret&ssl-mode=verify-full");
        assert_eq!(url, "postgres://gh@db/gatehouse?sslmode=verify%2Dfull");
        assert_eq!(password.as_deref(), Some("secret"));
    }

    #[test]
    fn sqlx_parameters_become_libpq_s() {
        let (url, password) = libpq(
            "postgres://gatehouse@localhost/gatehouse?host=/var/run/pg%20sock&statement-cache-capacity=10&options[search_path]=public",
        );
        assert_eq!(
            url,
            "postgres://gatehouse@localhost/gatehouse?host=%2Fvar%2Frun%2Fpg%20sock&options=%2Dc%20search%5Fpath%3Dpublic"
        );
        assert_eq!(password, None);
    }

    #[test]
    fn a_url_names_another_database() {
        let url = SecretString::from(
            "postgres://u:pw@localhost/gatehouse?host=/tmp/sock&dbname=gatehouse".to_owned(),
        );
        let other = with_database_name(&url, "gatehouse_verify_1").unwrap();
        let parsed = PgConnectOptions::from_str(other.expose_secret()).unwrap();
        assert_eq!(parsed.get_database(), Some("gatehouse_verify_1"));
        assert_eq!(parsed.get_username(), "u");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
