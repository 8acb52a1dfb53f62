//! The API contract: an OpenAPI 3.1 document generated from the handlers' `#[utoipa::path]`
//! attributes and the types' `ToSchema` derives, served at `/api/v1/openapi.json`, browsable
//! at `/api/docs` (Scalar, vendored into `public/`), and committed as `server/openapi.json`
//! so that an API change shows in review as a diff (the test below fails when it is stale;
//! `GATEHOUSE_UPDATE_OPENAPI=1 cargo test -p gatehouse-server --lib openapi` rewrites it).

use crate::api::error::ErrorBody;
use crate::api::ApiRoutes;
use crate::state::AppState;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use gatehouse_domain::apps::{ApiKey, Application};
use gatehouse_domain::flags::{EffectiveFlag, FlagChange, FlagDefinition};
use gatehouse_domain::oauth::SCOPES;
use gatehouse_domain::users::PendingInvitation;
use gatehouse_domain::webhooks::{Delivery, Endpoint};
use std::sync::LazyLock;
use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityScheme,
};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The committed copy of the document, relative to the server crate.
pub const COMMITTED: &str = "openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse API",
        description = "The REST API of the Gatehouse control plane: tenants, people, applications, \
            feature flags, usage events and the audit trail.\n\n\
            Errors share one body (`Error`): a code, a message, the request id (also in \
            `X-Request-Id`) and one detail per violated field. Lists are pages of at most 100 \
            (`limit`) with an opaque `next_cursor`. Rate-limited routes answer 429 with \
            `Retry-After` and report `X-RateLimit-Limit`, `X-RateLimit-Remaining` and \
            `X-RateLimit-Reset` on every answer.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    components(schemas(ErrorBody, crate::webhooks::WebhookEvent)),
    modifiers(&Security),
    tags(
        (name = "me", description = "Who a token belongs to"),
        (name = "tenants", description = "Tenants (operators) and a tenant's own settings"),
        (name = "users", description = "A tenant's people and invitations"),
        (name = "apps", description = "Managed applications and their API keys"),
        (name = "flags", description = "Feature flags: delivery, definitions and overrides"),
        (name = "ofrep", description = "OpenFeature Remote Evaluation Protocol"),
        (name = "audit", description = "The audit log API (API-LOG)"),
        (name = "billing", description = "Usage and billing events (API-BILL)"),
        (name = "webhooks", description = "Webhook endpoints, their deliveries, and the events stream (Standard Webhooks 1.0)"),
        (name = "oauth", description = "OAuth 2.0 and OpenID Connect"),
        (name = "meta", description = "This document, and the service's status (maintenance windows)"),
    )
)]
struct ApiDoc;

/// The security schemes: OAuth 2.0 with every scope a key may carry (client credentials
/// for applications, authorization code for people), and the same tokens as plain bearer.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut Document) {
        let scopes = || Scopes::from_iter(SCOPES.iter().map(|s| (*s, scope_description(s))));
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [
                    Flow::ClientCredentials(ClientCredentials::new("/auth/token", scopes())),
                    Flow::AuthorizationCode(AuthorizationCode::new(
                        "/authorize",
                        "/auth/token",
                        scopes(),
                    )),
                ],
                "Access tokens from `/auth/token`. An application's key uses client \
                 credentials; a person's token comes from the authorization code flow (PKCE).",
            )),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "client_secret_basic (RFC 6749 §2.3.1): the form-urlencoded client_id \
                         and client_secret. Or client_secret_post: both in the form body \
                         (never both methods).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from `/auth/token`."))
                    .build(),
            ),
        );
    }
}

fn scope_description(scope: &str) -> &'static str {
    match scope {
        "flag:read" => "read feature flags",
        "bill:write" => "report usage events",
        "bill:read" => "pull usage events and totals",
        "log:write" => "ship audit events",
        "log:read" => "read audit events",
        "users:read" => "read a tenant's people",
        "users:write" => "invite and manage a tenant's people",
        "tenants:read" => "read tenants",
        "tenants:write" => "provision and manage tenants",
        "apps:read" => "read applications",
        "apps:write" => "register and manage applications",
        "webhooks:read" => "read webhook endpoints and deliveries, follow the events stream",
        "webhooks:write" => "manage webhook endpoints, test and redeliver",
        "admin" => "everything the caller's role allows",
        "openid" => "OpenID Connect sign-in",
        "profile" => "the person's name",
        "email" => "the person's email address",
        "offline_access" => "refresh tokens",
        _ => "",
    }
}

/// Pages (SPEC §9) of the lists answered in one page: named schemas whose items are
/// references. (utoipa inlines a generic `Page<T>`'s item schema, which gave every list its
/// own copy of the item in the document and the SDKs.)
macro_rules! page {
    ($($page:ident of $item:ident),+ $(,)?) => {$(
        #[derive(ToSchema)]
        #[schema(description = concat!(
            "A page of `", stringify!($item), "`: the items, and the cursor of the next page ",
            "(`null` on the last).",
        ))]
        #[allow(dead_code, missing_docs)]
        pub struct $page {
            pub data: Vec<$item>,
            pub next_cursor: Option<String>,
        }
    )+};
}

page!(
    ApplicationPage of Application,
    ApiKeyPage of ApiKey,
    PendingInvitationPage of PendingInvitation,
    FlagDefinitionPage of FlagDefinition,
    FlagChangePage of FlagChange,
    EffectiveFlagPage of EffectiveFlag,
    EndpointPage of Endpoint,
    DeliveryPage of Delivery,
);

/// The whole document: `/api` (the bulk routes too), OFREP and the OAuth endpoints.
pub fn document() -> Document {
    let mut document = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .nest("/api", super::routes().merge(super::bulk_routes()))
        .merge(crate::flags::ofrep::routes())
        .merge(crate::oauth::routes())
        .into_openapi();
    document.webhooks = Some(crate::webhooks::openapi_webhooks());
    document
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn document_text() -> String {
    let mut text = document()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

static TEXT: LazyLock<String> = LazyLock::new(document_text);

pub(crate) fn router() -> OpenApiRouter<AppState> {
    ApiRoutes::new()
        .routes(routes!(openapi))
        .build()
        .route("/docs", get(reference))
}

/// This document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], TEXT.as_str())
}

/// `/api/docs`: the browsable reference (Scalar), served from `public/vendor/scalar/` so it
/// works offline. No inline script: Scalar reads its configuration from the tag's data
/// attributes (no telemetry, none of its hosted tools); it injects its own styles.
async fn reference() -> impl IntoResponse {
    let policy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                  img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                  frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    (
        [(header::CONTENT_SECURITY_POLICY, policy)],
        Html(
            r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse API reference</title>
</head>
<body>
<script id="api-reference" data-url="/api/v1/openapi.json"
  data-configuration='{"withDefaultFonts":false,"telemetry":false,"showDeveloperTools":"never","agent":{"disabled":true},"mcp":{"disabled":true}}'></script>
<script src="/vendor/scalar/standalone.js"></script>
</body>
</html>"#,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where an `allOf` has a branch that says only `type: object` (and a description).
    fn bare_object_branches(value: &serde_json::Value, at: &str) -> Vec<String> {
        let mut found = Vec::new();
        match value {
            serde_json::Value::Object(map) => {
                for branch in map
                    .get("allOf")
                    .and_then(|a| a.as_array())
                    .into_iter()
                    .flatten()
                {
                    let keys: Vec<&str> = branch
                        .as_object()
                        .map(|o| o.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    if branch["type"] == "object"
                        && keys.iter().all(|k| ["type", "description"].contains(k))
                    {
                        found.push(at.to_owned());
                    }
                }
                for (key, item) in map {
                    found.extend(bare_object_branches(item, &format!("{at}/{key}")));
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    found.extend(bare_object_branches(item, &format!("{at}/{i}")));
                }
            }
            _ => {}
        }
        found
    }

    /// The committed document is the generated one: an API change shows in review as a diff.
    /// Operation ids are unique (the SDKs' method names).
    #[test]
    fn committed_document_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED);
        let generated = document_text();
        if std::env::var_os("GATEHOUSE_UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in &document().paths.paths {
            let value = serde_json::to_value(item).unwrap();
            for (method, op) in value.as_object().unwrap() {
                if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                    assert!(
                        ids.insert(id.to_owned()),
                        "operationId {id} twice ({method} {path})"
                    );
                }
            }
        }
        // utoipa turns an inlined enum with a doc comment into `allOf: [enum, {type: object}]`,
        // which no value satisfies: name such enums instead of inlining them.
        let value: serde_json::Value = serde_json::from_str(&generated).unwrap();
        assert_eq!(bare_object_branches(&value, "#"), Vec::<String>::new());
        assert!(
            committed == generated,
            "server/{COMMITTED} is stale: run GATEHOUSE_UPDATE_OPENAPI=1 cargo test -p \
             gatehouse-server --lib openapi, and commit the diff"
        );
    }
}
