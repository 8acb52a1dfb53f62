//! Recovery codes (CON-SEC-005): ten single-use codes, stored hashed per person, shown once.

use super::*;

/// Replaces the person's unused recovery codes with ten new ones, returned to be shown
/// once; audited as `auth.mfa.recovery_codes.regenerated`. Needs a second factor first:
/// recovery codes stand in for one.
#[tracing::instrument(skip(pool, ctx))]
pub async fn regenerate_recovery_codes(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
) -> Result<Vec<SecretString>, DomainError> {
    let mut tx = pool.begin().await?;
    let tenant_id: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let tenant_id = tenant_id.ok_or(DomainError::NotFound("user"))?;
    if !has_confirmed_factor(&mut *tx, user_id).await? {
        return Err(DomainError::conflict(
            "recovery_codes",
            "add an authenticator app or a passkey before creating recovery codes",
        ));
    }
    let replaced = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let codes = insert_recovery_codes(&mut tx, user_id).await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.mfa.recovery_codes.regenerated")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("count", codes.len())
            .meta("replaced_unused", replaced),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Issues the first ten recovery codes inside the caller's transaction when the person
/// has no unused ones (audited as `auth.mfa.recovery_codes.generated`); `None` otherwise.
/// Called by TOTP confirmation; a passkey registration may call it too.
pub async fn first_recovery_codes(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
) -> Result<Option<Vec<SecretString>>, DomainError> {
    let unused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    if unused > 0 {
        return Ok(None);
    }
    let codes = insert_recovery_codes(conn, user_id).await?;
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("auth.mfa.recovery_codes.generated")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("user:{user_id}"))
            .meta("count", codes.len()),
    )
    .await?;
    Ok(Some(codes))
}

/// Unused recovery codes the person has left.
pub async fn recovery_codes_left<'e>(
    db: impl sqlx::PgExecutor<'e>,
    user_id: Uuid,
) -> Result<i64, DomainError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?)
}

pub(super) async fn insert_recovery_codes(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<SecretString>, DomainError> {
    let codes: Vec<String> = (0..RECOVERY_CODE_COUNT)
        .map(|_| new_recovery_code())
        .collect();
    let hashes: Vec<Vec<u8>> = codes
        .iter()
        .map(|c| recovery_code_hash(user_id, c))
        .collect();
    sqlx::query(
        "INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, h FROM unnest($2::bytea[]) AS h",
    )
    .bind(user_id)
    .bind(&hashes)
    .execute(&mut *conn)
    .await?;
    Ok(codes.into_iter().map(SecretString::from).collect())
}

/// `xxxxx-xxxxx` from [`RECOVERY_ALPHABET`], drawn uniformly from the OS generator.
pub(super) fn new_recovery_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let mut code = String::with_capacity(RECOVERY_CODE_CHARS + 1);
    for i in 0..RECOVERY_CODE_CHARS {
        if i == RECOVERY_CODE_CHARS / 2 {
            code.push('-');
        }
        let pick = rng.gen_range(0..RECOVERY_ALPHABET.len());
        code.push(char::from(RECOVERY_ALPHABET[pick]));
    }
    code
}

/// Lower case, without the dash and any spaces people type or paste.
pub(super) fn normalize_recovery_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

pub(super) fn recovery_code_hash(user_id: Uuid, code: &str) -> Vec<u8> {
    crate::token_hash(&format!(
        "recovery_code:{user_id}:{}",
        normalize_recovery_code(code)
    ))
}
