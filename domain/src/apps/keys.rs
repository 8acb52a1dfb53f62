//! An application's API keys (FR-SYS-001/002, DAT-KEY): issued with a secret shown once
//! (stored as SHA-256), listed without it, revoked at once (its refresh tokens revoked, its
//! access tokens refused).

use super::*;

/// An application's API key as listed: never its secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ApiKey {
    /// The OAuth client_id.
    pub id: String,
    pub application_id: Uuid,
    pub name: Option<String>,
    /// The domain of the tenant the key is bound to, if any.
    pub tenant: Option<String>,
    /// The scopes its tokens may be granted.
    pub scopes: Vec<String>,
    /// When it stops authenticating; `null` for never.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// When it last authenticated (recorded at most once a minute).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// `active`, `expired` or `revoked`.
    pub status: String,
}

#[derive(Debug, Clone, Default)]
pub struct KeyInput {
    pub name: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<OffsetDateTime>,
    /// Binds the key to one of the application's tenants.
    pub tenant: Option<String>,
}

/// A freshly issued key: the secret is here once and never again.
#[derive(Debug)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: SecretString,
}

pub(super) const SELECT_KEY: &str = "
    SELECT k.id, k.application_id, k.name, t.domain AS tenant, k.scopes, k.expires_at,
           k.revoked_at, k.last_used_at, k.created_at
      FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id";

#[derive(sqlx::FromRow)]
pub(super) struct KeyRow {
    pub(super) id: String,
    pub(super) application_id: Uuid,
    pub(super) name: Option<String>,
    pub(super) tenant: Option<String>,
    pub(super) scopes: Vec<String>,
    pub(super) expires_at: Option<OffsetDateTime>,
    pub(super) revoked_at: Option<OffsetDateTime>,
    pub(super) last_used_at: Option<OffsetDateTime>,
    pub(super) created_at: OffsetDateTime,
}

impl From<KeyRow> for ApiKey {
    fn from(r: KeyRow) -> Self {
        let now = OffsetDateTime::now_utc();
        let status = if r.revoked_at.is_some() {
            "revoked"
        } else if r.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        ApiKey {
            id: r.id,
            application_id: r.application_id,
            name: r.name,
            tenant: r.tenant,
            scopes: r.scopes,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
            created_at: r.created_at,
            status: status.into(),
        }
    }
}

pub(super) fn new_client_id() -> String {
    format!("gk_{}", &random_token()[..22])
}

/// FR-SYS-001/002: issues a key for an application; the secret is returned once.
pub async fn issue_key(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    application_id: Uuid,
    input: KeyInput,
) -> Result<Done<IssuedKey>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
        issue_key_in(conn, ctx, actor, application_id, input).await
    })
    .await
}

/// [`issue_key`] inside the caller's transaction.
pub(crate) async fn issue_key_in(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    application_id: Uuid,
    input: KeyInput,
) -> Result<IssuedKey, DomainError> {
    require_manage(actor)?;
    let app = fetch_application(conn, application_id).await?;
    let mut errors = Vec::new();
    let scopes = check_list(
        &mut errors,
        "scopes",
        Some(input.scopes),
        SCOPES.len(),
        one_of(SCOPES),
    )
    .unwrap_or_default();
    let name = input
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        errors.push(FieldError::new("name", "at most 200 characters"));
    }
    if input
        .expires_at
        .is_some_and(|e| e <= OffsetDateTime::now_utc())
    {
        errors.push(FieldError::new("expires_at", "must be in the future"));
    }
    let tenant = input
        .tenant
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty());
    if let Some(t) = &tenant {
        if !app.tenants.contains(t) {
            errors.push(FieldError::new(
                "tenant",
                format!("'{t}' is not one of the application's tenants"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    let id = new_client_id();
    let secret = random_token();
    sqlx::query(
        "INSERT INTO api_keys (id, application_id, tenant_id, name, secret_hash, scopes, expires_at)
         VALUES ($1, $2, (SELECT id FROM tenants WHERE domain = $3), $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(application_id)
    .bind(tenant.as_deref())
    .bind(name.as_deref())
    .bind(token_hash(&secret))
    .bind(&scopes)
    .bind(input.expires_at)
    .execute(&mut *conn)
    .await?;
    let key: ApiKey = sqlx::query_as::<_, KeyRow>(&format!("{SELECT_KEY} WHERE k.id = $1"))
        .bind(&id)
        .fetch_one(&mut *conn)
        .await?
        .into();
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("api_key.issue")
            .by(actor)
            .resource(format!("api_key:{id}"))
            .meta("application_id", application_id.to_string())
            .meta("scopes", scopes)
            .meta("tenant", tenant)
            .meta(
                "expires_at",
                key.expires_at.map(|e| e.unix_timestamp().to_string()),
            ),
    )
    .await?;
    Ok(IssuedKey {
        key,
        secret: SecretString::from(secret),
    })
}

pub async fn list_keys(
    pool: &PgPool,
    actor: Option<&Actor>,
    application_id: Uuid,
) -> Result<Vec<ApiKey>, DomainError> {
    require_manage(actor)?;
    let mut conn = pool.acquire().await?;
    fetch_application(&mut conn, application_id).await?;
    let rows: Vec<KeyRow> = sqlx::query_as(&format!(
        "{SELECT_KEY} WHERE k.application_id = $1 ORDER BY k.created_at DESC"
    ))
    .bind(application_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(ApiKey::from).collect())
}

/// Revokes a key: it authenticates no more, its refresh tokens are revoked and its access
/// tokens refused from the next request on. Revoking a revoked key changes nothing.
pub async fn revoke_key(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: Option<&Actor>,
    application_id: Option<Uuid>,
    key_id: &str,
) -> Result<Done<ApiKey>, DomainError> {
    commit(pool, Effects::TOKENS, async |conn| {
        require_manage(actor)?;
        let changed = sqlx::query(
            "UPDATE api_keys SET revoked_at = now()
          WHERE id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR application_id = $2)",
        )
        .bind(key_id)
        .bind(application_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        let key: ApiKey = sqlx::query_as::<_, KeyRow>(&format!(
            "{SELECT_KEY} WHERE k.id = $1 AND ($2::uuid IS NULL OR k.application_id = $2)"
        ))
        .bind(key_id)
        .bind(application_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound("key"))?
        .into();
        if changed > 0 {
            let revoked =
                crate::oauth::revoke_refresh_tokens(conn, RefreshScope::Client(key_id.to_owned()))
                    .await?;
            deny_tokens(conn, Subject::Client(key_id.to_owned())).await?;
            crate::oauth::notify_clients_changed(conn).await?;
            append_audit_entry(
                conn,
                ctx,
                AuditEntry::new("api_key.revoke")
                    .by(actor)
                    .resource(format!("api_key:{key_id}"))
                    .meta("application_id", key.application_id.to_string())
                    .meta("refresh_grants_revoked", revoked),
            )
            .await?;
        }
        Ok(key)
    })
    .await
}
