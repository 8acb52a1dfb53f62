//! The authorization endpoint's side of the token service: an authorization request is
//! validated (client, redirect URI, PKCE S256, scopes, prompt), the signed-in user is checked
//! against the application's tenants, and a single-use code is issued.

use super::*;

/// A validated authorization request, ready for a code once the user is known.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Arc<Client>,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Option<String>,
    /// The tenant asked for (`organization=acme`).
    pub organization: Option<String>,
}
/// Why an authorization request fails: before the redirect URI is trusted the user sees
/// an error page; after, the error goes back to the client (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    Page(String),
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}
/// The signed-in user an authorization code is issued to.
#[derive(Debug, Clone)]
pub struct AuthorizingUser {
    pub user_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub session_id: Uuid,
}
impl TokenService {
    /// Validates an authorization request (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2.1).
    pub async fn authorization_request(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let client_id = get("client_id")
            .ok_or_else(|| AuthorizeError::Page("the request names no client_id".into()))?;
        let client = self
            .client(client_id)
            .await
            .map_err(|_| AuthorizeError::Page("the service is unavailable; try again".into()))?
            .ok_or_else(|| {
                AuthorizeError::Page("the application is unknown or no longer active".into())
            })?;
        let redirect_uri = get("redirect_uri")
            .ok_or_else(|| AuthorizeError::Page("the request names no redirect_uri".into()))?;
        if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
            return Err(AuthorizeError::Page(
                "the redirect_uri is not registered for this application".into(),
            ));
        }
        let state = get("state").map(str::to_owned);
        let fail = |error: OAuthError| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            state: state.clone(),
            error,
        };
        if get("response_type") != Some("code") {
            return Err(fail(OAuthError::new(
                OAuthErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            )));
        }
        if !client.allows_grant("authorization_code") {
            return Err(fail(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "this application may not use the authorization code grant",
            )));
        }
        if get("request").is_some() || get("request_uri").is_some() {
            return Err(fail(OAuthError::new(
                OAuthErrorCode::RequestNotSupported,
                "request objects are not supported",
            )));
        }
        let challenge = get("code_challenge").ok_or_else(|| {
            fail(OAuthError::invalid_request(
                "PKCE is required: code_challenge is missing",
            ))
        })?;
        match get("code_challenge_method") {
            Some("S256") => {}
            Some("plain") | None => {
                return Err(fail(OAuthError::invalid_request(
                    "code_challenge_method must be S256",
                )))
            }
            Some(_) => {
                return Err(fail(OAuthError::invalid_request(
                    "unknown code_challenge_method",
                )))
            }
        }
        if challenge.len() != 43
            || !challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(fail(OAuthError::invalid_request(
                "code_challenge must be a base64url SHA-256 (43 characters)",
            )));
        }
        let requested = get("scope").unwrap_or("openid");
        let scopes = scope_list(requested);
        if let Some(bad) = scopes
            .iter()
            .find(|s| !client.scopes.iter().any(|c| c == *s))
        {
            return Err(fail(OAuthError::new(
                OAuthErrorCode::InvalidScope,
                format!("the scope '{bad}' is not allowed for this application"),
            )));
        }
        let prompt = get("prompt").map(str::to_owned);
        if prompt
            .as_deref()
            .is_some_and(|p| !["none", "login", "consent", "select_account"].contains(&p))
        {
            return Err(fail(OAuthError::invalid_request("unknown prompt value")));
        }
        let nonce = get("nonce").map(str::to_owned);
        if nonce.as_ref().is_some_and(|n| n.len() > 512)
            || state.as_ref().is_some_and(|s| s.len() > 2048)
        {
            return Err(fail(OAuthError::invalid_request(
                "nonce or state is too long",
            )));
        }
        Ok(AuthorizationRequest {
            redirect_uri: redirect_uri.to_owned(),
            scope: scopes.join(" "),
            state: state.clone(),
            nonce,
            code_challenge: challenge.to_owned(),
            prompt,
            organization: get("organization").map(|o| o.to_ascii_lowercase()),
            client,
        })
    }
    /// Whether `user` may be given a code for `req`: its tenant must be the one asked
    /// for, and one the application may act for. Returns the error to send back.
    pub async fn check_authorizing_user(
        &self,
        req: &AuthorizationRequest,
        user: &AuthorizingUser,
    ) -> Result<(), OAuthError> {
        let tenant_domain: Option<String> = match user.tenant_id {
            Some(id) => {
                sqlx::query_scalar("SELECT domain FROM tenants WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
            }
            None => None,
        };
        if let Some(org) = &req.organization {
            if tenant_domain.as_deref() != Some(org.as_str()) {
                return Err(OAuthError::new(
                    OAuthErrorCode::AccessDenied,
                    "the signed-in account does not belong to the requested organization",
                ));
            }
        }
        if !req.client.admits_tenant(user.tenant_id) {
            return Err(OAuthError::new(
                OAuthErrorCode::AccessDenied,
                "this application is not enabled for your organization",
            ));
        }
        Ok(())
    }
    /// Issues a single-use code (60 s) and returns the redirect to the client, with `iss`
    /// (RFC 9207).
    pub async fn issue_code(
        &self,
        req: &AuthorizationRequest,
        user: &AuthorizingUser,
    ) -> Result<String, OAuthError> {
        let code = random_token();
        sqlx::query(
            "INSERT INTO oauth_authorization_codes
                 (code_hash, application_id, client_id, user_id, tenant_id, session_id, redirect_uri,
                  scope, nonce, code_challenge, expires_at, auth_time)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + $11, s.created_at
               FROM sessions s WHERE s.id = $6",
        )
        .bind(token_hash(&code))
        .bind(req.client.application_id)
        .bind(&req.client.client_id)
        .bind(user.user_id)
        .bind(user.tenant_id)
        .bind(user.session_id)
        .bind(&req.redirect_uri)
        .bind(&req.scope)
        .bind(req.nonce.as_deref())
        .bind(&req.code_challenge)
        .bind(CODE_TTL)
        .execute(&self.pool)
        .await?;
        let mut url = url::Url::parse(&req.redirect_uri)
            .map_err(|_| OAuthError::invalid_request("the redirect_uri is invalid"))?;
        url.query_pairs_mut()
            .append_pair("code", &code)
            .extend_pairs(req.state.as_deref().map(|s| ("state", s)))
            .append_pair("iss", &self.settings.issuer);
        Ok(url.into())
    }
}
