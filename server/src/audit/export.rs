//! `GET /audit/export.csv` and `GET /audit/export.jsonl` (FR-LOG-002, UC-AUDIT-EXPORT):
//! the Auditor Console's current filter, of any size, for auditors (`AuditExport`).
//!
//! Rows come oldest first in keyset pages ([`AuditExportWalk`]; no connection is held
//! between pages), written into a short channel that the client drains, so memory stays
//! flat whatever the size. Each export is audited (`audit.export`, with its filter) before
//! its first byte, counts against the auditor's places ([`super::ExportLimits`], keyed by
//! the auditor), and ends with the checkpoint note signed for it, which
//! `gatehouse audit verify-export` checks offline.
//!
//! CSV: RFC 4180, every cell quoted, CRLF; a cell starting with `= + - @`, tab, CR or `'`
//! gets a leading `'` (so a spreadsheet runs no formula, and a verifier removes exactly
//! one `'` from any cell that starts with one). The closing note is a last row whose `seq`
//! is `checkpoint` and whose `metadata` cell holds the note. JSON Lines: one object per
//! entry, `metadata` as the stored JSON text, then `{"checkpoint": "<note>"}`.

use super::{chunk_writer, deliver, failure, finish, signed_in, unwritable, Piece, Stopped};
use super::{csv_stream, CHUNKS_AHEAD, CHUNK_BYTES, RETRY_AFTER_SECS};
use crate::extract::RequestMeta;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use gatehouse_domain::audit::{record_read, AuditExportWalk, AuditFilter, ExportRow, COLUMNS};
use gatehouse_domain::permissions::Permission;
use std::borrow::Cow;
use std::collections::HashMap;
use tokio::sync::mpsc;
use tracing::Instrument;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Csv,
    JsonLines,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }
}

pub(super) async fn csv(
    state: State<AppState>,
    caller: RequestMeta,
    query: Query<HashMap<String, String>>,
) -> Response {
    export(state, caller, query, Format::Csv).await
}

pub(super) async fn jsonl(
    state: State<AppState>,
    caller: RequestMeta,
    query: Query<HashMap<String, String>>,
) -> Response {
    export(state, caller, query, Format::JsonLines).await
}

#[tracing::instrument(skip_all, fields(format = format.name()))]
async fn export(
    State(state): State<AppState>,
    caller: RequestMeta,
    Query(query): Query<HashMap<String, String>>,
    format: Format,
) -> Response {
    let actor = match signed_in(&state, &caller).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Please sign in.").into_response(),
        Err(e) => return failure(e),
    };
    if let Err(e) = actor.require(Permission::AuditExport) {
        return failure(e);
    }
    let now = time::OffsetDateTime::now_utc();
    let filter = match AuditFilter::parse(|k| query.get(k).cloned(), now) {
        Ok(f) => f,
        Err(e) => return failure(e),
    };
    let Some(permit) = state.exports.try_admit(actor.user_id) else {
        tracing::info!("audit export refused: too many running");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, RETRY_AFTER_SECS)],
            "Too many downloads are running; try again in a minute.",
        )
            .into_response();
    };
    let signer = match state.services.checkpoint_signer().await {
        Ok(s) => s,
        Err(e) => return failure(e),
    };
    let mut walk = match AuditExportWalk::start(&state.pool, &actor, &signer, filter).await {
        Ok(walk) => walk,
        Err(e) => return failure(e),
    };
    // CON-SEC-002: the export is on record before its first byte leaves.
    if let Err(e) = record_read(
        &state.pool,
        &caller.ctx,
        &actor,
        "audit.export",
        None,
        walk.describe(format.name()),
    )
    .await
    {
        return failure(e);
    }
    let first = match walk.next_page(&state.pool).await {
        Ok(rows) => rows,
        Err(e) => return failure(e),
    };
    let (tx, rx) = mpsc::channel::<Piece>(CHUNKS_AHEAD);
    let pool = state.pool.clone();
    tokio::spawn(
        async move {
            let _places = permit;
            let _ = write(&pool, &mut walk, first, format, &tx).await;
        }
        .instrument(tracing::Span::current()),
    );
    let mut response = Response::new(Body::from_stream(csv_stream(rx)));
    let (kind, file) = match format {
        Format::Csv => (
            "text/csv; charset=utf-8",
            "attachment; filename=\"audit-export.csv\"",
        ),
        Format::JsonLines => (
            "application/jsonl; charset=utf-8",
            "attachment; filename=\"audit-export.jsonl\"",
        ),
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(file));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A cell as the verifiable CSV writes it: a leading `'` before anything a spreadsheet
/// would run, and before a `'` itself, so that removing one leading `'` always restores
/// the value.
pub fn defused(raw: &str) -> Cow<'_, str> {
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) {
        Cow::Owned(format!("'{raw}"))
    } else {
        Cow::Borrowed(raw)
    }
}

/// The value of a cell written by [`defused`].
pub fn restored(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

fn csv_row(out: &mut csv::Writer<Vec<u8>>, row: &ExportRow) -> csv::Result<()> {
    let seq = row.seq.to_string();
    let mut cells = row.cells();
    cells[0] = &seq;
    for cell in cells {
        out.write_field(defused(cell).as_bytes())?;
    }
    out.write_record(None::<&[u8]>)
}

fn csv_trailer(out: &mut csv::Writer<Vec<u8>>, note: &str) -> csv::Result<()> {
    let mut cells = [""; COLUMNS.len()];
    cells[0] = "checkpoint";
    cells[15] = note;
    for cell in cells {
        out.write_field(defused(cell).as_bytes())?;
    }
    out.write_record(None::<&[u8]>)
}

fn json_row(out: &mut Vec<u8>, row: &ExportRow) {
    let text = |v: &str| serde_json::to_string(v).unwrap_or_default();
    let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "null".to_owned(), text);
    let line = format!(
        "{{\"seq\":{},\"id\":{},\"recorded_at\":{},\"occurred_at\":{},\"tenant_id\":{},\"tenant\":{},\"actor_id\":{},\"actor_type\":{},\"actor\":{},\"action\":{},\"resource\":{},\"outcome\":{},\"request_id\":{},\"source\":{},\"application_id\":{},\"metadata\":{},\"prev_hash\":{},\"hash\":{},\"personal\":{}}}\n",
        row.seq,
        text(&row.id),
        text(&row.recorded_at),
        text(&row.occurred_at),
        opt(&row.tenant_id),
        opt(&row.tenant),
        opt(&row.actor_id),
        text(&row.actor_type),
        opt(&row.actor),
        text(&row.action),
        opt(&row.resource),
        text(&row.outcome),
        opt(&row.request_id),
        text(&row.source),
        opt(&row.application_id),
        row.metadata,
        text(&row.prev_hash),
        text(&row.hash),
        row.personal.as_deref().unwrap_or("null"),
    );
    out.extend_from_slice(line.as_bytes());
}

/// Writes the header, every page and the trailer, a chunk at a time.
async fn write(
    pool: &sqlx::PgPool,
    walk: &mut AuditExportWalk,
    first: Vec<ExportRow>,
    format: Format,
    tx: &mpsc::Sender<Piece>,
) -> Result<(), Stopped> {
    let mut csv_out = chunk_writer();
    let mut json_out: Vec<u8> = Vec::with_capacity(CHUNK_BYTES * 2);
    if format == Format::Csv {
        csv_out.write_record(COLUMNS).map_err(unwritable)?;
    }
    let mut page = first;
    while !page.is_empty() {
        for row in &page {
            let size = match format {
                Format::Csv => {
                    csv_row(&mut csv_out, row).map_err(unwritable)?;
                    csv_out.flush().map_err(|e| unwritable(e.into()))?;
                    csv_out.get_ref().len()
                }
                Format::JsonLines => {
                    json_row(&mut json_out, row);
                    json_out.len()
                }
            };
            if size >= CHUNK_BYTES {
                let full = match format {
                    Format::Csv => finish(std::mem::replace(&mut csv_out, chunk_writer()))?,
                    Format::JsonLines => Bytes::from(std::mem::take(&mut json_out)),
                };
                deliver(tx, Piece::Data(full)).await?;
            }
        }
        page = walk.next_page(pool).await.map_err(|e| {
            tracing::error!(error = format!("{e:#}"), "audit export failed mid-way");
            Stopped
        })?;
    }
    let rest = match format {
        Format::Csv => {
            csv_trailer(&mut csv_out, &walk.note).map_err(unwritable)?;
            finish(csv_out)?
        }
        Format::JsonLines => {
            let note = serde_json::to_string(&walk.note).unwrap_or_default();
            json_out.extend_from_slice(format!("{{\"checkpoint\":{note}}}\n").as_bytes());
            Bytes::from(json_out)
        }
    };
    deliver(tx, Piece::Data(rest)).await?;
    deliver(tx, Piece::End).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defusing_is_undone_by_removing_one_quote() {
        for raw in ["=1+1", "'quoted", "plain", "-x", "''", ""] {
            assert_eq!(restored(&defused(raw)), raw);
        }
        assert_eq!(defused("=SUM(A1)"), "'=SUM(A1)");
    }
}
