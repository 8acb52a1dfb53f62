//! `/api/v1/webhooks` (SPEC §9; Standard Webhooks 1.0): a tenant's owners and admins manage
//! their tenant's endpoints; operators the platform's (every tenant's events), or a
//! tenant's they name with `?tenant=domain`. Another owner's endpoint is 404. The catalog
//! is at `/api/v1/webhooks/event-types` and in the document's `webhooks` section.

use crate::api::error::{ErrorBody, Refusals};
use crate::api::openapi::{DeliveryPage, EndpointPage};
use crate::api::tenants::{id_of, page_limit};
use crate::api::{ApiError, ApiJson, ApiRoutes};
use crate::extract::{Bearer, RequestMeta};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use gatehouse_domain::audit::{EventType, SubscribableEventType};
use gatehouse_domain::permissions::{Actor, Permission};
use gatehouse_domain::webhooks::{
    self, Delivery, DeliveryDetail, DeliveryStatus, Endpoint, EndpointChanges, EndpointWithSecret,
    NewEndpoint, Owner,
};
use gatehouse_domain::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    ApiRoutes::new()
        .routes(routes!(event_types))
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(rotate_secret))
        .routes(routes!(send_test))
        .routes(routes!(deliveries))
        .routes(routes!(delivery))
        .routes(routes!(redeliver))
        .routes(routes!(crate::webhooks::stream::stream))
        .build()
}

/// Who manages which endpoints: the token's person, through `scope`, and the owner of
/// the endpoints they act on.
pub(crate) async fn owner(
    state: &AppState,
    bearer: &Bearer,
    scope: &str,
    tenant: Option<&str>,
) -> Result<(Actor, Owner), ApiError> {
    let actor = bearer.require_user_with(scope, Permission::AccountManageSelf)?;
    // The role is checked before a named tenant is looked up.
    let own = Owner::of(&actor, None)?;
    let asked = tenant.map(str::trim).filter(|t| !t.is_empty());
    let owner = match asked {
        None => own,
        Some(_) => Owner::of(
            &actor,
            Some(crate::api::users::tenant_of(state, &actor, asked).await?),
        )?,
    };
    Ok((actor, owner))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TenantParam {
    /// Operators: a tenant's domain, for that tenant's endpoints (without it, the
    /// platform's). Others act on their own tenant.
    tenant: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Operators: a tenant's domain, for that tenant's endpoints.
    tenant: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1-100 (25).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// Path parameter of one endpoint.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct EndpointId {
    /// The endpoint's id.
    id: Uuid,
}

/// Path parameters of one delivery.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct DeliveryId {
    /// The endpoint's id.
    id: Uuid,
    /// The delivery's id.
    delivery_id: Uuid,
}

/// One type of the catalog.
#[derive(Serialize, ToSchema)]
struct EventTypeInfo {
    #[schema(value_type = EventType)]
    name: &'static str,
    description: &'static str,
    /// Whether an endpoint can subscribe to it (`webhook.test` goes to the endpoint tested).
    subscribable: bool,
}

/// The event catalog.
///
/// Every type an endpoint can subscribe to, and the test event. Each event's body is
/// documented in the `webhooks` section of this document.
#[utoipa::path(
    get,
    path = "/v1/webhooks/event-types",
    operation_id = "list_webhook_event_types",
    tag = "webhooks",
    responses(
        Refusals,
        (status = 200, description = "The catalog", body = Vec<EventTypeInfo>),
    ),
    security(("oauth2" = []), ("bearer" = []))
)]
async fn event_types(_bearer: Bearer) -> Json<Vec<EventTypeInfo>> {
    Json(
        EventType::ALL
            .iter()
            .map(|t| EventTypeInfo {
                name: t.as_str(),
                description: t.description(),
                subscribable: *t != EventType::WebhookTest,
            })
            .collect(),
    )
}

/// List endpoints.
///
/// Oldest first, in cursor pages. Secrets are never listed.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    operation_id = "list_webhooks",
    tag = "webhooks",
    params(ListQuery),
    responses(
        Refusals,
        (status = 200, description = "A page of endpoints", body = EndpointPage),
        (status = 403, description = "The token lacks `webhooks:read`, or the role may not manage webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant (or not the caller's)", body = ErrorBody),
        (status = 422, description = "Every invalid parameter named", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:read"]))
)]
async fn list(
    State(state): State<AppState>,
    bearer: Bearer,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let limit = page_limit(q.limit.as_deref())?;
    let (_, owner) = owner(&state, &bearer, "webhooks:read", q.tenant.as_deref()).await?;
    let cursor = q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty());
    Ok(Json(
        webhooks::list_endpoints(&state.pool, owner, limit, cursor).await?,
    ))
}

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewWebhook)]
struct CreateBody {
    /// Where events are POSTed: https (plain http only to loopback in development). Private,
    /// loopback and link-local addresses are refused, also after DNS resolution.
    #[schema(format = "uri", max_length = 2000)]
    url: String,
    #[schema(max_length = 500)]
    description: Option<String>,
    /// The event types to receive (1 to 50).
    #[schema(value_type = Vec<SubscribableEventType>, min_items = 1, max_items = 50)]
    event_types: Vec<String>,
    /// At most this many messages a second (1-1000, default 20).
    #[schema(minimum = 1, maximum = 1000)]
    rate_limit_per_second: Option<i32>,
}

/// Register an endpoint.
///
/// The answer carries the `whsec_` signing secret: it is shown only now. Every message is
/// signed as Standard Webhooks 1.0 says (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`), so any of its libraries verifies it.
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    operation_id = "create_webhook",
    tag = "webhooks",
    params(TenantParam),
    request_body = CreateBody,
    responses(
        Refusals,
        (status = 201, description = "The endpoint, with its secret (shown once)", body = EndpointWithSecret,
            links(
                ("GetWebhook" = (operation_id = "get_webhook", parameters(("id" = "$response.body#/id")))),
                ("UpdateWebhook" = (operation_id = "update_webhook", parameters(("id" = "$response.body#/id")))),
                ("ListWebhookDeliveries" = (operation_id = "list_webhook_deliveries", parameters(("id" = "$response.body#/id")))),
                ("SendWebhookTest" = (operation_id = "send_webhook_test", parameters(("id" = "$response.body#/id")))),
                ("RotateWebhookSecret" = (operation_id = "rotate_webhook_secret", parameters(("id" = "$response.body#/id")))),
                ("DeleteWebhook" = (operation_id = "delete_webhook", parameters(("id" = "$response.body#/id"))))
            )),
        (status = 403, description = "The token lacks `webhooks:write`, or the role may not manage webhooks", body = ErrorBody),
        (status = 404, description = "No such tenant (or not the caller's)", body = ErrorBody),
        (status = 409, description = "The owner has the most endpoints allowed (50)", body = ErrorBody),
        (status = 422, description = "Every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:write"]))
)]
async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    bearer: Bearer,
    Query(q): Query<TenantParam>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (actor, owner) = owner(&state, &bearer, "webhooks:write", q.tenant.as_deref()).await?;
    let created = state
        .services
        .apply(
            webhooks::create_endpoint(
                &state.pool,
                &state.keys,
                &meta.ctx,
                &actor,
                owner,
                NewEndpoint {
                    url: body.url,
                    description: body.description,
                    event_types: body.event_types,
                    rate_limit_per_second: body.rate_limit_per_second,
                },
                state.settings.webhooks_allow_private,
            )
            .await,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One endpoint.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}",
    operation_id = "get_webhook",
    tag = "webhooks",
    params(EndpointId, TenantParam),
    responses(
        Refusals,
        (status = 200, description = "The endpoint", body = Endpoint),
        (status = 403, description = "The token lacks `webhooks:read`, or the role may not manage webhooks", body = ErrorBody),
        (status = 422, description = "An unknown or invalid parameter", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:read"]))
)]
async fn show(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
    Query(q): Query<TenantParam>,
) -> Result<impl IntoResponse, ApiError> {
    let (_, owner) = owner(&state, &bearer, "webhooks:read", q.tenant.as_deref()).await?;
    Ok(Json(
        webhooks::get_endpoint(&state.pool, owner, id_of(&id)?).await?,
    ))
}

/// A change to an endpoint: only the fields present change (`null` clears the description).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookChanges)]
struct UpdateBody {
    #[schema(format = "uri", max_length = 2000)]
    url: Option<String>,
    #[serde(default, deserialize_with = "crate::api::patch")]
    #[schema(value_type = Option<String>, max_length = 500)]
    description: Option<Option<String>>,
    #[schema(value_type = Option<Vec<SubscribableEventType>>, min_items = 1, max_items = 50)]
    event_types: Option<Vec<String>>,
    #[schema(minimum = 1, maximum = 1000)]
    rate_limit_per_second: Option<i32>,
    /// `false` turns the endpoint off (its pending deliveries fail); `true` turns it back on
    /// and clears a failing mark.
    enabled: Option<bool>,
}

/// Change an endpoint.
///
/// Merge semantics. Each change is audited.
#[utoipa::path(
    patch,
    path = "/v1/webhooks/{id}",
    operation_id = "update_webhook",
    tag = "webhooks",
    params(EndpointId, TenantParam),
    request_body = UpdateBody,
    responses(
        Refusals,
        (status = 200, description = "The endpoint as changed", body = Endpoint),
        (status = 403, description = "The token lacks `webhooks:write`, or the role may not manage webhooks", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
        (status = 422, description = "Every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:write"]))
)]
async fn update(
    State(state): State<AppState>,
    meta: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    Query(q): Query<TenantParam>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (actor, owner) = owner(&state, &bearer, "webhooks:write", q.tenant.as_deref()).await?;
    let changes = EndpointChanges {
        url: body.url,
        description: body.description,
        event_types: body.event_types,
        rate_limit_per_second: body.rate_limit_per_second,
        enabled: body.enabled,
    };
    let endpoint = state
        .services
        .apply(
            webhooks::update_endpoint(
                &state.pool,
                &meta.ctx,
                &actor,
                owner,
                id_of(&id)?,
                changes,
                state.settings.webhooks_allow_private,
            )
            .await,
        )
        .await?;
    Ok(Json(endpoint))
}

/// Delete an endpoint.
///
/// Its delivery history goes with it.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{id}",
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(EndpointId, TenantParam),
    responses(
        Refusals,
        (status = 204, description = "Deleted"),
        (status = 403, description = "The token lacks `webhooks:write`, or the role may not manage webhooks", body = ErrorBody),
        (status = 422, description = "An unknown or invalid parameter", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:write"]))
)]
async fn remove(
    State(state): State<AppState>,
    meta: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    Query(q): Query<TenantParam>,
) -> Result<impl IntoResponse, ApiError> {
    let (actor, owner) = owner(&state, &bearer, "webhooks:write", q.tenant.as_deref()).await?;
    state
        .services
        .apply(webhooks::delete_endpoint(&state.pool, &meta.ctx, &actor, owner, id_of(&id)?).await)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RotateQuery {
    /// Operators: a tenant's domain, for that tenant's endpoints.
    tenant: Option<String>,
    /// Hours during which both secrets sign each message (0-168, default 24); 0 ends the
    /// old secret at once.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 168)]
    overlap_hours: Option<String>,
}

/// Rotate an endpoint's secret.
///
/// The answer carries the new secret (shown only now). During the overlap every message
/// carries two signatures, so the receiver can switch without losing one.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/rotate-secret",
    operation_id = "rotate_webhook_secret",
    tag = "webhooks",
    params(EndpointId, RotateQuery),
    responses(
        Refusals,
        (status = 200, description = "The endpoint, with its new secret (shown once)", body = EndpointWithSecret),
        (status = 403, description = "The token lacks `webhooks:write`, or the role may not manage webhooks", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
        (status = 422, description = "Every invalid field named", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:write"]))
)]
async fn rotate_secret(
    State(state): State<AppState>,
    meta: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    Query(q): Query<RotateQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let hours = match q
        .overlap_hours
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        None => 24,
        Some(h) => h
            .parse::<i64>()
            .ok()
            .filter(|h| (0..=168).contains(h))
            .ok_or_else(|| {
                ApiError::validation(vec![FieldError::new(
                    "overlap_hours",
                    "must be a whole number from 0 to 168",
                )])
            })?,
    };
    let (actor, owner) = owner(&state, &bearer, "webhooks:write", q.tenant.as_deref()).await?;
    let rotated = state
        .services
        .apply(
            webhooks::rotate_secret(
                &state.pool,
                &state.keys,
                &meta.ctx,
                &actor,
                owner,
                id_of(&id)?,
                time::Duration::hours(hours),
            )
            .await,
        )
        .await?;
    Ok(Json(rotated))
}

/// Send a test event.
///
/// A `webhook.test` event goes to this endpoint only, whatever it subscribes to. The
/// answer is its delivery, pending; read it again to see the outcome.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/test",
    operation_id = "send_webhook_test",
    tag = "webhooks",
    params(EndpointId, TenantParam),
    responses(
        Refusals,
        (status = 202, description = "The test event's delivery", body = Delivery),
        (status = 403, description = "The token lacks `webhooks:write`, or the role may not manage webhooks", body = ErrorBody),
        (status = 422, description = "An unknown or invalid parameter", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
        (status = 409, description = "The endpoint is disabled", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:write"]))
)]
async fn send_test(
    State(state): State<AppState>,
    meta: RequestMeta,
    bearer: Bearer,
    Path(id): Path<String>,
    Query(q): Query<TenantParam>,
) -> Result<impl IntoResponse, ApiError> {
    let (actor, owner) = owner(&state, &bearer, "webhooks:write", q.tenant.as_deref()).await?;
    let delivery = state
        .services
        .apply(webhooks::send_test(&state.pool, &meta.ctx, &actor, owner, id_of(&id)?).await)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DeliveryQuery {
    /// Operators: a tenant's domain, for that tenant's endpoints.
    tenant: Option<String>,
    /// Only deliveries in this state.
    #[param(value_type = Option<DeliveryStatus>)]
    status: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1-100 (25).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// List an endpoint's deliveries.
///
/// Newest first, in cursor pages; 30 days are kept.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}/deliveries",
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    params(EndpointId, DeliveryQuery),
    responses(
        Refusals,
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        (status = 403, description = "The token lacks `webhooks:read`, or the role may not manage webhooks", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
        (status = 422, description = "Every invalid parameter named", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:read"]))
)]
async fn deliveries(
    State(state): State<AppState>,
    bearer: Bearer,
    Path(id): Path<String>,
    Query(q): Query<DeliveryQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = Vec::new();
    let limit = page_limit(q.limit.as_deref()).map_err(|e| errors.extend(e.details));
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.to_ascii_lowercase().as_str() {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => {
                errors.push(FieldError::new(
                    "status",
                    "must be one of: pending, delivered, failed",
                ));
                None
            }
        },
    };
    let limit = match limit {
        Ok(limit) if errors.is_empty() => limit,
        _ => return Err(ApiError::validation(errors)),
    };
    let (_, owner) = owner(&state, &bearer, "webhooks:read", q.tenant.as_deref()).await?;
    let cursor = q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty());
    Ok(Json(
        webhooks::list_deliveries(&state.pool, owner, id_of(&id)?, status, limit, cursor).await?,
    ))
}

/// One delivery.
///
/// With the body sent and every attempt: its time, HTTP status, latency and the answer's
/// first kilobyte.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}/deliveries/{delivery_id}",
    operation_id = "get_webhook_delivery",
    tag = "webhooks",
    params(DeliveryId, TenantParam),
    responses(
        Refusals,
        (status = 200, description = "The delivery", body = DeliveryDetail),
        (status = 403, description = "The token lacks `webhooks:read`, or the role may not manage webhooks", body = ErrorBody),
        (status = 422, description = "An unknown or invalid parameter", body = ErrorBody),
        (status = 404, description = "No such endpoint or delivery of the caller's", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:read"]))
)]
async fn delivery(
    State(state): State<AppState>,
    bearer: Bearer,
    Path((id, delivery_id)): Path<(String, String)>,
    Query(q): Query<TenantParam>,
) -> Result<impl IntoResponse, ApiError> {
    let (_, owner) = owner(&state, &bearer, "webhooks:read", q.tenant.as_deref()).await?;
    Ok(Json(
        webhooks::get_delivery(&state.pool, owner, id_of(&id)?, id_of(&delivery_id)?).await?,
    ))
}

/// Redeliver.
///
/// The delivery is sent again at once, with a fresh schedule of retries; its history stays.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
    operation_id = "redeliver_webhook",
    tag = "webhooks",
    params(DeliveryId, TenantParam),
    responses(
        Refusals,
        (status = 202, description = "The delivery, pending again", body = Delivery),
        (status = 403, description = "The token lacks `webhooks:write`, or the role may not manage webhooks", body = ErrorBody),
        (status = 422, description = "An unknown or invalid parameter", body = ErrorBody),
        (status = 404, description = "No such endpoint or delivery of the caller's", body = ErrorBody),
        (status = 409, description = "The endpoint is disabled", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:write"]))
)]
async fn redeliver(
    State(state): State<AppState>,
    meta: RequestMeta,
    bearer: Bearer,
    Path((id, delivery_id)): Path<(String, String)>,
    Query(q): Query<TenantParam>,
) -> Result<impl IntoResponse, ApiError> {
    let (actor, owner) = owner(&state, &bearer, "webhooks:write", q.tenant.as_deref()).await?;
    let delivery = state
        .services
        .apply(
            webhooks::redeliver(
                &state.pool,
                &meta.ctx,
                &actor,
                owner,
                id_of(&id)?,
                id_of(&delivery_id)?,
            )
            .await,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}
