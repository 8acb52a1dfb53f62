//! The second step of a sign-in: a TOTP code or a recovery code, with the replay refusal and
//! the lock after repeated failures.

use super::*;

/// Which second factor a sign-in was completed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecondFactor {
    Totp,
    RecoveryCode { remaining: i64 },
}

/// Checks the second factor of `user_id`'s pending sign-in: six digits are an
/// authenticator-app code (any of the person's confirmed apps), anything else a recovery
/// code (used up here, `auth.mfa.recovery_code.used`). The caller then completes the
/// sign-in (`login::complete_mfa_sign_in` with "otp" or "rec").
///
/// Attempts for one account run one at a time (they lock its throttle row). A wrong code
/// is `auth.mfa.challenge.failure` and answers ERR_UNAUTHENTICATED; the fifth within 15
/// minutes locks the second factor for 15 minutes (`auth.lockout`, ERR_LOCKED), during
/// which even a right code is refused.
#[tracing::instrument(skip(pool, ctx, keys, code))]
pub async fn verify_second_factor(
    pool: &PgPool,
    ctx: &RequestContext,
    keys: &MasterKeys,
    user_id: Uuid,
    code: &str,
) -> Result<SecondFactor, DomainError> {
    if code.trim().is_empty() {
        return Err(DomainError::validation(
            "code",
            "enter the code from your authenticator app or one of your recovery codes",
        ));
    }
    let tenant_id: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    let tenant_id = tenant_id.ok_or_else(|| DomainError::Unauthenticated(WRONG_CODE.into()))?;
    let throttle_key = format!("mfa:{user_id}");
    let totp_code = normalize_totp_code(code);
    let method = if totp_code.is_some() {
        "totp"
    } else {
        "recovery_code"
    };
    let failure = |reason: &'static str| Failure {
        tenant_id,
        user_id,
        throttle_key: &throttle_key,
        method,
        reason,
    };

    let mut tx = pool.begin().await?;
    // Creates or locks the account's throttle row: attempts are serialised from here on.
    let locked_for: Option<f64> = sqlx::query_scalar(
        "INSERT INTO auth_throttle AS t (scope, key, failures, window_start) VALUES ('account', $1, 0, now())
         ON CONFLICT (scope, key) DO UPDATE SET failures = t.failures
         RETURNING extract(epoch FROM t.locked_until - now())::float8",
    )
    .bind(&throttle_key)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(left) = locked_for.filter(|left| *left > 0.0) {
        let retry_after_secs = left.ceil() as u64;
        record_failure(&mut tx, ctx, failure("locked"), false).await?;
        tx.commit().await?;
        return Err(locked(retry_after_secs));
    }

    let outcome = match totp_code {
        Some(code) => verify_totp(&mut tx, keys, user_id, &code).await?,
        None => verify_recovery_code(&mut tx, user_id, code).await?,
    };
    match outcome {
        Ok(factor) => {
            sqlx::query("DELETE FROM auth_throttle WHERE scope = 'account' AND key = $1")
                .bind(&throttle_key)
                .execute(&mut *tx)
                .await?;
            if let SecondFactor::RecoveryCode { remaining } = factor {
                append_audit_entry(
                    &mut tx,
                    ctx,
                    AuditEntry::new("auth.mfa.recovery_code.used")
                        .tenant(tenant_id)
                        .actor(ActorType::User, Some(user_id))
                        .resource(format!("user:{user_id}"))
                        .meta("remaining", remaining),
                )
                .await?;
            }
            tx.commit().await?;
            Ok(factor)
        }
        Err(reason) => {
            let now_locked = record_failure(&mut tx, ctx, failure(reason), true).await?;
            tx.commit().await?;
            if now_locked {
                Err(locked(MFA_LOCK_SECS as u64))
            } else {
                Err(DomainError::Unauthenticated(WRONG_CODE.into()))
            }
        }
    }
}

pub(super) fn locked(retry_after_secs: u64) -> DomainError {
    DomainError::Locked {
        message: format!(
            "too many wrong codes; try again in {} minutes",
            retry_after_secs.div_ceil(60)
        ),
        retry_after_secs,
    }
}

/// Checks a six-digit code against the person's confirmed apps and claims its time step.
/// The inner `Err` is the audited reason of a refusal.
pub(super) async fn verify_totp(
    conn: &mut PgConnection,
    keys: &MasterKeys,
    user_id: Uuid,
    code: &str,
) -> Result<Result<SecondFactor, &'static str>, DomainError> {
    let devices: Vec<(Uuid, Vec<u8>, Option<i64>)> = sqlx::query_as(
        "SELECT id, secret_ciphertext, last_used_step FROM mfa_totp
         WHERE user_id = $1 AND confirmed_at IS NOT NULL ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    if devices.is_empty() {
        return Ok(Err("no_authenticator_app"));
    }
    let now = current_step().ok_or_else(|| anyhow::anyhow!("the system clock is before 1970"))?;
    let mut reason = "wrong_code";
    for (id, ciphertext, last_used) in devices {
        let totp = decrypt_totp(keys, id, &ciphertext)?;
        let last_used = last_used.and_then(|s| u64::try_from(s).ok());
        let Some(step) = matching_step(&totp, code, now, last_used) else {
            if matching_step(&totp, code, now, None).is_some() {
                reason = "code_reused";
            }
            continue;
        };
        // The claim: only one request can move the step past this one.
        let claimed = sqlx::query(
            "UPDATE mfa_totp SET last_used_step = $2
             WHERE id = $1 AND (last_used_step IS NULL OR last_used_step < $2)",
        )
        .bind(id)
        .bind(step_i64(step)?)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if claimed == 1 {
            return Ok(Ok(SecondFactor::Totp));
        }
        reason = "code_reused";
    }
    Ok(Err(reason))
}

/// Uses up a recovery code. The inner `Err` is the audited reason of a refusal.
pub(super) async fn verify_recovery_code(
    conn: &mut PgConnection,
    user_id: Uuid,
    code: &str,
) -> Result<Result<SecondFactor, &'static str>, DomainError> {
    let normalized = normalize_recovery_code(code);
    if normalized.chars().count() != RECOVERY_CODE_CHARS {
        return Ok(Err("malformed_code"));
    }
    let hash = recovery_code_hash(user_id, &normalized);
    // Single use even under concurrency: the row is claimed by this conditional update.
    let used = sqlx::query(
        "UPDATE recovery_codes SET used_at = now()
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(&hash)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if used == 1 {
        let remaining = recovery_codes_left(&mut *conn, user_id).await?;
        return Ok(Ok(SecondFactor::RecoveryCode { remaining }));
    }
    let spent: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM recovery_codes WHERE user_id = $1 AND code_hash = $2)",
    )
    .bind(user_id)
    .bind(&hash)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Err(if spent {
        "recovery_code_used"
    } else {
        "wrong_recovery_code"
    }))
}

pub(super) struct Failure<'a> {
    pub(super) tenant_id: Option<Uuid>,
    pub(super) user_id: Uuid,
    pub(super) throttle_key: &'a str,
    pub(super) method: &'static str,
    pub(super) reason: &'static str,
}

/// Audits a refused second factor and, when it counts, adds it to the account's throttle,
/// locking it at the limit (`auth.lockout`). Returns whether it locked now.
pub(super) async fn record_failure(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    failure: Failure<'_>,
    counts: bool,
) -> Result<bool, DomainError> {
    append_audit_entry(
        conn,
        ctx,
        AuditEntry::new("auth.mfa.challenge.failure")
            .failure()
            .tenant(failure.tenant_id)
            .actor(ActorType::User, Some(failure.user_id))
            .resource(format!("user:{}", failure.user_id))
            .meta("reason", failure.reason)
            .meta("method", failure.method),
    )
    .await?;
    if !counts {
        return Ok(false);
    }
    let locked: bool = sqlx::query_scalar(
        "UPDATE auth_throttle AS t SET
             failures = CASE WHEN t.window_start > now() - make_interval(secs => $3) THEN t.failures + 1 ELSE 1 END,
             window_start = CASE WHEN t.window_start > now() - make_interval(secs => $3) THEN t.window_start ELSE now() END
         WHERE scope = 'account' AND key = $1
         RETURNING failures >= $2",
    )
    .bind(failure.throttle_key)
    .bind(MFA_LOCK_AFTER)
    .bind(MFA_WINDOW_SECS as f64)
    .fetch_one(&mut *conn)
    .await?;
    if locked {
        sqlx::query(
            "UPDATE auth_throttle SET locked_until = now() + make_interval(secs => $2), failures = 0, window_start = now()
             WHERE scope = 'account' AND key = $1",
        )
        .bind(failure.throttle_key)
        .bind(MFA_LOCK_SECS as f64)
        .execute(&mut *conn)
        .await?;
        append_audit_entry(
            conn,
            ctx,
            AuditEntry::new("auth.lockout")
                .failure()
                .tenant(failure.tenant_id)
                .actor(ActorType::User, Some(failure.user_id))
                .resource(format!("account:{}", failure.throttle_key))
                .meta("scope", "account")
                .meta("factor", "second")
                .meta("lock_secs", MFA_LOCK_SECS),
        )
        .await?;
    }
    Ok(locked)
}
