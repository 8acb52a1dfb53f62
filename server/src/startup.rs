//! Putting the server together: database (external or embedded), migrations, key ring,
//! router, and serving with graceful shutdown.

use crate::config::Settings;
use crate::embedded_pg::EmbeddedPostgres;
use crate::middleware::{request_context, security_headers, SecurityHeaders};
use crate::state::AppState;
use crate::{api, ops};
use anyhow::{bail, Context, Result};
use axum::extract::DefaultBodyLimit;
use axum::Router;
use gatehouse_app::auth::ssr::WebConfig;
use gatehouse_app::services::Services;
use gatehouse_app::{shell, App};
use gatehouse_domain::crypto::MasterKeys;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::future::IntoFuture;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// How long a pooled connection may sit idle before it is checked on acquire.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// A database connection pool, and the embedded cluster behind it when there is one.
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the embedded cluster when it is unset.
    /// The master key is installed when there is one, since every command that writes the
    /// audit trail seals personal data with it (a command without one that needs it says so).
    pub async fn connect(settings: &Settings) -> Result<Self> {
        if let Ok(keys) = load_master_keys(settings) {
            gatehouse_domain::audit::personal::install(keys);
        }
        let (url, embedded) = match &settings.database_url {
            Some(url) => (url.expose_secret().to_owned(), None),
            None => {
                let data_dir = settings.data_dir.clone();
                let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&data_dir))
                    .await
                    .context("starting the embedded PostgreSQL")??;
                (pg.url(), Some(pg))
            }
        };
        let options = PgConnectOptions::from_str(&url)
            .context("DATABASE_URL is not a valid PostgreSQL URL")?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.db_max_connections)
            .acquire_timeout(Duration::from_secs(5))
            // A connection is checked with a round trip only after it sat idle a while:
            // checking every time doubled the round trips of each pool-level query (a
            // sign-in makes a dozen). A connection that broke while busy fails its query
            // and is dropped by the pool.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > IDLE_BEFORE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Self { pool, embedded })
    }

    /// Closes the pool and stops the embedded cluster if this process started it.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(pg) = self.embedded.filter(|pg| pg.started_here) {
            if let Err(e) = tokio::task::spawn_blocking(move || pg.stop()).await {
                tracing::warn!(error = %e, "stopping the embedded PostgreSQL failed");
            }
        }
    }
}

/// Applies pending migrations and makes sure this month's audit partitions exist.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    gatehouse_domain::MIGRATOR
        .run(pool)
        .await
        .context("applying database migrations")?;
    gatehouse_domain::audit::ensure_audit_partitions(pool)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// The key ring: `GATEHOUSE_MASTER_KEY`, else `GATEHOUSE_MASTER_KEY_FILE`, else (embedded
/// database only) `{data_dir}/master.key`, generated on first use. The key also seals the
/// audit trail's personal data keys, so loading it installs them.
pub fn master_keys(settings: &Settings) -> Result<MasterKeys> {
    let keys = load_master_keys(settings)?;
    gatehouse_domain::audit::personal::install(keys.clone());
    Ok(keys)
}

fn load_master_keys(settings: &Settings) -> Result<MasterKeys> {
    if let Some(text) = &settings.master_key {
        return MasterKeys::parse(text).context("GATEHOUSE_MASTER_KEY");
    }
    if let Some(path) = &settings.master_key_file {
        if !path.exists() {
            bail!(
                "GATEHOUSE_MASTER_KEY_FILE {} does not exist",
                path.display()
            );
        }
        return MasterKeys::load_or_create_file(path).context("GATEHOUSE_MASTER_KEY_FILE");
    }
    if settings.database_url.is_some() {
        bail!("with an external DATABASE_URL, set GATEHOUSE_MASTER_KEY or GATEHOUSE_MASTER_KEY_FILE (every instance needs the same key ring)");
    }
    MasterKeys::load_or_create_file(&settings.data_dir.join("master.key"))
        .context("the generated master key file")
}

pub fn leptos_options(settings: &Settings) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("gatehouse")
        .site_root(settings.site_root.to_string_lossy().into_owned())
        .site_pkg_dir(crate::assets::pkg_dir(&crate::assets::version(
            &settings.site_root,
        )))
        .site_addr(settings.addr)
        .build()
}

/// The platform's provider (`GATEHOUSE_PLATFORM_OIDC_*`), discovered and stored at startup.
/// A provider that cannot be reached leaves platform SSO off (logged) rather than the
/// whole server down; passwords stay as `GATEHOUSE_PLATFORM_PASSWORD_SIGN_IN` says.
pub async fn configure_platform_sso(state: &AppState) {
    let s = &state.settings;
    let (Some(issuer), Some(client_id), Some(secret)) = (
        s.platform_oidc_issuer.as_ref(),
        s.platform_oidc_client_id.as_ref(),
        s.platform_oidc_client_secret.as_ref(),
    ) else {
        return;
    };
    let groups = |raw: &Option<String>| -> Vec<String> {
        raw.as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let config = gatehouse_domain::sso::PlatformOidc {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        client_secret: secret.clone(),
        role_claim: s.platform_oidc_role_claim.clone(),
        operator_values: groups(&s.platform_oidc_operator_groups),
        auditor_values: groups(&s.platform_oidc_auditor_groups),
    };
    let services = &state.services;
    match gatehouse_domain::sso::configure_platform(
        services.pool(),
        services.keys(),
        services.sso(),
        &config,
    )
    .await
    {
        Ok(id) => tracing::info!(connection = %id, issuer = %issuer, "platform SSO configured"),
        Err(e) => {
            tracing::error!(error = %e, "platform SSO is off: its provider could not be set up")
        }
    }
}

/// Opens the IP-to-country database for adaptive authentication (NFR-SEC-006), if it is
/// there: without it sign-ins carry no location signal, which the log says once.
pub fn install_geoip(settings: &Settings) {
    let path = &settings.geoip_db;
    if !path.exists() {
        tracing::warn!(path = %path.display(), "no IP-to-country database: sign-ins carry no location signal");
        return;
    }
    match gatehouse_domain::login::GeoDb::open(path) {
        Ok(db) => gatehouse_domain::login::install_geo(db),
        Err(e) => tracing::warn!(error = %e, "the IP-to-country database cannot be read"),
    }
}

pub fn app_state(settings: Settings, pool: PgPool, keys: MasterKeys) -> Result<AppState> {
    install_geoip(&settings);
    let keys = Arc::new(keys);
    let header = crate::client_ip::ForwardHeader::parse(&settings.forwarded_header)
        .map_err(|e| anyhow::anyhow!("GATEHOUSE_FORWARDED_HEADER: {e}"))?;
    let trusted_proxies = match settings.trusted_proxies.as_deref() {
        Some(list) => crate::client_ip::TrustedProxies::parse(list)
            .map_err(|e| anyhow::anyhow!("GATEHOUSE_TRUSTED_PROXIES: {e}"))?,
        None => crate::client_ip::TrustedProxies::default(),
    }
    .reading(header);
    let tokens = Arc::new(crate::oauth::service::Tokens::new(
        pool.clone(),
        keys.clone(),
        &settings,
    ));
    let flags = Arc::new(crate::flags::Flags::new(pool.clone(), !settings.no_listen));
    let web = WebConfig {
        https: settings.serves_https(),
        public_url: settings.public_url(),
        demo: settings.demo,
        platform_password_sign_in: settings.platform_password_sign_in,
        platform_sso: settings.platform_oidc_issuer.is_some(),
        webhooks_allow_private: settings.webhooks_allow_private,
    };
    let sso = gatehouse_domain::sso::SsoContext::new(
        gatehouse_domain::sso::HttpPolicy {
            allow_private: settings.sso_allow_private_idp,
            ..Default::default()
        },
        gatehouse_domain::sso::DnsSettings {
            server: settings.dns_server,
        },
    )?;
    let caches = crate::state::InstanceCaches {
        tokens: tokens.clone(),
        flags: flags.clone(),
    };
    Ok(AppState::new(crate::state::Inner {
        leptos_options: leptos_options(&settings),
        services: Services::new(pool.clone(), keys.clone(), web, sso, Arc::new(caches)),
        tokens,
        flags,
        rate_limits: crate::rate_limit::RateLimits::new(
            settings.rate_limit_api_key,
            settings.rate_limit_user,
            settings.rate_limit_anonymous,
        )
        .with_events(settings.rate_limit_events),
        exports: crate::audit::ExportLimits::default(),
        trusted_proxies: Arc::new(trusted_proxies),
        events: crate::webhooks::stream::Feed::new(pool.clone(), !settings.no_listen),
        pool,
        keys,
        metrics: ops::metrics_handle()?,
        settings: Arc::new(settings),
    }))
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let settings = state.settings.clone();
    let page_context = {
        let services = state.services.clone();
        move || leptos::prelude::provide_context(services.clone())
    };
    let limited = || axum::middleware::from_fn_with_state(state.clone(), crate::rate_limit::limit);
    Router::new()
        .leptos_routes_with_context(&state, routes, page_context, move || shell(options.clone()))
        .nest("/api", api::router().layer(limited()))
        .merge(crate::assets::router(
            &settings.site_root,
            &state.leptos_options.site_pkg_dir,
        ))
        .merge(ops::router())
        .merge(crate::mfa::router())
        .merge(crate::oauth::router())
        .merge(crate::audit::router())
        .merge(crate::sso::router())
        .merge(crate::users::router())
        .merge(crate::flags::ofrep::router().layer(limited()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(settings.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(settings.request_timeout_secs),
        ))
        // Bounded by its line count and the client's silence instead (api::ndjson).
        .nest("/api", api::bulk_router().layer(limited()))
        .layer(axum::middleware::from_fn(api::error_bodies))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::csrf::guard_server_fns,
        ))
        .layer(axum::middleware::from_fn_with_state(
            SecurityHeaders {
                hsts: settings.serves_https(),
            },
            security_headers,
        ))
        .layer(axum::middleware::from_fn(request_context))
        .layer(axum::middleware::from_fn_with_state(
            state.trusted_proxies.clone(),
            crate::client_ip::resolve,
        ))
        .with_state(state)
}

/// The metrics listener's application (`GATEHOUSE_METRICS_ADDR`).
pub fn metrics_router(state: AppState) -> Router {
    ops::metrics_router().with_state(state)
}

/// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
pub async fn serve(settings: Settings) -> Result<()> {
    if let Some(n) = settings.hash_concurrency {
        gatehouse_domain::passwords::configure_concurrency(n);
    }
    let keys = master_keys(&settings)?;
    let db = Database::connect(&settings).await?;
    let result = serve_with(settings, db.pool.clone(), keys).await;
    db.close().await;
    result
}

async fn serve_with(settings: Settings, pool: PgPool, keys: MasterKeys) -> Result<()> {
    migrate(&pool).await?;
    // Entries written before personal data was sealed are sealed once (CON-COMP-001).
    if let Some(report) = gatehouse_domain::audit::seal_existing_entries(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("sealing the audit trail's personal data: {e}"))?
    {
        tracing::info!(?report, "the audit trail's personal data is sealed");
    }
    tokio::spawn(crate::notify::follow(
        pool.clone(),
        std::sync::Arc::new(crate::audit::personal::ErasedKeys),
    ));
    if settings.demo {
        let created = gatehouse_domain::demo::ensure_demo_data(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tracing::info!(created, "demo data ready");
        demo_application(&pool, &settings).await?;
        gatehouse_domain::demo::ensure_demo_flags(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        gatehouse_domain::demo::ensure_demo_usage(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("binding {}", settings.addr))?;
    let metrics_addr = settings
        .metrics_listener()
        .map_err(|e| anyhow::anyhow!(e))?;
    let metrics_listener = match metrics_addr {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the metrics listener {addr}"))?,
        ),
        None => None,
    };
    let url = settings.public_url();
    let demo = settings.demo;
    let tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::load_config(cert, key)?),
        _ => None,
    };
    let state = app_state(settings, pool.clone(), keys)?;
    configure_platform_sso(&state).await;
    // Signing keys, the denylist and its listener: ready before the first request.
    state
        .tokens
        .get()
        .await
        .map_err(|e| anyhow::anyhow!("starting the token service: {e}"))?;
    // Delivers the transactional outbox (SPEC §3 "Email"); stopped below before the pool closes.
    // The daily backup and weekly verify (GATEHOUSE_BACKUP_SCHEDULE_HOUR); settings that
    // cannot work stop the start here rather than fail at night.
    crate::backup::schedule::spawn(state.clone())?;
    let mailer = crate::mailer::spawn_mailer(pool.clone(), &state.settings)?;
    // Delivers webhooks (SPEC §9); stopped with the mailer.
    let webhooks =
        crate::webhooks::spawn_webhooks(pool.clone(), state.keys.clone(), &state.settings)?;
    crate::audit::jobs::spawn(state.clone());
    tokio::spawn(forget_idle_rate_limits(state.clone()));
    let metrics = metrics_listener.map(|listener| {
        tracing::info!(addr = ?metrics_addr, "metrics listening");
        tokio::spawn(axum::serve(listener, metrics_router(state.clone())).into_future())
    });
    print_banner(&url, demo, &state.settings.data_dir);
    tracing::info!(%url, "gatehouse listening");
    match tls {
        Some(config) => {
            tracing::info!("serving HTTPS (TLS 1.2+)");
            crate::tls::serve_tls(listener, config, router(state), shutdown_signal()).await?;
        }
        None => axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?,
    }
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    mailer.stop().await;
    webhooks.stop().await;
    tracing::info!("gatehouse stopped");
    Ok(())
}

/// Every minute, drops the rate-limit state of callers whose allowance is whole again.
async fn forget_idle_rate_limits(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        state.rate_limits.forget_idle();
    }
}

/// The demo application and its key. The secret exists in clear only at creation: it is
/// kept in `{data_dir}/demo-client.json` (mode 0600) for the banner.
async fn demo_application(pool: &PgPool, settings: &Settings) -> Result<()> {
    let created = gatehouse_domain::demo::ensure_demo_application(pool, DEMO_REDIRECT_URI)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some((client_id, secret)) = created {
        let path = settings.data_dir.join("demo-client.json");
        let body = serde_json::json!({
            "client_id": client_id,
            "client_secret": secret,
            "redirect_uri": DEMO_REDIRECT_URI,
        });
        std::fs::create_dir_all(&settings.data_dir)?;
        write_private(&path, &serde_json::to_vec_pretty(&body)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Writes a file only its owner can read, created 0600 from the start: a secret in it is
/// never readable by others, not even for a moment.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // An older file keeps its mode on open: narrow it first.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    options.open(path)?.write_all(bytes)
}

const DEMO_REDIRECT_URI: &str = "http://localhost:4001/callback";

fn print_banner(url: &str, demo: bool, data_dir: &std::path::Path) {
    println!("\n  Gatehouse is running at {url}\n");
    if demo {
        println!(
            "  Demo logins (password: {}):",
            gatehouse_domain::demo::DEMO_PASSWORD
        );
        for (email, role, tenant) in gatehouse_domain::demo::DEMO_LOGINS {
            let where_ = tenant
                .map(|t| format!("tenant {t}"))
                .unwrap_or_else(|| "platform".into());
            println!("    {email:<26} {role:<9} {where_}");
        }
        let client = std::fs::read(data_dir.join("demo-client.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        if let Some(c) = client {
            println!(
                "\n  Demo application {} (OpenID Connect at {url}/.well-known/openid-configuration):",
                gatehouse_domain::demo::DEMO_APPLICATION
            );
            println!(
                "    client_id     {}",
                c["client_id"].as_str().unwrap_or_default()
            );
            println!(
                "    client_secret {}",
                c["client_secret"].as_str().unwrap_or_default()
            );
            println!("    redirect_uri  {DEMO_REDIRECT_URI}");
        }
        println!();
    }
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn the_demo_client_file_is_private_from_the_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("gatehouse-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("demo-client.json");
        // An older, world-readable file is narrowed too.
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::write_private(&path, b"{\"client_secret\":\"s\"}").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let fresh = dir.join("fresh.json");
        super::write_private(&fresh, b"{}").unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
