//! A passkey as the second factor of a pending sign-in.

use super::*;

/// Starts proving a passkey as the second factor of `user_id`'s pending sign-in: only that
/// person's passkeys are allowed. Without any, answers ERR_NOT_FOUND.
#[tracing::instrument(skip(pool, webauthn))]
pub async fn start_second_factor(
    pool: &PgPool,
    webauthn: &Webauthn,
    user_id: Uuid,
) -> Result<Ceremony<RequestChallengeResponse>, DomainError> {
    let stored: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT passkey FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    if stored.is_empty() {
        return Err(DomainError::NotFound("passkey"));
    }
    let passkeys = stored
        .into_iter()
        .map(parse_stored::<Passkey>)
        .collect::<Result<Vec<_>, _>>()?;
    let (options, state) = webauthn
        .start_passkey_authentication(&passkeys)
        .context("starting a passkey second factor")?;
    let challenge_id = store_challenge(pool, Kind::SecondFactor, Some(user_id), &state).await?;
    Ok(Ceremony {
        challenge_id,
        options,
    })
}

/// Finishes a second factor started by [`start_second_factor`] for the same user and
/// records the use on the passkey. The caller then completes the sign-in
/// (`login::complete_mfa_sign_in` with method "hwk"). Every failure is audited as
/// `auth.mfa.challenge.failure` with method "passkey" and the reason.
#[tracing::instrument(skip(pool, ctx, webauthn, credential))]
pub async fn finish_second_factor(
    pool: &PgPool,
    ctx: &RequestContext,
    webauthn: &Webauthn,
    user_id: Uuid,
    challenge_id: Uuid,
    credential: &PublicKeyCredential,
) -> Result<(), DomainError> {
    let Some(state) = take_challenge::<PasskeyAuthentication>(
        pool,
        challenge_id,
        Kind::SecondFactor,
        Some(user_id),
    )
    .await?
    else {
        second_factor_failure(pool, ctx, user_id, None, "challenge_expired").await?;
        return Err(DomainError::Unauthenticated(EXPIRED.into()));
    };
    let mut tx = pool.begin().await?;
    let found: Option<(Uuid, serde_json::Value)> = sqlx::query_as(
        "SELECT id, passkey FROM webauthn_credentials
         WHERE credential_id = $1 AND user_id = $2 FOR UPDATE",
    )
    .bind(credential.get_credential_id())
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((passkey_id, stored)) = found else {
        drop(tx);
        second_factor_failure(pool, ctx, user_id, None, "unknown_credential").await?;
        return Err(DomainError::Unauthenticated(NOT_VERIFIED.into()));
    };
    let mut passkey: Passkey = parse_stored(stored)?;
    let result = match webauthn.finish_passkey_authentication(credential, &state) {
        Ok(result) => result,
        Err(err) => {
            tracing::info!(error = %err, "passkey second factor refused");
            drop(tx);
            let reason = assertion_failure_reason(&err);
            second_factor_failure(pool, ctx, user_id, Some(passkey_id), reason).await?;
            return Err(DomainError::Unauthenticated(NOT_VERIFIED.into()));
        }
    };
    passkey.update_credential(&result);
    record_use(&mut tx, passkey_id, &passkey).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn second_factor_failure(
    pool: &PgPool,
    ctx: &RequestContext,
    user_id: Uuid,
    passkey_id: Option<Uuid>,
    reason: &str,
) -> Result<(), DomainError> {
    let tenant_id: Option<Uuid> = sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await?
        .flatten();
    let resource = passkey_id
        .map(|id| format!("passkey:{id}"))
        .unwrap_or_else(|| format!("user:{user_id}"));
    let mut tx = pool.begin().await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.mfa.challenge.failure")
            .failure()
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(resource)
            .meta("reason", reason)
            .meta("method", "passkey"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The audited reason for an assertion webauthn-rs refused. A counter that did not grow
/// means the authenticator may have been cloned, which deserves its own name.
pub(super) fn assertion_failure_reason(err: &webauthn_rs::prelude::WebauthnError) -> &'static str {
    match err {
        webauthn_rs::prelude::WebauthnError::CredentialPossibleCompromise => {
            "counter_not_increased"
        }
        _ => "invalid_assertion",
    }
}
