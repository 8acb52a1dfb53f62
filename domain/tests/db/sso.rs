//! Tenant single sign-on (FR-AUTH-001, FR-AUTH-003, FR-TENANT-004, UC-TENANT-SSO; SPEC §3):
//! email domains and their proof, the connection wizard (sealed client secret, test before
//! activation, audited changes), the group → role mapping, the "require SSO" switch and its
//! break-glass owners, who verified claims are (keyed by `iss` + `sub`, never by email), and
//! how password sign-in and password reset behave once a tenant signs in through its provider.
//!
//! Discovery needs the network, which these tests do not use: connections start as a row
//! holding hand-built discovery data, and everything after goes through the public operations.

use super::mfa::{audit_entries, keys, set_policy};
use super::*;
use gatehouse_domain::login::{
    begin_sign_in, request_password_reset, verify_password_login, LoginOutcome, NextStep,
    PasswordLogin, SignInSignals,
};
use gatehouse_domain::sessions::authenticate_session;
use gatehouse_domain::sso::{
    claim_domain, connection_by_id, get_connection, list_domains, operator_verify_domain,
    resolve_account, route_email, set_client, set_connection_active, set_sso_enforced,
    update_sso_settings, verify_domain, AccountRefusal, Connection, ConnectionStatus, Discovered,
    DnsSettings, DomainState, HttpPolicy, IdClaims, Resolved, SsoContext, SsoRoute,
    SsoSettingsChange,
};
use gatehouse_domain::users::SignInRefusal;
use serde_json::json;
use std::collections::BTreeMap;

const ISSUER: &str = "https://idp.example";
const GOOD: &str = "Orchard-lantern-4417";
const CLIENT_SECRET: &str = "idp-client-secret-Zq81-never-shown";
const ACCOUNT_URL: &str = "http://localhost/account";

fn ctx() -> RequestContext {
    RequestContext {
        request_id: Some("req-sso".into()),
        ip: Some("198.51.100.20".parse().unwrap()),
        user_agent: Some("test".into()),
    }
}

/// What discovery would have kept for [`ISSUER`]: the metadata and a one-key JWK set.
fn discovered() -> Discovered {
    let metadata = json!({
        "issuer": ISSUER,
        "authorization_endpoint": format!("{ISSUER}/authorize"),
        "token_endpoint": format!("{ISSUER}/token"),
        "jwks_uri": format!("{ISSUER}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"]
    });
    let jwks = json!({
        "keys": [{"kty": "RSA", "use": "sig", "kid": "k1", "alg": "RS256", "n": "0vx7agoebGcQSuuPiLJXZpt", "e": "AQAB"}]
    });
    Discovered {
        issuer: ISSUER.into(),
        authorization_endpoint: format!("{ISSUER}/authorize"),
        token_endpoint: format!("{ISSUER}/token"),
        jwks_uri: format!("{ISSUER}/jwks"),
        userinfo_endpoint: None,
        end_session_endpoint: None,
        scopes_supported: vec!["openid".into(), "email".into()],
        claims_supported: vec!["sub".into(), "email".into()],
        signing_algs: vec!["RS256".into()],
        iss_parameter_supported: false,
        key_count: 1,
        metadata,
        jwks,
    }
}

/// Step 1 of the wizard without the network: a draft connection holding [`discovered`].
async fn insert_connection(pool: &PgPool, tenant_id: Uuid) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO sso_connections (tenant_id, issuer, discovery) VALUES ($1, 'https://idp.example', $2)
         RETURNING id",
    )
    .bind(tenant_id)
    .bind(serde_json::to_value(discovered()).unwrap())
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Stands in for a successful test sign-in (the round trip needs a live provider).
async fn mark_tested(pool: &PgPool, tenant_id: Uuid) {
    sqlx::query("UPDATE sso_connections SET tested_at = now() WHERE tenant_id = $1")
        .bind(tenant_id)
        .execute(pool)
        .await
        .unwrap();
}

/// A connection through the whole wizard: discovered, client set, tested, active.
async fn active_connection(pool: &PgPool, owner: &Actor, tenant_id: Uuid) -> Connection {
    insert_connection(pool, tenant_id).await;
    let keys = keys();
    let client = Some(secret(CLIENT_SECRET));
    set_client(pool, &ctx(), owner, &keys, tenant_id, "gatehouse", client)
        .await
        .unwrap();
    mark_tested(pool, tenant_id).await;
    set_connection_active(pool, &ctx(), owner, tenant_id, true)
        .await
        .unwrap()
        .value
}

async fn owner_of(pool: &PgPool, tenant_id: Uuid, email: &str) -> Actor {
    actor_of(&member(pool, Some(tenant_id), email, Role::Owner).await)
}

async fn operator(pool: &PgPool) -> Actor {
    actor_of(&member(pool, None, "op@gatehouse.test", Role::Operator).await)
}

/// An active person of `tenant_id` with the password [`GOOD`].
async fn with_password(pool: &PgPool, tenant_id: Uuid, email: &str, role: Role) -> User {
    let mut new = new_user(Some(tenant_id), email, role);
    new.password = Some(secret(GOOD));
    user(pool, None, new).await.unwrap()
}

/// An authenticator app of `user_id`, confirmed or still being enrolled.
async fn totp(pool: &PgPool, user_id: Uuid, confirmed: bool) {
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, secret_ciphertext, confirmed_at)
         VALUES ($1, $2, CASE WHEN $3 THEN now() END)",
    )
    .bind(user_id)
    .bind(vec![0u8; 32])
    .bind(confirmed)
    .execute(pool)
    .await
    .unwrap();
}

/// Claimed by the tenant's owner and vouched for by an operator.
async fn vouched(pool: &PgPool, owner: &Actor, op: &Actor, tenant_id: Uuid, domain: &str) {
    claim_domain(pool, &ctx(), owner, tenant_id, domain)
        .await
        .unwrap();
    operator_verify_domain(pool, &ctx(), op, tenant_id, domain)
        .await
        .unwrap();
}

/// "Require SSO" on, the way an owner turns it on: an active connection, and `owner` able
/// to break glass (a password, which `owner` must have, and a confirmed second factor).
async fn enforce(pool: &PgPool, owner: &User, tenant_id: Uuid) {
    let actor = actor_of(owner);
    active_connection(pool, &actor, tenant_id).await;
    totp(pool, owner.id, true).await;
    set_sso_enforced(pool, &ctx(), &actor, tenant_id, true)
        .await
        .unwrap();
}

/// A resolver that asks a DNS server that is not there (the discard port).
fn offline_sso() -> SsoContext {
    let dns = DnsSettings {
        server: Some("127.0.0.1:9".parse().unwrap()),
    };
    SsoContext::new(HttpPolicy::default(), dns).unwrap()
}

fn mapping(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(group, role)| (group.to_string(), role.to_string()))
        .collect()
}

/// Verified ID token claims from [`ISSUER`] with a verified address.
fn claims(subject: &str, email: &str, groups: &[&str]) -> IdClaims {
    IdClaims {
        issuer: ISSUER.into(),
        subject: subject.into(),
        email: Some(email.into()),
        email_verified: true,
        name: None,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        amr: vec!["pwd".into()],
        raw: json!({"iss": ISSUER, "sub": subject, "email": email, "groups": groups}),
    }
}

/// `resolve_account` in a transaction of its own, kept only when it opened an account (as
/// the SSO sign-in does).
async fn resolve(
    pool: &PgPool,
    connection: &Connection,
    claims: &IdClaims,
) -> Result<Resolved, AccountRefusal> {
    let mut tx = pool.begin().await.unwrap();
    let outcome = resolve_account(&mut tx, &ctx(), connection, claims)
        .await
        .unwrap();
    if outcome.is_ok() {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
    outcome
}

/// A tenant "acme" with an owner (owner@acme.com), the verified domain acme.com and an
/// active connection mapping the group `admins` to admin and `staff` to user.
struct SsoTenant {
    acme: Tenant,
    owner: User,
    connection: Connection,
}

async fn sso_tenant(pool: &PgPool, jit: bool) -> SsoTenant {
    let acme = tenant(pool, "acme").await;
    let owner = member(pool, Some(acme.id), "owner@acme.com", Role::Owner).await;
    let actor = actor_of(&owner);
    let op = operator(pool).await;
    vouched(pool, &actor, &op, acme.id, "acme.com").await;
    active_connection(pool, &actor, acme.id).await;
    let change = SsoSettingsChange {
        jit_enabled: Some(jit),
        group_roles: Some(mapping(&[("admins", "admin"), ("staff", "user")])),
        ..Default::default()
    };
    let connection = update_sso_settings(pool, &ctx(), &actor, acme.id, change)
        .await
        .unwrap()
        .value;
    SsoTenant {
        acme,
        owner,
        connection,
    }
}

async fn identities_of(pool: &PgPool, user_id: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sso_identities WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn identities(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sso_identities")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn users_with(pool: &PgPool, email: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users WHERE lower(email) = lower($1)")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn role_of(pool: &PgPool, user_id: Uuid) -> String {
    sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn revoked_reason(pool: &PgPool, session_id: Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT revoked_reason FROM sessions WHERE id = $1")
        .bind(session_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn tenant_enforced(pool: &PgPool, tenant_id: Uuid) -> bool {
    sqlx::query_scalar("SELECT sso_enforced FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Audit entries whose metadata mentions `text` anywhere.
async fn audit_mentions(pool: &PgPool, text: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE strpos(metadata::text, $1) > 0")
        .bind(text)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn mails_to(pool: &PgPool, template: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT to_address FROM email_outbox WHERE template = $1 ORDER BY created_at, to_address",
    )
    .bind(template)
    .fetch_all(pool)
    .await
    .unwrap()
}

fn is_conflict_on(err: &DomainError, field: &str) -> bool {
    matches!(err, DomainError::Conflict { field: Some(f), .. } if f == field)
}

fn is_invalid(err: &DomainError, field: &str) -> bool {
    matches!(err, DomainError::Validation(errors) if errors.iter().any(|e| e.field == field))
}

// ---------------------------------------------------------------------------------------
// Domains (FR-AUTH-003, SPEC §3)
// ---------------------------------------------------------------------------------------

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn consumer_and_malformed_domains_cannot_be_claimed(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = owner_of(&pool, acme.id, "owner@acme.test").await;
    for bad in [
        "gmail.com",
        "GMail.com",
        "outlook.com",
        "not a domain",
        "localhost",
        "-acme.com",
    ] {
        let err = claim_domain(&pool, &ctx(), &owner, acme.id, bad)
            .await
            .unwrap_err();
        assert!(is_invalid(&err, "domain"), "{bad}: {err:?}");
    }
    assert!(list_domains(&pool, &owner, acme.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(audit_count(&pool, "sso.domain.claimed").await, 0);
    // A tenant's owner claims for the own tenant only; another's answers "not found".
    let globex = tenant(&pool, "globex").await;
    let elsewhere = claim_domain(&pool, &ctx(), &owner, globex.id, "globex.com")
        .await
        .unwrap_err();
    assert!(
        matches!(elsewhere, DomainError::NotFound(_)),
        "{elsewhere:?}"
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_domain_verified_by_one_tenant_cannot_be_claimed_or_vouched_for_another(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let a = owner_of(&pool, acme.id, "owner@acme.test").await;
    let g = owner_of(&pool, globex.id, "owner@globex.test").await;
    let op = operator(&pool).await;
    // Pending claims do not exclude each other; the first verification does.
    claim_domain(&pool, &ctx(), &g, globex.id, "acme.com")
        .await
        .unwrap();
    vouched(&pool, &a, &op, acme.id, "acme.com").await;

    let again = claim_domain(&pool, &ctx(), &g, globex.id, "ACME.com")
        .await
        .unwrap_err();
    assert!(is_conflict_on(&again, "domain"), "{again:?}");
    let vouch = operator_verify_domain(&pool, &ctx(), &op, globex.id, "acme.com")
        .await
        .unwrap_err();
    assert!(is_conflict_on(&vouch, "domain"), "{vouch:?}");

    // Globex's claim is still pending; nothing was recorded for the refusals.
    let theirs = list_domains(&pool, &g, globex.id).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].state, DomainState::Pending);
    assert!(theirs[0].verified_at.is_none());
    assert_eq!(audit_count(&pool, "sso.domain.verified").await, 1);
    assert_eq!(audit_count(&pool, "sso.domain.claimed").await, 2);
    let ours = list_domains(&pool, &a, acme.id).await.unwrap();
    assert_eq!(ours[0].state, DomainState::Verified);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_operator_vouches_for_a_domain_and_the_entry_is_written_with_it(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = owner_of(&pool, acme.id, "owner@acme.test").await;
    let op = operator(&pool).await;
    claim_domain(&pool, &ctx(), &owner, acme.id, "acme.com")
        .await
        .unwrap();

    // Only an operator vouches: the tenant's own owner cannot.
    let denied = operator_verify_domain(&pool, &ctx(), &owner, acme.id, "acme.com")
        .await
        .unwrap_err();
    assert!(
        matches!(denied, DomainError::PermissionDenied(_)),
        "{denied:?}"
    );
    let unclaimed = operator_verify_domain(&pool, &ctx(), &op, acme.id, "acme.org")
        .await
        .unwrap_err();
    assert!(
        matches!(unclaimed, DomainError::NotFound(_)),
        "{unclaimed:?}"
    );
    assert_eq!(audit_count(&pool, "sso.domain.verified").await, 0);
    let pending = list_domains(&pool, &owner, acme.id).await.unwrap();
    assert_eq!(pending[0].state, DomainState::Pending);

    let claim = operator_verify_domain(&pool, &ctx(), &op, acme.id, "acme.com")
        .await
        .unwrap()
        .value;
    assert_eq!(claim.state, DomainState::Verified);
    assert_eq!(claim.verified_method.as_deref(), Some("operator"));
    assert!(claim.verified_at.is_some());
    let entries = audit_entries(&pool, "sso.domain.verified").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["outcome"], "success");
    assert_eq!(entries[0]["metadata"]["method"], "operator");
    assert_eq!(entries[0]["resource"], "domain:acme.com");
    assert_eq!(entries[0]["actor_id"], op.user_id.to_string());
    assert_eq!(entries[0]["tenant_id"], acme.id.to_string());
    // The same transaction wrote both: the row's and the entry's xmin are one transaction id.
    let row_xid: String = sqlx::query_scalar(
        "SELECT xmin::text FROM tenant_email_domains WHERE tenant_id = $1 AND email_domain = 'acme.com'",
    )
    .bind(acme.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let entry_xid: String =
        sqlx::query_scalar("SELECT xmin::text FROM audit_log WHERE action = 'sso.domain.verified'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(row_xid, entry_xid);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_claim_expires_after_thirty_days_and_claiming_again_renews_its_token(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = owner_of(&pool, acme.id, "owner@acme.test").await;
    let first = claim_domain(&pool, &ctx(), &owner, acme.id, "acme.com")
        .await
        .unwrap()
        .value;
    assert_eq!(first.state, DomainState::Pending);
    assert_eq!(first.record_name, "_gatehouse-challenge.acme.com");
    assert!(first
        .record_value
        .starts_with("gatehouse-domain-verification="));
    // Claiming a live claim again keeps its record.
    let same = claim_domain(&pool, &ctx(), &owner, acme.id, "acme.com")
        .await
        .unwrap()
        .value;
    assert_eq!(same.record_value, first.record_value);

    sqlx::query(
        "UPDATE tenant_email_domains SET created_at = now() - interval '31 days'
         WHERE tenant_id = $1 AND email_domain = 'acme.com'",
    )
    .bind(acme.id)
    .execute(&pool)
    .await
    .unwrap();
    let listed = list_domains(&pool, &owner, acme.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, DomainState::Expired);
    // Refused before any lookup: no failed check is recorded.
    let err = verify_domain(&pool, &ctx(), &owner, &offline_sso(), acme.id, "acme.com")
        .await
        .unwrap_err();
    assert!(is_invalid(&err, "domain"), "{err:?}");
    assert_eq!(
        audit_count(&pool, "sso.domain.verification_failed").await,
        0
    );

    let renewed = claim_domain(&pool, &ctx(), &owner, acme.id, "acme.com")
        .await
        .unwrap()
        .value;
    assert_eq!(renewed.state, DomainState::Pending);
    assert_ne!(renewed.record_value, first.record_value, "a new token");
    assert!(renewed.created_at > time::OffsetDateTime::now_utc() - time::Duration::days(1));
    let listed = list_domains(&pool, &owner, acme.id).await.unwrap();
    assert_eq!(listed[0].state, DomainState::Pending);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_failed_dns_check_is_kept_on_the_claim_and_audited(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = owner_of(&pool, acme.id, "owner@acme.test").await;
    claim_domain(&pool, &ctx(), &owner, acme.id, "acme.com")
        .await
        .unwrap();
    // Nobody answers at 127.0.0.1:9: the lookup fails (this may take a few seconds).
    let claim = verify_domain(&pool, &ctx(), &owner, &offline_sso(), acme.id, "acme.com")
        .await
        .unwrap()
        .value;
    assert_eq!(claim.state, DomainState::Pending);
    assert!(claim.verified_at.is_none());
    assert!(claim.last_checked_at.is_some());
    let why = claim.last_check_error.clone().expect("the failure is kept");
    assert!(!why.is_empty());

    let failed = audit_entries(&pool, "sso.domain.verification_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["outcome"], "failure");
    assert_eq!(failed[0]["metadata"]["reason"], why);
    assert_eq!(failed[0]["actor_id"], owner.user_id.to_string());
    assert_eq!(audit_count(&pool, "sso.domain.verified").await, 0);
    let listed = list_domains(&pool, &owner, acme.id).await.unwrap();
    assert_eq!(listed[0].state, DomainState::Pending);
    assert_eq!(listed[0].last_check_error.as_deref(), Some(why.as_str()));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn only_a_verified_domain_of_an_active_tenant_and_connection_routes_sign_ins(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = owner_of(&pool, acme.id, "owner@acme.test").await;
    let op = operator(&pool).await;
    let connection = active_connection(&pool, &owner, acme.id).await;
    claim_domain(&pool, &ctx(), &owner, acme.id, "acme.com")
        .await
        .unwrap();
    let ada = Email::parse("ada@acme.com").unwrap();
    assert_eq!(
        route_email(&pool, &ada).await.unwrap(),
        None,
        "a pending domain routes nowhere"
    );

    operator_verify_domain(&pool, &ctx(), &op, acme.id, "acme.com")
        .await
        .unwrap();
    let expected = SsoRoute {
        connection_id: connection.id,
        tenant_id: acme.id,
        tenant_name: acme.name.clone(),
        tenant_domain: "acme".into(),
        enforced: false,
    };
    assert_eq!(
        route_email(&pool, &ada).await.unwrap(),
        Some(expected.clone())
    );
    let shouting = Email::parse("Ada@ACME.com").unwrap();
    assert_eq!(
        route_email(&pool, &shouting).await.unwrap(),
        Some(expected.clone())
    );
    let stranger = Email::parse("ada@acme.org").unwrap();
    assert_eq!(route_email(&pool, &stranger).await.unwrap(), None);

    // A verified domain without any connection routes nowhere either.
    let globex = tenant(&pool, "globex").await;
    let g = owner_of(&pool, globex.id, "owner@globex.test").await;
    vouched(&pool, &g, &op, globex.id, "globex.com").await;
    let sam = Email::parse("sam@globex.com").unwrap();
    assert_eq!(route_email(&pool, &sam).await.unwrap(), None);

    // An inactive connection routes nowhere; active again, it does.
    set_connection_active(&pool, &ctx(), &owner, acme.id, false)
        .await
        .unwrap();
    assert_eq!(route_email(&pool, &ada).await.unwrap(), None);
    set_connection_active(&pool, &ctx(), &owner, acme.id, true)
        .await
        .unwrap();
    assert_eq!(route_email(&pool, &ada).await.unwrap(), Some(expected));

    // A suspended tenant routes nowhere.
    mark_suspended(&pool, acme.id).await;
    assert_eq!(route_email(&pool, &ada).await.unwrap(), None);
}

// ---------------------------------------------------------------------------------------
// Connections (FR-AUTH-003, FR-TENANT-004, SPEC §3)
// ---------------------------------------------------------------------------------------

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_client_secret_is_sealed_to_its_tenant(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let owner = owner_of(&pool, acme.id, "owner@acme.test").await;
    let keys = keys();
    insert_connection(&pool, acme.id).await;
    let id = " gatehouse-acme ";
    let connection = set_client(
        &pool,
        &ctx(),
        &owner,
        &keys,
        acme.id,
        id,
        Some(secret(CLIENT_SECRET)),
    )
    .await
    .unwrap()
    .value;
    assert_eq!(connection.client_id.as_deref(), Some("gatehouse-acme"));
    assert!(connection.has_secret);
    assert_eq!(connection.status, ConnectionStatus::Draft);
    let shown = serde_json::to_string(&connection).unwrap();
    assert!(
        !shown.contains(CLIENT_SECRET),
        "the secret is never shown again"
    );

    let blob: Vec<u8> = sqlx::query_scalar(
        "SELECT client_secret_ciphertext FROM sso_connections WHERE tenant_id = $1",
    )
    .bind(acme.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let plain = CLIENT_SECRET.as_bytes();
    assert!(!blob.windows(plain.len()).any(|w| w == plain));
    let own = keys
        .decrypt(&blob, &format!("sso_client_secret:{}", acme.id))
        .unwrap();
    assert_eq!(own, plain);
    // The associated data names the tenant: copied to another tenant, it does not open.
    let other = keys.decrypt(&blob, &format!("sso_client_secret:{}", globex.id));
    assert!(other.is_err());

    // A client without any secret is refused, naming the field.
    insert_connection(&pool, globex.id).await;
    let g = owner_of(&pool, globex.id, "owner@globex.test").await;
    let none = set_client(
        &pool,
        &ctx(),
        &g,
        &keys,
        globex.id,
        "gatehouse-globex",
        None,
    )
    .await
    .unwrap_err();
    assert!(is_invalid(&none, "client_secret"), "{none:?}");

    // Only the tenant's owner configures it: an admin is denied, another tenant's owner
    // does not even see it.
    let admin = actor_of(&member(&pool, Some(acme.id), "admin@acme.test", Role::Admin).await);
    let denied = set_client(&pool, &ctx(), &admin, &keys, acme.id, "x", None)
        .await
        .unwrap_err();
    assert!(
        matches!(denied, DomainError::PermissionDenied(_)),
        "{denied:?}"
    );
    let hidden = set_client(&pool, &ctx(), &g, &keys, acme.id, "x", None)
        .await
        .unwrap_err();
    assert!(matches!(hidden, DomainError::NotFound(_)), "{hidden:?}");
    let still = get_connection(&pool, &owner, acme.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.client_id.as_deref(), Some("gatehouse-acme"));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_connection_is_tested_before_activation_and_a_new_client_sends_it_back_to_draft(
    pool: PgPool,
) {
    let acme = tenant(&pool, "acme").await;
    let owner = owner_of(&pool, acme.id, "owner@acme.test").await;
    let keys = keys();
    let connection_id = insert_connection(&pool, acme.id).await;
    let first_client = Some(secret(CLIENT_SECRET));
    set_client(
        &pool,
        &ctx(),
        &owner,
        &keys,
        acme.id,
        "gatehouse-acme",
        first_client,
    )
    .await
    .unwrap();

    let untested = set_connection_active(&pool, &ctx(), &owner, acme.id, true)
        .await
        .unwrap_err();
    assert!(is_conflict_on(&untested, "status"), "{untested:?}");
    let draft = connection_by_id(&pool, connection_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(draft.status, ConnectionStatus::Draft);

    mark_tested(&pool, acme.id).await;
    let active = set_connection_active(&pool, &ctx(), &owner, acme.id, true)
        .await
        .unwrap()
        .value;
    assert_eq!(active.status, ConnectionStatus::Active);
    assert!(active.tested_at.is_some());

    // Another client id (the stored secret kept): a draft again, to be tested again.
    let changed = set_client(
        &pool,
        &ctx(),
        &owner,
        &keys,
        acme.id,
        "gatehouse-acme-2",
        None,
    )
    .await
    .unwrap()
    .value;
    assert_eq!(changed.status, ConnectionStatus::Draft);
    assert!(changed.tested_at.is_none());
    assert!(changed.has_secret);
    let again = set_connection_active(&pool, &ctx(), &owner, acme.id, true)
        .await
        .unwrap_err();
    assert!(is_conflict_on(&again, "status"), "{again:?}");
    // A new secret alone is a change too.
    let rotated = Some(secret("rotated-idp-secret-Kp44-never-shown"));
    set_client(
        &pool,
        &ctx(),
        &owner,
        &keys,
        acme.id,
        "gatehouse-acme-2",
        rotated,
    )
    .await
    .unwrap();

    let updates = audit_entries(&pool, "sso.connection.updated").await;
    assert_eq!(updates.len(), 3);
    let first = &updates[0]["metadata"]["changes"];
    assert_eq!(
        first["client_id"],
        json!({"old": null, "new": "gatehouse-acme"})
    );
    assert_eq!(first["client_secret"], "replaced");
    let second = &updates[1]["metadata"]["changes"];
    assert_eq!(
        second["client_id"],
        json!({"old": "gatehouse-acme", "new": "gatehouse-acme-2"})
    );
    assert_eq!(second["status"], json!({"old": "active", "new": "draft"}));
    assert!(second.get("client_secret").is_none());
    let third = &updates[2]["metadata"]["changes"];
    assert_eq!(third["client_secret"], "replaced");
    assert!(third.get("client_id").is_none());
    let activated = audit_entries(&pool, "sso.connection.activated").await;
    assert_eq!(activated.len(), 1, "the refused activations left no entry");
    assert_eq!(
        activated[0]["metadata"]["changes"]["status"],
        json!({"old": "draft", "new": "active"})
    );
    // Old and new values, never the secret.
    assert_eq!(audit_mentions(&pool, CLIENT_SECRET).await, 0);
    assert_eq!(
        audit_mentions(&pool, "rotated-idp-secret-Kp44-never-shown").await,
        0
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn sso_settings_list_every_violation_and_never_map_to_owner(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = owner_of(&pool, acme.id, "owner@acme.test").await;
    insert_connection(&pool, acme.id).await;

    let bad = SsoSettingsChange {
        jit_enabled: Some(true),
        default_role: Some("owner".into()),
        groups_claim: Some("  ".into()),
        group_roles: Some(mapping(&[
            ("admins", "admin"),
            ("founders", "owner"),
            ("ops", "operator"),
        ])),
        trust_idp_mfa: Some(false),
    };
    let err = update_sso_settings(&pool, &ctx(), &owner, acme.id, bad)
        .await
        .unwrap_err();
    let fields: Vec<String> = match &err {
        DomainError::Validation(errors) => errors.iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    };
    assert_eq!(
        fields,
        [
            "default_role",
            "groups_claim",
            "group_roles.founders",
            "group_roles.ops"
        ]
    );
    // Nothing changed, nothing recorded.
    let kept = get_connection(&pool, &owner, acme.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!kept.jit_enabled);
    assert!(kept.trust_idp_mfa);
    assert_eq!(kept.mapping.default_role, Role::User);
    assert_eq!(kept.mapping.groups_claim, "groups");
    assert!(kept.mapping.group_roles.is_empty());
    assert_eq!(audit_count(&pool, "sso.connection.updated").await, 0);

    let good = SsoSettingsChange {
        default_role: Some("user".into()),
        groups_claim: Some("roles".into()),
        group_roles: Some(mapping(&[("admins", "admin"), ("staff", "user")])),
        ..Default::default()
    };
    let saved = update_sso_settings(&pool, &ctx(), &owner, acme.id, good)
        .await
        .unwrap()
        .value;
    assert_eq!(saved.mapping.groups_claim, "roles");
    assert_eq!(saved.mapping.group_roles.get("admins"), Some(&Role::Admin));
    // FR-TENANT-004: whatever the groups, a mapping gives admin or user, never owner.
    let cases: [&[&str]; 5] = [
        &[],
        &["admins"],
        &["staff"],
        &["staff", "admins"],
        &["founders", "owner"],
    ];
    for groups in cases {
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        assert_ne!(saved.mapping.role_for(&groups), Role::Owner, "{groups:?}");
    }
    let both = ["staff".to_string(), "admins".to_string()];
    assert_eq!(saved.mapping.role_for(&both), Role::Admin);
    assert_eq!(saved.mapping.role_for(&["owner".to_string()]), Role::User);
    let updated = audit_entries(&pool, "sso.connection.updated").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(
        updated[0]["metadata"]["changes"]["groups_claim"],
        json!({"old": "groups", "new": "roles"})
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn sso_is_required_only_with_an_active_connection_and_a_break_glass_owner(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = with_password(&pool, acme.id, "owner@acme.test", Role::Owner).await;
    let actor = actor_of(&owner);
    let keys = keys();
    insert_connection(&pool, acme.id).await;
    let client = Some(secret(CLIENT_SECRET));
    set_client(
        &pool,
        &ctx(),
        &actor,
        &keys,
        acme.id,
        "gatehouse-acme",
        client,
    )
    .await
    .unwrap();

    let draft = set_sso_enforced(&pool, &ctx(), &actor, acme.id, true)
        .await
        .unwrap_err();
    assert!(is_conflict_on(&draft, "enforced"), "{draft:?}");

    mark_tested(&pool, acme.id).await;
    set_connection_active(&pool, &ctx(), &actor, acme.id, true)
        .await
        .unwrap();
    // No owner with both a password and a confirmed factor: an owner with a factor but no
    // password does not count, nor does an app still being enrolled.
    let passwordless = member(&pool, Some(acme.id), "idp-owner@acme.test", Role::Owner).await;
    totp(&pool, passwordless.id, true).await;
    totp(&pool, owner.id, false).await;
    let no_glass = set_sso_enforced(&pool, &ctx(), &actor, acme.id, true)
        .await
        .unwrap_err();
    assert!(is_conflict_on(&no_glass, "enforced"), "{no_glass:?}");
    assert!(!tenant_enforced(&pool, acme.id).await);
    assert_eq!(audit_count(&pool, "sso.enforcement.changed").await, 0);

    totp(&pool, owner.id, true).await;
    let on = set_sso_enforced(&pool, &ctx(), &actor, acme.id, true)
        .await
        .unwrap()
        .value;
    assert!(on.enforced);
    assert!(tenant_enforced(&pool, acme.id).await);
    let changed = audit_entries(&pool, "sso.enforcement.changed").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(
        changed[0]["metadata"]["changes"]["sso_enforced"],
        json!({"old": false, "new": true})
    );
    // Asking again changes nothing and records nothing.
    set_sso_enforced(&pool, &ctx(), &actor, acme.id, true)
        .await
        .unwrap();
    assert_eq!(audit_count(&pool, "sso.enforcement.changed").await, 1);

    // Deactivating the connection switches the requirement off with it.
    let off = set_connection_active(&pool, &ctx(), &actor, acme.id, false)
        .await
        .unwrap()
        .value;
    assert_eq!(off.status, ConnectionStatus::Inactive);
    assert!(!off.enforced);
    assert!(!tenant_enforced(&pool, acme.id).await);
    let deactivated = audit_entries(&pool, "sso.connection.deactivated").await;
    assert_eq!(
        deactivated[0]["metadata"]["changes"]["sso_enforced"],
        json!({"old": true, "new": false})
    );
    let inactive = set_sso_enforced(&pool, &ctx(), &actor, acme.id, true)
        .await
        .unwrap_err();
    assert!(is_conflict_on(&inactive, "enforced"), "{inactive:?}");
}

// ---------------------------------------------------------------------------------------
// Accounts (FR-AUTH-003, FR-TENANT-004, SPEC §3)
// ---------------------------------------------------------------------------------------

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_first_sign_in_links_the_one_matching_account(pool: PgPool) {
    let s = sso_tenant(&pool, true).await;
    let ada = member(&pool, Some(s.acme.id), "ada@acme.com", Role::User).await;

    let first = resolve(
        &pool,
        &s.connection,
        &claims("sub-ada", "Ada@ACME.com", &[]),
    )
    .await;
    assert_eq!(
        first,
        Ok(Resolved {
            user_id: ada.id,
            role: Role::User,
            created: false,
            linked: true,
            role_change: None,
        })
    );
    assert_eq!(identities_of(&pool, ada.id).await, 1);
    assert_eq!(
        users_with(&pool, "ada@acme.com").await,
        1,
        "linked, not created (even with just-in-time creation on)"
    );
    let linked = audit_entries(&pool, "sso.identity.linked").await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0]["metadata"]["subject"], "sub-ada");
    assert_eq!(linked[0]["resource"], format!("user:{}", ada.id));

    // The next sign-in finds the identity: no second link.
    let next = resolve(
        &pool,
        &s.connection,
        &claims("sub-ada", "ada@acme.com", &[]),
    )
    .await
    .unwrap();
    assert_eq!(
        (next.user_id, next.linked, next.created),
        (ada.id, false, false)
    );
    assert_eq!(audit_count(&pool, "sso.identity.linked").await, 1);

    // Another identity with the same address does not take the account over.
    let impostor = resolve(
        &pool,
        &s.connection,
        &claims("sub-other", "ada@acme.com", &[]),
    )
    .await;
    assert_eq!(impostor, Err(AccountRefusal::LinkedElsewhere));
    assert_eq!(identities(&pool).await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn unverified_claims_are_refused_and_unknown_people_are_created_only_with_jit(pool: PgPool) {
    let s = sso_tenant(&pool, false).await;
    let owner = actor_of(&s.owner);
    member(&pool, Some(s.acme.id), "ada@acme.com", Role::User).await;

    let mut unverified = claims("sub-ada", "ada@acme.com", &[]);
    unverified.email_verified = false;
    assert_eq!(
        resolve(&pool, &s.connection, &unverified).await,
        Err(AccountRefusal::EmailUnverified)
    );
    let mut anonymous = claims("sub-anon", "x@acme.com", &[]);
    anonymous.email = None;
    assert_eq!(
        resolve(&pool, &s.connection, &anonymous).await,
        Err(AccountRefusal::NoEmail)
    );
    // A domain the tenant claimed but has not proven.
    claim_domain(&pool, &ctx(), &owner, s.acme.id, "acme-labs.com")
        .await
        .unwrap();
    member(&pool, Some(s.acme.id), "grace@acme-labs.com", Role::User).await;
    let labs = claims("sub-grace", "grace@acme-labs.com", &[]);
    assert_eq!(
        resolve(&pool, &s.connection, &labs).await,
        Err(AccountRefusal::DomainUnverified)
    );
    let newcomer = claims("sub-new", "new@acme.com", &["admins"]);
    assert_eq!(
        resolve(&pool, &s.connection, &newcomer).await,
        Err(AccountRefusal::UnknownUser)
    );
    assert_eq!(users_with(&pool, "new@acme.com").await, 0);
    assert_eq!(identities(&pool).await, 0, "refusals write nothing");

    let jit = SsoSettingsChange {
        jit_enabled: Some(true),
        ..Default::default()
    };
    let connection = update_sso_settings(&pool, &ctx(), &owner, s.acme.id, jit)
        .await
        .unwrap()
        .value;
    let made = resolve(&pool, &connection, &newcomer).await.unwrap();
    assert!(made.created && !made.linked);
    assert_eq!(made.role, Role::Admin, "admins maps to admin");
    assert_eq!(made.role_change, None);
    let (role, status, verified, password): (String, String, bool, bool) = sqlx::query_as(
        "SELECT role, status, email_verified_at IS NOT NULL, password_hash IS NOT NULL
         FROM users WHERE id = $1",
    )
    .bind(made.user_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((role.as_str(), status.as_str()), ("admin", "active"));
    assert!(verified, "the provider verified the address");
    assert!(!password, "an SSO-only person has no password");
    assert_eq!(identities_of(&pool, made.user_id).await, 1);
    let created = audit_entries(&pool, "user.create").await;
    let jit_entry = created.last().unwrap();
    assert_eq!(jit_entry["metadata"]["source"], "sso_jit");
    assert_eq!(jit_entry["metadata"]["role"], "admin");
    assert_eq!(jit_entry["resource"], format!("user:{}", made.user_id));

    // Without a mapped group: the default role. Still nobody at an unproven domain.
    let plain = resolve(
        &pool,
        &connection,
        &claims("sub-plain", "plain@acme.com", &["x"]),
    )
    .await
    .unwrap();
    assert_eq!((plain.role, plain.created), (Role::User, true));
    let eve = claims("sub-eve", "eve@acme-labs.com", &[]);
    assert_eq!(
        resolve(&pool, &connection, &eve).await,
        Err(AccountRefusal::DomainUnverified)
    );
    assert_eq!(users_with(&pool, "eve@acme-labs.com").await, 0);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn disabled_and_invited_accounts_are_refused(pool: PgPool) {
    // Just-in-time creation on: a refused account is not replaced by a new one.
    let s = sso_tenant(&pool, true).await;
    let mut off = new_user(Some(s.acme.id), "off@acme.com", Role::User);
    off.status = UserStatus::Disabled;
    user(&pool, None, off).await.unwrap();
    let mut invited = new_user(Some(s.acme.id), "invited@acme.com", Role::User);
    invited.status = UserStatus::Invited;
    user(&pool, None, invited).await.unwrap();

    assert_eq!(
        resolve(
            &pool,
            &s.connection,
            &claims("sub-off", "off@acme.com", &[])
        )
        .await,
        Err(AccountRefusal::Status(SignInRefusal::UserDisabled))
    );
    assert_eq!(
        resolve(
            &pool,
            &s.connection,
            &claims("sub-inv", "invited@acme.com", &[])
        )
        .await,
        Err(AccountRefusal::Status(SignInRefusal::InvitationPending))
    );
    assert_eq!(users_with(&pool, "off@acme.com").await, 1);
    assert_eq!(users_with(&pool, "invited@acme.com").await, 1);
    assert_eq!(identities(&pool).await, 0);

    // Linked people are checked at every sign-in: disabled later, refused later.
    let ada = member(&pool, Some(s.acme.id), "ada@acme.com", Role::User).await;
    let bob = member(&pool, Some(s.acme.id), "bob@acme.com", Role::User).await;
    let ada_claims = claims("sub-ada", "ada@acme.com", &[]);
    let bob_claims = claims("sub-bob", "bob@acme.com", &[]);
    assert!(resolve(&pool, &s.connection, &ada_claims).await.is_ok());
    assert!(resolve(&pool, &s.connection, &bob_claims).await.is_ok());
    set_user_status(&pool, ada.id, "disabled").await;
    assert_eq!(
        resolve(&pool, &s.connection, &ada_claims).await,
        Err(AccountRefusal::Status(SignInRefusal::UserDisabled))
    );
    mark_suspended(&pool, s.acme.id).await;
    assert_eq!(
        resolve(&pool, &s.connection, &bob_claims).await,
        Err(AccountRefusal::Status(SignInRefusal::TenantSuspended))
    );
    assert_eq!(identities_of(&pool, bob.id).await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn people_are_keyed_by_subject_never_by_email(pool: PgPool) {
    let s = sso_tenant(&pool, false).await;
    let ada = member(&pool, Some(s.acme.id), "ada@acme.com", Role::User).await;
    let bob = member(&pool, Some(s.acme.id), "bob@acme.com", Role::User).await;
    let linked = resolve(
        &pool,
        &s.connection,
        &claims("sub-ada", "ada@acme.com", &[]),
    )
    .await
    .unwrap();
    assert_eq!(linked.user_id, ada.id);

    // The provider now says Ada's address is Bob's: still Ada.
    let mut edited = claims("sub-ada", "bob@acme.com", &[]);
    let again = resolve(&pool, &s.connection, &edited).await.unwrap();
    assert_eq!((again.user_id, again.linked), (ada.id, false));
    // An unverified address at a foreign domain: still Ada, still no new link.
    edited.email = Some("ada@elsewhere.example".into());
    edited.email_verified = false;
    assert_eq!(
        resolve(&pool, &s.connection, &edited)
            .await
            .unwrap()
            .user_id,
        ada.id
    );
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(ada.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        email, "ada@acme.com",
        "the account's address is not rewritten"
    );
    assert_eq!(identities_of(&pool, ada.id).await, 1);
    assert_eq!(
        identities_of(&pool, bob.id).await,
        0,
        "Bob was never touched"
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn groups_recompute_the_role_and_end_sessions_but_never_demote_an_owner(pool: PgPool) {
    let s = sso_tenant(&pool, false).await;
    let ada = member(&pool, Some(s.acme.id), "ada@acme.com", Role::Admin).await;
    let as_admin = claims("sub-ada", "ada@acme.com", &["admins"]);
    let linked = resolve(&pool, &s.connection, &as_admin).await.unwrap();
    assert_eq!((linked.role, linked.role_change), (Role::Admin, None));
    let session = session_for(&pool, ada.id).await;

    // FR-TENANT-004: the groups changed, so the role does and the sessions end.
    let as_staff = claims("sub-ada", "ada@acme.com", &["staff"]);
    let demoted = resolve(&pool, &s.connection, &as_staff).await.unwrap();
    assert_eq!(demoted.role, Role::User);
    assert_eq!(demoted.role_change, Some((Role::Admin, Role::User)));
    assert_eq!(role_of(&pool, ada.id).await, "user");
    assert_eq!(
        revoked_reason(&pool, session.id).await.as_deref(),
        Some("role_change")
    );
    assert!(authenticate_session(&pool, session.token.expose_secret())
        .await
        .is_err());
    let changes = audit_entries(&pool, "user.role.change").await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["metadata"]["old"], "admin");
    assert_eq!(changes[0]["metadata"]["new"], "user");
    assert_eq!(changes[0]["metadata"]["source"], "sso_groups");
    assert_eq!(changes[0]["resource"], format!("user:{}", ada.id));
    // The same groups again: nothing to change.
    let later = session_for(&pool, ada.id).await;
    let same = resolve(&pool, &s.connection, &as_staff).await.unwrap();
    assert_eq!(same.role_change, None);
    assert_eq!(revoked_reason(&pool, later.id).await, None);

    // An owner stays an owner whatever the groups say.
    let owner_session = session_for(&pool, s.owner.id).await;
    let cases: [&[&str]; 3] = [&["staff"], &[], &["admins"]];
    for groups in cases {
        let kept = resolve(
            &pool,
            &s.connection,
            &claims("sub-owner", "owner@acme.com", groups),
        )
        .await
        .unwrap();
        assert_eq!((kept.user_id, kept.role), (s.owner.id, Role::Owner));
        assert_eq!(kept.role_change, None);
    }
    assert_eq!(role_of(&pool, s.owner.id).await, "owner");
    assert_eq!(revoked_reason(&pool, owner_session.id).await, None);
    assert_eq!(audit_count(&pool, "user.role.change").await, 1);
}

// ---------------------------------------------------------------------------------------
// Sign-in and password reset under "require SSO" (SPEC §3, FR-AUTH-004, CON-SEC-005)
// ---------------------------------------------------------------------------------------

async fn password_sign_in(pool: &PgPool, email: &str) -> LoginOutcome {
    let login = PasswordLogin {
        email: Email::parse(email).unwrap(),
        password: secret(GOOD),
        tenant: None,
    };
    verify_password_login(pool, &ctx(), login).await.unwrap()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn when_sso_is_required_only_an_owner_with_a_factor_breaks_glass(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = with_password(&pool, acme.id, "owner@acme.test", Role::Owner).await;
    let second = with_password(&pool, acme.id, "second@acme.test", Role::Owner).await;
    with_password(&pool, acme.id, "ada@acme.test", Role::User).await;
    enforce(&pool, &owner, acme.id).await;
    assert!(tenant_enforced(&pool, acme.id).await);

    assert_eq!(
        password_sign_in(&pool, "ada@acme.test").await,
        LoginOutcome::Refused(SignInRefusal::SsoEnforced)
    );
    assert_eq!(
        password_sign_in(&pool, "second@acme.test").await,
        LoginOutcome::Refused(SignInRefusal::SsoEnforced),
        "an owner without a second factor cannot break glass"
    );
    assert_eq!(
        audit_reasons(&pool, "auth.login.failure").await,
        ["sso_enforced", "sso_enforced"]
    );
    let outcome = password_sign_in(&pool, "owner@acme.test").await;
    assert!(
        matches!(
            outcome,
            LoginOutcome::Authenticated { user_id, role: Role::Owner, break_glass: true, .. }
                if user_id == owner.id
        ),
        "{outcome:?}"
    );

    let signals = SignInSignals {
        break_glass: true,
        ..Default::default()
    };
    let started = begin_sign_in(&pool, &ctx(), owner.id, "pwd", signals, ACCOUNT_URL)
        .await
        .unwrap();
    assert_eq!(started.next, NextStep::SecondFactor);
    let pending = authenticate_session(&pool, started.issued.token.expose_secret())
        .await
        .unwrap();
    assert!(!pending.mfa_verified);
    let glass = audit_entries(&pool, "auth.sso.break_glass").await;
    assert_eq!(glass.len(), 1);
    assert_eq!(glass[0]["actor_id"], owner.id.to_string());
    assert_eq!(glass[0]["tenant_id"], acme.id.to_string());
    // The other owners hear of it; the person breaking glass and non-owners do not.
    assert_eq!(
        mails_to(&pool, "break_glass_sign_in").await,
        std::slice::from_ref(&second.email)
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_second_factor_proven_at_the_provider_satisfies_the_mfa_policy(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    set_policy(&pool, acme.id, "everyone").await;
    let ada = member(&pool, Some(acme.id), "ada@acme.test", Role::User).await;

    // CON-SEC-005: without the provider's word, a person without a factor must enrol.
    let own = begin_sign_in(
        &pool,
        &ctx(),
        ada.id,
        "sso",
        SignInSignals::default(),
        ACCOUNT_URL,
    )
    .await
    .unwrap();
    assert_eq!(own.next, NextStep::EnrolSecondFactor);

    let signals = SignInSignals {
        idp_second_factor: true,
        ..Default::default()
    };
    let trusted = begin_sign_in(&pool, &ctx(), ada.id, "sso", signals, ACCOUNT_URL)
        .await
        .unwrap();
    assert_eq!(trusted.next, NextStep::Done);
    assert!(trusted.reasons.is_empty());
    let methods: Vec<String> =
        sqlx::query_scalar("SELECT auth_methods FROM sessions WHERE id = $1")
            .bind(trusted.issued.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(methods, ["sso", "idp_mfa"]);
    let session = authenticate_session(&pool, trusted.issued.token.expose_secret())
        .await
        .unwrap();
    assert!(session.mfa_verified);
    let success = audit_entries(&pool, "auth.login.success").await;
    assert_eq!(
        success.last().unwrap()["metadata"]["methods"],
        "sso,idp_mfa"
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn people_who_sign_in_through_their_provider_get_no_reset_link(pool: PgPool) {
    async fn reset(pool: &PgPool, email: &str) {
        let email = Email::parse(email).unwrap();
        request_password_reset(
            pool,
            &RequestContext::default(),
            &email,
            None,
            "http://gh.test",
        )
        .await
        .unwrap();
    }
    async fn reset_tokens(pool: &PgPool, user_id: Uuid) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM password_reset_tokens WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(pool)
            .await
            .unwrap()
    }
    async fn link(pool: &PgPool, connection_id: Uuid, subject: &str, user_id: Uuid) {
        sqlx::query(
            "INSERT INTO sso_identities (connection_id, issuer, subject, user_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(connection_id)
        .bind(ISSUER)
        .bind(subject)
        .bind(user_id)
        .execute(pool)
        .await
        .unwrap();
    }

    // A non-owner of a tenant that requires SSO.
    let acme = tenant(&pool, "acme").await;
    let owner = with_password(&pool, acme.id, "owner@acme.test", Role::Owner).await;
    let ada = with_password(&pool, acme.id, "ada@acme.test", Role::User).await;
    enforce(&pool, &owner, acme.id).await;
    reset(&pool, "ada@acme.test").await;
    assert_eq!(reset_tokens(&pool, ada.id).await, 0);

    // Someone without a password who signs in through the provider, SSO not required.
    let globex = tenant(&pool, "globex").await;
    let connection_id = insert_connection(&pool, globex.id).await;
    let sam = member(&pool, Some(globex.id), "sam@globex.test", Role::User).await;
    link(&pool, connection_id, "sub-sam", sam.id).await;
    reset(&pool, "sam@globex.test").await;
    assert_eq!(reset_tokens(&pool, sam.id).await, 0);
    // With a password of their own, a linked person still gets one.
    let kim = with_password(&pool, globex.id, "kim@globex.test", Role::User).await;
    link(&pool, connection_id, "sub-kim", kim.id).await;
    reset(&pool, "kim@globex.test").await;
    assert_eq!(reset_tokens(&pool, kim.id).await, 1);

    // The break-glass owner keeps the password, and the way to reset it.
    reset(&pool, "owner@acme.test").await;
    assert_eq!(reset_tokens(&pool, owner.id).await, 1);
    assert_eq!(
        mails_to(&pool, "password_reset").await,
        ["kim@globex.test", "owner@acme.test"]
    );
}
