//! Adding a passkey to a fully signed-in account: the registration ceremony.

use super::*;

/// Starts registering a passkey for a signed-in user. Their existing passkeys are
/// excluded (an authenticator is registered once); the user handle is their id and the
/// name shown by the authenticator their email address. The authenticator is asked for a
/// discoverable credential, so the passkey can later sign in on its own.
#[tracing::instrument(skip(pool, webauthn))]
pub async fn start_registration(
    pool: &PgPool,
    webauthn: &Webauthn,
    user_id: Uuid,
) -> Result<Ceremony<CreationChallengeResponse>, DomainError> {
    let email: String =
        sqlx::query_scalar("SELECT email FROM users WHERE id = $1 AND status = 'active'")
            .bind(user_id)
            .fetch_optional(pool)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
    let existing: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT credential_id FROM webauthn_credentials WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(pool)
            .await?;
    let exclude = existing.into_iter().map(CredentialID::from).collect();
    let (mut options, state) = webauthn
        .start_passkey_registration(user_id, &email, &email, Some(exclude))
        .context("starting a passkey registration")?;
    // webauthn-rs leaves residency to the authenticator ("discouraged"); passwordless
    // sign-in needs a discoverable credential, so ask for one where the authenticator can
    // keep it. Only the options change: the finish does not depend on it.
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Preferred);
    }
    let challenge_id = store_challenge(pool, Kind::Registration, Some(user_id), &state).await?;
    Ok(Ceremony {
        challenge_id,
        options,
    })
}

/// Finishes a registration started by [`start_registration`] for the same user: verifies
/// the authenticator's answer, stores the passkey under `name` and records
/// `auth.mfa.enrolled` (factor "passkey") with it.
#[tracing::instrument(skip(pool, ctx, webauthn, credential, name))]
pub async fn finish_registration(
    pool: &PgPool,
    ctx: &RequestContext,
    webauthn: &Webauthn,
    user_id: Uuid,
    challenge_id: Uuid,
    credential: &RegisterPublicKeyCredential,
    name: PasskeyName,
) -> Result<PasskeySummary, DomainError> {
    let state: PasskeyRegistration =
        take_challenge(pool, challenge_id, Kind::Registration, Some(user_id))
            .await?
            .ok_or_else(|| DomainError::validation("challenge_id", EXPIRED))?;
    let passkey = webauthn
        .finish_passkey_registration(credential, &state)
        .map_err(|err| {
            tracing::info!(error = %err, "passkey registration refused");
            DomainError::validation(
                "credential",
                "the passkey could not be registered; please try again",
            )
        })?;

    let mut tx = pool.begin().await?;
    // Locks the account: factor changes of one person happen one at a time.
    let tenant_id: Option<Uuid> = sqlx::query_scalar(
        "SELECT tenant_id FROM users WHERE id = $1 AND status = 'active' FOR NO KEY UPDATE",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("user"))?;
    let stored = serde_json::to_value(&passkey).context("serialising the passkey")?;
    let inserted = sqlx::query_as::<_, PasskeySummary>(
        "INSERT INTO webauthn_credentials (user_id, credential_id, name, passkey)
         VALUES ($1, $2, $3, $4)
         RETURNING id, name, created_at, last_used_at",
    )
    .bind(user_id)
    .bind(passkey.cred_id().as_slice())
    .bind(name.as_str())
    .bind(stored)
    .fetch_one(&mut *tx)
    .await;
    let summary = match inserted {
        Ok(summary) => summary,
        Err(err) if unique_violation(&err).is_some() => {
            return Err(DomainError::conflict(
                "credential",
                "this passkey is already registered",
            ))
        }
        Err(err) => return Err(err.into()),
    };
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.mfa.enrolled")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("passkey:{}", summary.id))
            .meta("factor", "passkey")
            .meta("name", summary.name.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}
