//! `gatehouse --help`: the subcommands and every setting.

pub mod apps;
pub mod audit;
pub mod backup;

use crate::config::Settings;
use crate::embedded_pg::EmbeddedPostgres;
use crate::startup::{self, Database};
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use gatehouse_domain::audit::RequestContext;
use gatehouse_domain::types::{DisplayName, Email, Role, UserStatus};
use gatehouse_domain::users::{create_user, NewUser};
use secrecy::SecretString;
use std::io::BufRead;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse: the self-hosted control plane for B2B SaaS"
)]
pub struct Cli {
    /// A KEY=value file read into the environment first (also GATEHOUSE_CONFIG_FILE).
    #[arg(long, global = true)]
    pub config_file: Option<PathBuf>,

    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage operators (platform staff).
    #[command(subcommand)]
    Operator(PlatformUserCommand),
    /// Manage auditors (read-only compliance access).
    #[command(subcommand)]
    Auditor(PlatformUserCommand),
    /// Create the demo tenant and logins (once) and exit.
    Demo,
    /// Invite a person into a tenant: the invitation email goes out through the outbox
    /// (delivered by the running server).
    Invite {
        /// The tenant's domain, e.g. `acme`.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// owner, admin or user.
        #[arg(long, default_value = "user")]
        role: String,
    },
    /// Measure the raw argon2id verification rate (the login benchmark's baseline).
    #[command(hide = true)]
    BenchArgon2 {
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// A bare axum server answering fixed bytes (the token benchmark's baseline).
    #[command(hide = true)]
    BenchBaseline {
        #[arg(long, default_value = "127.0.0.1:3299")]
        listen: std::net::SocketAddr,
        #[arg(long, default_value_t = 700)]
        body_bytes: usize,
        /// Serve exactly these bytes instead.
        #[arg(long)]
        body_file: Option<std::path::PathBuf>,
    },
    /// The embedded PostgreSQL (used when DATABASE_URL is unset).
    #[command(subcommand)]
    Db(DbCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Backups: create, list, restore, verify, status, keygen (GATEHOUSE_BACKUP_*).
    #[command(subcommand)]
    Backup(crate::cli::backup::BackupCommand),
    /// Managed applications and their API keys.
    #[command(subcommand)]
    App(crate::cli::apps::AppCommand),
    /// Token signing keys.
    #[command(subcommand)]
    Keys(crate::cli::apps::KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum PlatformUserCommand {
    /// Create an account. The password is read from stdin (first line) or prompted for.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Start the embedded cluster (creating it if needed) and print its DATABASE_URL.
    Start,
    /// Stop the embedded cluster.
    Stop,
    /// Print the embedded cluster's DATABASE_URL.
    Url,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and the signed checkpoints, and report the first entry that was
    /// changed, added or removed.
    Verify,
    /// Check an export (CSV or JSON Lines from the Auditor Console) offline: every row's
    /// hash, the links between rows and the signed checkpoint that closes it.
    VerifyExport {
        /// The exported file.
        file: std::path::PathBuf,
        /// The verifier key (`/api/v1/audit-logs/checkpoints/key`, `verifier_key`).
        #[arg(long)]
        key: String,
    },
    /// Print the verifier key of the checkpoints.
    Key,
    /// Sign a checkpoint of the chain's head now.
    Checkpoint,
    /// Run the anomaly detectors over the last window now (the server runs them every
    /// minute) and print what they raised, one JSON object per line.
    Detect,
}

pub async fn run(cli: Cli) -> Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => startup::serve(settings).await,
        Command::Migrate => {
            with_database(
                &settings,
                |db| async move { startup::migrate(&db.pool).await },
            )
            .await
        }
        Command::Demo => {
            with_database(&settings, |db| async move {
                startup::migrate(&db.pool).await?;
                let created = gatehouse_domain::demo::ensure_demo_data(&db.pool)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                gatehouse_domain::demo::ensure_demo_flags(&db.pool)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!(
                    "{}",
                    if created {
                        "demo data created"
                    } else {
                        "demo data already present"
                    }
                );
                Ok(())
            })
            .await
        }
        Command::Operator(PlatformUserCommand::Create {
            email,
            name,
            password_stdin,
        }) => {
            create_platform_user(
                &settings,
                Role::Operator,
                &email,
                name.as_deref(),
                password_stdin,
            )
            .await
        }
        Command::Auditor(PlatformUserCommand::Create {
            email,
            name,
            password_stdin,
        }) => {
            create_platform_user(
                &settings,
                Role::Auditor,
                &email,
                name.as_deref(),
                password_stdin,
            )
            .await
        }
        Command::Invite {
            tenant,
            email,
            role,
        } => invite(&settings, &tenant, &email, &role).await,
        Command::BenchArgon2 { seconds } => {
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
            let rate = tokio::task::spawn_blocking(move || {
                gatehouse_domain::passwords::raw_verify_rate(threads, seconds)
            })
            .await?
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}",
                serde_json::json!({
                    "threads": threads,
                    "seconds": seconds,
                    "verifications_per_sec": (rate * 100.0).round() / 100.0,
                    "params": format!(
                        "argon2id m={} t={} p={}",
                        gatehouse_domain::passwords::MEMORY_KIB,
                        gatehouse_domain::passwords::ITERATIONS,
                        gatehouse_domain::passwords::LANES
                    ),
                })
            );
            Ok(())
        }
        Command::Db(cmd) => embedded_db(&settings, cmd).await,
        Command::BenchBaseline {
            listen,
            body_bytes,
            body_file,
        } => crate::bench_baseline::serve(listen, body_bytes, body_file).await,
        Command::App(cmd) => crate::cli::apps::run_app(&settings, cmd).await,
        Command::Keys(cmd) => crate::cli::apps::run_keys(&settings, cmd).await,
        Command::Audit(cmd) => crate::cli::audit::run(&settings, cmd).await,
        Command::Backup(cmd) => crate::cli::backup::run(&settings, cmd).await,
    }
}

pub(crate) async fn with_database<F, Fut>(settings: &Settings, work: F) -> Result<()>
where
    F: FnOnce(DbRef) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let db = Database::connect(settings).await?;
    let result = work(DbRef {
        pool: db.pool.clone(),
    })
    .await;
    db.close().await;
    result
}

pub struct DbRef {
    pub pool: sqlx::PgPool,
}

async fn create_platform_user(
    settings: &Settings,
    role: Role,
    email: &str,
    name: Option<&str>,
    password_stdin: bool,
) -> Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {}", describe(&e)))?;
    let name = name
        .map(DisplayName::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--name: {}", describe(&e)))?;
    // The password policy (CON-SEC-001) is checked by create_user.
    let password = read_password(password_stdin)?;
    with_database(settings, |db| async move {
        startup::migrate(&db.pool).await?;
        let user = create_user(
            &db.pool,
            &RequestContext::default(),
            None,
            NewUser {
                tenant_id: None,
                email,
                name,
                role,
                status: UserStatus::Active,
                password: Some(password),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?
        .value;
        println!("created {} {} ({})", role, user.email, user.id);
        Ok(())
    })
    .await
}

async fn invite(settings: &Settings, tenant: &str, email: &str, role: &str) -> Result<()> {
    use gatehouse_domain::users::{invite_user, NewInvitation, DEFAULT_LIFETIME};
    let domain = gatehouse_domain::types::TenantDomain::parse(tenant)
        .map_err(|e| anyhow::anyhow!("--tenant: {}", describe(&e)))?;
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {}", describe(&e)))?;
    let role = Role::parse(role).map_err(|e| anyhow::anyhow!("--role: {}", describe(&e)))?;
    let base_url = settings.public_url();
    with_database(settings, |db| async move {
        startup::migrate(&db.pool).await?;
        let mut conn = db.pool.acquire().await?;
        let tenant = gatehouse_domain::tenants::find_tenant_by_domain(&mut conn, &domain)
            .await
            .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?
            .ok_or_else(|| anyhow::anyhow!("--tenant: no tenant has the domain {domain}"))?;
        drop(conn);
        let user = invite_user(
            &db.pool,
            &RequestContext::default(),
            None,
            NewInvitation {
                tenant_id: tenant.id,
                email,
                role,
                lifetime: DEFAULT_LIFETIME,
            },
            &base_url,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?
        .value;
        println!(
            "invited {} as {} into {} ({}); the invitation email is in the outbox",
            user.email, role, tenant.domain, user.id
        );
        Ok(())
    })
    .await
}

pub(crate) fn describe(err: &gatehouse_domain::DomainError) -> String {
    match err {
        gatehouse_domain::DomainError::Validation(details) => details
            .iter()
            .map(|d| format!("{}: {}", d.field, d.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn read_password(from_stdin: bool) -> Result<SecretString> {
    let line = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line
    } else {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let again =
            rpassword::prompt_password("Repeat password: ").context("reading the password")?;
        if first != again {
            bail!("the passwords do not match");
        }
        first
    };
    Ok(SecretString::from(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

async fn embedded_db(settings: &Settings, cmd: DbCommand) -> Result<()> {
    if settings.database_url.is_some() {
        bail!("DATABASE_URL is set: the embedded PostgreSQL is not used");
    }
    let data_dir = settings.data_dir.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        match cmd {
            DbCommand::Start => println!("{}", EmbeddedPostgres::start(&data_dir)?.url()),
            DbCommand::Url => println!("{}", EmbeddedPostgres::existing(&data_dir)?.url()),
            DbCommand::Stop => EmbeddedPostgres::existing(&data_dir)?.stop()?,
        }
        Ok(())
    })
    .await?
}
