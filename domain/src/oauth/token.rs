//! The token endpoint (RFC 6749 §4.1.3, §4.4, §6): the authorization code with PKCE, client
//! credentials and refresh grants.

use super::*;

/// A successful token response (RFC 6749 §5.1), answered with `Cache-Control: no-store`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The access token: a JWT (`typ: at+jwt`, RFC 9068) with the claims `iss sub aud exp
    /// iat jti scope tenant_id roles client_id`, verifiable with the JWKS.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String, examples("Bearer"))]
    pub token_type: &'static str,
    /// Seconds until the access token expires (at most 3600).
    pub expires_in: i64,
    /// The space-separated scopes granted.
    pub scope: String,
    /// Present when the application may use the `refresh_token` grant (person tokens
    /// only): opaque, single use, valid 30 days.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
    /// Present when `openid` was granted: an ID token (OpenID Connect Core §2), RS256.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub id_token: Option<String>,
}
/// The body of a token request (form fields; client credentials are separate).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    /// client_credentials: the tenant (domain) to act for.
    pub tenant: Option<String>,
}
#[derive(sqlx::FromRow)]
pub(super) struct CodeRow {
    pub(super) client_id: String,
    pub(super) user_id: Uuid,
    pub(super) tenant_id: Option<Uuid>,
    pub(super) session_id: Option<Uuid>,
    pub(super) redirect_uri: String,
    pub(super) scope: String,
    pub(super) nonce: Option<String>,
    pub(super) code_challenge: String,
    pub(super) expired: bool,
    pub(super) used: bool,
    pub(super) issued_access_jti: Option<Uuid>,
    pub(super) issued_access_expires_at: Option<OffsetDateTime>,
    pub(super) issued_family_id: Option<Uuid>,
    pub(super) auth_time: OffsetDateTime,
}
#[derive(sqlx::FromRow)]
pub(super) struct RefreshRow {
    pub(super) id: Uuid,
    pub(super) family_id: Uuid,
    pub(super) client_id: String,
    pub(super) user_id: Uuid,
    pub(super) tenant_id: Option<Uuid>,
    pub(super) session_id: Option<Uuid>,
    pub(super) scope: String,
    pub(super) auth_time: Option<OffsetDateTime>,
    pub(super) expired: bool,
    pub(super) used: bool,
    pub(super) revoked: bool,
}
#[derive(sqlx::FromRow)]
pub(super) struct LiveRefresh {
    pub(super) application_id: Uuid,
    pub(super) client_id: String,
    pub(super) user_id: Uuid,
    pub(super) tenant_id: Option<Uuid>,
    pub(super) scope: String,
    pub(super) expires_at: OffsetDateTime,
    pub(super) created_at: OffsetDateTime,
}
#[derive(sqlx::FromRow)]
pub(super) struct GrantRow {
    pub(super) tenant_id: Option<Uuid>,
    pub(super) role: String,
    pub(super) email: String,
    pub(super) email_verified: bool,
    pub(super) name: Option<String>,
}
/// What a user grant needs to know about the user, read when tokens are minted.
pub(super) struct UserGrant {
    pub(super) user_id: Uuid,
    pub(super) tenant_id: Option<Uuid>,
    pub(super) session_id: Option<Uuid>,
    pub(super) role: String,
    pub(super) email: String,
    pub(super) email_verified: bool,
    pub(super) name: Option<String>,
    pub(super) scope: String,
    pub(super) auth_time: OffsetDateTime,
}
/// The user, if they may still receive tokens: active, in an active tenant.
pub(super) async fn load_user_grant(
    conn: &mut PgConnection,
    user_id: Uuid,
    scope: &str,
    session_id: Option<Uuid>,
    auth_time: OffsetDateTime,
) -> Result<Option<UserGrant>, DomainError> {
    let row: Option<GrantRow> = sqlx::query_as(
        "SELECT u.tenant_id, u.role, u.email, u.email_verified_at IS NOT NULL AS email_verified, u.name
           FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id
          WHERE u.id = $1 AND u.status = 'active' AND coalesce(t.status, 'active') = 'active'",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| UserGrant {
        user_id,
        tenant_id: r.tenant_id,
        session_id,
        role: r.role,
        email: r.email,
        email_verified: r.email_verified,
        name: r.name,
        scope: scope.to_owned(),
        auth_time,
    }))
}
impl TokenService {
    pub async fn token(
        &self,
        ctx: &RequestContext,
        client: &Client,
        req: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let grant = req.grant_type.as_deref().map(str::trim).unwrap_or_default();
        if !["authorization_code", "client_credentials", "refresh_token"].contains(&grant) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "grant_type must be authorization_code, client_credentials or refresh_token",
            ));
        }
        if !client.allows_grant(grant) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                format!("this application may not use the {grant} grant"),
            ));
        }
        match grant {
            "client_credentials" => self.client_credentials(client, &req),
            "authorization_code" => self.exchange_code(ctx, client, &req).await,
            _ => self.refresh(ctx, client, &req).await,
        }
    }
    pub(super) fn client_credentials(
        &self,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let api_scopes: Vec<&str> = client
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| !OIDC_SCOPES.contains(s))
            .collect();
        let scopes = match req
            .scope
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => api_scopes,
            Some(raw) => {
                let asked = scope_list(raw);
                if let Some(bad) = asked.iter().find(|s| !api_scopes.contains(s)) {
                    return Err(OAuthError::new(
                        OAuthErrorCode::InvalidScope,
                        format!("the scope '{bad}' is not granted to this key"),
                    ));
                }
                asked
            }
        };
        let asked_tenant = req
            .tenant
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let tenant_id = match (client.key_tenant_id, asked_tenant) {
            (Some(bound), None) => Some(bound),
            (Some(bound), Some(domain)) => {
                let named = client
                    .tenants
                    .iter()
                    .find(|(_, d)| d == domain)
                    .map(|t| t.0);
                if named != Some(bound) {
                    return Err(OAuthError::invalid_request(
                        "this key is bound to another tenant",
                    ));
                }
                Some(bound)
            }
            (None, Some(domain)) => Some(
                client
                    .tenants
                    .iter()
                    .find(|(_, d)| d.eq_ignore_ascii_case(domain))
                    .map(|t| t.0)
                    .ok_or_else(|| {
                        OAuthError::invalid_request(
                            "the application is not enabled for that tenant",
                        )
                    })?,
            ),
            (None, None) => match client.tenants.as_slice() {
                [(only, _)] => Some(*only),
                _ => None,
            },
        };
        // The tenant (a key's bound one included) must still be enabled for the
        // application; an application with no tenants admits nobody unless it is marked
        // for all tenants. A tenantless token of an application with several tenants names
        // one per request, checked against its tenants then.
        let admitted = match tenant_id {
            Some(_) => client.admits_tenant(tenant_id),
            None => client.all_tenants || !client.tenants.is_empty(),
        };
        if !admitted {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                match tenant_id {
                    Some(_) => "the application is no longer enabled for that tenant",
                    None => "the application is not enabled for any tenant; name one with 'tenant'",
                },
            ));
        }
        if tenant_id.is_some_and(|t| self.tenant_suspended(t)) {
            return Err(OAuthError::new(
                OAuthErrorCode::UnauthorizedClient,
                "the tenant is suspended",
            ));
        }
        let issued = now();
        let mut exp = issued + ACCESS_TOKEN_TTL;
        if let Some(key_exp) = client.expires_at {
            exp = exp.min(key_exp);
        }
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: client.client_id.clone(),
            aud: vec![self.settings.api_audience()],
            exp: exp.unix_timestamp(),
            iat: issued.unix_timestamp(),
            jti: Uuid::new_v4(),
            scope: scopes.join(" "),
            tenant_id,
            roles: Vec::new(),
            client_id: client.client_id.clone(),
            application_id: client.application_id,
            sid: None,
        };
        Ok(TokenResponse {
            access_token: self.mint_access_token(&claims)?,
            token_type: "Bearer",
            expires_in: claims.exp - claims.iat,
            scope: claims.scope,
            refresh_token: None,
            id_token: None,
        })
    }
    /// Mints the tokens of a user grant: access token, ID token when `openid` was granted,
    /// and a refresh token (stored in the caller's transaction) when the client may refresh.
    pub(super) async fn user_tokens(
        &self,
        conn: &mut PgConnection,
        client: &Client,
        grant: &UserGrant,
        nonce: Option<&str>,
        family: Option<(Uuid, Uuid)>,
    ) -> Result<(TokenResponse, Uuid, Option<Uuid>), OAuthError> {
        let issued = now();
        // Gatehouse's own API accepts a user's token only when the application was granted
        // one of its scopes; a sign-in alone (openid, profile, ...) is no API credential.
        let api_scoped = scope_list(&grant.scope)
            .iter()
            .any(|s| !OIDC_SCOPES.contains(s));
        let aud = if api_scoped {
            vec![self.settings.api_audience(), client.client_id.clone()]
        } else {
            vec![client.client_id.clone()]
        };
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            sub: grant.user_id.to_string(),
            aud,
            exp: (issued + ACCESS_TOKEN_TTL).unix_timestamp(),
            iat: issued.unix_timestamp(),
            jti: Uuid::new_v4(),
            scope: grant.scope.clone(),
            tenant_id: grant.tenant_id,
            roles: vec![grant.role.clone()],
            client_id: client.client_id.clone(),
            application_id: client.application_id,
            sid: grant.session_id,
        };
        let access_token = self.mint_access_token(&claims)?;
        let scopes = scope_list(&grant.scope);
        let id_token = if scopes.contains(&"openid") {
            let hash = Sha256::digest(access_token.as_bytes());
            let mut id = json!({
                "iss": self.settings.issuer,
                "sub": claims.sub,
                "aud": client.client_id,
                "exp": (issued + ID_TOKEN_TTL).unix_timestamp(),
                "iat": claims.iat,
                "auth_time": grant.auth_time.unix_timestamp(),
                "at_hash": URL_SAFE_NO_PAD.encode(&hash[..16]),
                "tenant_id": grant.tenant_id,
                "roles": claims.roles,
            });
            if let Some(sid) = grant.session_id {
                id["sid"] = json!(sid);
            }
            if let Some(n) = nonce {
                id["nonce"] = json!(n);
            }
            if scopes.contains(&"email") {
                id["email"] = json!(grant.email);
                id["email_verified"] = json!(grant.email_verified);
            }
            if scopes.contains(&"profile") {
                id["name"] = json!(grant.name);
            }
            Some(self.sign(SigningAlg::Rs256, "JWT", &id)?)
        } else {
            None
        };
        let (refresh_token, family_id) = if client.allows_grant("refresh_token") {
            let token = random_token();
            let (family_id, parent) = match family {
                Some((family, parent)) => (family, Some(parent)),
                None => (Uuid::now_v7(), None),
            };
            sqlx::query(
                "INSERT INTO oauth_refresh_tokens
                     (token_hash, family_id, parent_id, application_id, client_id, user_id, tenant_id,
                      session_id, scope, expires_at, access_jti, access_expires_at, auth_time)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + $10, $11, to_timestamp($12), $13)",
            )
            .bind(token_hash(&token))
            .bind(family_id)
            .bind(parent)
            .bind(client.application_id)
            .bind(&client.client_id)
            .bind(grant.user_id)
            .bind(grant.tenant_id)
            .bind(grant.session_id)
            .bind(&grant.scope)
            .bind(REFRESH_TOKEN_TTL)
            .bind(claims.jti)
            .bind(claims.exp as f64)
            .bind(grant.auth_time)
            .execute(&mut *conn)
            .await?;
            (Some(token), Some(family_id))
        } else {
            (None, None)
        };
        let response = TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: claims.exp - claims.iat,
            scope: claims.scope,
            refresh_token,
            id_token,
        };
        Ok((response, claims.jti, family_id))
    }
    pub(super) async fn exchange_code(
        &self,
        ctx: &RequestContext,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let code = req
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
        let verifier = req
            .code_verifier
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
        let mut tx = self.pool.begin().await?;
        let row: Option<CodeRow> = sqlx::query_as(
            "SELECT c.client_id, c.user_id, c.tenant_id, c.session_id, c.redirect_uri, c.scope,
                    c.nonce, c.code_challenge, c.expires_at <= now() AS expired, c.used_at IS NOT NULL AS used,
                    c.issued_access_jti, c.issued_access_expires_at, c.issued_family_id, c.auth_time
               FROM oauth_authorization_codes c WHERE c.code_hash = $1 FOR UPDATE",
        )
        .bind(token_hash(code))
        .fetch_optional(&mut *tx)
        .await?;
        let invalid =
            || OAuthError::invalid_grant("the authorization code is invalid, expired or used");
        let Some(row) = row else {
            return Err(invalid());
        };
        if row.used {
            // RFC 6749 §4.1.2: a replayed code revokes the tokens it issued.
            if let Some(family) = row.issued_family_id {
                revoke_family(&mut tx, family).await?;
            }
            if let (Some(jti), Some(exp)) = (row.issued_access_jti, row.issued_access_expires_at) {
                revoke_access_tokens(&mut tx, &[(jti, exp)]).await?;
            }
            append_audit_entry(
                &mut tx,
                ctx,
                AuditEntry::new("oauth.code.replayed")
                    .tenant(row.tenant_id)
                    .actor(ActorType::Application, None)
                    .resource(format!("user:{}", row.user_id))
                    .meta("client_id", client.client_id.clone())
                    .failure(),
            )
            .await?;
            tx.commit().await?;
            return Err(invalid());
        }
        sqlx::query("UPDATE oauth_authorization_codes SET used_at = now() WHERE code_hash = $1")
            .bind(token_hash(code))
            .execute(&mut *tx)
            .await?;
        if row.expired || row.client_id != client.client_id {
            tx.commit().await?;
            return Err(invalid());
        }
        if req.redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
            tx.commit().await?;
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        if sha256_b64(verifier.as_bytes()) != row.code_challenge {
            tx.commit().await?;
            return Err(OAuthError::invalid_grant(
                "the PKCE code_verifier does not match",
            ));
        }
        let grant = match load_user_grant(
            &mut tx,
            row.user_id,
            &row.scope,
            row.session_id,
            row.auth_time,
        )
        .await?
        {
            Some(g) => g,
            None => {
                tx.commit().await?;
                return Err(OAuthError::invalid_grant(
                    "the account can no longer sign in",
                ));
            }
        };
        let (response, jti, family) = self
            .user_tokens(&mut tx, client, &grant, row.nonce.as_deref(), None)
            .await?;
        sqlx::query(
            "UPDATE oauth_authorization_codes
                SET issued_access_jti = $2, issued_access_expires_at = now() + $3, issued_family_id = $4
              WHERE code_hash = $1",
        )
        .bind(token_hash(code))
        .bind(jti)
        .bind(ACCESS_TOKEN_TTL)
        .bind(family)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(response)
    }
    pub(super) async fn refresh(
        &self,
        ctx: &RequestContext,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = req
            .refresh_token
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
        let invalid =
            || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let mut tx = self.pool.begin().await?;
        let row: Option<RefreshRow> = sqlx::query_as(
            "SELECT id, family_id, client_id, user_id, tenant_id, session_id, scope, auth_time,
                    expires_at <= now() AS expired, used_at IS NOT NULL AS used, revoked_at IS NOT NULL AS revoked
               FROM oauth_refresh_tokens WHERE token_hash = $1 FOR UPDATE",
        )
        .bind(token_hash(presented))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(invalid());
        };
        if row.client_id != client.client_id {
            return Err(invalid());
        }
        if row.used && !row.revoked {
            // Reuse detection: someone holds a copy. The whole family dies.
            let count = revoke_family(&mut tx, row.family_id).await?;
            append_audit_entry(
                &mut tx,
                ctx,
                AuditEntry::new("oauth.refresh_token.reuse")
                    .tenant(row.tenant_id)
                    .actor(ActorType::Application, None)
                    .resource(format!("user:{}", row.user_id))
                    .meta("client_id", client.client_id.clone())
                    .meta("family", row.family_id.to_string())
                    .meta("revoked_count", count)
                    .failure(),
            )
            .await?;
            tx.commit().await?;
            return Err(invalid());
        }
        if row.used || row.revoked || row.expired {
            return Err(invalid());
        }
        let scope = match req
            .scope
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => row.scope.clone(),
            Some(raw) => {
                let granted = scope_list(&row.scope);
                let asked = scope_list(raw);
                if let Some(bad) = asked.iter().find(|s| !granted.contains(s)) {
                    return Err(OAuthError::new(
                        OAuthErrorCode::InvalidScope,
                        format!("the scope '{bad}' was not granted"),
                    ));
                }
                asked.join(" ")
            }
        };
        sqlx::query("UPDATE oauth_refresh_tokens SET used_at = now() WHERE id = $1")
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        let auth_time = row.auth_time.unwrap_or_else(now);
        let Some(grant) =
            load_user_grant(&mut tx, row.user_id, &scope, row.session_id, auth_time).await?
        else {
            revoke_family(&mut tx, row.family_id).await?;
            tx.commit().await?;
            return Err(OAuthError::invalid_grant(
                "the account can no longer sign in",
            ));
        };
        let (response, _, _) = self
            .user_tokens(&mut tx, client, &grant, None, Some((row.family_id, row.id)))
            .await?;
        tx.commit().await?;
        Ok(response)
    }
}
