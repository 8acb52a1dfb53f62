//! The person-data downloads of the consoles (CON-COMP-001, rights of access and
//! portability): `/account/data` for the signed-in person, `/users/{id}/data.json` for
//! whoever may read that person (their tenant's owners and admins, auditors, operators).
//! Both answer the document of `users::person_data` as a JSON attachment; the API has
//! `GET /api/v1/users/{id}/export`.

use crate::audit::{failure, signed_in};
use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gatehouse_domain::users;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/data", get(own))
        .route("/users/{id}/data.json", get(theirs))
}

async fn own(State(state): State<AppState>, caller: RequestMeta) -> Response {
    download(&state, &caller, None).await
}

async fn theirs(
    State(state): State<AppState>,
    caller: RequestMeta,
    Path(id): Path<String>,
) -> Response {
    match Uuid::parse_str(&id) {
        Ok(id) => download(&state, &caller, Some(id)).await,
        Err(_) => (StatusCode::NOT_FOUND, "No such person.").into_response(),
    }
}

async fn download(state: &AppState, caller: &RequestMeta, who: Option<Uuid>) -> Response {
    let actor = match signed_in(state, caller).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Please sign in.").into_response(),
        Err(e) => return failure(e),
    };
    let user_id = who.unwrap_or(actor.user_id);
    match users::person_data(&state.pool, &caller.ctx, &actor, user_id).await {
        Ok(data) => (
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"gatehouse-data-{user_id}.json\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            serde_json::to_string_pretty(&data).unwrap_or_default(),
        )
            .into_response(),
        Err(e) => failure(e),
    }
}
