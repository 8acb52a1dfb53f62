//! Refresh-token grants as families: a reused token revokes its family, and a session, a
//! user, a tenant or an application ending revokes the grants it made.

use super::*;

/// Revokes a refresh-token family and the access tokens minted with it. Returns how
/// many refresh tokens it revoked.
pub(super) async fn revoke_family(
    conn: &mut PgConnection,
    family: Uuid,
) -> Result<u64, DomainError> {
    let rows: Vec<(bool, Option<Uuid>, Option<OffsetDateTime>)> = sqlx::query_as(
        "UPDATE oauth_refresh_tokens SET revoked_at = coalesce(revoked_at, now())
          WHERE family_id = $1 RETURNING revoked_at = now(), access_jti, access_expires_at",
    )
    .bind(family)
    .fetch_all(&mut *conn)
    .await?;
    revoke_listed(conn, &rows).await
}

/// Refuses the access tokens of `rows` (revoked, access jti, its expiry) and counts the
/// refresh tokens they revoked.
pub(super) async fn revoke_listed(
    conn: &mut PgConnection,
    rows: &[(bool, Option<Uuid>, Option<OffsetDateTime>)],
) -> Result<u64, DomainError> {
    let access: Vec<(Uuid, OffsetDateTime)> = rows
        .iter()
        .filter_map(|(_, jti, exp)| jti.zip(*exp))
        .collect();
    revoke_access_tokens(conn, &access).await?;
    Ok(rows.iter().filter(|r| r.0).count() as u64)
}

/// Whose refresh tokens to revoke.
#[derive(Debug, Clone)]
pub enum RefreshScope {
    User(Uuid),
    Tenant(Uuid),
    Application(Uuid),
    Client(String),
}

/// Revokes every live refresh token of a user, tenant, application or key. Returns how
/// many.
pub async fn revoke_refresh_tokens(
    conn: &mut PgConnection,
    scope: RefreshScope,
) -> Result<u64, DomainError> {
    let (column, id) = match &scope {
        RefreshScope::User(id) => ("user_id", id.to_string()),
        RefreshScope::Tenant(id) => ("tenant_id", id.to_string()),
        RefreshScope::Application(id) => ("application_id", id.to_string()),
        RefreshScope::Client(id) => ("client_id", id.clone()),
    };
    // The column is one of four fixed names, never input.
    let cast = if column == "client_id" {
        "$1"
    } else {
        "$1::uuid"
    };
    let sql = format!(
        "UPDATE oauth_refresh_tokens SET revoked_at = now()
          WHERE {column} = {cast} AND revoked_at IS NULL AND expires_at > now()"
    );
    Ok(sqlx::query(&sql)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// Whose application tokens [`revoke_session_tokens`] ends.
#[derive(Debug, Clone, Copy)]
pub enum SessionTokens {
    /// The tokens one session started (its sign-out or revocation).
    Of(Uuid),
    /// Those of every session of a user but one ("sign out everywhere else", a password
    /// change).
    AllBut { user_id: Uuid, keep: Uuid },
}

/// Ends the refresh-token families the chosen sessions started (a family is bound to the
/// session that signed in to the application) and every access token issued from them or
/// from their authorization codes, inside the caller's transaction. Returns how many
/// refresh tokens were revoked.
pub async fn revoke_session_tokens(
    conn: &mut PgConnection,
    which: SessionTokens,
) -> Result<u64, DomainError> {
    let (user, session, only) = match which {
        SessionTokens::Of(id) => (None, id, true),
        SessionTokens::AllBut { user_id, keep } => (Some(user_id), keep, false),
    };
    // `only`: the tokens of session $2; otherwise user $1's tokens of any other session.
    let rows: Vec<(bool, Option<Uuid>, Option<OffsetDateTime>)> = sqlx::query_as(
        "WITH fam AS (
             SELECT DISTINCT family_id FROM oauth_refresh_tokens
             WHERE ($1::uuid IS NULL OR user_id = $1) AND coalesce(session_id = $2, false) = $3
         ), revoked AS (
             UPDATE oauth_refresh_tokens SET revoked_at = now()
             WHERE family_id IN (SELECT family_id FROM fam) AND revoked_at IS NULL
             RETURNING id
         ), spent AS (
             -- A code not yet redeemed would mint tokens after the session ended.
             UPDATE oauth_authorization_codes SET used_at = now()
             WHERE used_at IS NULL AND ($1::uuid IS NULL OR user_id = $1)
               AND coalesce(session_id = $2, false) = $3
         )
         SELECT true, NULL::uuid, NULL::timestamptz FROM revoked
         UNION ALL
         SELECT false, access_jti, access_expires_at FROM oauth_refresh_tokens
         WHERE family_id IN (SELECT family_id FROM fam) AND access_expires_at > now()
         UNION ALL
         SELECT false, issued_access_jti, issued_access_expires_at FROM oauth_authorization_codes
         WHERE ($1::uuid IS NULL OR user_id = $1) AND coalesce(session_id = $2, false) = $3
           AND issued_access_expires_at > now()",
    )
    .bind(user)
    .bind(session)
    .bind(only)
    .fetch_all(&mut *conn)
    .await?;
    revoke_listed(conn, &rows).await
}

/// Ends every token of a user: refresh tokens revoked, access tokens refused. Called with
/// every revocation of all of a user's sessions (disable, delete, role change, reset).
pub async fn revoke_user_tokens(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<u64, DomainError> {
    let count = revoke_refresh_tokens(conn, RefreshScope::User(user_id)).await?;
    // Codes not yet redeemed would mint tokens past the cutoff below.
    sqlx::query(
        "UPDATE oauth_authorization_codes SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    deny_tokens(conn, Subject::User(user_id)).await?;
    Ok(count)
}

/// Ends every token of a tenant (suspension).
pub async fn revoke_tenant_tokens(
    conn: &mut PgConnection,
    tenant_id: Uuid,
) -> Result<u64, DomainError> {
    let count = revoke_refresh_tokens(conn, RefreshScope::Tenant(tenant_id)).await?;
    // Notices arrive in the order they are sent, and each instance applies them in turn:
    // the suspended tenants are reloaded before the cutoff refuses the tenant's tokens, so
    // no instance refuses a token yet still issues a new one for the tenant.
    crate::oauth::notify_tenants_changed(conn).await?;
    deny_tokens(conn, Subject::Tenant(tenant_id)).await?;
    Ok(count)
}
