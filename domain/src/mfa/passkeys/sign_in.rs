//! Signing in with a passkey alone (passwordless), creating the session as a password
//! sign-in does.

use super::*;

/// Starts a passwordless sign-in: no account is named; the authenticator offers its
/// discoverable credentials for this site.
#[tracing::instrument(skip_all)]
pub async fn start_passwordless_login(
    pool: &PgPool,
    webauthn: &Webauthn,
) -> Result<Ceremony<RequestChallengeResponse>, DomainError> {
    let (mut options, state) = webauthn
        .start_discoverable_authentication()
        .context("starting a passkey sign-in")?;
    // webauthn-rs marks this for conditional mediation (autofill); a sign-in button asks
    // at once instead. A page that wants autofill sets the mediation itself.
    options.mediation = None;
    let challenge_id = store_challenge(pool, Kind::Login, None, &state).await?;
    Ok(Ceremony {
        challenge_id,
        options,
    })
}

#[derive(sqlx::FromRow)]
pub(super) struct SigningPasskey {
    pub(super) id: Uuid,
    pub(super) user_id: Uuid,
    pub(super) passkey: serde_json::Value,
    pub(super) tenant_id: Option<Uuid>,
    pub(super) role: String,
    pub(super) user_status: String,
    pub(super) tenant_status: Option<String>,
    pub(super) sso_enforced: bool,
}

/// Finishes a passwordless sign-in: finds the credential the authenticator used, verifies
/// the assertion, refuses (after the proof, like a right password) accounts that cannot
/// sign in, and records the use on the passkey (counter, backup state, `last_used_at`).
/// Returns the user id; the caller starts the session (`login::complete_sign_in`, which
/// records `auth.login.success`). Every failure is audited as `auth.login.failure` with
/// method "passkey" and the reason.
#[tracing::instrument(skip(pool, ctx, webauthn, credential))]
pub async fn finish_passwordless_login(
    pool: &PgPool,
    ctx: &RequestContext,
    webauthn: &Webauthn,
    challenge_id: Uuid,
    credential: &PublicKeyCredential,
) -> Result<Uuid, DomainError> {
    let Some(state) =
        take_challenge::<DiscoverableAuthentication>(pool, challenge_id, Kind::Login, None).await?
    else {
        login_failure(pool, ctx, None, "challenge_expired").await?;
        return Err(DomainError::Unauthenticated(EXPIRED.into()));
    };
    let Ok((user_handle, credential_id)) =
        webauthn.identify_discoverable_authentication(credential)
    else {
        login_failure(pool, ctx, None, "no_user_handle").await?;
        return Err(DomainError::Unauthenticated(NOT_VERIFIED.into()));
    };

    let mut tx = pool.begin().await?;
    // Locked until the new counter is stored: two assertions cannot both pass against the
    // same old counter.
    let found: Option<SigningPasskey> = sqlx::query_as(
        "SELECT w.id, w.user_id, w.passkey, u.tenant_id, u.role, u.status AS user_status,
                t.status AS tenant_status, coalesce(t.sso_enforced, false) AS sso_enforced
         FROM webauthn_credentials w
         JOIN users u ON u.id = w.user_id
         LEFT JOIN tenants t ON t.id = u.tenant_id
         WHERE w.credential_id = $1 AND w.user_id = $2
         FOR UPDATE OF w",
    )
    .bind(credential_id)
    .bind(user_handle)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(found) = found else {
        drop(tx);
        login_failure(pool, ctx, None, "unknown_credential").await?;
        return Err(DomainError::Unauthenticated(NOT_VERIFIED.into()));
    };
    let mut passkey: Passkey = parse_stored(found.passkey.clone())?;
    let verified = webauthn.finish_discoverable_authentication(
        credential,
        state,
        &[DiscoverableKey::from(&passkey)],
    );
    let result = match verified {
        Ok(result) => result,
        Err(err) => {
            tracing::info!(error = %err, "passkey sign-in refused");
            drop(tx);
            let reason = assertion_failure_reason(&err);
            login_failure(pool, ctx, Some(&found), reason).await?;
            return Err(DomainError::Unauthenticated(NOT_VERIFIED.into()));
        }
    };

    // The passkey is proven: the person may learn why their account cannot sign in.
    if let Some(refused) = refusal(&found)? {
        drop(tx);
        login_failure(pool, ctx, Some(&found), refused.code()).await?;
        return Err(match refused.message() {
            Some(message) => DomainError::PermissionDenied(message.into()),
            None => DomainError::PermissionDenied(NOT_VERIFIED.into()),
        });
    }
    passkey.update_credential(&result);
    record_use(&mut tx, found.id, &passkey).await?;
    tx.commit().await?;
    Ok(found.user_id)
}

/// Why this proven passkey's account cannot sign in, if it cannot.
pub(super) fn refusal(found: &SigningPasskey) -> Result<Option<SignInRefusal>, DomainError> {
    let tenant = found
        .tenant_status
        .as_deref()
        .map(TenantStatus::parse)
        .transpose()?;
    let refused = SignInRefusal::of(UserStatus::parse(&found.user_status)?, tenant);
    if refused.is_none() && found.sso_enforced && Role::parse(&found.role)? != Role::Owner {
        return Ok(Some(SignInRefusal::SsoEnforced));
    }
    Ok(refused)
}

/// Audits a failed passwordless sign-in in its own transaction.
pub(super) async fn login_failure(
    pool: &PgPool,
    ctx: &RequestContext,
    found: Option<&SigningPasskey>,
    reason: &str,
) -> Result<(), DomainError> {
    let mut entry = AuditEntry::new("auth.login.failure")
        .failure()
        .meta("reason", reason)
        .meta("method", "passkey");
    entry = match found {
        Some(found) => entry
            .tenant(found.tenant_id)
            .actor(ActorType::User, Some(found.user_id))
            .resource(format!("passkey:{}", found.id)),
        None => entry.actor(ActorType::User, None),
    };
    let mut tx = pool.begin().await?;
    append_audit_entry(&mut tx, ctx, entry).await?;
    tx.commit().await?;
    Ok(())
}
