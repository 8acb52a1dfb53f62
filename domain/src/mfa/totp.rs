//! Authenticator apps (RFC 6238 TOTP; NFR-SEC-003): enrolment with a QR code, confirmation
//! by a first code, removal, and the mechanics (seeds sealed with the master key, codes
//! checked with one step of skew and never twice).

use super::*;

/// A started authenticator-app enrolment, shown once to its owner. Deliberately not
/// `Serialize`, and its `Debug` hides the QR code, which encodes the seed.
pub struct TotpEnrolment {
    pub id: Uuid,
    /// The seed in base32, for typing into an app that cannot scan.
    pub secret_base32: SecretString,
    /// `otpauth://totp/...` with the seed.
    pub otpauth_uri: SecretString,
    /// The otpauth URI as a QR code: a standalone `<svg>` element (no XML prolog, no
    /// external references), dark modules on white, at least 200 px square.
    pub qr_svg: String,
}

impl fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrolment")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Starts enrolling an authenticator app: a fresh seed, stored encrypted in an
/// unconfirmed row (replacing the person's earlier unconfirmed ones), and the QR code to
/// scan. `account_label` (the email) and `issuer` ("Gatehouse" or the tenant's name) are
/// what the app displays. The row is inert until [`confirm_totp_enrolment`], which is
/// where the enrolment is audited.
#[tracing::instrument(skip(pool, keys, account_label, issuer))]
pub async fn begin_totp_enrolment(
    pool: &PgPool,
    keys: &MasterKeys,
    user_id: Uuid,
    account_label: &str,
    issuer: &str,
) -> Result<TotpEnrolment, DomainError> {
    let mut seed = vec![0u8; TOTP_SEED_BYTES];
    rand::rngs::OsRng.fill(seed.as_mut_slice());
    let issuer = otpauth_text(issuer);
    let issuer = if issuer.is_empty() {
        "Gatehouse".to_owned()
    } else {
        issuer
    };
    let id = Uuid::now_v7();
    let ciphertext = keys.encrypt(&seed, &seed_aad(id))?;
    let totp = totp_for(seed, Some(issuer), otpauth_text(account_label))?;
    let otpauth_uri = totp.get_url();
    let qr_svg = qr_svg(&otpauth_uri)?;

    let mut tx = pool.begin().await?;
    let exists: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM users WHERE id = $1 AND status <> 'archived' FOR NO KEY UPDATE",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    exists.ok_or(DomainError::NotFound("user"))?;
    sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NULL")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO mfa_totp (id, user_id, secret_ciphertext) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(user_id)
        .bind(&ciphertext)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    Ok(TotpEnrolment {
        id,
        secret_base32: SecretString::from(totp.get_secret_base32()),
        otpauth_uri: SecretString::from(otpauth_uri),
        qr_svg,
    })
}

/// Confirms an enrolment with a code from the app, proving it holds the seed. The app then
/// counts as a second factor (`auth.mfa.enrolled`). The first enrolment of someone without
/// unused recovery codes also issues ten, returned here to be shown once.
#[tracing::instrument(skip(pool, ctx, keys, code, label))]
pub async fn confirm_totp_enrolment(
    pool: &PgPool,
    ctx: &RequestContext,
    keys: &MasterKeys,
    user_id: Uuid,
    enrolment_id: Uuid,
    code: &str,
    label: Option<&str>,
) -> Result<Option<Vec<SecretString>>, DomainError> {
    let label = totp_label(label)?;
    let mut tx = pool.begin().await?;
    // Serialises this person's factor changes (see `remove_totp`, `remove_passkey`).
    let tenant_id: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let tenant_id = tenant_id.ok_or(DomainError::NotFound("enrolment"))?;
    let row: Option<(Vec<u8>, bool)> = sqlx::query_as(
        "SELECT secret_ciphertext, created_at < now() - make_interval(secs => $3) FROM mfa_totp
         WHERE id = $1 AND user_id = $2 AND confirmed_at IS NULL FOR UPDATE",
    )
    .bind(enrolment_id)
    .bind(user_id)
    .bind(ENROLMENT_TTL_SECS as f64)
    .fetch_optional(&mut *tx)
    .await?;
    let (ciphertext, expired) = row.ok_or(DomainError::NotFound("enrolment"))?;
    if expired {
        return Err(DomainError::Gone(
            "this enrolment has expired; start again".into(),
        ));
    }
    let totp = decrypt_totp(keys, enrolment_id, &ciphertext)?;
    let step = normalize_totp_code(code)
        .and_then(|code| matching_step(&totp, &code, current_step()?, None))
        .ok_or_else(|| DomainError::validation("code", WRONG_ENROLMENT_CODE))?;
    sqlx::query(
        "UPDATE mfa_totp SET confirmed_at = now(), last_used_step = $2, label = $3 WHERE id = $1",
    )
    .bind(enrolment_id)
    .bind(step_i64(step)?)
    .bind(&label)
    .execute(&mut *tx)
    .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.mfa.enrolled")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(user_id))
            .resource(format!("mfa_totp:{enrolment_id}"))
            .meta("factor", "totp")
            .meta("label", label.as_str()),
    )
    .await?;
    let codes = first_recovery_codes(&mut tx, ctx, user_id, tenant_id).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Removes one of the person's authenticator apps (another's answers ERR_NOT_FOUND);
/// audited as `auth.mfa.removed`. Someone who must use MFA (CON-SEC-005) cannot remove
/// their last second factor. Only self-service: `actor_user_id` must be `user_id` (the
/// actor is recorded); removing someone else's factor is not offered.
#[tracing::instrument(skip(pool, ctx))]
pub async fn remove_totp(
    pool: &PgPool,
    ctx: &RequestContext,
    actor_user_id: Uuid,
    user_id: Uuid,
    totp_id: Uuid,
) -> Result<(), DomainError> {
    const WHAT: &str = "authenticator app";
    if actor_user_id != user_id {
        return Err(DomainError::NotFound(WHAT));
    }
    let mut tx = pool.begin().await?;
    // Locks the account: two removals at once cannot both think a factor remains.
    let owner: Option<(String, Option<Uuid>, Option<String>)> = sqlx::query_as(
        "SELECT u.role, u.tenant_id, t.mfa_policy FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
         WHERE u.id = $1 FOR NO KEY UPDATE OF u",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (role, tenant_id, policy) = owner.ok_or(DomainError::NotFound(WHAT))?;
    let row: Option<(String, bool)> = sqlx::query_as(
        "SELECT label, confirmed_at IS NOT NULL FROM mfa_totp WHERE id = $1 AND user_id = $2",
    )
    .bind(totp_id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (label, confirmed) = row.ok_or(DomainError::NotFound(WHAT))?;
    if confirmed {
        let another_factor: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL AND id <> $2)
                 OR EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = $1)",
        )
        .bind(user_id)
        .bind(totp_id)
        .fetch_one(&mut *tx)
        .await?;
        ensure_factor_kept(
            &role,
            policy.as_deref(),
            another_factor,
            "totp",
            "this authenticator app",
        )?;
    }
    sqlx::query("DELETE FROM mfa_totp WHERE id = $1")
        .bind(totp_id)
        .execute(&mut *tx)
        .await?;
    append_audit_entry(
        &mut tx,
        ctx,
        AuditEntry::new("auth.mfa.removed")
            .tenant(tenant_id)
            .actor(ActorType::User, Some(actor_user_id))
            .resource(format!("mfa_totp:{totp_id}"))
            .meta("factor", "totp")
            .meta("label", label)
            .meta("confirmed", confirmed),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Associated data binding an encrypted seed to its row.
pub(super) fn seed_aad(totp_id: Uuid) -> String {
    format!("mfa_totp:{totp_id}")
}

pub(super) fn totp_for(
    seed: Vec<u8>,
    issuer: Option<String>,
    account: String,
) -> Result<TOTP, DomainError> {
    // The error is not passed on: some of its variants quote the secret.
    TOTP::new(
        Algorithm::SHA1,
        TOTP_DIGITS,
        TOTP_SKEW_STEPS as u8,
        TOTP_STEP_SECS,
        seed,
        issuer,
        account,
    )
    .map_err(|_| DomainError::from(anyhow::anyhow!("building the TOTP parameters failed")))
}

pub(super) fn decrypt_totp(
    keys: &MasterKeys,
    totp_id: Uuid,
    ciphertext: &[u8],
) -> Result<TOTP, DomainError> {
    let seed = keys
        .decrypt(ciphertext, &seed_aad(totp_id))
        .context("decrypting a TOTP seed")?;
    totp_for(seed, None, String::new())
}

/// The otpauth label parts may not contain ':' (it separates issuer and account).
pub(super) fn otpauth_text(text: &str) -> String {
    text.replace(':', " ").trim().to_owned()
}

pub(super) fn totp_label(label: Option<&str>) -> Result<String, DomainError> {
    let label = label.map(str::trim).unwrap_or_default();
    if label.is_empty() {
        return Ok(DEFAULT_TOTP_LABEL.to_owned());
    }
    if label.chars().count() > 100 {
        return Err(DomainError::validation(
            "label",
            "a name has at most 100 characters",
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(DomainError::validation(
            "label",
            "a name cannot contain control characters",
        ));
    }
    Ok(label.to_owned())
}

/// Six ASCII digits, ignoring spaces (apps show "123 456").
pub(super) fn normalize_totp_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == TOTP_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

pub(super) fn current_step() -> Option<u64> {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp())
        .ok()
        .map(|secs| secs / TOTP_STEP_SECS)
}

pub(super) fn step_i64(step: u64) -> Result<i64, DomainError> {
    Ok(i64::try_from(step).context("TOTP step out of range")?)
}

/// The earliest time step within the skew window around `now_step`, later than
/// `last_used`, whose code is `code`. Every candidate is compared, in constant time, so
/// the answer's timing does not tell which step matched.
pub(super) fn matching_step(
    totp: &TOTP,
    code: &str,
    now_step: u64,
    last_used: Option<u64>,
) -> Option<u64> {
    let mut found = None;
    for step in now_step.saturating_sub(TOTP_SKEW_STEPS)..=now_step + TOTP_SKEW_STEPS {
        let expected = totp.generate(step * TOTP_STEP_SECS);
        let matches = constant_time_eq(expected.as_bytes(), code.as_bytes());
        let fresh = last_used.is_none_or(|last| step > last);
        if matches && fresh && found.is_none() {
            found = Some(step);
        }
    }
    found
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The QR code of `uri` as an inline SVG element.
pub(super) fn qr_svg(uri: &str) -> Result<String, DomainError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| {
            DomainError::from(anyhow::anyhow!("the otpauth URI does not fit a QR code"))
        })?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // No XML prolog: the element is placed inside an HTML page.
    let start = image.find("<svg").unwrap_or(0);
    Ok(image[start..].replacen(
        "<svg ",
        r#"<svg role="img" aria-label="QR code for your authenticator app" "#,
        1,
    ))
}
