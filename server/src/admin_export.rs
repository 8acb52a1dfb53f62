//! `GET /admin/audit.csv` (FR-LOG-002 for a tenant's own trail): the Tenant Administration
//! audit log's current filter as CSV, streamed row by row (constant memory), for the
//! signed-in owner or admin, only their tenant's rows. Cells that a spreadsheet would run as
//! a formula (= + - @, tab, CR) are prefixed with a quote.

use crate::passkeys::Caller;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::StreamExt;
use gatehouse_domain::permissions::Actor;
use gatehouse_domain::tenant_audit::{tenant_audit_rows, AuditQuery, AuditRecord};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit.csv", get(download))
}

/// The filters of the audit-log page (all optional; dates are UTC days).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Filters {
    fn query(&self) -> Result<AuditQuery, gatehouse_domain::DomainError> {
        AuditQuery::from_filters(
            self.action.as_deref(),
            self.actor.as_deref(),
            self.outcome.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
            None,
            100,
        )
    }
}

/// One CSV cell: quoted, quotes doubled, formula starters neutralised.
fn cell(raw: &str) -> String {
    let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

fn line(r: &AuditRecord) -> String {
    let fields = [
        r.occurred_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        r.action.clone(),
        r.outcome.clone(),
        r.actor_type.clone(),
        r.actor_email.clone().unwrap_or_default(),
        r.resource.clone().unwrap_or_default(),
        r.request_id.clone().unwrap_or_default(),
        r.metadata.to_string(),
    ];
    let mut out = fields.iter().map(|f| cell(f)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

/// The signed-in person behind the request's session cookie (second factor done).
async fn signed_in(state: &AppState, caller: &Caller) -> Option<Actor> {
    let token = caller.session_token(state)?;
    let session = gatehouse_domain::sessions::authenticate_session(&state.pool, &token)
        .await
        .ok()?;
    session.mfa_verified.then_some(Actor {
        user_id: session.user_id,
        tenant_id: session.tenant_id,
        role: session.role,
    })
}

/// A refusal as plain text with its status.
fn refusal(e: gatehouse_domain::DomainError) -> Response {
    use gatehouse_domain::DomainError as E;
    let status = match e {
        E::PermissionDenied(_) => StatusCode::FORBIDDEN,
        E::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::NOT_FOUND,
    };
    let message = match &e {
        E::Validation(details) => details
            .iter()
            .map(|d| format!("{} {}", d.field, d.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    };
    (status, message).into_response()
}

async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Query(filters): Query<Filters>,
) -> Response {
    let Some(actor) = signed_in(&state, &caller).await else {
        return (StatusCode::UNAUTHORIZED, "Please sign in.").into_response();
    };
    let Some(tenant) = actor.tenant_id else {
        return (
            StatusCode::FORBIDDEN,
            "This download is for a tenant's owners and admins.",
        )
            .into_response();
    };
    let query = match filters.query() {
        Ok(q) => q,
        Err(e) => return refusal(e),
    };
    // Checked before the stream starts, so a refusal is a proper status.
    if let Err(e) = tenant_audit_rows(&state.pool, &actor, tenant, &query) {
        return refusal(e);
    }
    let pool = state.pool.clone();
    let rows = async_stream_rows(pool, actor, tenant, query);
    let mut response = Response::new(Body::from_stream(rows));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit-log.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The header line, then one line per row; a database failure mid-way ends the download
/// with an error (the client sees a truncated transfer, never a partial file as complete).
fn async_stream_rows(
    pool: sqlx::PgPool,
    actor: Actor,
    tenant: uuid::Uuid,
    query: AuditQuery,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(64);
    tokio::spawn(async move {
        let head = "\"occurred_at\",\"action\",\"outcome\",\"actor_type\",\"actor\",\"resource\",\"request_id\",\"metadata\"\r\n";
        if tx.send(Ok(head.to_owned())).await.is_err() {
            return;
        }
        let Ok(mut rows) = tenant_audit_rows(&pool, &actor, tenant, &query) else {
            return;
        };
        while let Some(row) = rows.next().await {
            let item = row.map(|r| line(&r)).map_err(|e| {
                tracing::error!(error = %e, "audit CSV download failed");
                std::io::Error::other("the download failed")
            });
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    tokio_stream_from(rx)
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<String, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(cell("user.invite"), "\"user.invite\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1+2"), "\"'-1+2\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
    }
}
