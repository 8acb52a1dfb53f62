//! `GET /admin/audit.csv` (FR-LOG-002 for a tenant's own trail): the Tenant Administration
//! audit log's current filter as CSV, streamed row by row (constant memory), for the
//! signed-in owner or admin, only their tenant's rows. Cells that a spreadsheet would run as
//! a formula (= + - @, tab, CR) are prefixed with a quote.

use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
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

/// The start of a `YYYY-MM-DD` day (UTC), `next` days later; `Err` names the field.
pub fn day(
    raw: Option<&str>,
    field: &'static str,
    next: bool,
) -> Result<Option<time::OffsetDateTime>, &'static str> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let date = time::Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| field)?;
    let date = if next {
        date.next_day().ok_or(field)?
    } else {
        date
    };
    Ok(Some(date.midnight().assume_utc()))
}

impl Filters {
    pub fn query(&self) -> Result<AuditQuery, &'static str> {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(AuditQuery {
            action_prefix: text(&self.action),
            actor: text(&self.actor),
            outcome: text(&self.outcome).map(|o| o.to_lowercase()),
            from: day(self.from.as_deref(), "from", false)?,
            until: day(self.to.as_deref(), "to", true)?,
            cursor: None,
            limit: 100,
        })
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

async fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<Actor> {
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| {
            *name == gatehouse_app::sessions::ssr::cookie_name_for(state.settings.serves_https())
        })
        .map(|(_, value)| value.to_owned())?;
    let session = gatehouse_domain::sessions::authenticate_session(&state.pool, &token)
        .await
        .ok()?;
    session.mfa_verified.then_some(Actor {
        user_id: session.user_id,
        tenant_id: session.tenant_id,
        role: session.role,
    })
}

async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Response {
    let Some(actor) = signed_in(&state, &headers).await else {
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
        Err(field) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{field} must be a date like 2026-11-22"),
            )
                .into_response()
        }
    };
    // Checked before the stream starts, so a refusal is a proper status.
    if let Err(e) = tenant_audit_rows(&state.pool, &actor, tenant, &query) {
        let status = match e {
            gatehouse_domain::DomainError::PermissionDenied(_) => StatusCode::FORBIDDEN,
            gatehouse_domain::DomainError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::NOT_FOUND,
        };
        return (status, e.to_string()).into_response();
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

    #[test]
    fn days_are_utc_and_bad_dates_name_their_field() {
        let from = day(Some("2026-11-22"), "from", false).unwrap().unwrap();
        assert_eq!(from.unix_timestamp(), 1_795_305_600);
        let to = day(Some("2026-11-22"), "to", true).unwrap().unwrap();
        assert_eq!(to.unix_timestamp() - from.unix_timestamp(), 86_400);
        assert_eq!(day(Some("22/11/2026"), "to", true), Err("to"));
        assert_eq!(day(Some(" "), "to", true), Ok(None));
    }
}
