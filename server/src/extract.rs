//! What handlers extract from a request: its metadata ([`RequestMeta`]) and, on the API,
//! the verified bearer token.
//!
//! API authentication (SPEC §4, §9): every `/api/v1` route takes a
//! [`Bearer`], which validates the access token's signature, `exp`, `iss`, `aud` (the API
//! audience) and revocation (the in-memory denylist), and yields the caller. Missing,
//! malformed, expired or revoked → 401 ERR_AUTH with `WWW-Authenticate` (RFC 6750 §3);
//! a missing scope → 403 ERR_PERMISSION_DENIED.

use crate::api::ApiError;
use crate::middleware::RequestId;
use crate::oauth::bearer_token;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use gatehouse_domain::audit::RequestContext;
use gatehouse_domain::oauth::AccessClaims;
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::types::Role;
use std::net::SocketAddr;
use std::sync::Arc;
use uuid::Uuid;

/// The verified caller of an API request.
#[derive(Debug, Clone)]
pub struct Bearer(pub Arc<AccessClaims>);

fn unauthenticated(message: &str, error: Option<&str>) -> ApiError {
    let challenge = match error {
        Some(e) => {
            format!("Bearer realm=\"gatehouse\", error=\"{e}\", error_description=\"{message}\"")
        }
        None => "Bearer realm=\"gatehouse\"".to_owned(),
    };
    ApiError {
        www_authenticate: Some(challenge),
        ..ApiError::new(StatusCode::UNAUTHORIZED, "ERR_AUTH", message)
    }
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        bearer_from(state, &parts.headers).await
    }
}

/// The verified caller of a request's `Authorization: Bearer` header.
pub async fn bearer_from(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Bearer, ApiError> {
    let Some(token) = bearer_token(headers) else {
        crate::rate_limit::admit_unverified(state)?;
        return Err(unauthenticated(
            "an access token is required (Authorization: Bearer ...)",
            None,
        ));
    };
    let svc = state.tokens.get().await?;
    let audience = svc.settings.api_audience();
    let claims = match svc.verify_access_token(token, Some(&audience)) {
        Ok(claims) => claims,
        Err(why) => {
            crate::rate_limit::admit_unverified(state)?;
            return Err(unauthenticated(why.describe(), Some("invalid_token")));
        }
    };
    crate::rate_limit::admit_token(state, &claims)?;
    Ok(Bearer(claims))
}

impl Bearer {
    /// 403 ERR_PERMISSION_DENIED unless the token carries `scope` (or `admin`).
    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.0.has_scope(scope) || self.0.has_scope("admin") {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "ERR_PERMISSION_DENIED",
                format!("the token lacks the '{scope}' scope"),
            ))
        }
    }

    /// The person a user token acts for, with their role (checked by the domain).
    pub fn actor(&self) -> Option<Actor> {
        let user_id: Uuid = self.0.user_id()?;
        let role = self.0.roles.first().and_then(|r| Role::parse(r).ok())?;
        Some(Actor {
            user_id,
            tenant_id: self.0.tenant_id,
            role,
        })
    }

    /// An application's own token (client credentials) granted `scope`: the batch APIs
    /// (audit logs, billing events) are for applications, not for people's tokens.
    pub fn require_application_with(&self, scope: &str) -> Result<(), ApiError> {
        if self.0.user_id().is_some() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "ERR_PERMISSION_DENIED",
                "this operation needs an application's token (client credentials)",
            ));
        }
        self.require_scope(scope)
    }

    /// The signed-in person holding `permission`, through a token granted `scope` (or
    /// `admin`): a user's token is an API credential only for what the application asked
    /// for and was allowed (CON-SEC-007). Application tokens, a missing scope and other
    /// roles get 403 ERR_PERMISSION_DENIED.
    pub fn require_user_with(
        &self,
        scope: &str,
        permission: Permission,
    ) -> Result<Actor, ApiError> {
        let actor = self.actor().ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "ERR_PERMISSION_DENIED",
                "this operation needs a user's token",
            )
        })?;
        self.require_scope(scope)?;
        actor.require(permission)?;
        Ok(actor)
    }
}

/// The request's metadata: the audit context (request id, client IP, user agent) and the
/// headers.
pub struct RequestMeta {
    pub ctx: RequestContext,
    pub headers: HeaderMap,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ctx = RequestContext {
            request_id: parts
                .extensions
                .get::<RequestId>()
                .map(|id| id.as_str().to_owned()),
            // The resolved client (behind trusted proxies, the forwarded one); the peer
            // when served with connect info only (unit tests).
            ip: parts
                .extensions
                .get::<gatehouse_app::auth::ssr::ClientIp>()
                .map(|c| c.0)
                .or_else(|| {
                    parts
                        .extensions
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|ConnectInfo(addr)| addr.ip())
                }),
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        Ok(Self {
            ctx,
            headers: parts.headers.clone(),
        })
    }
}
