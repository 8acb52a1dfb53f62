//! Managed applications and their API keys (SPEC §5, FR-SYS-001..003, UC-DEV-REGISTER,
//! UC-DEV-UPDATE, DAT-APP, DAT-KEY).
//!
//! A key's id is the OAuth `client_id`; its secret is 256 random bits shown once, stored
//! as SHA-256. Disabling an application or revoking a key kills what it was issued at once:
//! the refresh tokens are revoked and a token cutoff refuses its access tokens
//! (`token_denials`).

mod keys;
pub use keys::*;

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::oauth::RefreshScope;
use crate::oauth::{deny_tokens, Subject};
pub use crate::oauth::{GRANT_TYPES, SCOPES};
use crate::permissions::{Actor, Permission};
use crate::types::{DisplayName, TenantDomain};
use crate::{random_token, token_hash, DomainError, FieldError};
use secrecy::SecretString;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

pub const ENVIRONMENTS: &[&str] = &["development", "staging", "production"];
/// At most this many redirect URIs (and as many post-logout URIs) per application.
pub const MAX_URIS: usize = 20;

/// A managed application: the OAuth client its keys sign in as, the tenants it may act for,
/// and where people may be sent back after signing in or out.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Application {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
    /// `development`, `staging` or `production`.
    pub environment: String,
    /// `active`, or `disabled`: a disabled application's keys and tokens are refused.
    pub status: String,
    /// Where the authorization code flow may send people back (compared exactly).
    pub redirect_uris: Vec<String>,
    /// Where signing out may send people back (compared exactly).
    pub post_logout_redirect_uris: Vec<String>,
    /// Of `authorization_code`, `client_credentials` and `refresh_token`.
    pub grant_types: Vec<String>,
    /// Domains of the tenants the application may act for.
    #[schema(value_type = Vec<TenantDomain>)]
    pub tenants: Vec<String>,
    /// Acts for every tenant (platform tooling); otherwise only for `tenants`, and with
    /// none for nobody.
    pub all_tenants: bool,
    /// Keys neither revoked nor expired.
    pub active_keys: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Registration or update input, as typed; `validate` turns it into checked values.
#[derive(Debug, Clone, Default)]
pub struct ApplicationInput {
    pub name: Option<String>,
    pub environment: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    /// Tenant domains.
    pub tenants: Option<Vec<String>>,
    pub all_tenants: Option<bool>,
}

struct CheckedInput {
    name: Option<DisplayName>,
    environment: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    tenants: Option<Vec<TenantDomain>>,
    all_tenants: Option<bool>,
}

/// A redirect URI: absolute, no fragment, HTTPS — plain HTTP only to loopback (RFC 8252).
pub fn check_redirect_uri(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let url = url::Url::parse(raw).map_err(|_| format!("'{raw}' is not an absolute URL"))?;
    if url.fragment().is_some() {
        return Err(format!("'{raw}' must not contain a fragment"));
    }
    let loopback = matches!(
        url.host_str(),
        Some("localhost") | Some("127.0.0.1") | Some("[::1]")
    );
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(format!("'{raw}' must use https (http only for loopback)")),
        _ => return Err(format!("'{raw}' must be an http(s) URL")),
    }
    if raw.len() > 2000 {
        return Err("a redirect URI has at most 2000 characters".into());
    }
    Ok(raw.to_owned())
}

fn check_list(
    errors: &mut Vec<FieldError>,
    field: &str,
    raw: Option<Vec<String>>,
    max: usize,
    check: impl Fn(&str) -> Result<String, String>,
) -> Option<Vec<String>> {
    let raw = raw?;
    if raw.len() > max {
        errors.push(FieldError::new(field, format!("at most {max} entries")));
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for (i, item) in raw.iter().enumerate() {
        match check(item) {
            Ok(v) if !out.contains(&v) => out.push(v),
            Ok(_) => {}
            Err(msg) => errors.push(FieldError::new(format!("{field}[{i}]"), msg)),
        }
    }
    Some(out)
}

fn one_of(allowed: &'static [&'static str]) -> impl Fn(&str) -> Result<String, String> {
    move |raw| {
        let v = raw.trim().to_ascii_lowercase();
        if allowed.contains(&v.as_str()) {
            Ok(v)
        } else {
            Err(format!("must be one of: {}", allowed.join(", ")))
        }
    }
}

impl ApplicationInput {
    fn validate(self) -> Result<CheckedInput, DomainError> {
        let mut errors = Vec::new();
        let name = self.name.and_then(|n| match DisplayName::parse(&n) {
            Ok(n) => Some(n),
            Err(DomainError::Validation(mut e)) => {
                for f in &mut e {
                    f.field = "name".into();
                }
                errors.extend(e);
                None
            }
            Err(_) => None,
        });
        let environment = self
            .environment
            .and_then(|e| match one_of(ENVIRONMENTS)(&e) {
                Ok(v) => Some(v),
                Err(msg) => {
                    errors.push(FieldError::new("environment", msg));
                    None
                }
            });
        let redirect_uris = check_list(
            &mut errors,
            "redirect_uris",
            self.redirect_uris,
            MAX_URIS,
            check_redirect_uri,
        );
        let post_logout_redirect_uris = check_list(
            &mut errors,
            "post_logout_redirect_uris",
            self.post_logout_redirect_uris,
            MAX_URIS,
            check_redirect_uri,
        );
        let grant_types = check_list(
            &mut errors,
            "grant_types",
            self.grant_types,
            GRANT_TYPES.len(),
            one_of(GRANT_TYPES),
        );
        let tenants = check_list(&mut errors, "tenants", self.tenants, 100, |raw| {
            TenantDomain::parse(raw)
                .map(TenantDomain::into_inner)
                .map_err(|_| format!("'{}' is not a tenant domain", raw.trim()))
        })
        .map(|list| {
            list.iter()
                .filter_map(|d| TenantDomain::parse(d).ok())
                .collect()
        });
        if grant_types.as_ref().is_some_and(|g| g.is_empty())
            && !errors.iter().any(|e| e.field.starts_with("grant_types"))
        {
            errors.push(FieldError::new("grant_types", "at least one grant type"));
        }
        if errors.is_empty() {
            Ok(CheckedInput {
                name,
                environment,
                redirect_uris,
                post_logout_redirect_uris,
                grant_types,
                tenants,
                all_tenants: self.all_tenants,
            })
        } else {
            Err(DomainError::Validation(errors))
        }
    }
}

fn require_manage(actor: Option<&Actor>) -> Result<(), DomainError> {
    match actor {
        Some(a) => a.require(Permission::ApplicationsManage),
        None => Ok(()),
    }
}

const SELECT_APPLICATION: &str = "
    SELECT a.id, a.name, a.environment, a.status, a.redirect_uris, a.post_logout_redirect_uris,
           a.grant_types, a.all_tenants, a.created_at, a.updated_at,
           coalesce((SELECT array_agg(t.domain ORDER BY t.domain) FROM application_tenants at
                      JOIN tenants t ON t.id = at.tenant_id WHERE at.application_id = a.id),
                    '{}') AS tenants,
           (SELECT count(*) FROM api_keys k WHERE k.application_id = a.id AND k.revoked_at IS NULL
               AND (k.expires_at IS NULL OR k.expires_at > now())) AS active_keys
      FROM applications a";

#[derive(sqlx::FromRow)]
struct ApplicationRow {
    id: Uuid,
    name: String,
    environment: String,
    status: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    all_tenants: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    tenants: Vec<String>,
    active_keys: i64,
}

impl From<ApplicationRow> for Application {
    fn from(r: ApplicationRow) -> Self {
        Application {
            id: r.id,
            name: r.name,
            environment: r.environment,
            status: r.status,
            redirect_uris: r.redirect_uris,
            post_logout_redirect_uris: r.post_logout_redirect_uris,
            grant_types: r.grant_types,
            tenants: r.tenants,
            all_tenants: r.all_tenants,
            active_keys: r.active_keys,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

async fn fetch_application(conn: &mut PgConnection, id: Uuid) -> Result<Application, DomainError> {
    let row: Option<ApplicationRow> =
        sqlx::query_as(&format!("{SELECT_APPLICATION} WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(Application::from)
        .ok_or(DomainError::NotFound("application"))
}

/// Replaces the application's enabled tenants; unknown domains are a validation error.
async fn set_tenants(
    conn: &mut PgConnection,
    app_id: Uuid,
    domains: &[TenantDomain],
) -> Result<(), DomainError> {
    let domains: Vec<&str> = domains.iter().map(TenantDomain::as_str).collect();
    let found: Vec<String> =
        sqlx::query_scalar("SELECT domain FROM tenants WHERE domain = ANY($1)")
            .bind(&domains)
            .fetch_all(&mut *conn)
            .await?;
    let missing: Vec<FieldError> = domains
        .iter()
        .enumerate()
        .filter(|(_, d)| !found.iter().any(|f| f == *d))
        .map(|(i, d)| FieldError::new(format!("tenants[{i}]"), format!("no tenant '{d}'")))
        .collect();
    if !missing.is_empty() {
        return Err(DomainError::Validation(missing));
    }
    sqlx::query("DELETE FROM application_tenants WHERE application_id = $1")
        .bind(app_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO application_tenants (application_id, tenant_id)
         SELECT $1, id FROM tenants WHERE domain = ANY($2)",
    )
    .bind(app_id)
    .bind(&domains)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What taking tenants off an application ended.
struct CutOff {
    tenants: Vec<String>,
    keys: usize,
    refresh_tokens: u64,
}

/// After the application's tenants narrowed (a tenant removed, or "all tenants" turned
/// off), ends what the removed tenants' access ran on: keys bound to them are revoked,
/// refresh tokens of their users (and of platform users, once not all tenants) are
/// revoked, and access tokens the application holds for them are refused (SPEC §5).
async fn cut_off_tenants(
    conn: &mut PgConnection,
    before: &Application,
    after: &Application,
) -> Result<Option<CutOff>, DomainError> {
    use crate::oauth::{deny_tokens, Subject};
    if after.all_tenants {
        return Ok(None);
    }
    let removed: Vec<String> = before
        .tenants
        .iter()
        .filter(|d| !after.tenants.contains(d))
        .cloned()
        .collect();
    if removed.is_empty() && !before.all_tenants {
        return Ok(None);
    }
    // Keys bound to a tenant no longer enabled, and the refresh tokens of anyone outside
    // the enabled tenants.
    let keys: Vec<String> = sqlx::query_scalar(
        "UPDATE api_keys SET revoked_at = now()
          WHERE application_id = $1 AND revoked_at IS NULL AND tenant_id IS NOT NULL
            AND tenant_id NOT IN (SELECT id FROM tenants WHERE domain = ANY($2))
         RETURNING id",
    )
    .bind(after.id)
    .bind(&after.tenants)
    .fetch_all(&mut *conn)
    .await?;
    for key in &keys {
        deny_tokens(conn, Subject::Client(key.clone())).await?;
    }
    let refresh_tokens = sqlx::query(
        "UPDATE oauth_refresh_tokens SET revoked_at = now()
          WHERE application_id = $1 AND revoked_at IS NULL
            AND (tenant_id IS NULL OR tenant_id NOT IN (SELECT id FROM tenants WHERE domain = ANY($2)))",
    )
    .bind(after.id)
    .bind(&after.tenants)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if before.all_tenants {
        // Which tenants it held tokens for is not known: all of its tokens end (the
        // enabled tenants' applications sign in or refresh again).
        deny_tokens(conn, Subject::Application(after.id)).await?;
    } else {
        let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM tenants WHERE domain = ANY($1)")
            .bind(&removed)
            .fetch_all(&mut *conn)
            .await?;
        for tenant in ids {
            deny_tokens(conn, Subject::ApplicationTenant(after.id, tenant)).await?;
        }
    }
    Ok(Some(CutOff {
        tenants: removed,
        keys: keys.len(),
        refresh_tokens,
    }))
}

/// UC-DEV-REGISTER: registers an application (name required; environment defaults to
/// production, grants to client_credentials).
pub async fn register_application(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    input: ApplicationInput,
) -> Result<Done<Application>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
        register_application_in(conn, ctx, actor, input).await
    })
    .await
}

/// [`register_application`] inside the caller's transaction.
pub(crate) async fn register_application_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    input: ApplicationInput,
) -> Result<Application, DomainError> {
    require_manage(actor)?;
    if input.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(DomainError::validation("name", "a name is required"));
    }
    let checked = input.validate()?;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO applications (id, name, environment, owner_id, redirect_uris,
                                   post_logout_redirect_uris, grant_types, all_tenants)
         VALUES ($1, $2, coalesce($3, 'production'), $4, $5, $6,
                 coalesce($7, ARRAY['client_credentials']), coalesce($8, false))",
    )
    .bind(id)
    .bind(checked.name.as_ref().map(DisplayName::as_str))
    .bind(checked.environment.as_deref())
    .bind(actor.map(|a| a.user_id))
    .bind(checked.redirect_uris.clone().unwrap_or_default())
    .bind(
        checked
            .post_logout_redirect_uris
            .clone()
            .unwrap_or_default(),
    )
    .bind(checked.grant_types.as_ref())
    .bind(checked.all_tenants)
    .execute(&mut *conn)
    .await?;
    if let Some(tenants) = &checked.tenants {
        set_tenants(conn, id, tenants).await?;
    }
    let app = fetch_application(conn, id).await?;
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("application.register")
            .by(actor)
            .resource(format!("application:{id}"))
            .meta("name", app.name.clone())
            .meta("environment", app.environment.clone())
            .meta("grant_types", app.grant_types.clone())
            .meta("tenants", app.tenants.clone())
            .meta("all_tenants", app.all_tenants),
    )
    .await?;
    Ok(app)
}

/// UC-DEV-UPDATE: changes the given fields (merge semantics).
pub async fn update_application(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    id: Uuid,
    input: ApplicationInput,
) -> Result<Done<Application>, DomainError> {
    commit(pool, Effects::TOKENS, async |conn| {
        require_manage(actor)?;
        let before = fetch_application(conn, id).await?;
        let checked = input.validate()?;
        sqlx::query(
            "UPDATE applications SET
            name = coalesce($2, name),
            environment = coalesce($3, environment),
            redirect_uris = coalesce($4, redirect_uris),
            post_logout_redirect_uris = coalesce($5, post_logout_redirect_uris),
            grant_types = coalesce($6, grant_types),
            all_tenants = coalesce($7, all_tenants),
            updated_at = now()
          WHERE id = $1",
        )
        .bind(id)
        .bind(checked.name.as_ref().map(DisplayName::as_str))
        .bind(checked.environment.as_deref())
        .bind(checked.redirect_uris.as_ref())
        .bind(checked.post_logout_redirect_uris.as_ref())
        .bind(checked.grant_types.as_ref())
        .bind(checked.all_tenants)
        .execute(&mut *conn)
        .await?;
        if let Some(tenants) = &checked.tenants {
            set_tenants(conn, id, tenants).await?;
        }
        let after = fetch_application(conn, id).await?;
        let cut_off = cut_off_tenants(conn, &before, &after).await?;
        let mut entry = AuditEntry::new("application.update")
            .by(actor)
            .resource(format!("application:{id}"));
        let changes = [
            ("name", before.name != after.name),
            ("environment", before.environment != after.environment),
            ("redirect_uris", before.redirect_uris != after.redirect_uris),
            (
                "post_logout_redirect_uris",
                before.post_logout_redirect_uris != after.post_logout_redirect_uris,
            ),
            ("grant_types", before.grant_types != after.grant_types),
            ("tenants", before.tenants != after.tenants),
            ("all_tenants", before.all_tenants != after.all_tenants),
        ];
        let changed: Vec<&str> = changes.iter().filter(|c| c.1).map(|c| c.0).collect();
        entry = entry.meta("changed", changed);
        if let Some(cut) = cut_off {
            entry = entry
                .meta("tenants_removed", cut.tenants)
                .meta("keys_revoked", cut.keys)
                .meta("refresh_grants_revoked", cut.refresh_tokens);
        }
        append_audit_entry(conn, ctx, entry).await?;
        // Clients are cached by every server: tell them the application changed.
        crate::oauth::notify_clients_changed(conn).await?;
        Ok(after)
    })
    .await
}

pub async fn list_applications(
    pool: &PgPool,
    actor: Option<&Actor>,
) -> Result<Vec<Application>, DomainError> {
    require_manage(actor)?;
    let rows: Vec<ApplicationRow> = sqlx::query_as(&format!(
        "{SELECT_APPLICATION} ORDER BY a.created_at DESC, a.id DESC LIMIT 500"
    ))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Application::from).collect())
}

pub async fn get_application(
    pool: &PgPool,
    actor: Option<&Actor>,
    id: Uuid,
) -> Result<Application, DomainError> {
    require_manage(actor)?;
    let mut conn = pool.acquire().await?;
    fetch_application(&mut conn, id).await
}

/// Disables (or enables) an application. Disabling stops its keys and tokens at once:
/// refresh tokens revoked, access tokens refused from the next request on.
pub async fn set_application_status(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    id: Uuid,
    active: bool,
) -> Result<Done<Application>, DomainError> {
    commit(pool, Effects::TOKENS, async |conn| {
        require_manage(actor)?;
        let status = if active { "active" } else { "disabled" };
        let changed = sqlx::query(
        "UPDATE applications SET status = $2, updated_at = now() WHERE id = $1 AND status <> $2",
    )
    .bind(id)
    .bind(status)
    .execute(&mut *conn)
    .await?
    .rows_affected();
        let app = fetch_application(conn, id).await?;
        if changed == 0 {
            return Ok(app);
        }
        let mut revoked = 0;
        if !active {
            revoked =
                crate::oauth::revoke_refresh_tokens(conn, RefreshScope::Application(id)).await?;
            deny_tokens(conn, Subject::Application(id)).await?;
        }
        crate::oauth::notify_clients_changed(conn).await?;
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new(if active {
                "application.enable"
            } else {
                "application.disable"
            })
            .by(actor)
            .resource(format!("application:{id}"))
            .meta("refresh_grants_revoked", revoked),
        )
        .await?;
        Ok(app)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_or_loopback_without_fragment() {
        assert!(check_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:4001/cb").is_ok());
        assert!(check_redirect_uri("http://localhost/cb").is_ok());
        assert!(check_redirect_uri("http://app.example.com/cb").is_err());
        assert!(check_redirect_uri("https://app.example.com/cb#x").is_err());
        assert!(check_redirect_uri("/cb").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
    }

    #[test]
    fn input_errors_name_each_field() {
        let err = ApplicationInput {
            name: Some("  ".into()),
            environment: Some("prod".into()),
            redirect_uris: Some(vec!["http://evil.example/cb".into()]),
            grant_types: Some(vec!["implicit".into()]),
            ..Default::default()
        }
        .validate()
        .err()
        .unwrap();
        let DomainError::Validation(fields) = err else {
            panic!("expected validation")
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            names,
            ["name", "environment", "redirect_uris[0]", "grant_types[0]"]
        );
    }
}
