//! Bulk ingestion as NDJSON, shared by the audit and billing APIs: one event per line, up
//! to [`BULK_MAX_LINES`] lines, read as they arrive and committed every batch of valid
//! events (constant memory). The answer counts the lines and names each rejected line
//! with its reasons. The routes sit outside the server's body limit and request timeout:
//! a request is bounded by its line count and by [`IDLE`] of client silence instead, and
//! waits for the events rate limit's allowance rather than failing.

use crate::api::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use futures_util::StreamExt;
use gatehouse_domain::{DomainError, FieldError};
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::time::Duration;
use uuid::Uuid;

/// Lines one bulk request may carry.
pub const BULK_MAX_LINES: u64 = 1_000_000;
/// A line longer than this is rejected without being parsed.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// How long a bulk request waits for the client's next bytes.
const IDLE: Duration = Duration::from_secs(30);
/// Rejected lines named in a bulk answer (all are counted).
const REPORTED_LINES: usize = 1000;

/// What one batch's commit made of its events.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub accepted: u64,
    pub duplicates: u64,
    pub conflicts: u64,
}

/// One kind of event a bulk request carries (audit entries, usage events).
pub(crate) trait BulkKind: Send + Sync {
    type Event: Send + Sync;
    /// Whether a re-sent id can carry other content (then `conflicts` are reported).
    const CONFLICTS: bool;
    /// Valid events committed together.
    const BATCH: usize;
    /// One line's event and its tenant, or the line's problems.
    fn parse(&self, value: &Value) -> Result<(Self::Event, Uuid), Vec<FieldError>>;
    /// Commits one batch.
    fn store<'a>(
        &'a self,
        state: &'a AppState,
        events: &'a [Self::Event],
        tenants: &'a [Uuid],
    ) -> impl Future<Output = Result<Counts, DomainError>> + Send + 'a;
}

/// One rejected line of a bulk request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct RejectedLine {
    /// The line's number, counting non-blank lines from 1.
    line: u64,
    /// Every reason the line was rejected, named by field (`line` for the line as a whole).
    details: Vec<FieldError>,
}

/// The answer of a bulk request: what became of its lines.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct BulkReport {
    /// Lines read (blank lines are skipped and not counted).
    lines: u64,
    /// Events stored now.
    accepted: u64,
    /// Events whose id was sent before (usage events: with the same content): stored once,
    /// not again.
    duplicates: u64,
    /// Ids sent before with other content: refused (usage events only).
    #[serde(skip_serializing_if = "Option::is_none")]
    conflicts: Option<u64>,
    /// Lines rejected (not JSON, or an invalid event): nothing of them is stored.
    rejected: u64,
    /// The rejected lines with their reasons, the first 1,000 of them.
    rejected_lines: Vec<RejectedLine>,
    /// More lines were rejected than are named.
    rejected_lines_truncated: bool,
    /// The request carried more than 1,000,000 lines: reading stopped at the limit.
    line_limit_reached: bool,
}

impl BulkReport {
    fn reject(&mut self, line: u64, details: Vec<FieldError>) {
        self.rejected += 1;
        if self.rejected_lines.len() < REPORTED_LINES {
            self.rejected_lines.push(RejectedLine { line, details });
        } else {
            self.rejected_lines_truncated = true;
        }
    }

    /// Rejected lines, for the metrics.
    pub(crate) fn rejected(&self) -> u64 {
        self.rejected
    }

    pub(crate) fn counts(&self) -> Counts {
        Counts {
            accepted: self.accepted,
            duplicates: self.duplicates,
            conflicts: self.conflicts.unwrap_or(0),
        }
    }
}

/// The request as it is read: valid events wait in `batch` until a batch is full.
struct Bulk<'a, K: BulkKind> {
    state: &'a AppState,
    kind: K,
    client_id: String,
    batch: Vec<K::Event>,
    tenants: Vec<Uuid>,
    report: BulkReport,
}

impl<K: BulkKind> Bulk<'_, K> {
    fn line(&mut self, raw: &[u8]) {
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        self.report.lines += 1;
        let n = self.report.lines;
        if raw.len() > MAX_LINE_BYTES {
            let message = format!("the line is longer than {MAX_LINE_BYTES} bytes");
            return self
                .report
                .reject(n, vec![FieldError::new("line", message)]);
        }
        let value: Value = match serde_json::from_slice(trimmed) {
            Ok(v) => v,
            Err(_) => {
                let detail = FieldError::new("line", "is not a JSON object");
                return self.report.reject(n, vec![detail]);
            }
        };
        let nul = crate::api::error::nul_fields_of(&value);
        if !nul.is_empty() {
            return self.report.reject(n, nul);
        }
        match self.kind.parse(&value) {
            Ok((event, tenant)) => {
                self.batch.push(event);
                self.tenants.push(tenant);
            }
            Err(details) => self.report.reject(n, details),
        }
    }

    /// Commits the waiting events, after waiting for the allowance.
    async fn flush(&mut self) -> Result<(), ApiError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        while let Err(wait) = self
            .state
            .rate_limits
            .check_events(&self.client_id, self.batch.len() as u32)
        {
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
        let counts = self
            .kind
            .store(self.state, &self.batch, &self.tenants)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, lines = self.report.lines, "bulk ingestion failed mid-way");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ERR_UNAVAILABLE",
                    format!(
                        "the events could not be stored; {} were stored before this; resend the rest (duplicates are recognised)",
                        self.report.accepted
                    ),
                )
            })?;
        self.report.accepted += counts.accepted;
        self.report.duplicates += counts.duplicates;
        if let Some(c) = self.report.conflicts.as_mut() {
            *c += counts.conflicts;
        }
        self.batch.clear();
        self.tenants.clear();
        Ok(())
    }
}

/// Whether the request says it carries NDJSON.
fn is_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| {
            matches!(
                v.as_str(),
                "application/x-ndjson" | "application/jsonl" | "application/ndjson"
            )
        })
}

/// Reads a bulk request's body to its end (or its line limit), committing as it goes.
pub(crate) async fn ingest<K: BulkKind>(
    state: &AppState,
    client_id: &str,
    headers: &HeaderMap,
    kind: K,
    body: Body,
) -> Result<BulkReport, ApiError> {
    if !is_ndjson(headers) {
        return Err(ApiError::validation(vec![FieldError::new(
            "content-type",
            "must be application/x-ndjson (one JSON event per line)",
        )]));
    }
    let mut bulk = Bulk {
        state,
        kind,
        client_id: client_id.to_owned(),
        batch: Vec::with_capacity(K::BATCH),
        tenants: Vec::with_capacity(K::BATCH),
        report: BulkReport {
            conflicts: K::CONFLICTS.then_some(0),
            ..BulkReport::default()
        },
    };
    let mut stream = body.into_data_stream();
    // The start of a line whose end has not arrived yet; a line past the limit keeps only
    // its first bytes (it is rejected anyway).
    let mut pending: Vec<u8> = Vec::new();
    let mut overlong = false;
    'read: loop {
        let chunk = match tokio::time::timeout(IDLE, stream.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "ERR_VALIDATION",
                    "the request body could not be read to its end",
                ))
            }
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "ERR_VALIDATION",
                    format!(
                        "the client sent nothing for {} s; {} events were stored before that",
                        IDLE.as_secs(),
                        bulk.report.accepted
                    ),
                ))
            }
        };
        let mut rest: &[u8] = &chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            if overlong {
                pending.resize(MAX_LINE_BYTES + 1, b' ');
            } else {
                pending.extend_from_slice(&rest[..end]);
            }
            if bulk.report.lines >= BULK_MAX_LINES && !pending.trim_ascii().is_empty() {
                bulk.report.line_limit_reached = true;
                break 'read;
            }
            bulk.line(&pending);
            pending.clear();
            overlong = false;
            rest = &rest[end + 1..];
            if bulk.batch.len() >= K::BATCH {
                bulk.flush().await?;
            }
        }
        if !overlong {
            let room = (MAX_LINE_BYTES + 1).saturating_sub(pending.len());
            pending.extend_from_slice(&rest[..rest.len().min(room)]);
            overlong = pending.len() > MAX_LINE_BYTES;
        }
    }
    if !bulk.report.line_limit_reached && !pending.trim_ascii().is_empty() {
        if bulk.report.lines >= BULK_MAX_LINES {
            bulk.report.line_limit_reached = true;
        } else {
            if overlong {
                pending.resize(MAX_LINE_BYTES + 1, b' ');
            }
            bulk.line(&pending);
        }
    }
    bulk.flush().await?;
    Ok(bulk.report)
}
