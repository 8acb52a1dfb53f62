//! Passkeys: WebAuthn credentials through webauthn-rs (NFR-SEC-003, CON-SEC-005; SPEC §3).
//!
//! Three ceremonies use them: registering one from the account page, signing in with one
//! alone (passwordless: the authenticator offers a discoverable credential and names the
//! account), and proving one as the second factor of a password sign-in.
//!
//! Every ceremony takes two requests. `start_*` asks webauthn-rs for the options the
//! browser hands to `navigator.credentials`, and parks webauthn-rs's state in
//! `webauthn_challenges` for five minutes; `finish_*` takes that state back (single use,
//! whatever the outcome) and lets webauthn-rs verify the browser's answer: origin,
//! relying-party id, challenge, signature, user verification and the signature counter.
//! A stored passkey is webauthn-rs's serialised `Passkey` (public key, counter, backup
//! flags): nothing in it is secret. Its user handle is the user's id, which is how a
//! passwordless sign-in learns the account; the credential must still belong to it.
//!
//! Every registration, removal and rename is audited with the change; every failed
//! sign-in ceremony is audited as a failure. Starting a ceremony is not audited: it
//! changes nothing but a five-minute row, and anyone may start a passwordless one.

use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::error::unique_violation;
use crate::types::{Role, TenantStatus, UserStatus};
use crate::users::SignInRefusal;
use crate::DomainError;
use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, Url, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

pub use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Webauthn,
};

/// How long a started ceremony can be finished.
pub const CEREMONY_LIFETIME: Duration = Duration::minutes(5);
/// The name a passkey gets when its owner gives none.
pub const DEFAULT_PASSKEY_NAME: &str = "Passkey";
/// The longest passkey name (the column's check).
pub const MAX_PASSKEY_NAME_CHARS: usize = 100;

/// Said for every failed passkey sign-in: which check failed is audited, not told.
const NOT_VERIFIED: &str =
    "the passkey could not be verified; try again or use another way to sign in";
const EXPIRED: &str = "this passkey request has expired or was already used; please try again";

/// What a person calls one of their passkeys: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(DomainError::validation("name", "give the passkey a name"));
        }
        if name.chars().count() > MAX_PASSKEY_NAME_CHARS {
            return Err(DomainError::validation(
                "name",
                format!("a passkey name has at most {MAX_PASSKEY_NAME_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::validation(
                "name",
                "a passkey name cannot contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// A blank or missing name becomes [`DEFAULT_PASSKEY_NAME`].
    pub fn parse_or_default(raw: Option<&str>) -> Result<Self, DomainError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(Self::default()),
            Some(name) => Self::parse(name),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for PasskeyName {
    fn default() -> Self {
        Self(DEFAULT_PASSKEY_NAME.to_owned())
    }
}

impl AsRef<str> for PasskeyName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A started ceremony: the options for `navigator.credentials.create`/`get` (serialised,
/// they are `{"publicKey": {...}}` with binary fields as base64url), and the id the
/// browser sends back with its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Ceremony<T> {
    pub challenge_id: Uuid,
    pub options: T,
}

/// One registered passkey, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PasskeySummary {
    pub id: Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// The relying party for the URL people reach Gatehouse at: its host is the RP id (e.g.
/// `localhost`, `login.example.com`) and its origin the only origin accepted. Browsers
/// offer WebAuthn only to a host name (not an IP address) in a secure context (HTTPS, or
/// `http://localhost`).
pub fn webauthn_for(public_url: &str) -> Result<Webauthn, DomainError> {
    let unavailable = |why: &str| {
        DomainError::Unavailable(format!(
            "passkeys are not available: {why} (GATEHOUSE_PUBLIC_URL is {public_url})"
        ))
    };
    let url = Url::parse(public_url.trim())
        .map_err(|_| unavailable("the public URL is not a valid URL"))?;
    // The origin alone: a public URL with a path still has the same origin.
    let origin = Url::parse(&url.origin().ascii_serialization())
        .map_err(|_| unavailable("the public URL has no origin"))?;
    let rp_id = origin
        .domain()
        .ok_or_else(|| unavailable("the public URL must name a host, not an IP address"))?;
    WebauthnBuilder::new(rp_id, &origin)
        .and_then(|builder| builder.rp_name("Gatehouse").build())
        .map_err(|_| unavailable("the public URL cannot be a WebAuthn relying party"))
}

// --- registration -------------------------------------------------------------------------

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

// --- passwordless sign-in -----------------------------------------------------------------

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
struct SigningPasskey {
    id: Uuid,
    user_id: Uuid,
    passkey: serde_json::Value,
    tenant_id: Option<Uuid>,
    role: String,
    user_status: String,
    tenant_status: Option<String>,
    sso_enforced: bool,
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
fn refusal(found: &SigningPasskey) -> Result<Option<SignInRefusal>, DomainError> {
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
async fn login_failure(
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

// --- second factor ------------------------------------------------------------------------

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

async fn second_factor_failure(
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
fn assertion_failure_reason(err: &webauthn_rs::prelude::WebauthnError) -> &'static str {
    match err {
        webauthn_rs::prelude::WebauthnError::CredentialPossibleCompromise => {
            "counter_not_increased"
        }
        _ => "invalid_assertion",
    }
}

// --- managing one's passkeys --------------------------------------------------------------

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

// --- ceremony state -----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
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
async fn store_challenge(
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
async fn take_challenge<T: DeserializeOwned>(
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

fn parse_stored<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, DomainError> {
    Ok(serde_json::from_value(value).context("reading stored WebAuthn data")?)
}

/// Stores a passkey's new counter and backup state after a successful assertion.
async fn record_use(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkey_names_are_trimmed_bounded_and_default() {
        assert_eq!(PasskeyName::parse("  Laptop ").unwrap().as_str(), "Laptop");
        assert_eq!(
            PasskeyName::parse_or_default(Some("   ")).unwrap().as_str(),
            DEFAULT_PASSKEY_NAME
        );
        assert_eq!(
            PasskeyName::parse_or_default(None).unwrap(),
            PasskeyName::default()
        );
        assert!(PasskeyName::parse("").is_err());
        assert!(PasskeyName::parse(&"é".repeat(100)).is_ok());
        assert!(PasskeyName::parse(&"é".repeat(101)).is_err());
        assert!(PasskeyName::parse("tab\there").is_err());
    }

    #[test]
    fn the_relying_party_is_the_public_host() {
        assert!(webauthn_for("http://localhost:3000").is_ok());
        assert!(webauthn_for("https://login.example.com/").is_ok());
        assert!(webauthn_for("https://login.example.com/gatehouse").is_ok());
        for bad in ["http://127.0.0.1:3000", "not a url", ""] {
            assert!(
                matches!(webauthn_for(bad), Err(DomainError::Unavailable(_))),
                "{bad:?}"
            );
        }
    }
}
