//! What resource servers and relying parties ask of a token: introspection (RFC 7662),
//! revocation (RFC 7009), userinfo (OIDC Core §5.3) and an ID token hint at logout.

use super::*;

impl TokenService {
    /// RFC 7662. Answers `{"active": false}` for anything not live, or not the caller's
    /// business: a token of another application is shown only to a client of an
    /// application acting for the token's tenant, or holding the `admin` scope.
    pub async fn introspect(&self, caller: &Client, token: &str) -> Result<Value, OAuthError> {
        let inactive = json!({"active": false});
        if token.matches('.').count() == 2 {
            let Ok(claims) = self.verify_access_token(token, None) else {
                return Ok(inactive);
            };
            if !self.may_see(caller, claims.application_id, claims.tenant_id) {
                return Ok(inactive);
            }
            let mut out = json!({
                "active": true,
                "token_type": "Bearer",
                "scope": claims.scope,
                "client_id": claims.client_id,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
                "tenant_id": claims.tenant_id,
                "roles": claims.roles,
            });
            if claims.user_id().is_some() {
                out["username"] = Value::Null;
            }
            return Ok(out);
        }
        let row: Option<LiveRefresh> = sqlx::query_as(
                "SELECT r.application_id, r.client_id, r.user_id, r.tenant_id, r.scope, r.expires_at, r.created_at
                   FROM oauth_refresh_tokens r
                   JOIN users u ON u.id = r.user_id AND u.status = 'active'
                   LEFT JOIN tenants t ON t.id = r.tenant_id
                  WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.revoked_at IS NULL
                    AND r.expires_at > now() AND coalesce(t.status, 'active') = 'active'",
            )
            .bind(token_hash(token))
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) if self.may_see(caller, r.application_id, r.tenant_id) => Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": r.scope,
                "client_id": r.client_id,
                "sub": r.user_id,
                "exp": r.expires_at.unix_timestamp(),
                "iat": r.created_at.unix_timestamp(),
                "iss": self.settings.issuer,
                "tenant_id": r.tenant_id,
            })),
            _ => Ok(inactive),
        }
    }
    pub(super) fn may_see(
        &self,
        caller: &Client,
        application_id: Uuid,
        tenant_id: Option<Uuid>,
    ) -> bool {
        caller.application_id == application_id
            || caller.scopes.iter().any(|s| s == "admin")
            || tenant_id.is_some_and(|t| caller.tenants.iter().any(|(id, _)| *id == t))
    }
    /// RFC 7009: revokes an access token (by id) or a refresh token (with its family).
    /// Tokens of another client are left alone; the answer is the same either way.
    pub async fn revoke(
        &self,
        ctx: &RequestContext,
        caller: &Client,
        token: &str,
    ) -> Result<(), OAuthError> {
        let mut tx = self.pool.begin().await?;
        if token.matches('.').count() == 2 {
            if let Ok(claims) = self.decode_access_token(token) {
                if claims.client_id == caller.client_id {
                    let exp = OffsetDateTime::from_unix_timestamp(claims.exp)
                        .unwrap_or_else(|_| now() + ACCESS_TOKEN_TTL);
                    revoke_access_tokens(&mut tx, &[(claims.jti, exp)]).await?;
                    if let Ok(mut d) = self.denylist.write() {
                        d.apply(&format!("jti {} {}", claims.jti, claims.exp));
                    }
                }
            }
        } else {
            let family: Option<(Uuid, Option<Uuid>, Uuid)> = sqlx::query_as(
                "SELECT family_id, tenant_id, user_id FROM oauth_refresh_tokens
                  WHERE token_hash = $1 AND client_id = $2",
            )
            .bind(token_hash(token))
            .bind(&caller.client_id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((family, tenant, user)) = family {
                let count = revoke_family(&mut tx, family).await?;
                if count > 0 {
                    append_audit_entry(
                        &mut tx,
                        ctx,
                        AuditEntry::new("oauth.refresh_token.revoked")
                            .tenant(tenant)
                            .actor(ActorType::Application, None)
                            .resource(format!("user:{user}"))
                            .meta("client_id", caller.client_id.clone())
                            .meta("revoked_count", count),
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
    /// OIDC Core §5.3: the claims about the user an access token with `openid` stands for.
    pub async fn userinfo(&self, claims: &AccessClaims) -> Result<Option<Value>, DomainError> {
        let Some(user_id) = claims.user_id() else {
            return Ok(None);
        };
        if !claims.has_scope("openid") {
            return Ok(None);
        }
        let mut conn = self.pool.acquire().await?;
        let Some(grant) = load_user_grant(&mut conn, user_id, &claims.scope, None, now()).await?
        else {
            return Ok(None);
        };
        let mut out =
            json!({"sub": claims.sub, "tenant_id": grant.tenant_id, "roles": [grant.role]});
        if claims.has_scope("email") {
            out["email"] = json!(grant.email);
            out["email_verified"] = json!(grant.email_verified);
        }
        if claims.has_scope("profile") {
            out["name"] = json!(grant.name);
        }
        Ok(Some(out))
    }
    /// Verifies an ID token this service issued (for `id_token_hint` at logout); expiry
    /// is not checked (OIDC RP-initiated logout §2).
    pub fn id_token_hint(&self, token: &str) -> Option<IdTokenHint> {
        let header = decode_header(token).ok()?;
        let keys = self.key_set().ok()?;
        let (alg, key) = keys.verifier(header.kid.as_deref()?)?;
        let mut validation = Validation::new(*alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_required_spec_claims(&["iss", "aud"]);
        let claims = decode::<Value>(token, key, &validation).ok()?.claims;
        let aud = claims.get("aud")?.as_str()?.to_owned();
        let sid = claims
            .get("sid")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok());
        let sub = claims.get("sub")?.as_str()?.parse().ok()?;
        Some(IdTokenHint {
            client_id: aud,
            user_id: sub,
            session_id: sid,
        })
    }
}
/// What a verified `id_token_hint` says: which application it was issued to, for whom
/// and in which session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    pub client_id: String,
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
}
impl IdTokenHint {
    /// Whether the hint names the person and session being signed out: only then does it
    /// stand for their wish to sign out (an attacker's own ID token must not end a
    /// victim's session without asking).
    pub fn matches(&self, user_id: Uuid, session_id: Uuid) -> bool {
        self.user_id == user_id && self.session_id.is_none_or(|sid| sid == session_id)
    }
}
