//! Passkeys (NFR-SEC-003, CON-SEC-005): ceremony state, registration, passwordless
//! sign-in, second factor, removal and renaming. A small software authenticator (P-256,
//! "none" attestation, built here with OpenSSL) answers the ceremonies, so webauthn-rs
//! verifies real signatures; the browser test drives a real one (Chromium's virtual
//! authenticator).

use super::audit_entries;
use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gatehouse_domain::mfa::{
    finish_passwordless_login, finish_registration, finish_second_factor, list_passkeys,
    remove_passkey, rename_passkey, start_passwordless_login, start_registration,
    start_second_factor, webauthn_for, CreationChallengeResponse, PasskeyName, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Webauthn,
};
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const ORIGIN: &str = "http://localhost:3000";

fn webauthn() -> Webauthn {
    webauthn_for(ORIGIN).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// A CBOR byte-string header and body.
fn cbor_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = match bytes.len() {
        n if n < 24 => vec![0x40 + n as u8],
        n if n < 256 => vec![0x58, n as u8],
        n => vec![0x59, (n >> 8) as u8, n as u8],
    };
    out.extend_from_slice(bytes);
    out
}

fn cbor_text(text: &str) -> Vec<u8> {
    let mut out = vec![0x60 + text.len() as u8];
    out.extend_from_slice(text.as_bytes());
    out
}

/// A software authenticator holding one discoverable P-256 credential with user
/// verification, like a platform passkey.
struct SoftAuthenticator {
    key: PKey<Private>,
    x: Vec<u8>,
    y: Vec<u8>,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
}

impl SoftAuthenticator {
    fn new() -> Self {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let ec = EcKey::generate(&group).unwrap();
        let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        let mut ctx = BigNumContext::new().unwrap();
        ec.public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .unwrap();
        let mut credential_id = vec![0u8; 32];
        openssl::rand::rand_bytes(&mut credential_id).unwrap();
        Self {
            x: x.to_vec_padded(32).unwrap(),
            y: y.to_vec_padded(32).unwrap(),
            key: PKey::from_ec_key(ec).unwrap(),
            credential_id,
            user_handle: Vec::new(),
            counter: 0,
        }
    }

    fn client_data(kind: &str, challenge: &str) -> Vec<u8> {
        json!({ "type": kind, "challenge": challenge, "origin": ORIGIN, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    /// Answers `navigator.credentials.create`.
    fn create(&mut self, options: &CreationChallengeResponse) -> RegisterPublicKeyCredential {
        let options = serde_json::to_value(options).unwrap();
        let pk = &options["publicKey"];
        self.user_handle = unb64(pk["user"]["id"].as_str().unwrap());
        let client_data = Self::client_data("webauthn.create", pk["challenge"].as_str().unwrap());
        self.counter += 1;
        // COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cose.extend(cbor_bytes(&self.x));
        cose.push(0x22);
        cose.extend(cbor_bytes(&self.y));
        let mut auth_data = self.auth_data(pk["rp"]["id"].as_str().unwrap(), 0x45);
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(cose);
        let mut attestation = vec![0xa3];
        attestation.extend(cbor_text("fmt"));
        attestation.extend(cbor_text("none"));
        attestation.extend(cbor_text("attStmt"));
        attestation.push(0xa0);
        attestation.extend(cbor_text("authData"));
        attestation.extend(cbor_bytes(&auth_data));
        let response = json!({
            "attestationObject": b64(&attestation),
            "clientDataJSON": b64(&client_data),
            "transports": ["internal"],
        });
        self.credential(response, json!({ "credProps": { "rk": true } }))
    }

    /// This authenticator's credential carrying `response` and `extensions`.
    fn credential<T: serde::de::DeserializeOwned>(&self, response: Value, extensions: Value) -> T {
        serde_json::from_value(json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": extensions,
        }))
        .unwrap()
    }

    /// rpIdHash, flags (UP=1, UV=4, AT=0x40) and the signature counter.
    fn auth_data(&self, rp_id: &str, flags: u8) -> Vec<u8> {
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        data
    }

    /// Answers `navigator.credentials.get`, advancing the counter first.
    fn get(&mut self, options: &RequestChallengeResponse) -> PublicKeyCredential {
        self.counter += 1;
        self.assert(options)
    }

    /// Answers with the current counter (a cloned authenticator would).
    fn assert(&self, options: &RequestChallengeResponse) -> PublicKeyCredential {
        let options = serde_json::to_value(options).unwrap();
        let pk = &options["publicKey"];
        let client_data = Self::client_data("webauthn.get", pk["challenge"].as_str().unwrap());
        let auth_data = self.auth_data(pk["rpId"].as_str().unwrap(), 0x05);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key).unwrap();
        let signature = signer.sign_oneshot_to_vec(&signed).unwrap();
        let response = json!({
            "authenticatorData": b64(&auth_data),
            "clientDataJSON": b64(&client_data),
            "signature": b64(&signature),
            "userHandle": b64(&self.user_handle),
        });
        self.credential(response, json!({}))
    }
}

fn ctx() -> RequestContext {
    RequestContext {
        request_id: None,
        ip: Some("192.0.2.20".parse().unwrap()),
        user_agent: Some("passkey-test".into()),
    }
}

/// Registers a passkey for `user_id` through the whole ceremony.
async fn enrolled(pool: &PgPool, user_id: Uuid, name: &str) -> (SoftAuthenticator, Uuid) {
    let wa = webauthn();
    let mut device = SoftAuthenticator::new();
    let started = start_registration(pool, &wa, user_id).await.unwrap();
    let answer = device.create(&started.options);
    let summary = finish_registration(
        pool,
        &ctx(),
        &wa,
        user_id,
        started.challenge_id,
        &answer,
        PasskeyName::parse(name).unwrap(),
    )
    .await
    .unwrap();
    (device, summary.id)
}

/// A whole passwordless sign-in with `device`.
async fn passwordless(pool: &PgPool, device: &mut SoftAuthenticator) -> Result<Uuid, DomainError> {
    let wa = webauthn();
    let login = start_passwordless_login(pool, &wa).await.unwrap();
    let answer = device.get(&login.options);
    finish_passwordless_login(pool, &ctx(), &wa, login.challenge_id, &answer).await
}

/// How the passwordless sign-in `challenge_id` answered with `answer` is refused.
async fn login_refusal(
    pool: &PgPool,
    wa: &Webauthn,
    challenge_id: Uuid,
    answer: &PublicKeyCredential,
) -> DomainError {
    finish_passwordless_login(pool, &ctx(), wa, challenge_id, answer)
        .await
        .unwrap_err()
}

/// How `user_id`'s second-factor ceremony `challenge_id` answered with `answer` is refused.
async fn second_factor_refusal(
    pool: &PgPool,
    wa: &Webauthn,
    user_id: Uuid,
    challenge_id: Uuid,
    answer: &PublicKeyCredential,
) -> DomainError {
    finish_second_factor(pool, &ctx(), wa, user_id, challenge_id, answer)
        .await
        .unwrap_err()
}

/// Whether the passkey `id` has been used to sign in.
async fn was_used(pool: &PgPool, id: Uuid) -> bool {
    sqlx::query_scalar("SELECT last_used_at IS NOT NULL FROM webauthn_credentials WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A stored passkey row without a ceremony, for what does not read the key.
async fn fake_passkey(pool: &PgPool, user_id: Uuid, name: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO webauthn_credentials (user_id, credential_id, name, passkey)
         VALUES ($1, uuid_send(gen_random_uuid()), $2, '{}') RETURNING id",
    )
    .bind(user_id)
    .bind(name)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn starting_a_registration_parks_its_state_for_five_minutes(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@acme.test", Role::User).await;
    let started = start_registration(&pool, &webauthn(), ada.id)
        .await
        .unwrap();

    let (kind, owner, state, lifetime): (String, Option<Uuid>, Value, f64) = sqlx::query_as(
        "SELECT kind, user_id, state, extract(epoch FROM expires_at - created_at)::float8
         FROM webauthn_challenges WHERE id = $1",
    )
    .bind(started.challenge_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((kind.as_str(), owner), ("registration", Some(ada.id)));
    assert!((299.0..=301.0).contains(&lifetime), "{lifetime}");
    assert!(state.is_object());

    // What the browser gets: this site, the user's id as handle, a discoverable
    // credential with user verification.
    let options = serde_json::to_value(&started.options).unwrap();
    let pk = &options["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["rp"]["name"], "Gatehouse");
    assert_eq!(unb64(pk["user"]["id"].as_str().unwrap()), ada.id.as_bytes());
    assert_eq!(pk["user"]["name"], "ada@acme.test");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(pk["excludeCredentials"], json!([]));
    // Starting changes nothing worth an audit entry.
    assert_eq!(audit_count(&pool, "auth.mfa.enrolled").await, 0);

    // An account that is not active cannot start one.
    set_user_status(&pool, ada.id, "disabled").await;
    let err = start_registration(&pool, &webauthn(), ada.id)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_registered_passkey_is_stored_audited_and_excluded_next_time(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@acme.test", Role::User).await;
    let (device, passkey_id) = enrolled(&pool, ada.id, "  Laptop  ").await;

    let listed = list_passkeys(&pool, ada.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].id, listed[0].name.as_str()),
        (passkey_id, "Laptop")
    );
    assert!(listed[0].last_used_at.is_none());
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT credential_id FROM webauthn_credentials WHERE id = $1")
            .bind(passkey_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, device.credential_id);
    // The ceremony state is spent.
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM webauthn_challenges")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);

    let entries = audit_entries(&pool, "auth.mfa.enrolled").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["metadata"]["factor"], "passkey");
    assert_eq!(entries[0]["metadata"]["name"], "Laptop");
    assert_eq!(entries[0]["actor_id"], json!(ada.id));
    assert_eq!(entries[0]["tenant_id"], json!(acme.id));
    assert_eq!(entries[0]["resource"], format!("passkey:{passkey_id}"));

    // The same authenticator is excluded from the next registration...
    let again = start_registration(&pool, &webauthn(), ada.id)
        .await
        .unwrap();
    let options = serde_json::to_value(&again.options).unwrap();
    assert_eq!(
        options["publicKey"]["excludeCredentials"][0]["id"],
        b64(&device.credential_id)
    );
    // ...and refused if it answers anyway.
    let mut same = device;
    let answer = same.create(&again.options);
    let err = finish_registration(
        &pool,
        &ctx(),
        &webauthn(),
        ada.id,
        again.challenge_id,
        &answer,
        PasskeyName::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DomainError::Validation(_)), "{err:?}");
    assert_eq!(audit_count(&pool, "auth.mfa.enrolled").await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn unknown_expired_and_foreign_challenges_are_refused(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@acme.test", Role::User).await;
    let bob = member(&pool, Some(acme.id), "bob@acme.test", Role::User).await;
    let wa = webauthn();
    let mut device = SoftAuthenticator::new();
    let finish = |user_id: Uuid, challenge_id: Uuid, answer: RegisterPublicKeyCredential| {
        let (pool, wa) = (pool.clone(), wa.clone());
        async move {
            finish_registration(
                &pool,
                &ctx(),
                &wa,
                user_id,
                challenge_id,
                &answer,
                PasskeyName::default(),
            )
            .await
        }
    };
    let expired = |err: &DomainError| matches!(err, DomainError::Validation(v) if v[0].field == "challenge_id");

    let started = start_registration(&pool, &wa, ada.id).await.unwrap();
    let answer = device.create(&started.options);
    // Unknown.
    let err = finish(ada.id, Uuid::new_v4(), answer.clone())
        .await
        .unwrap_err();
    assert!(expired(&err), "{err:?}");
    // Someone else's: refused, and not spent for its owner (checked below).
    let err = finish(bob.id, started.challenge_id, answer.clone())
        .await
        .unwrap_err();
    assert!(expired(&err), "{err:?}");
    // A registration's id is no sign-in's: refused, audited, and not spent either.
    let login = start_passwordless_login(&pool, &wa).await.unwrap();
    let signed = device.get(&login.options);
    let err = login_refusal(&pool, &wa, started.challenge_id, &signed).await;
    assert!(
        matches!(err, DomainError::Unauthenticated(ref m) if m.contains("expired")),
        "{err:?}"
    );
    // Expired: refused, and gone.
    sqlx::query(
        "UPDATE webauthn_challenges SET created_at = now() - interval '6 minutes',
                expires_at = now() - interval '1 minute' WHERE id = $1",
    )
    .bind(started.challenge_id)
    .execute(&pool)
    .await
    .unwrap();
    let err = finish(ada.id, started.challenge_id, answer.clone())
        .await
        .unwrap_err();
    assert!(expired(&err), "{err:?}");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM webauthn_challenges WHERE id = $1")
        .bind(started.challenge_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert!(list_passkeys(&pool, ada.id).await.unwrap().is_empty());

    // A failed finish spends the challenge too: the right answer cannot follow it.
    let started = start_registration(&pool, &wa, ada.id).await.unwrap();
    let mut other = SoftAuthenticator::new();
    let wrong = other.create(
        &start_registration(&pool, &wa, ada.id)
            .await
            .unwrap()
            .options,
    );
    let err = finish(ada.id, started.challenge_id, wrong)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DomainError::Validation(ref v) if v[0].field == "credential"),
        "{err:?}"
    );
    let right = device.create(&started.options);
    let err = finish(ada.id, started.challenge_id, right)
        .await
        .unwrap_err();
    assert!(expired(&err), "{err:?}");
    assert_eq!(audit_count(&pool, "auth.mfa.enrolled").await, 0);

    let entries = audit_entries(&pool, "auth.login.failure").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["metadata"]["reason"], "challenge_expired");
    assert_eq!(entries[0]["metadata"]["method"], "passkey");
    assert_eq!(entries[0]["outcome"], "failure");
    assert_eq!(entries[0]["metadata"]["ip"], "192.0.2.20");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_passkey_signs_in_alone_and_its_counter_guards_against_clones(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@acme.test", Role::User).await;
    let (mut device, passkey_id) = enrolled(&pool, ada.id, "Phone").await;
    let wa = webauthn();

    let login = start_passwordless_login(&pool, &wa).await.unwrap();
    let options = serde_json::to_value(&login.options).unwrap();
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(
        options.get("mediation").is_none(),
        "a button asks at once, not by autofill"
    );
    let (owner,): (Option<Uuid>,) =
        sqlx::query_as("SELECT user_id FROM webauthn_challenges WHERE id = $1")
            .bind(login.challenge_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(owner, None);

    let answer = device.get(&login.options);
    let user_id = finish_passwordless_login(&pool, &ctx(), &wa, login.challenge_id, &answer)
        .await
        .unwrap();
    assert_eq!(user_id, ada.id);
    let (counter, used): (i64, bool) = sqlx::query_as(
        "SELECT (passkey->'cred'->>'counter')::bigint, last_used_at IS NOT NULL
         FROM webauthn_credentials WHERE id = $1",
    )
    .bind(passkey_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((counter, used), (i64::from(device.counter), true));
    assert_eq!(audit_count(&pool, "auth.login.failure").await, 0);

    // Replaying the same answer: its challenge is spent.
    let err = login_refusal(&pool, &wa, login.challenge_id, &answer).await;
    assert!(matches!(err, DomainError::Unauthenticated(_)), "{err:?}");
    // The same answer for a fresh challenge does not sign it.
    let fresh = start_passwordless_login(&pool, &wa).await.unwrap();
    let err = login_refusal(&pool, &wa, fresh.challenge_id, &answer).await;
    assert!(matches!(err, DomainError::Unauthenticated(_)), "{err:?}");
    // A copy of the authenticator whose counter did not move is refused.
    let fresh = start_passwordless_login(&pool, &wa).await.unwrap();
    let cloned = device.assert(&fresh.options);
    let err = login_refusal(&pool, &wa, fresh.challenge_id, &cloned).await;
    assert!(matches!(err, DomainError::Unauthenticated(_)), "{err:?}");

    let reasons = audit_reasons(&pool, "auth.login.failure").await;
    assert_eq!(
        reasons,
        [
            "challenge_expired",
            "invalid_assertion",
            "counter_not_increased"
        ]
    );
    let entries = audit_entries(&pool, "auth.login.failure").await;
    assert_eq!(entries[1]["actor_id"], json!(ada.id));
    assert_eq!(entries[1]["resource"], format!("passkey:{passkey_id}"));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_unknown_passkey_cannot_sign_in(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@acme.test", Role::User).await;
    enrolled(&pool, ada.id, "Phone").await;
    // A credential this server never registered, claiming to be Ada's.
    let mut stranger = SoftAuthenticator::new();
    stranger.user_handle = ada.id.as_bytes().to_vec();
    let err = passwordless(&pool, &mut stranger).await.unwrap_err();
    assert!(
        matches!(err, DomainError::Unauthenticated(ref m) if m.contains("could not be verified")),
        "{err:?}"
    );
    let entries = audit_entries(&pool, "auth.login.failure").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["metadata"]["reason"], "unknown_credential");
    assert_eq!(entries[0]["actor_id"], Value::Null);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn disabled_accounts_suspended_tenants_and_enforced_sso_refuse_a_proven_passkey(
    pool: PgPool,
) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@acme.test", Role::User).await;
    let boss = member(&pool, Some(acme.id), "boss@acme.test", Role::Owner).await;
    let (mut ada_key, ada_passkey) = enrolled(&pool, ada.id, "Phone").await;
    let (mut boss_key, _) = enrolled(&pool, boss.id, "Key").await;

    set_user_status(&pool, ada.id, "disabled").await;
    let err = passwordless(&pool, &mut ada_key).await.unwrap_err();
    assert!(
        matches!(err, DomainError::PermissionDenied(ref m) if m.contains("disabled")),
        "{err:?}"
    );
    set_user_status(&pool, ada.id, "active").await;

    sqlx::query("UPDATE tenants SET sso_enforced = true WHERE id = $1")
        .bind(acme.id)
        .execute(&pool)
        .await
        .unwrap();
    let err = passwordless(&pool, &mut ada_key).await.unwrap_err();
    assert!(
        matches!(err, DomainError::PermissionDenied(ref m) if m.contains("single sign-on")),
        "{err:?}"
    );
    // Owners keep their break-glass access.
    assert_eq!(passwordless(&pool, &mut boss_key).await.unwrap(), boss.id);

    mark_suspended(&pool, acme.id).await;
    let err = passwordless(&pool, &mut boss_key).await.unwrap_err();
    assert!(
        matches!(err, DomainError::PermissionDenied(ref m) if m.contains("suspended")),
        "{err:?}"
    );

    let reasons = audit_reasons(&pool, "auth.login.failure").await;
    assert_eq!(
        reasons,
        ["user_disabled", "sso_enforced", "tenant_suspended"]
    );
    // A refused sign-in does not count as a use.
    assert!(!was_used(&pool, ada_passkey).await);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_passkey_is_a_second_factor_for_its_owner_only(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@acme.test", Role::Admin).await;
    let bob = member(&pool, Some(acme.id), "bob@acme.test", Role::User).await;
    let wa = webauthn();

    let err = start_second_factor(&pool, &wa, ada.id).await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");

    let (mut ada_key, ada_passkey) = enrolled(&pool, ada.id, "Phone").await;
    let (mut bob_key, _) = enrolled(&pool, bob.id, "Phone").await;
    let started = start_second_factor(&pool, &wa, ada.id).await.unwrap();
    let options = serde_json::to_value(&started.options).unwrap();
    let allowed: Vec<&str> = options["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, [b64(&ada_key.credential_id)]);

    // Bob's passkey does not pass for Ada, and Bob cannot finish Ada's ceremony.
    let bobs = bob_key.get(&started.options);
    let err = second_factor_refusal(&pool, &wa, ada.id, started.challenge_id, &bobs).await;
    assert!(matches!(err, DomainError::Unauthenticated(_)), "{err:?}");
    let started = start_second_factor(&pool, &wa, ada.id).await.unwrap();
    let answer = ada_key.get(&started.options);
    let err = second_factor_refusal(&pool, &wa, bob.id, started.challenge_id, &answer).await;
    assert!(matches!(err, DomainError::Unauthenticated(_)), "{err:?}");

    // Ada's own, for her own ceremony, passes once.
    finish_second_factor(&pool, &ctx(), &wa, ada.id, started.challenge_id, &answer)
        .await
        .unwrap();
    assert!(was_used(&pool, ada_passkey).await);
    let err = second_factor_refusal(&pool, &wa, ada.id, started.challenge_id, &answer).await;
    assert!(matches!(err, DomainError::Unauthenticated(_)), "{err:?}");

    let entries = audit_entries(&pool, "auth.mfa.challenge.failure").await;
    let reasons: Vec<&str> = entries
        .iter()
        .map(|e| e["metadata"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "unknown_credential",
            "challenge_expired",
            "challenge_expired"
        ]
    );
    assert!(entries.iter().all(|e| e["metadata"]["method"] == "passkey"));
    assert_eq!(entries[0]["actor_id"], json!(ada.id));
    assert_eq!(entries[1]["actor_id"], json!(bob.id));
    assert_eq!(entries[0]["tenant_id"], json!(acme.id));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn people_rename_and_remove_only_their_own_passkeys(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let ada = member(&pool, Some(acme.id), "ada@acme.test", Role::User).await;
    let bob = member(&pool, Some(acme.id), "bob@acme.test", Role::User).await;
    let ada_key = fake_passkey(&pool, ada.id, "Passkey").await;

    // Bob: 404 for Ada's passkey, nothing changed, nothing audited.
    let err = rename_passkey(
        &pool,
        &ctx(),
        bob.id,
        ada_key,
        &PasskeyName::parse("Mine").unwrap(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DomainError::NotFound("passkey")), "{err:?}");
    let err = remove_passkey(&pool, &ctx(), bob.id, ada_key)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound("passkey")), "{err:?}");
    let err = remove_passkey(&pool, &ctx(), ada.id, Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound("passkey")), "{err:?}");
    assert_eq!(
        list_passkeys(&pool, ada.id).await.unwrap()[0].name,
        "Passkey"
    );

    // Ada renames hers (the same name again is no change).
    let laptop = PasskeyName::parse("Work laptop").unwrap();
    rename_passkey(&pool, &ctx(), ada.id, ada_key, &laptop)
        .await
        .unwrap();
    rename_passkey(&pool, &ctx(), ada.id, ada_key, &laptop)
        .await
        .unwrap();
    assert_eq!(
        list_passkeys(&pool, ada.id).await.unwrap()[0].name,
        "Work laptop"
    );
    let renamed = audit_entries(&pool, "auth.mfa.renamed").await;
    assert_eq!(renamed.len(), 1);
    assert_eq!(renamed[0]["metadata"]["old"], "Passkey");
    assert_eq!(renamed[0]["metadata"]["new"], "Work laptop");

    // And removes it: her tenant does not require MFA.
    remove_passkey(&pool, &ctx(), ada.id, ada_key)
        .await
        .unwrap();
    assert!(list_passkeys(&pool, ada.id).await.unwrap().is_empty());
    let removed = audit_entries(&pool, "auth.mfa.removed").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["metadata"]["factor"], "passkey");
    assert_eq!(removed[0]["metadata"]["name"], "Work laptop");
    assert_eq!(removed[0]["actor_id"], json!(ada.id));
    assert_eq!(removed[0]["resource"], format!("passkey:{ada_key}"));
    let err = remove_passkey(&pool, &ctx(), ada.id, ada_key)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)), "{err:?}");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn whoever_must_use_mfa_keeps_a_last_factor(pool: PgPool) {
    // Operators always need MFA (CON-SEC-005).
    let op = member(&pool, None, "op@gatehouse.test", Role::Operator).await;
    let first = fake_passkey(&pool, op.id, "Key A").await;
    let second = fake_passkey(&pool, op.id, "Key B").await;
    remove_passkey(&pool, &ctx(), op.id, first).await.unwrap();
    let err = remove_passkey(&pool, &ctx(), op.id, second)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DomainError::Conflict { ref message, .. } if message.contains("second factor")),
        "{err:?}"
    );
    assert_eq!(list_passkeys(&pool, op.id).await.unwrap().len(), 1);
    // An unconfirmed authenticator app does not count; a confirmed one does.
    sqlx::query("INSERT INTO mfa_totp (user_id, secret_ciphertext) VALUES ($1, '\\x00')")
        .bind(op.id)
        .execute(&pool)
        .await
        .unwrap();
    assert!(remove_passkey(&pool, &ctx(), op.id, second).await.is_err());
    sqlx::query("UPDATE mfa_totp SET confirmed_at = now() WHERE user_id = $1")
        .bind(op.id)
        .execute(&pool)
        .await
        .unwrap();
    remove_passkey(&pool, &ctx(), op.id, second).await.unwrap();
    assert_eq!(audit_count(&pool, "auth.mfa.removed").await, 2);

    // A tenant requiring MFA of everyone is the same for its users.
    let acme = tenant(&pool, "acme").await;
    set_policy(&pool, acme.id, "everyone").await;
    let ada = member(&pool, Some(acme.id), "ada@acme.test", Role::User).await;
    let only = fake_passkey(&pool, ada.id, "Phone").await;
    assert!(matches!(
        remove_passkey(&pool, &ctx(), ada.id, only).await,
        Err(DomainError::Conflict { .. })
    ));
}
