//! `GET /admin/audit.csv` (FR-LOG-002 for a tenant's own trail): the Tenant Administration
//! audit log's current filter as CSV, for the signed-in owner or admin, only their
//! tenant's rows. Cells that a spreadsheet would run as a formula (= + - @, tab, CR) are
//! prefixed with a quote.
//!
//! A download must not let one tenant's admin starve everyone else,
//! so:
//! - rows are read in keyset pages ([`AuditExport`]), each its own short query; a database
//!   connection is held while a page is read, never while the client is waited on;
//! - at most [`GLOBAL_EXPORTS`] downloads run at once, [`TENANT_EXPORTS`] per tenant;
//!   beyond that the answer is 429 with `Retry-After`;
//! - a client that takes nothing for [`IDLE_DEADLINE`] loses its download and its places.
//!
//! The places belong to the task that writes the body, so they are given back when it ends
//! for any reason: the file is complete, the client went away, the client stalled past the
//! deadline, or the database failed. The per-tenant count is a small map of counters
//! rather than a semaphore per tenant, so a tenant's entry disappears with its last
//! download instead of the map growing with every tenant that ever downloaded.

pub mod export;
pub mod jobs;
pub mod personal;

use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use gatehouse_app::error::{log_failure, status_of};
use gatehouse_domain::audit::{AuditExport, AuditQuery, AuditRecord};
use gatehouse_domain::permissions::Actor;
use gatehouse_domain::DomainError;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;
use uuid::Uuid;

/// Downloads running at once, all tenants together.
pub const GLOBAL_EXPORTS: usize = 8;
/// Downloads running at once for one tenant (or one auditor).
pub const TENANT_EXPORTS: usize = 2;
/// How long the body waits for the client to take the next chunk before it gives up.
pub const IDLE_DEADLINE: Duration = Duration::from_secs(30);
/// `Retry-After` of a refused download, in seconds.
pub(crate) const RETRY_AFTER_SECS: &str = "60";
/// Body chunks are about this large (many rows each, not one row each).
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks written ahead of the client.
const CHUNKS_AHEAD: usize = 4;

/// The header line's cells.
const HEADER: [&str; 8] = [
    "occurred_at",
    "action",
    "outcome",
    "actor_type",
    "actor",
    "resource",
    "request_id",
    "metadata",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit.csv", get(download))
        .route("/audit/export.csv", get(export::csv))
        .route("/audit/export.jsonl", get(export::jsonl))
}

/// The admission of downloads: a global semaphore and a count per tenant. Lives in
/// `AppState`; cloning shares the same places.
#[derive(Clone)]
pub struct ExportLimits(Arc<Places>);

struct Places {
    global: Arc<Semaphore>,
    per_tenant: usize,
    running: Mutex<HashMap<Uuid, usize>>,
}

impl Places {
    fn running(&self) -> MutexGuard<'_, HashMap<Uuid, usize>> {
        // The map is consistent after every statement, so a panic elsewhere leaves it usable.
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ExportLimits {
    pub fn new(global: usize, per_tenant: usize) -> Self {
        Self(Arc::new(Places {
            global: Arc::new(Semaphore::new(global)),
            per_tenant,
            running: Mutex::new(HashMap::new()),
        }))
    }

    /// A place for one more download of `tenant`, or `None` when its tenant or the server
    /// is at its limit. The place is given back when the permit is dropped.
    pub fn try_admit(&self, tenant: Uuid) -> Option<ExportPermit> {
        let tenant_place = TenantPlace::take(&self.0, tenant)?;
        let global = self.0.global.clone().try_acquire_owned().ok()?;
        Some(ExportPermit {
            _global: global,
            _tenant: tenant_place,
        })
    }
}

impl Default for ExportLimits {
    fn default() -> Self {
        Self::new(GLOBAL_EXPORTS, TENANT_EXPORTS)
    }
}

/// One running download's places (global and its tenant's).
pub struct ExportPermit {
    _global: OwnedSemaphorePermit,
    _tenant: TenantPlace,
}

struct TenantPlace {
    places: Arc<Places>,
    tenant: Uuid,
}

impl TenantPlace {
    fn take(places: &Arc<Places>, tenant: Uuid) -> Option<Self> {
        let mut running = places.running();
        let now = running.get(&tenant).copied().unwrap_or(0);
        if now >= places.per_tenant {
            return None;
        }
        running.insert(tenant, now + 1);
        Some(Self {
            places: places.clone(),
            tenant,
        })
    }
}

impl Drop for TenantPlace {
    fn drop(&mut self) {
        let mut running = self.places.running();
        let left = running
            .get(&self.tenant)
            .copied()
            .unwrap_or(0)
            .saturating_sub(1);
        if left == 0 {
            running.remove(&self.tenant);
        } else {
            running.insert(self.tenant, left);
        }
    }
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
    fn query(&self) -> Result<AuditQuery, DomainError> {
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

/// A writer for one body chunk: every cell quoted, quotes doubled, lines ended by CRLF.
fn chunk_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(CHUNK_BYTES * 2))
}

/// A cell a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a
/// leading `'`. Written here because the `csv` crate only writes CSV and has no
/// formula-injection defence.
fn defused(raw: &str) -> Cow<'_, str> {
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{raw}"))
    } else {
        Cow::Borrowed(raw)
    }
}

/// Writes one line of cells, each defused.
fn write_line<'a>(
    out: &mut csv::Writer<Vec<u8>>,
    cells: impl IntoIterator<Item = &'a str>,
) -> csv::Result<()> {
    for cell in cells {
        out.write_field(defused(cell).as_bytes())?;
    }
    out.write_record(None::<&[u8]>)
}

/// Rows a CSV download reads page by page, each page a short query of its own; an empty
/// page ends the file.
pub(crate) trait CsvPages: Send + 'static {
    type Row: Send + Sync + 'static;
    /// The header line's cells.
    const HEADER: &'static [&'static str];
    fn next_page(
        &mut self,
        pool: &sqlx::PgPool,
    ) -> impl std::future::Future<Output = Result<Vec<Self::Row>, DomainError>> + Send;
    /// One row's cells, in the header's order.
    fn cells(row: &Self::Row) -> Vec<String>;
}

impl CsvPages for AuditExport {
    type Row = AuditRecord;
    const HEADER: &'static [&'static str] = &HEADER;

    async fn next_page(&mut self, pool: &sqlx::PgPool) -> Result<Vec<AuditRecord>, DomainError> {
        AuditExport::next_page(self, pool).await
    }

    fn cells(r: &AuditRecord) -> Vec<String> {
        let occurred_at = r
            .occurred_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        vec![
            occurred_at,
            r.action.clone(),
            r.outcome.clone(),
            r.actor_type.clone(),
            r.actor_email.clone().unwrap_or_default(),
            r.resource.clone().unwrap_or_default(),
            r.request_id.clone().unwrap_or_default(),
            r.metadata.to_string(),
        ]
    }
}

/// Appends one row to the chunk and answers the chunk's length in bytes.
fn push_row(out: &mut csv::Writer<Vec<u8>>, cells: &[String]) -> csv::Result<usize> {
    write_line(out, cells.iter().map(String::as_str))?;
    // The writer buffers internally; once flushed, its `Vec` holds the whole chunk so far.
    out.flush()?;
    Ok(out.get_ref().len())
}

/// The bytes of a finished chunk.
fn finish(out: csv::Writer<Vec<u8>>) -> Result<Bytes, Stopped> {
    out.into_inner()
        .map(Bytes::from)
        .map_err(|e| unwritable(e.into_error().into()))
}

/// Writing into memory does not fail in practice; if it ever does, the download breaks off.
fn unwritable(e: csv::Error) -> Stopped {
    tracing::error!(error = %e, "audit CSV download could not be written");
    Stopped
}

/// The signed-in person behind the request's session cookie (second factor done); `None`
/// without a usable session. A failure to check the session is an error, not a sign-out.
pub(crate) async fn signed_in(
    state: &AppState,
    caller: &RequestMeta,
) -> Result<Option<Actor>, DomainError> {
    let Some(token) = caller.session_token(state) else {
        return Ok(None);
    };
    match gatehouse_domain::sessions::authenticate_session(&state.pool, &token).await {
        Ok(session) => Ok(session.mfa_verified.then_some(Actor {
            user_id: session.user_id,
            tenant_id: session.tenant_id,
            role: session.role,
        })),
        Err(DomainError::Unauthenticated(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A domain error as plain text with its status (the one table, `status_of`); what a 5xx
/// hides is logged once.
pub(crate) fn failure(e: DomainError) -> Response {
    let (status, _) = status_of(&e);
    log_failure(&e);
    let message = match e {
        DomainError::Unauthenticated(_) => "Please sign in.".to_owned(),
        DomainError::Validation(details) => details
            .iter()
            .map(|d| format!("{} {}", d.field, d.message))
            .collect::<Vec<_>>()
            .join("; "),
        DomainError::Unavailable(_) => {
            "The download is not available right now; try again in a minute.".to_owned()
        }
        DomainError::Unexpected(_) => "The download failed.".to_owned(),
        other => other.to_string(),
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return (status, [(header::RETRY_AFTER, RETRY_AFTER_SECS)], message).into_response();
    }
    (status, message).into_response()
}

#[tracing::instrument(skip_all)]
async fn download(
    State(state): State<AppState>,
    caller: RequestMeta,
    Query(filters): Query<Filters>,
) -> Response {
    let actor = match signed_in(&state, &caller).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Please sign in.").into_response(),
        Err(e) => return failure(e),
    };
    let Some(tenant) = actor.tenant_id else {
        return (
            StatusCode::FORBIDDEN,
            "This download is for a tenant's owners and admins.",
        )
            .into_response();
    };
    // Refusals come before admission, so a caller who may not download is told so, and
    // before the stream starts, so each is a proper status.
    let mut export = match filters
        .query()
        .and_then(|query| AuditExport::start(&actor, tenant, query))
    {
        Ok(export) => export,
        Err(e) => return failure(e),
    };
    let Some(permit) = state.exports.try_admit(tenant) else {
        tracing::info!(%tenant, "audit CSV download refused: too many running");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, RETRY_AFTER_SECS)],
            "Too many downloads are running; try again in a minute.",
        )
            .into_response();
    };
    // CON-SEC-002: the download is on record before its first byte leaves.
    let described = serde_json::json!({"format": "csv", "filter": {
        "action": filters.action, "actor": filters.actor, "outcome": filters.outcome,
        "from": filters.from, "to": filters.to}});
    let recorded = gatehouse_domain::audit::record_read(
        &state.pool,
        &caller.ctx,
        &actor,
        "audit.export",
        None,
        described,
    )
    .await;
    if let Err(e) = recorded {
        return failure(e);
    }
    // The first page is read before answering, so a database failure is a 500 rather than
    // a download that breaks off at once.
    let first = match export.next_page(&state.pool).await {
        Ok(rows) => rows,
        Err(e) => return failure(e),
    };
    let body = csv_body(state.pool.clone(), export, first, permit);
    let mut response = Response::new(body);
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

/// What the writer hands the body: a chunk, or the mark that the file is complete.
enum Piece {
    Data(Bytes),
    End,
}

/// Why the writer stopped before the end (already logged where it happened).
#[derive(Debug)]
struct Stopped;

/// The body: a task writes the header line and one line per row into a short channel,
/// page by page, holding the download's places until it ends.
pub(crate) fn csv_body<P: CsvPages>(
    pool: sqlx::PgPool,
    mut export: P,
    first: Vec<P::Row>,
    permit: ExportPermit,
) -> Body {
    let (tx, rx) = mpsc::channel::<Piece>(CHUNKS_AHEAD);
    tokio::spawn(
        async move {
            let _places = permit;
            // Each way of stopping early has been logged already; the body tells the
            // client by breaking off.
            let _ = write_csv(&pool, &mut export, first, &tx).await;
        }
        .instrument(tracing::Span::current()),
    );
    Body::from_stream(csv_stream(rx))
}

async fn write_csv<P: CsvPages>(
    pool: &sqlx::PgPool,
    export: &mut P,
    first: Vec<P::Row>,
    tx: &mpsc::Sender<Piece>,
) -> Result<(), Stopped> {
    let mut chunk = chunk_writer();
    chunk.write_record(P::HEADER).map_err(unwritable)?;
    let mut page = first;
    while !page.is_empty() {
        for record in &page {
            if push_row(&mut chunk, &P::cells(record)).map_err(unwritable)? >= CHUNK_BYTES {
                let full = finish(std::mem::replace(&mut chunk, chunk_writer()))?;
                deliver(tx, Piece::Data(full)).await?;
            }
        }
        // The client has taken everything but the last partial chunk: only now is the
        // next page read, its connection returned before anything waits on the client.
        page = export.next_page(pool).await.map_err(|e| {
            tracing::error!(error = format!("{e:#}"), "CSV download failed mid-way");
            Stopped
        })?;
    }
    let rest = finish(chunk)?;
    if !rest.is_empty() {
        deliver(tx, Piece::Data(rest)).await?;
    }
    deliver(tx, Piece::End).await
}

/// Hands one piece to the body, waiting at most [`IDLE_DEADLINE`] for the client to make
/// room.
async fn deliver(tx: &mpsc::Sender<Piece>, piece: Piece) -> Result<(), Stopped> {
    match tokio::time::timeout(IDLE_DEADLINE, tx.send(piece)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => {
            tracing::debug!("audit CSV download abandoned by the client");
            Err(Stopped)
        }
        Err(_) => {
            tracing::info!(
                idle_secs = IDLE_DEADLINE.as_secs(),
                "audit CSV download ended: the client took nothing for too long"
            );
            Err(Stopped)
        }
    }
}

/// The chunks as the response body. If the writer stops without the end mark, the body
/// ends with an error, so the transfer breaks off: the client sees a truncated download,
/// never a partial file passed off as complete. Written over `poll_recv` rather than with
/// `tokio-stream`'s `ReceiverStream`, which would need this same end-mark logic around it.
fn csv_stream(
    mut rx: mpsc::Receiver<Piece>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let mut over = false;
    futures_util::stream::poll_fn(move |cx| {
        if over {
            return Poll::Ready(None);
        }
        match rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Piece::Data(bytes))) => Poll::Ready(Some(Ok(bytes))),
            Poll::Ready(Some(Piece::End)) => {
                over = true;
                Poll::Ready(None)
            }
            Poll::Ready(None) => {
                over = true;
                Poll::Ready(Some(Err(std::io::Error::other(
                    "the download stopped before the end",
                ))))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    /// What [`write_line`] makes of `cells`, as text.
    fn written(cells: &[&str]) -> String {
        let mut out = chunk_writer();
        write_line(&mut out, cells.iter().copied()).unwrap();
        String::from_utf8(finish(out).unwrap().to_vec()).unwrap()
    }

    /// One cell as written, without the line end.
    fn cell(raw: &str) -> String {
        written(&[raw]).strip_suffix("\r\n").unwrap().to_owned()
    }

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(cell("user.invite"), "\"user.invite\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1+2"), "\"'-1+2\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("+1"), "\"'+1\"");
        assert_eq!(cell("\tx"), "\"'\tx\"");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell(""), "\"\"");
        assert_eq!(cell("a,b\r\nc"), "\"a,b\r\nc\"");
    }

    #[test]
    fn lines_are_quoted_cells_joined_by_commas_and_ended_by_crlf() {
        assert_eq!(
            written(&["a", "", "{\"k\":\"v\"}"]),
            "\"a\",\"\",\"{\"\"k\"\":\"\"v\"\"}\"\r\n"
        );
        let mut out = chunk_writer();
        out.write_record(HEADER).unwrap();
        assert_eq!(
            finish(out).unwrap(),
            Bytes::from_static(
                b"\"occurred_at\",\"action\",\"outcome\",\"actor_type\",\"actor\",\"resource\",\"request_id\",\"metadata\"\r\n"
            )
        );
    }

    #[test]
    fn downloads_are_admitted_up_to_the_tenant_and_the_global_limit() {
        let limits = ExportLimits::new(3, 2);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let a1 = limits.try_admit(a).unwrap();
        let a2 = limits.try_admit(a).unwrap();
        assert!(limits.try_admit(a).is_none(), "the tenant's limit");
        let _b1 = limits.try_admit(b).unwrap();
        assert!(limits.try_admit(b).is_none(), "the global limit");
        // A refusal by the global limit does not keep the tenant's place.
        assert_eq!(limits.0.running().get(&b), Some(&1));
        drop(a1);
        let _b2 = limits.try_admit(b).unwrap();
        assert!(limits.try_admit(a).is_none());
        drop(a2);
        assert!(
            limits.0.running().get(&a).is_none(),
            "no entry once none runs"
        );
    }

    #[tokio::test]
    async fn a_body_the_writer_abandons_breaks_off_instead_of_ending() {
        let (tx, rx) = mpsc::channel(4);
        tx.send(Piece::Data(Bytes::from_static(b"a")))
            .await
            .unwrap();
        drop(tx);
        let mut body = std::pin::pin!(csv_stream(rx));
        assert_eq!(
            body.next().await.unwrap().unwrap(),
            Bytes::from_static(b"a")
        );
        assert!(body.next().await.unwrap().is_err());
        assert!(body.next().await.is_none());

        let (tx, rx) = mpsc::channel(4);
        tx.send(Piece::End).await.unwrap();
        drop(tx);
        let mut body = std::pin::pin!(csv_stream(rx));
        assert!(body.next().await.is_none(), "a complete file ends cleanly");
    }
}
