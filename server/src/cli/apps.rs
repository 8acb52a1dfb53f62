//! `gatehouse app ...` and `gatehouse keys rotate` (SPEC §4, §5; UC-DEV-REGISTER): the
//! operator's command line for managed applications, their keys and the signing keys.
//! Output is JSON, one document per command, so scripts can read it; a key's secret is
//! printed once, at issuance.

use crate::cli::{describe, with_database};
use crate::config::Settings;
use crate::startup;
use anyhow::{anyhow, Result};
use clap::Subcommand;
use gatehouse_domain::apps::{self, ApplicationInput, KeyInput};
use gatehouse_domain::audit::RequestContext;
use secrecy::ExposeSecret;
use serde_json::json;
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register an application (UC-DEV-REGISTER); prints its id.
    Register {
        #[arg(long)]
        name: String,
        /// development, staging or production.
        #[arg(long, default_value = "production")]
        environment: String,
        /// A redirect URI for the authorization code grant (repeatable).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// A post-logout redirect URI (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// authorization_code, client_credentials or refresh_token (repeatable; default
        /// client_credentials).
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// A tenant (domain) the application may act for (repeatable).
        #[arg(long = "tenant")]
        tenants: Vec<String>,
        /// Act for every tenant (platform tooling). Without it, and without --tenant, the
        /// application admits nobody.
        #[arg(long)]
        all_tenants: bool,
    },
    /// List the applications.
    List,
    /// Disable an application: its keys stop authenticating and its tokens stop working.
    Disable { id: Uuid },
    /// Enable a disabled application again.
    Enable { id: Uuid },
    /// The application's API keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Issue a key; prints its client_id and its secret (shown this once).
    Issue {
        /// The application's id.
        app: Uuid,
        /// flag:read, bill:write, bill:read, log:write, log:read, users:read, users:write,
        /// admin, openid, profile, email, offline_access (repeatable).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        /// Expiry, ISO 8601 UTC (e.g. 2027-01-31T00:00:00Z).
        #[arg(long)]
        expires_at: Option<String>,
        /// Bind the key to one of the application's tenants.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// List an application's keys (never their secrets).
    List { app: Uuid },
    /// Revoke a key: it stops authenticating and its tokens stop working at once.
    Revoke { key_id: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Rotate the token signing keys now; the old public keys stay published until every
    /// token they signed has expired.
    Rotate,
}

fn print(value: serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

pub async fn run_app(settings: &Settings, cmd: AppCommand) -> Result<()> {
    with_database(settings, |db| async move {
        startup::migrate(&db.pool).await?;
        let ctx = RequestContext::default();
        let fail = |e: gatehouse_domain::DomainError| anyhow!("{}", describe(&e));
        // Each operation commits itself. The CLI holds no caches, so their effects are
        // not applied here: running servers hear the change through NOTIFY.
        let out = match cmd {
            AppCommand::Register {
                name,
                environment,
                redirect_uris,
                post_logout_redirect_uris,
                grants,
                tenants,
                all_tenants,
            } => {
                let input = ApplicationInput {
                    name: Some(name),
                    environment: Some(environment),
                    redirect_uris: Some(redirect_uris),
                    post_logout_redirect_uris: Some(post_logout_redirect_uris),
                    grant_types: (!grants.is_empty()).then_some(grants),
                    tenants: Some(tenants),
                    all_tenants: Some(all_tenants),
                };
                json!(
                    apps::register_application(&db.pool, &ctx, None, input)
                        .await
                        .map_err(fail)?
                        .value
                )
            }
            AppCommand::List => json!(apps::list_applications(&db.pool, None)
                .await
                .map_err(fail)?),
            AppCommand::Disable { id } | AppCommand::Enable { id } => {
                let active = matches!(cmd, AppCommand::Enable { .. });
                json!(
                    apps::set_application_status(&db.pool, &ctx, None, id, active)
                        .await
                        .map_err(fail)?
                        .value
                )
            }
            AppCommand::Key(KeyCommand::Issue {
                app,
                scopes,
                name,
                expires_at,
                tenant,
            }) => {
                let expires_at = expires_at
                    .map(|raw| {
                        time::OffsetDateTime::parse(
                            raw.trim(),
                            &time::format_description::well_known::Rfc3339,
                        )
                        .map_err(|_| {
                            anyhow!("--expires-at: use ISO 8601, e.g. 2027-01-31T00:00:00Z")
                        })
                    })
                    .transpose()?;
                let issued = apps::issue_key(
                    &db.pool,
                    &ctx,
                    None,
                    app,
                    KeyInput {
                        name,
                        scopes,
                        expires_at,
                        tenant,
                    },
                )
                .await
                .map_err(fail)?
                .value;
                let mut out = json!(issued.key);
                out["client_id"] = json!(issued.key.id);
                out["client_secret"] = json!(issued.secret.expose_secret());
                out
            }
            AppCommand::Key(KeyCommand::List { app }) => {
                json!(apps::list_keys(&db.pool, None, app).await.map_err(fail)?)
            }
            AppCommand::Key(KeyCommand::Revoke { key_id }) => {
                json!(
                    apps::revoke_key(&db.pool, &ctx, None, None, &key_id)
                        .await
                        .map_err(fail)?
                        .value
                )
            }
        };
        print(out)
    })
    .await
}

pub async fn run_keys(settings: &Settings, cmd: KeysCommand) -> Result<()> {
    let KeysCommand::Rotate = cmd;
    let master = startup::master_keys(settings)?;
    with_database(settings, |db| async move {
        startup::migrate(&db.pool).await?;
        gatehouse_domain::oauth::ensure_signing_keys(&db.pool, &master)
            .await
            .map_err(|e| anyhow!("{}", describe(&e)))?;
        let kids = gatehouse_domain::oauth::rotate_signing_keys(
            &db.pool,
            &master,
            &RequestContext::default(),
            "manual",
        )
        .await
        .map_err(|e| anyhow!("{}", describe(&e)))?;
        print(json!({"rotated": true, "new_kids": kids}))
    })
    .await
}
