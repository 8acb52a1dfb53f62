//! A person's own passkeys: listing, renaming and removing them.

use super::*;

/// A person's passkeys, oldest first.
pub async fn list_passkeys(
    pool: &PgPool,
    user_id: Uuid,
) -> Result<Vec<PasskeySummary>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, name, created_at, last_used_at FROM webauthn_credentials
         WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

/// Renames one of the person's own passkeys (another's answers ERR_NOT_FOUND); audited as
/// `auth.mfa.renamed` with the old and new names.
#[tracing::instrument(skip(pool, ctx, name))]
pub async fn rename_passkey(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    passkey_id: Uuid,
    name: &PasskeyName,
) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    let current: Option<(String, Option<Uuid>)> = sqlx::query_as(
        "SELECT w.name, u.tenant_id FROM webauthn_credentials w JOIN users u ON u.id = w.user_id
         WHERE w.id = $1 AND w.user_id = $2 FOR UPDATE OF w",
    )
    .bind(passkey_id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (old, tenant_id) = current.ok_or(DomainError::NotFound("passkey"))?;
    if old == name.as_str() {
        return Ok(());
    }
    sqlx::query("UPDATE webauthn_credentials SET name = $2 WHERE id = $1")
        .bind(passkey_id)
        .bind(name.as_str())
        .execute(&mut *tx)
        .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.mfa.renamed")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("passkey:{passkey_id}"))
            .meta("factor", "passkey")
            .meta("old", old)
            .meta("new", name.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one of the person's own passkeys (another's answers ERR_NOT_FOUND); audited as
/// `auth.mfa.removed`. Someone who must use MFA (CON-SEC-005: operators and auditors
/// always, tenant users by their tenant's policy) cannot remove their last second factor.
#[tracing::instrument(skip(pool, ctx))]
pub async fn remove_passkey(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    passkey_id: Uuid,
) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    // Locks the account: two removals at once cannot both think a factor remains.
    let owner: Option<(String, Option<Uuid>, Option<String>)> = sqlx::query_as(
        "SELECT u.role, u.tenant_id, t.mfa_policy FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
         WHERE u.id = $1 FOR NO KEY UPDATE OF u",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (role, tenant_id, policy) = owner.ok_or(DomainError::NotFound("passkey"))?;
    let name: String =
        sqlx::query_scalar("SELECT name FROM webauthn_credentials WHERE id = $1 AND user_id = $2")
            .bind(passkey_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(DomainError::NotFound("passkey"))?;
    let another_factor: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL)
             OR EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = $1 AND id <> $2)",
    )
    .bind(user_id)
    .bind(passkey_id)
    .fetch_one(&mut *tx)
    .await?;
    crate::mfa::ensure_factor_kept(
        &role,
        policy.as_deref(),
        another_factor,
        "passkey",
        "this passkey",
    )?;
    sqlx::query("DELETE FROM webauthn_credentials WHERE id = $1")
        .bind(passkey_id)
        .execute(&mut *tx)
        .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.mfa.removed")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("passkey:{passkey_id}"))
            .meta("factor", "passkey")
            .meta("name", name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
