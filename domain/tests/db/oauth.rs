//! The token service and managed applications (SPEC §4, §5; FR-AUTH-001/005,
//! FR-SYS-001..003, NFR-SEC-004): grants, rotation, reuse detection, revocation effects.

use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gatehouse_domain::apps::{
    issue_key, list_keys, register_application, revoke_key, set_application_status,
    ApplicationInput, KeyInput,
};
use gatehouse_domain::oauth::{load_client, rotate_signing_keys, SigningAlg};
use gatehouse_domain::oauth::{
    AuthorizeError, AuthorizingUser, OAuthError, TokenRejection, TokenRequest, TokenService,
    TokenSettings,
};
use gatehouse_domain::oauth::{Client, OAuthErrorCode, TokenResponse};
use gatehouse_domain::sessions::{revoke_user_sessions, RevokeReason, Revoker};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

const ISSUER: &str = "https://id.example.test";
const REDIRECT: &str = "https://app.example.test/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

struct Fixture {
    svc: TokenService,
    master: Arc<MasterKeys>,
    tenant: Tenant,
    app_id: Uuid,
    client_id: String,
    secret: String,
    user: User,
    session_id: Uuid,
}

async fn service(pool: &PgPool, master: Arc<MasterKeys>) -> TokenService {
    TokenService::start(
        pool.clone(),
        master,
        TokenSettings {
            issuer: ISSUER.into(),
            access_token_alg: SigningAlg::Es256,
        },
    )
    .await
    .unwrap()
}

async fn fixture(pool: &PgPool) -> Fixture {
    let master = Arc::new(MasterKeys::parse(&MasterKeys::generate_text("test")).unwrap());
    let svc = service(pool, master.clone()).await;
    let tenant = tenant(pool, "acme").await;
    let ctx = RequestContext::default();
    let app = register_application(
        pool,
        &ctx,
        None,
        ApplicationInput {
            name: Some("Portal".into()),
            redirect_uris: Some(vec![REDIRECT.into()]),
            grant_types: Some(
                ["authorization_code", "client_credentials", "refresh_token"]
                    .map(String::from)
                    .to_vec(),
            ),
            tenants: Some(vec!["acme".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .value;
    let key = issue_key(
        pool,
        &ctx,
        None,
        app.id,
        KeyInput {
            scopes: ["openid", "email", "profile", "flag:read", "bill:write"]
                .map(String::from)
                .to_vec(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .value;
    let ann = new_user(Some(tenant.id), "ann@acme.test", Role::Admin);
    let user = user(pool, None, ann).await.unwrap();
    let session = session_for(pool, user.id).await;
    Fixture {
        svc,
        master,
        tenant,
        app_id: app.id,
        client_id: key.key.id.clone(),
        secret: key.secret.expose_secret().to_owned(),
        user,
        session_id: session.id,
    }
}

impl Fixture {
    async fn client(&self) -> Arc<Client> {
        self.svc
            .authenticate_client(&self.client_id, &self.secret)
            .await
            .unwrap()
    }

    /// `req` at the token endpoint, from the fixture's client.
    async fn grant(&self, req: TokenRequest) -> Result<TokenResponse, OAuthError> {
        let client = self.client().await;
        self.svc
            .token(&RequestContext::default(), &client, req)
            .await
    }

    fn params(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut p: HashMap<String, String> = [
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid email"),
            ("state", "s1"),
            ("nonce", "n1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            p.insert((*k).to_owned(), (*v).to_owned());
        }
        p
    }

    /// Runs /authorize for the fixture's user and returns the code.
    async fn code(&self) -> String {
        let req = self
            .svc
            .authorization_request(&self.params(&[]))
            .await
            .unwrap();
        let who = AuthorizingUser {
            user_id: self.user.id,
            tenant_id: self.user.tenant_id,
            session_id: self.session_id,
        };
        self.svc.check_authorizing_user(&req, &who).await.unwrap();
        let location = self.svc.issue_code(&req, &who).await.unwrap();
        let url = url::Url::parse(&location).unwrap();
        let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["state"], "s1");
        assert_eq!(q["iss"], ISSUER, "RFC 9207 iss parameter");
        q["code"].clone()
    }

    async fn exchange(
        &self,
        code: &str,
        verifier: &str,
        redirect: &str,
    ) -> Result<TokenResponse, OAuthError> {
        self.grant(TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some(code.into()),
            code_verifier: Some(verifier.into()),
            redirect_uri: Some(redirect.into()),
            ..Default::default()
        })
        .await
    }

    /// The tokens of a whole authorization code flow of the fixture's user.
    async fn user_tokens(&self) -> TokenResponse {
        let code = self.code().await;
        self.exchange(&code, VERIFIER, REDIRECT).await.unwrap()
    }

    async fn refresh(&self, token: &str) -> Result<TokenResponse, OAuthError> {
        self.grant(TokenRequest {
            grant_type: Some("refresh_token".into()),
            refresh_token: Some(token.into()),
            ..Default::default()
        })
        .await
    }

    async fn client_credentials(&self, scope: Option<&str>) -> Result<TokenResponse, OAuthError> {
        self.grant(TokenRequest {
            grant_type: Some("client_credentials".into()),
            scope: scope.map(String::from),
            ..Default::default()
        })
        .await
    }

    fn verify(
        &self,
        token: &str,
    ) -> Result<Arc<gatehouse_domain::oauth::AccessClaims>, TokenRejection> {
        // Any audience: a sign-in-only user token is not for Gatehouse's API (below).
        self.svc.verify_access_token(token, None)
    }

    /// Why the service refuses `token`.
    fn rejection(&self, token: &str) -> TokenRejection {
        self.verify(token).unwrap_err()
    }
}

/// The OAuth error code a refused request answers.
fn refusal<T: std::fmt::Debug>(result: Result<T, OAuthError>) -> &'static str {
    result.unwrap_err().code.as_str()
}

fn jwt_part(token: &str, i: usize) -> serde_json::Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn authorization_code_with_pkce_issues_access_id_and_refresh_tokens(pool: PgPool) {
    let f = fixture(&pool).await;
    let code = f.code().await;
    let tokens = f.exchange(&code, VERIFIER, REDIRECT).await.unwrap();
    let claims = f.verify(&tokens.access_token).unwrap();
    // Granted no API scope, the token is the application's, not an API credential.
    assert!(!claims.aud.iter().any(|a| a == &format!("{ISSUER}/api")));
    assert!(f
        .svc
        .verify_access_token(&tokens.access_token, Some(&format!("{ISSUER}/api")))
        .is_err());
    assert_eq!(claims.sub, f.user.id.to_string());
    assert_eq!(claims.tenant_id, Some(f.tenant.id));
    assert_eq!(claims.roles, ["admin"]);
    assert_eq!(claims.scope, "openid email");
    assert_eq!(claims.exp - claims.iat, 3600);
    assert_eq!(jwt_part(&tokens.access_token, 0)["typ"], "at+jwt");
    assert_eq!(jwt_part(&tokens.access_token, 0)["alg"], "ES256");
    // ID token: RS256, nonce, at_hash of the access token (OIDC Core §3.1.3.6).
    let id = tokens.id_token.as_deref().unwrap();
    assert_eq!(jwt_part(id, 0)["alg"], "RS256");
    let id_claims = jwt_part(id, 1);
    assert_eq!(id_claims["nonce"], "n1");
    assert_eq!(id_claims["aud"], f.client_id.as_str());
    assert_eq!(id_claims["email"], "ann@acme.test");
    let hash = Sha256::digest(tokens.access_token.as_bytes());
    assert_eq!(id_claims["at_hash"], URL_SAFE_NO_PAD.encode(&hash[..16]));
    assert!(tokens.refresh_token.is_some());
    let info = f.svc.userinfo(&claims).await.unwrap().unwrap();
    assert_eq!(info["email"], "ann@acme.test");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn authorization_requests_are_refused_for_bad_clients_redirects_and_pkce(pool: PgPool) {
    let f = fixture(&pool).await;
    let page = |r: Result<_, AuthorizeError>| matches!(r, Err(AuthorizeError::Page(_)));
    let redirected = |r: Result<_, AuthorizeError>, error: &str| match r {
        Err(AuthorizeError::Redirect { error: e, .. }) => e.code.as_str() == error,
        _ => false,
    };
    // Unknown client, unregistered or extra redirect URIs: an error page, never a redirect.
    assert!(page(
        f.svc
            .authorization_request(&f.params(&[("client_id", "gk_nobody_at_all")]))
            .await
    ));
    assert!(page(
        f.svc
            .authorization_request(&f.params(&[("redirect_uri", "https://evil.test/cb")]))
            .await
    ));
    assert!(page(
        f.svc
            .authorization_request(
                &f.params(&[("redirect_uri", "https://app.example.test/cb?x=1")])
            )
            .await
    ));
    // PKCE is required, and only S256.
    let mut no_pkce = f.params(&[]);
    no_pkce.remove("code_challenge");
    assert!(redirected(
        f.svc.authorization_request(&no_pkce).await,
        "invalid_request"
    ));
    assert!(redirected(
        f.svc
            .authorization_request(&f.params(&[("code_challenge_method", "plain")]))
            .await,
        "invalid_request"
    ));
    assert!(redirected(
        f.svc
            .authorization_request(&f.params(&[("response_type", "token")]))
            .await,
        "unsupported_response_type"
    ));
    assert!(redirected(
        f.svc
            .authorization_request(&f.params(&[("scope", "openid admin")]))
            .await,
        "invalid_scope"
    ));
    // A person of another tenant is refused for this application.
    let other = tenant(&pool, "globex").await;
    let stranger = member(&pool, Some(other.id), "bob@globex.test", Role::User).await;
    let req = f.svc.authorization_request(&f.params(&[])).await.unwrap();
    let refused = f
        .svc
        .check_authorizing_user(
            &req,
            &AuthorizingUser {
                user_id: stranger.id,
                tenant_id: Some(other.id),
                session_id: f.session_id,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code.as_str(), "access_denied");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn codes_are_single_use_bound_to_verifier_redirect_and_60_seconds(pool: PgPool) {
    let f = fixture(&pool).await;
    // Wrong verifier: refused, and the code is spent.
    let code = f.code().await;
    let wrong = "wrong-verifier-wrong-verifier-wrong-verifier-x";
    assert_eq!(
        refusal(f.exchange(&code, wrong, REDIRECT).await),
        "invalid_grant"
    );
    assert!(f.exchange(&code, VERIFIER, REDIRECT).await.is_err());
    // Wrong redirect URI.
    let code = f.code().await;
    let other = "https://app.example.test/other";
    assert_eq!(
        refusal(f.exchange(&code, VERIFIER, other).await),
        "invalid_grant"
    );
    // Expired.
    let code = f.code().await;
    sqlx::query("UPDATE oauth_authorization_codes SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        refusal(f.exchange(&code, VERIFIER, REDIRECT).await),
        "invalid_grant"
    );
    // Replayed: the second use is refused and revokes what the first issued.
    let code = f.code().await;
    let tokens = f.exchange(&code, VERIFIER, REDIRECT).await.unwrap();
    assert!(f.verify(&tokens.access_token).is_ok());
    assert_eq!(
        refusal(f.exchange(&code, VERIFIER, REDIRECT).await),
        "invalid_grant"
    );
    f.svc.reload_all().await.unwrap();
    assert_eq!(f.rejection(&tokens.access_token), TokenRejection::Revoked);
    assert!(f
        .refresh(tokens.refresh_token.as_deref().unwrap())
        .await
        .is_err());
    // The wrong-verifier code's second use above was a replay too.
    assert_eq!(audit_count(&pool, "oauth.code.replayed").await, 2);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family(pool: PgPool) {
    let f = fixture(&pool).await;
    let first = f.user_tokens().await;
    let r1 = first.refresh_token.clone().unwrap();
    let second = f.refresh(&r1).await.unwrap();
    let r2 = second.refresh_token.clone().unwrap();
    assert_ne!(r1, r2);
    assert!(f.verify(&second.access_token).is_ok());
    // r1 again: reuse. The whole family dies, r2 included, and its access tokens.
    assert_eq!(refusal(f.refresh(&r1).await), "invalid_grant");
    assert_eq!(refusal(f.refresh(&r2).await), "invalid_grant");
    f.svc.reload_all().await.unwrap();
    assert_eq!(f.rejection(&second.access_token), TokenRejection::Revoked);
    assert_eq!(audit_count(&pool, "oauth.refresh_token.reuse").await, 1);
    // Another client cannot use someone else's refresh token.
    let third = f.user_tokens().await;
    let other = issue_key(
        &pool,
        &RequestContext::default(),
        None,
        f.app_id,
        KeyInput::default(),
    )
    .await
    .unwrap()
    .value;
    let other_client = f
        .svc
        .authenticate_client(&other.key.id, other.secret.expose_secret())
        .await
        .unwrap();
    let stolen = f
        .svc
        .token(
            &RequestContext::default(),
            &other_client,
            TokenRequest {
                grant_type: Some("refresh_token".into()),
                refresh_token: third.refresh_token.clone(),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(refusal(stolen), "invalid_grant");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn client_credentials_tokens_carry_the_keys_scopes_and_tenant(pool: PgPool) {
    let f = fixture(&pool).await;
    let t = f.client_credentials(None).await.unwrap();
    let claims = f.verify(&t.access_token).unwrap();
    assert_eq!(claims.sub, f.client_id);
    assert_eq!(
        claims.scope, "flag:read bill:write",
        "OIDC scopes are not API scopes"
    );
    assert_eq!(
        claims.tenant_id,
        Some(f.tenant.id),
        "the application's one tenant"
    );
    assert!(t.refresh_token.is_none());
    let narrow = f.client_credentials(Some("flag:read")).await.unwrap();
    assert_eq!(f.verify(&narrow.access_token).unwrap().scope, "flag:read");
    assert_eq!(
        refusal(f.client_credentials(Some("admin")).await),
        "invalid_scope"
    );
    // Wrong secret, unknown client.
    assert_eq!(
        refusal(f.svc.authenticate_client(&f.client_id, "wrong").await),
        "invalid_client"
    );
    assert_eq!(
        f.svc
            .authenticate_client("gk_unknown", &f.secret)
            .await
            .unwrap_err()
            .code,
        // The server answers it 401 (server/tests/api/oauth.rs).
        OAuthErrorCode::InvalidClient
    );
    // Tampered token and a token of another issuer's key are refused.
    let mut tampered = t.access_token.clone();
    tampered.pop();
    tampered.push(if t.access_token.ends_with('A') {
        'B'
    } else {
        'A'
    });
    assert!(f.verify(&tampered).is_err());
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let payload = t.access_token.split('.').nth(1).unwrap();
    assert_eq!(
        f.verify(&format!("{header}.{payload}.")).unwrap_err(),
        TokenRejection::Malformed
    );
    // Wrong audience.
    assert_eq!(
        f.svc
            .verify_access_token(&t.access_token, Some("https://other.test/api"))
            .unwrap_err(),
        TokenRejection::WrongIssuerOrAudience
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn revoking_keys_disabling_applications_and_users_ends_tokens_at_once(pool: PgPool) {
    let f = fixture(&pool).await;
    let ctx = RequestContext::default();
    // The user's sessions revoked (disable, delete, role change...) → their tokens die.
    let user_tokens = f.user_tokens().await;
    let mut tx = pool.begin().await.unwrap();
    revoke_user_sessions(
        &mut tx,
        &ctx,
        Revoker::SYSTEM,
        f.user.id,
        RevokeReason::UserDisabled,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    f.svc.reload_all().await.unwrap();
    assert_eq!(
        f.rejection(&user_tokens.access_token),
        TokenRejection::Revoked
    );
    assert!(f
        .refresh(user_tokens.refresh_token.as_deref().unwrap())
        .await
        .is_err());

    // A revoked key: no more authentication, its tokens refused.
    let app_token = f.client_credentials(None).await.unwrap();
    let key = revoke_key(&pool, &ctx, None, Some(f.app_id), &f.client_id)
        .await
        .unwrap()
        .value;
    assert_eq!(key.status, "revoked");
    f.svc.reload_all().await.unwrap();
    assert_eq!(
        f.rejection(&app_token.access_token),
        TokenRejection::Revoked
    );
    assert!(f
        .svc
        .authenticate_client(&f.client_id, &f.secret)
        .await
        .is_err());
    assert!(load_client(&pool, &f.client_id).await.unwrap().is_none());
    assert_eq!(audit_count(&pool, "api_key.revoke").await, 1);
    let listed = list_keys(&pool, None, f.app_id).await.unwrap();
    assert!(listed.iter().all(|k| k.status == "revoked"));

    // A disabled application: every key stops.
    let fresh = issue_key(
        &pool,
        &ctx,
        None,
        f.app_id,
        KeyInput {
            scopes: vec!["flag:read".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .value;
    f.svc.reload_all().await.unwrap();
    let client = f
        .svc
        .authenticate_client(&fresh.key.id, fresh.secret.expose_secret())
        .await
        .unwrap();
    let t = f
        .svc
        .token(
            &ctx,
            &client,
            TokenRequest {
                grant_type: Some("client_credentials".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    set_application_status(&pool, &ctx, None, f.app_id, false)
        .await
        .unwrap();
    f.svc.reload_all().await.unwrap();
    assert_eq!(f.rejection(&t.access_token), TokenRejection::Revoked);
    assert!(f
        .svc
        .authenticate_client(&fresh.key.id, fresh.secret.expose_secret())
        .await
        .is_err());
    assert_eq!(audit_count(&pool, "application.disable").await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_suspended_tenant_gets_no_tokens_and_its_tokens_die(pool: PgPool) {
    let f = fixture(&pool).await;
    let app_token = f.client_credentials(None).await.unwrap();
    let user_tokens = f.user_tokens().await;
    gatehouse_domain::tenants::suspend_tenant(
        &pool,
        &RequestContext::default(),
        None,
        f.tenant.id,
        Some("unpaid invoices"),
    )
    .await
    .unwrap();
    f.svc.reload_all().await.unwrap();
    assert_eq!(
        f.rejection(&app_token.access_token),
        TokenRejection::Revoked
    );
    assert_eq!(
        f.rejection(&user_tokens.access_token),
        TokenRejection::Revoked
    );
    assert_eq!(
        refusal(f.client_credentials(None).await),
        "unauthorized_client"
    );
    assert!(f
        .refresh(user_tokens.refresh_token.as_deref().unwrap())
        .await
        .is_err());
    let caller = f.client().await;
    let answer = f
        .svc
        .introspect(&caller, &app_token.access_token)
        .await
        .unwrap();
    assert_eq!(answer["active"], false);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn introspection_and_revocation(pool: PgPool) {
    let f = fixture(&pool).await;
    let caller = f.client().await;
    let tokens = f.user_tokens().await;
    let active = f
        .svc
        .introspect(&caller, &tokens.access_token)
        .await
        .unwrap();
    assert_eq!(active["active"], true);
    assert_eq!(active["sub"], f.user.id.to_string());
    assert_eq!(active["tenant_id"], f.tenant.id.to_string());
    let refresh = tokens.refresh_token.as_deref().unwrap();
    assert_eq!(
        f.svc.introspect(&caller, refresh).await.unwrap()["active"],
        true
    );
    assert_eq!(
        f.svc.introspect(&caller, "garbage").await.unwrap()["active"],
        false
    );
    // RFC 7009: revoking the access token; then the refresh token (and its family).
    f.svc
        .revoke(&RequestContext::default(), &caller, &tokens.access_token)
        .await
        .unwrap();
    assert_eq!(
        f.svc
            .introspect(&caller, &tokens.access_token)
            .await
            .unwrap()["active"],
        false
    );
    f.svc
        .revoke(&RequestContext::default(), &caller, refresh)
        .await
        .unwrap();
    assert_eq!(
        f.svc.introspect(&caller, refresh).await.unwrap()["active"],
        false
    );
    assert!(f.refresh(refresh).await.is_err());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn rotated_keys_stay_published_until_their_tokens_expire(pool: PgPool) {
    let f = fixture(&pool).await;
    let audience = format!("{ISSUER}/api");
    let t1 = f.client_credentials(None).await.unwrap();
    let kid1 = jwt_part(&t1.access_token, 0)["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another key ring cannot open the stored private keys.
    let stranger = MasterKeys::parse(&MasterKeys::generate_text("other")).unwrap();
    assert!(gatehouse_domain::oauth::load_key_set(&pool, &stranger)
        .await
        .is_err());
    let new_kids = rotate_signing_keys(&pool, &f.master, &RequestContext::default(), "manual")
        .await
        .unwrap();
    f.svc.reload_keys().await.unwrap();
    let t2 = f.client_credentials(None).await.unwrap();
    let kid2 = jwt_part(&t2.access_token, 0)["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(kid1, kid2);
    assert!(new_kids.contains(&kid2));
    // Both verify: the retiring key stays published until its tokens have expired.
    assert!(f
        .svc
        .verify_access_token(&t1.access_token, Some(&audience))
        .is_ok());
    assert!(f
        .svc
        .verify_access_token(&t2.access_token, Some(&audience))
        .is_ok());
    let jwks: serde_json::Value = serde_json::from_slice(&f.svc.key_set().unwrap().jwks).unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids.len(),
        4,
        "two algorithms, active and retiring: {kids:?}"
    );
    assert!(kids.contains(&kid1.as_str()) && kids.contains(&kid2.as_str()));
    // Past its publication period the retiring key leaves JWKS (scheduled maintenance).
    sqlx::query("UPDATE oauth_signing_keys SET publish_until = now() - interval '1 second' WHERE status = 'retiring'")
        .execute(&pool)
        .await
        .unwrap();
    let rotated =
        gatehouse_domain::oauth::rotate_if_due(&pool, &f.master, time::Duration::days(90))
            .await
            .unwrap();
    assert!(!rotated);
    f.svc.reload_keys().await.unwrap();
    assert_eq!(
        f.svc
            .verify_access_token(&t1.access_token, Some(&audience))
            .map(|_| ()),
        Ok(()),
        "verified tokens are remembered"
    );
    let jwks: serde_json::Value = serde_json::from_slice(&f.svc.key_set().unwrap().jwks).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    assert_eq!(audit_count(&pool, "signing_key.rotate").await, 1);
}
