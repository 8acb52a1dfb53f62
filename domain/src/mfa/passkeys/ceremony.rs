//! The state of a WebAuthn ceremony between its start and finish, kept server-side and
//! single-use.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Registration,
    Login,
    SecondFactor,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Registration => "registration",
            Kind::Login => "login",
            Kind::SecondFactor => "second_factor",
        }
    }
}

/// Parks a ceremony's state for [`CEREMONY_LIFETIME`] under a random id, purging the
/// expired ones (nothing else ever reads them).
pub(super) async fn store_challenge(
    pool: &PgPool,
    kind: Kind,
    user_id: Option<Uuid>,
    state: &impl Serialize,
) -> Result<Uuid, DomainError> {
    let state = serde_json::to_value(state).context("serialising the WebAuthn state")?;
    sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at <= now()")
        .execute(pool)
        .await?;
    // Random (v4), not time-ordered: the id is the browser's handle on the ceremony.
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO webauthn_challenges (id, user_id, kind, state, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
    )
    .bind(id)
    .bind(user_id)
    .bind(kind.as_str())
    .bind(state)
    .bind(CEREMONY_LIFETIME.whole_seconds() as f64)
    .execute(pool)
    .await?;
    Ok(id)
}

/// Takes a ceremony's state back: deleted at once, so it is used at most once whatever
/// the outcome. Only the same kind of ceremony for the same user finds it (someone else's
/// id is neither used nor spent). `None` when unknown, spent or expired.
pub(super) async fn take_challenge<T: DeserializeOwned>(
    pool: &PgPool,
    id: Uuid,
    kind: Kind,
    user_id: Option<Uuid>,
) -> Result<Option<T>, DomainError> {
    let taken: Option<(serde_json::Value, bool)> = sqlx::query_as(
        "DELETE FROM webauthn_challenges
         WHERE id = $1 AND kind = $2 AND user_id IS NOT DISTINCT FROM $3
         RETURNING state, expires_at > now()",
    )
    .bind(id)
    .bind(kind.as_str())
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    match taken {
        Some((state, true)) => Ok(Some(parse_stored(state)?)),
        _ => Ok(None),
    }
}

pub(super) fn parse_stored<T: DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, DomainError> {
    Ok(serde_json::from_value(value).context("reading stored WebAuthn data")?)
}

/// Stores a passkey's new counter and backup state after a successful assertion.
pub(super) async fn record_use(
    conn: &mut sqlx::PgConnection,
    passkey_id: Uuid,
    passkey: &Passkey,
) -> Result<(), DomainError> {
    let stored = serde_json::to_value(passkey).context("serialising the passkey")?;
    sqlx::query("UPDATE webauthn_credentials SET passkey = $2, last_used_at = now() WHERE id = $1")
        .bind(passkey_id)
        .bind(stored)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
