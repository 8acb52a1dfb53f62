//! Typed settings. Each comes from a command-line option or its environment variable
//! (`gatehouse --help` lists them with their defaults), optionally pre-loaded from a
//! `KEY=value` file named by `GATEHOUSE_CONFIG_FILE`; real environment variables win over
//! the file. Secrets are `SecretString`s: never printed, never logged.

use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;

fn secret(raw: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(raw.to_owned()))
}

fn thresholds(raw: &str) -> Result<gatehouse_domain::tenants::Thresholds, String> {
    gatehouse_domain::tenants::Thresholds::parse(raw)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "GATEHOUSE_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Address of the Prometheus `/metrics` listener, kept off the public port (loopback by
    /// default; scrape it from the host or a sidecar). `off` disables it.
    #[arg(
        long,
        env = "GATEHOUSE_METRICS_ADDR",
        default_value = "127.0.0.1:9464",
        global = true
    )]
    pub metrics_addr: String,

    /// Proxies (CIDRs or addresses, comma separated) whose forwarding header
    /// (GATEHOUSE_FORWARDED_HEADER) names the client. From any other peer it is ignored.
    #[arg(long, env = "GATEHOUSE_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,

    /// The one header the trusted proxies write: x-forwarded-for or forwarded (RFC 7239).
    /// The other is never read.
    #[arg(
        long,
        env = "GATEHOUSE_FORWARDED_HEADER",
        default_value = "x-forwarded-for",
        global = true
    )]
    pub forwarded_header: String,

    /// PEM certificate chain: with GATEHOUSE_TLS_KEY, Gatehouse serves HTTPS itself
    /// (TLS 1.2+) and sends HSTS.
    #[arg(long, env = "GATEHOUSE_TLS_CERT", global = true, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of GATEHOUSE_TLS_CERT.
    #[arg(long, env = "GATEHOUSE_TLS_KEY", global = true, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// The URL users reach Gatehouse at (issuer, links in emails). Default: http://localhost:{port}.
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// PostgreSQL URL. When unset, Gatehouse runs its own cluster in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = secret, global = true)]
    pub database_url: Option<SecretString>,

    /// Where the embedded database, the generated master key and dev mail live.
    #[arg(
        long,
        env = "GATEHOUSE_DATA_DIR",
        default_value = ".data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Directory holding the built site (`pkg/` with the wasm, JS and CSS).
    #[arg(
        long,
        env = "GATEHOUSE_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: PathBuf,

    /// Master key ring for secrets at rest: `kid=base64(32 bytes)`, comma separated, first encrypts.
    #[arg(long, env = "GATEHOUSE_MASTER_KEY", hide_env_values = true, value_parser = secret, global = true)]
    pub master_key: Option<SecretString>,

    /// File holding the master key ring (one `kid=base64` per line). Default with the
    /// embedded database: {data_dir}/master.key, generated with mode 0600.
    #[arg(long, env = "GATEHOUSE_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,

    /// Maximum database connections in the pool.
    #[arg(
        long,
        env = "GATEHOUSE_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,

    /// Seconds before a request is abandoned.
    #[arg(
        long,
        env = "GATEHOUSE_REQUEST_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_secs: u64,

    /// Largest accepted request body in bytes.
    #[arg(
        long,
        env = "GATEHOUSE_BODY_LIMIT_BYTES",
        default_value_t = 1_048_576,
        global = true
    )]
    pub body_limit_bytes: usize,

    /// Password hashes computed at once (each takes 19 MiB). Default: the number of CPUs.
    #[arg(long, env = "GATEHOUSE_HASH_CONCURRENCY", global = true)]
    pub hash_concurrency: Option<usize>,

    /// Log filter (tracing EnvFilter syntax).
    #[arg(long, env = "GATEHOUSE_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log line format.
    #[arg(
        long,
        env = "GATEHOUSE_LOG_FORMAT",
        value_enum,
        default_value = "json",
        global = true
    )]
    pub log_format: LogFormat,

    /// OpenTelemetry collector the request spans are exported to, over OTLP/HTTP (JSON):
    /// `http://host:4318` (Jaeger takes it directly); `/v1/traces` is appended. Unset: no
    /// export (NFR-MON-001). `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_TRACES_HEADERS` and
    /// `OTEL_TRACES_SAMPLER` tune it.
    #[arg(long, env = "GATEHOUSE_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,

    /// Hidden, for tests only: do not LISTEN for other instances' changes, so a test can
    /// prove that a change is applied on the instance that made it without the NOTIFY
    /// round trip. An instance run like this never sees another instance's changes.
    #[arg(long, hide = true, default_value_t = false, global = true)]
    pub no_listen: bool,

    /// Tenant SSO: allow identity providers on loopback and private networks. For
    /// development and tests only: in production it would let a tenant owner make the
    /// server reach internal services (SSRF).
    #[arg(
        long,
        env = "GATEHOUSE_SSO_ALLOW_PRIVATE_IDP",
        default_value_t = false,
        global = true
    )]
    pub sso_allow_private_idp: bool,

    /// Webhooks: allow endpoints on loopback and private networks, and plain http. For
    /// development and tests only: in production it would let a tenant owner make the
    /// server reach internal services (SSRF).
    #[arg(
        long,
        env = "GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE",
        default_value_t = false,
        global = true
    )]
    pub webhooks_allow_private: bool,

    /// The DNS server (address:port) that checks domain-ownership TXT records. Default:
    /// the system's resolver.
    #[arg(long, env = "GATEHOUSE_DNS_SERVER", global = true)]
    pub dns_server: Option<SocketAddr>,

    /// Platform staff through the vendor's OpenID provider: its issuer URL. With the client
    /// id and secret and at least one of the operator/auditor group lists, operators and
    /// auditors sign in through it (SPEC §3).
    #[arg(long, env = "GATEHOUSE_PLATFORM_OIDC_ISSUER", global = true)]
    pub platform_oidc_issuer: Option<String>,

    /// The client id Gatehouse is registered under at the platform provider.
    #[arg(long, env = "GATEHOUSE_PLATFORM_OIDC_CLIENT_ID", global = true)]
    pub platform_oidc_client_id: Option<String>,

    /// The client secret at the platform provider (sealed at rest, never logged).
    #[arg(long, env = "GATEHOUSE_PLATFORM_OIDC_CLIENT_SECRET", hide_env_values = true, value_parser = secret, global = true)]
    pub platform_oidc_client_secret: Option<SecretString>,

    /// The ID token claim holding the groups that give platform roles.
    #[arg(
        long,
        env = "GATEHOUSE_PLATFORM_OIDC_ROLE_CLAIM",
        default_value = "groups",
        global = true
    )]
    pub platform_oidc_role_claim: String,

    /// Groups (comma separated) that make an operator.
    #[arg(long, env = "GATEHOUSE_PLATFORM_OIDC_OPERATOR_GROUPS", global = true)]
    pub platform_oidc_operator_groups: Option<String>,

    /// Groups (comma separated) that make an auditor.
    #[arg(long, env = "GATEHOUSE_PLATFORM_OIDC_AUDITOR_GROUPS", global = true)]
    pub platform_oidc_auditor_groups: Option<String>,

    /// Whether operators and auditors may still sign in with a password (`false` once the
    /// platform provider is their way in).
    #[arg(long, env = "GATEHOUSE_PLATFORM_PASSWORD_SIGN_IN", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub platform_password_sign_in: bool,

    /// Demo mode: create the demo tenant and logins at startup.
    #[arg(long, env = "GATEHOUSE_DEMO", default_value_t = false, global = true)]
    pub demo: bool,

    /// SMTP server for outgoing mail: smtp://host:port (plain), smtp://user:password@host:587
    /// (STARTTLS), smtps://user:password@host:465 (TLS). Unset: mail is written as .eml files
    /// to {data_dir}/mail.
    #[arg(long, env = "GATEHOUSE_SMTP_URL", hide_env_values = true, value_parser = secret, global = true)]
    pub smtp_url: Option<SecretString>,

    /// Sender of outgoing mail (From header and envelope).
    #[arg(
        long,
        env = "GATEHOUSE_MAIL_FROM",
        default_value = "Gatehouse <no-reply@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// Signature algorithm of access tokens: ES256 (fast) or RS256. ID tokens are always
    /// RS256 (OIDC's default).
    #[arg(long, env = "GATEHOUSE_ACCESS_TOKEN_ALG", default_value = "ES256",
          value_parser = ["ES256", "RS256"], global = true)]
    pub access_token_alg: String,

    /// Signing keys are rotated when older than this many days (at most a year, NFR-SEC-004).
    #[arg(long, env = "GATEHOUSE_KEY_ROTATION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=365), global = true)]
    pub key_rotation_days: u32,

    /// Requests a minute per API key (application token) on /api and /ofrep; the whole
    /// minute may come at once. 0 switches the limit off (SPEC §9).
    #[arg(
        long,
        env = "GATEHOUSE_RATE_LIMIT_API_KEY",
        default_value_t = 500,
        global = true
    )]
    pub rate_limit_api_key: u32,

    /// Requests a minute per user token on /api and /ofrep. 0 switches the limit off.
    #[arg(
        long,
        env = "GATEHOUSE_RATE_LIMIT_USER",
        default_value_t = 100,
        global = true
    )]
    pub rate_limit_user: u32,

    /// Requests a minute per client IP without a token on /api and /ofrep. 0: off.
    #[arg(
        long,
        env = "GATEHOUSE_RATE_LIMIT_ANONYMOUS",
        default_value_t = 30,
        global = true
    )]
    pub rate_limit_anonymous: u32,

    /// Events a minute per API key through the batch endpoints (audit logs): batches
    /// count their events, not their requests (SPEC §9). 0 switches the limit off.
    #[arg(
        long,
        env = "GATEHOUSE_RATE_LIMIT_EVENTS",
        default_value_t = 120_000,
        global = true
    )]
    pub rate_limit_events: u32,

    /// Months the audit trail is kept (SPEC §8); whole expired monthly partitions are
    /// dropped daily, each drop audited. PCI DSS asks for 12.
    #[arg(
        long,
        env = "GATEHOUSE_AUDIT_RETENTION_MONTHS",
        default_value_t = gatehouse_domain::audit::DEFAULT_RETENTION_MONTHS,
        value_parser = clap::value_parser!(u32).range(1..=1200),
        global = true
    )]
    pub audit_retention_months: u32,

    /// How many days back a billing event's timestamp may be (SPEC §7).
    #[arg(
        long,
        env = "GATEHOUSE_BILLING_MAX_AGE_DAYS",
        default_value_t = 35,
        value_parser = clap::value_parser!(u32).range(1..=3650),
        global = true
    )]
    pub billing_max_age_days: u32,

    /// How many seconds ahead of the server's clock a billing event's timestamp may be.
    #[arg(
        long,
        env = "GATEHOUSE_BILLING_MAX_AHEAD_SECS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u32).range(0..=86_400),
        global = true
    )]
    pub billing_max_ahead_secs: u32,

    /// Backups: the age X25519 public keys (`age1…`, comma separated) every backup is
    /// encrypted to. Required to write one; their private keys never go on the server.
    #[arg(long, env = "GATEHOUSE_BACKUP_RECIPIENTS", global = true)]
    pub backup_recipients: Option<String>,

    /// The anomaly detectors' thresholds (NFR-MON-001): `name=number` pairs, comma
    /// separated, replacing the defaults named (window_minutes=10, failed_sign_ins_account=20,
    /// failed_sign_ins_ip=50, failed_sign_ins_tenant=100, credential_stuffing_accounts=20,
    /// mass_reads=300, introspection_failures=200, disabled_application_calls=5).
    #[arg(
        long,
        env = "GATEHOUSE_ALERT_THRESHOLDS",
        default_value = "",
        value_parser = thresholds,
        global = true
    )]
    pub alert_thresholds: gatehouse_domain::tenants::Thresholds,

    /// The offline IP-to-country database (MaxMind DB format) for location-aware adaptive
    /// authentication; the set-up installs it. Missing: sign-ins carry no location signal.
    #[arg(
        long,
        env = "GATEHOUSE_GEOIP_DB",
        default_value = ".data/geoip/geo-whois-asn-country.mmdb",
        global = true
    )]
    pub geoip_db: PathBuf,

    /// Backups: the local directory. Default: {data_dir}/backups.
    #[arg(long, env = "GATEHOUSE_BACKUP_DIR", global = true)]
    pub backup_dir: Option<PathBuf>,

    /// Backups: how many complete backups the local directory keeps (older ones are
    /// deleted after each create; the bucket is never pruned by Gatehouse).
    #[arg(
        long,
        env = "GATEHOUSE_BACKUP_KEEP",
        default_value_t = 14,
        value_parser = clap::value_parser!(u32).range(1..=10_000),
        global = true
    )]
    pub backup_keep: u32,

    /// Backups: an S3-compatible bucket, s3://bucket/prefix. Credentials from
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the instance's role).
    #[arg(long, env = "GATEHOUSE_BACKUP_S3_URL", global = true)]
    pub backup_s3_url: Option<String>,

    /// Backups: the bucket's endpoint when it is not AWS (MinIO, Ceph, Garage),
    /// http(s)://host:port.
    #[arg(long, env = "GATEHOUSE_BACKUP_S3_ENDPOINT", global = true)]
    pub backup_s3_endpoint: Option<String>,

    /// Backups: the bucket's region (default: AWS_REGION, else us-east-1).
    #[arg(long, env = "GATEHOUSE_BACKUP_S3_REGION", global = true)]
    pub backup_s3_region: Option<String>,

    /// Backups: the UTC hour (0-23) of the daily backup. Unset: no schedule.
    #[arg(
        long,
        env = "GATEHOUSE_BACKUP_SCHEDULE_HOUR",
        value_parser = clap::value_parser!(u8).range(0..=23),
        global = true
    )]
    pub backup_schedule_hour: Option<u8>,

    /// Backups: the day of the weekly verify (after that day's backup).
    #[arg(
        long,
        env = "GATEHOUSE_BACKUP_VERIFY_WEEKDAY",
        default_value = "sunday",
        value_parser = crate::backup::schedule::parse_weekday,
        global = true
    )]
    pub backup_verify_weekday: time::Weekday,

    /// Backups: the age identity file for the scheduled weekly verify. On the server it
    /// lets a thief of the server read the backups: better leave it unset and run
    /// `gatehouse backup verify --identity FILE` where the key is kept.
    #[arg(long, env = "GATEHOUSE_BACKUP_IDENTITY_FILE", global = true)]
    pub backup_identity_file: Option<PathBuf>,

    /// Backups: the PostgreSQL server where verify makes its scratch database (the user
    /// needs CREATEDB). Default: the Gatehouse database's server.
    #[arg(long, env = "GATEHOUSE_BACKUP_VERIFY_DATABASE_URL", hide_env_values = true, value_parser = secret, global = true)]
    pub backup_verify_database_url: Option<SecretString>,
}

impl Settings {
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if self.tls_cert.is_some() => format!("https://localhost:{}", self.addr.port()),
            None => format!("http://localhost:{}", self.addr.port()),
        }
    }

    /// HSTS is sent when users reach Gatehouse over HTTPS (served here, or by the proxy).
    pub fn serves_https(&self) -> bool {
        self.tls_cert.is_some() || self.public_url().starts_with("https://")
    }

    /// The metrics listener's address; `None` when switched off.
    pub fn metrics_listener(&self) -> Result<Option<SocketAddr>, String> {
        match self.metrics_addr.trim() {
            "" | "off" | "none" => Ok(None),
            raw => raw.parse().map(Some).map_err(|_| {
                format!("GATEHOUSE_METRICS_ADDR '{raw}' is not an address like 127.0.0.1:9464")
            }),
        }
    }
}

/// Loads `GATEHOUSE_CONFIG_FILE` (or `--config-file PATH`) into the environment before the
/// command line is parsed. Variables already set are left alone.
pub fn load_config_file(args: &[String]) -> Result<Option<PathBuf>, String> {
    let from_args = args
        .windows(2)
        .find(|w| w[0] == "--config-file")
        .map(|w| PathBuf::from(&w[1]));
    let path = from_args.or_else(|| std::env::var_os("GATEHOUSE_CONFIG_FILE").map(PathBuf::from));
    match path {
        Some(path) => dotenvy::from_path(&path)
            .map(|_| Some(path.clone()))
            .map_err(|e| format!("cannot read config file {}: {e}", path.display())),
        None => Ok(None),
    }
}
