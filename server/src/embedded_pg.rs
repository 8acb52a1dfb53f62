//! The embedded PostgreSQL used when `DATABASE_URL` is unset: a private cluster in
//! `{data_dir}/postgres`, created with the system's `initdb`, started with `pg_ctl`,
//! reachable only through a Unix socket in `{data_dir}/pg-socket` (mode 0700, so `trust`
//! authentication admits only this user), reused across runs and stopped on exit by the
//! process that started it.
//!
//! PostgreSQL refuses to run as root; when Gatehouse runs as root the cluster belongs to
//! the `postgres` system user and its commands run through `runuser`. If that user cannot
//! reach the data directory (a checkout under `/root`, say), the cluster goes to
//! `/var/tmp/gatehouse-pg-{hash of the data directory}` instead.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const DATABASE: &str = "gatehouse";
const SUPERUSER: &str = "gatehouse";

#[derive(Debug)]
pub struct EmbeddedPostgres {
    pgdata: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    bin_dir: PathBuf,
    run_as_postgres: bool,
    /// True when this process started the server (and so stops it).
    pub started_here: bool,
}

impl EmbeddedPostgres {
    /// Creates the cluster if needed and makes sure it runs; returns a handle.
    pub fn start(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let mut pg = Self::existing(data_dir)?;
        pg.prepare_dirs()?;
        if !pg.pgdata.join("PG_VERSION").exists() {
            pg.initdb()?;
        }
        if !pg.is_running() {
            pg.pg_ctl_start()?;
            pg.started_here = true;
        }
        pg.ensure_database()?;
        Ok(pg)
    }

    /// The connection URL (through the Unix socket).
    pub fn url(&self) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{DATABASE}?host={}",
            self.socket_dir.display()
        )
    }

    pub fn is_running(&self) -> bool {
        self.pg(
            &self.bin_dir.join("pg_ctl"),
            &["status", "-D", &self.pgdata.to_string_lossy()],
        )
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
    }

    /// Stops the server (fast shutdown: open transactions roll back, data is safe).
    pub fn stop(&self) -> Result<()> {
        if !self.is_running() {
            return Ok(());
        }
        let status = self
            .pg(
                &self.bin_dir.join("pg_ctl"),
                &[
                    "stop",
                    "-w",
                    "-m",
                    "fast",
                    "-D",
                    &self.pgdata.to_string_lossy(),
                ],
            )
            .status()
            .context("running pg_ctl stop")?;
        if !status.success() {
            bail!("pg_ctl stop failed ({status})");
        }
        Ok(())
    }

    /// Handle for a cluster that may already run, without starting it (for `db stop`).
    pub fn existing(data_dir: &Path) -> Result<Self> {
        let data_dir = data_dir
            .canonicalize()
            .context("the data directory does not exist")?;
        let run_as_postgres = running_as_root();
        let cluster_dir = if run_as_postgres && !postgres_can_enter(&data_dir) {
            // e.g. a clone under /root (mode 0700): the postgres user cannot reach it, so
            // the cluster lives in a directory of its own, named after the data directory.
            let digest = gatehouse_domain::token_hash(&data_dir.to_string_lossy());
            let name: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            let dir = PathBuf::from(format!("/var/tmp/gatehouse-pg-{name}"));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            set_mode(&dir, 0o755)?;
            dir
        } else {
            data_dir
        };
        Ok(Self {
            pgdata: cluster_dir.join("postgres"),
            socket_dir: cluster_dir.join("pg-socket"),
            log_file: cluster_dir.join("postgres.log"),
            bin_dir: find_bin_dir()?,
            run_as_postgres,
            started_here: false,
        })
    }

    fn prepare_dirs(&self) -> Result<()> {
        for dir in [&self.pgdata, &self.socket_dir] {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            set_mode(dir, 0o700)?;
        }
        if self.run_as_postgres {
            let paths = [&self.pgdata, &self.socket_dir];
            let status = Command::new("chown")
                .arg("-R")
                .arg("postgres:")
                .args(paths)
                .status()
                .context("running chown")?;
            if !status.success() {
                bail!("cannot hand the database directories to the postgres user");
            }
            if !self.log_file.exists() {
                std::fs::write(&self.log_file, b"").context("creating the postgres log")?;
            }
            Command::new("chown")
                .arg("postgres:")
                .arg(&self.log_file)
                .status()
                .context("running chown")?;
        }
        Ok(())
    }

    fn initdb(&self) -> Result<()> {
        let pgdata = self.pgdata.to_string_lossy().into_owned();
        self.run_checked(
            "initdb",
            &[
                "-D",
                &pgdata,
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
        )?;
        Ok(())
    }

    fn pg_ctl_start(&self) -> Result<()> {
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c max_connections={MAX_CONNECTIONS} {}",
            self.socket_dir.display(),
            memory_settings(total_memory_mb())
        );
        let status = self
            .pg(
                &self.bin_dir.join("pg_ctl"),
                &[
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    &self.pgdata.to_string_lossy(),
                    "-l",
                    &self.log_file.to_string_lossy(),
                    "-o",
                    &options,
                ],
            )
            .status()
            .context("running pg_ctl start")?;
        if !status.success() {
            bail!("PostgreSQL did not start; see {}", self.log_file.display());
        }
        Ok(())
    }

    fn ensure_database(&self) -> Result<()> {
        let socket = self.socket_dir.to_string_lossy().into_owned();
        let exists = self
            .run_checked(
                "psql",
                &[
                    "-h",
                    &socket,
                    "-U",
                    SUPERUSER,
                    "-d",
                    "postgres",
                    "-tAc",
                    "SELECT 1 FROM pg_database WHERE datname = 'gatehouse'",
                ],
            )
            .context("cannot reach the embedded PostgreSQL")?;
        if String::from_utf8_lossy(&exists.stdout).trim() != "1" {
            self.run_checked("createdb", &["-h", &socket, "-U", SUPERUSER, DATABASE])?;
        }
        Ok(())
    }

    /// Runs a PostgreSQL program and fails with its error output when it fails.
    fn run_checked(&self, program: &str, args: &[&str]) -> Result<std::process::Output> {
        let out = self
            .pg(&self.bin_dir.join(program), args)
            .output()
            .with_context(|| format!("running {program}"))?;
        if !out.status.success() {
            bail!(
                "{program} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(out)
    }

    fn pg(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args).current_dir("/");
        cmd
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting permissions of {}", path.display()))?;
    }
    Ok(())
}

/// Whether the postgres system user can reach files below `dir` (every ancestor must be
/// searchable by it).
fn postgres_can_enter(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// `GATEHOUSE_PG_BIN_DIR`, else the directory of `initdb` on PATH, else the newest
/// `/usr/lib/postgresql/*/bin`.
fn find_bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GATEHOUSE_PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(best) = candidates.pop() {
        return Ok(best);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if initdb.exists() {
                let real = initdb.canonicalize().unwrap_or(initdb);
                if let Some(parent) = real.parent() {
                    return Ok(parent.to_path_buf());
                }
            }
        }
    }
    bail!("PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql package or set GATEHOUSE_PG_BIN_DIR")
}

const MAX_CONNECTIONS: u64 = 200;

/// The memory this process may use in MB: the machine's (`MemTotal` of `/proc/meminfo`), or
/// its container's limit (cgroup v2 `memory.max`) when lower.
fn total_memory_mb() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let limit = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|l| l.trim().parse::<u64>().ok())
        .map_or(u64::MAX, |bytes| bytes / (1024 * 1024));
    Some((kib / 1024).min(limit))
}

/// The embedded cluster's memory settings, sized from the machine's memory (issue 23; the
/// README's Configuration lists them): `shared_buffers` a quarter of it (at most 4 GB),
/// `effective_cache_size` three quarters, `work_mem` what is left shared by the connections
/// (4–64 MB), `maintenance_work_mem` a sixteenth (64 MB – 1 GB), and
/// `random_page_cost` 1.1 for SSDs. PostgreSQL's defaults (128 MB of buffers, 4 MB of
/// work_mem) when the memory is unknown.
fn memory_settings(total_mb: Option<u64>) -> String {
    let Some(total) = total_mb.filter(|&t| t >= 512) else {
        return String::new();
    };
    let shared = (total / 4).min(4096);
    let work = ((total - shared) / MAX_CONNECTIONS).clamp(4, 64);
    let maintenance = (total / 16).clamp(64, 1024);
    format!(
        "-c shared_buffers={shared}MB -c effective_cache_size={}MB -c work_mem={work}MB \
         -c maintenance_work_mem={maintenance}MB -c random_page_cost=1.1",
        total * 3 / 4
    )
}

#[cfg(test)]
mod memory_tests {
    use super::memory_settings;

    #[test]
    fn settings_follow_the_machines_memory() {
        assert_eq!(memory_settings(None), "");
        assert_eq!(memory_settings(Some(256)), "");
        assert_eq!(
            memory_settings(Some(24_000)),
            "-c shared_buffers=4096MB -c effective_cache_size=18000MB -c work_mem=64MB \
             -c maintenance_work_mem=1024MB -c random_page_cost=1.1"
        );
        assert_eq!(
            memory_settings(Some(2_048)),
            "-c shared_buffers=512MB -c effective_cache_size=1536MB -c work_mem=7MB \
             -c maintenance_work_mem=128MB -c random_page_cost=1.1"
        );
    }
}
