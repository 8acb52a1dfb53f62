//! Exports anyone can verify (FR-LOG-002; SPEC §8).
//!
//! An export is the current filter's entries, oldest first, read in keyset pages of
//! [`PAGE_ROWS`] (each its own short query: no connection is held between pages, whatever
//! the client's pace), up to the chain's head when the export started. Every row carries
//! the chain fields (`seq`, `prev_hash`, `hash`) and the exact text the hash covers
//! (times in the database's UTC form, the metadata in jsonb's canonical text), and the
//! export ends with a checkpoint note signed for it:
//!
//! - a time-only export of the whole trail is a contiguous stretch of the chain. Its note
//!   is signed for the last row (`size` = its seq, the hash = its hash) with the extension
//!   `export first <seq> prev <base64>`: a verifier checks every row's hash and link and
//!   both ends, so a changed, added or removed row fails;
//! - any other filter gives rows that are not contiguous. Its note is signed for the head
//!   with `export filtered`: each row is checked against its own hash (a changed field
//!   fails), but completeness and inclusion are for `gatehouse audit verify` on the
//!   database (no per-row Merkle proofs yet).
//!
//! [`ExportChecker`] is the offline check, fed one row at a time (constant memory).

use super::checkpoints::{CheckpointSigner, Verifier};
use super::search::{push_conditions, AuditFilter, Scope};
use crate::permissions::{Actor, Permission};
use crate::DomainError;
use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, QueryBuilder};
use time::OffsetDateTime;

/// Rows per page of an export.
pub const PAGE_ROWS: i64 = 1000;

/// The columns of an export, in order (CSV header; JSON Lines keys).
pub const COLUMNS: [&str; 19] = [
    "seq",
    "id",
    "recorded_at",
    "occurred_at",
    "tenant_id",
    "tenant",
    "actor_id",
    "actor_type",
    "actor",
    "action",
    "resource",
    "outcome",
    "request_id",
    "source",
    "application_id",
    "metadata",
    "prev_hash",
    "hash",
    "personal",
];

/// One exported entry: the hashed fields as the hash covers them, and what is not hashed:
/// two names for people (`tenant`, `actor`) and the entry's personal values opened
/// (`personal`: a JSON object, each value in clear or `[erased]`; CON-COMP-001), since the
/// hashed metadata holds them sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ExportRow {
    pub seq: i64,
    pub id: String,
    pub recorded_at: String,
    pub occurred_at: String,
    pub tenant_id: Option<String>,
    pub tenant: Option<String>,
    pub actor_id: Option<String>,
    pub actor_type: String,
    pub actor: Option<String>,
    pub action: String,
    pub resource: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub source: String,
    pub application_id: Option<String>,
    /// jsonb's canonical text.
    pub metadata: String,
    pub prev_hash: String,
    pub hash: String,
    #[sqlx(default)]
    pub personal: Option<String>,
    #[serde(skip)]
    #[sqlx(rename = "at")]
    pub at: OffsetDateTime,
}

impl ExportRow {
    /// The cells in [`COLUMNS`] order (`""` for none).
    pub fn cells(&self) -> [&str; 19] {
        fn o(v: &Option<String>) -> &str {
            v.as_deref().unwrap_or("")
        }
        [
            "", // seq: written by the caller as a number
            &self.id,
            &self.recorded_at,
            &self.occurred_at,
            o(&self.tenant_id),
            o(&self.tenant),
            o(&self.actor_id),
            &self.actor_type,
            o(&self.actor),
            &self.action,
            o(&self.resource),
            &self.outcome,
            o(&self.request_id),
            &self.source,
            o(&self.application_id),
            &self.metadata,
            &self.prev_hash,
            &self.hash,
            o(&self.personal),
        ]
    }

    /// The text whose SHA-256, after the predecessor's hash, is the entry's hash: what
    /// `audit_entry_hash` (migration 0005) builds, `jsonb_build_array(...)::text`.
    pub fn canonical(&self) -> String {
        fn s(v: &str) -> String {
            serde_json::to_string(v).unwrap_or_default()
        }
        fn o(v: &Option<String>) -> String {
            v.as_deref().map_or_else(|| "null".to_owned(), s)
        }
        format!(
            "[{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}]",
            self.seq,
            s(&self.id),
            s(&self.recorded_at),
            s(&self.occurred_at),
            o(&self.tenant_id),
            o(&self.actor_id),
            s(&self.actor_type),
            s(&self.action),
            o(&self.resource),
            s(&self.outcome),
            self.metadata,
            o(&self.request_id),
            s(&self.source),
            o(&self.application_id),
        )
    }
}

const EXPORT_COLUMNS: &str = r#"
    SELECT l.seq, l.id::text AS id,
           to_char(l.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at,
           to_char(l.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
           l.tenant_id::text AS tenant_id, t.domain AS tenant, l.actor_id::text AS actor_id,
           l.actor_type,
           coalesce(u.email, CASE WHEN jsonb_typeof(l.metadata->'actor'->'name') = 'string'
                                  THEN l.metadata->'actor'->>'name' END,
                    l.metadata->'actor'->>'id') AS actor,
           l.action, l.resource, l.outcome, l.request_id, l.source,
           l.application_id::text AS application_id, l.metadata::text AS metadata,
           encode(l.prev_hash, 'hex') AS prev_hash, encode(l.hash, 'hex') AS hash,
           l.recorded_at AS at
      FROM audit_log l
      LEFT JOIN tenants t ON t.id = l.tenant_id
      LEFT JOIN users u ON u.id = l.actor_id
     WHERE true"#;

/// A running export: made by [`AuditExportWalk::start`], which checks the permission and
/// signs the closing note before anything is sent, then read page by page.
#[derive(Debug, Clone)]
pub struct AuditExportWalk {
    scope: Scope,
    filter: AuditFilter,
    last_seq: i64,
    after: Option<(OffsetDateTime, i64)>,
    finished: bool,
    /// The signed note that closes the export.
    pub note: String,
    /// Whether the rows are a contiguous stretch of the chain.
    pub contiguous: bool,
}

impl AuditExportWalk {
    /// Auditors only (`AuditExport`); a tenant's own log has its own download.
    pub async fn start(
        pool: &PgPool,
        actor: &Actor,
        signer: &CheckpointSigner,
        filter: AuditFilter,
    ) -> Result<Self, DomainError> {
        actor.require(Permission::AuditExport)?;
        let scope = Scope::All;
        let filter = super::search::resolved(pool, &filter).await?;
        let (head_seq, head_hash): (i64, Vec<u8>) =
            sqlx::query_as("SELECT seq, hash FROM audit_chain_head WHERE singleton")
                .fetch_one(pool)
                .await?;
        let now = OffsetDateTime::now_utc();
        let contiguous = filter.is_time_only();
        let note = if contiguous {
            let mut first =
                QueryBuilder::new("SELECT l.seq, l.prev_hash FROM audit_log l WHERE true");
            push_conditions(&mut first, scope, &filter);
            first.push(" AND l.seq <= ").push_bind(head_seq);
            first.push(" ORDER BY l.recorded_at, l.seq LIMIT 1");
            let first: Option<(i64, Vec<u8>)> = first.build_query_as().fetch_optional(pool).await?;
            let mut last = QueryBuilder::new("SELECT l.seq, l.hash FROM audit_log l WHERE true");
            push_conditions(&mut last, scope, &filter);
            last.push(" AND l.seq <= ").push_bind(head_seq);
            last.push(" ORDER BY l.recorded_at DESC, l.seq DESC LIMIT 1");
            let last: Option<(i64, Vec<u8>)> = last.build_query_as().fetch_optional(pool).await?;
            match (first, last) {
                (Some((a, prev)), Some((b, hash))) => signer.sign(
                    b,
                    &hash,
                    now,
                    &[format!("export first {a} prev {}", STANDARD.encode(prev))],
                ),
                _ => signer.sign(head_seq, &head_hash, now, &["export empty".into()]),
            }
        } else {
            signer.sign(head_seq, &head_hash, now, &["export filtered".into()])
        };
        Ok(Self {
            scope,
            filter,
            last_seq: head_seq,
            after: None,
            finished: false,
            note,
            contiguous,
        })
    }

    /// The next page, oldest first; empty once every row has been read.
    pub async fn next_page(&mut self, pool: &PgPool) -> Result<Vec<ExportRow>, DomainError> {
        if self.finished {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::new(EXPORT_COLUMNS);
        push_conditions(&mut q, self.scope, &self.filter);
        q.push(" AND l.seq <= ").push_bind(self.last_seq);
        if let Some((at, seq)) = self.after {
            q.push(" AND (l.recorded_at, l.seq) > (")
                .push_bind(at)
                .push(", ")
                .push_bind(seq)
                .push(")");
        }
        q.push(" ORDER BY l.recorded_at, l.seq LIMIT ")
            .push_bind(PAGE_ROWS);
        let mut rows: Vec<ExportRow> = q
            .build_query_as()
            .fetch_all(pool)
            .await
            .context("reading an export page")?;
        open_personal(pool, &mut rows).await?;
        self.finished = (rows.len() as i64) < PAGE_ROWS;
        if let Some(last) = rows.last() {
            self.after = Some((last.at, last.seq));
        }
        Ok(rows)
    }

    /// What the export's audit entry says about it.
    pub fn describe(&self, format: &str) -> serde_json::Value {
        serde_json::json!({
            "format": format,
            "filter": self.filter.describe(),
            "contiguous": self.contiguous,
            "up_to_seq": self.last_seq,
        })
    }
}

/// Fills each row's `personal` with its sealed values opened, one key query per page.
async fn open_personal(pool: &PgPool, rows: &mut [ExportRow]) -> Result<(), DomainError> {
    let mut sealed: Vec<(usize, serde_json::Value)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if row.metadata.contains(super::personal::SEALED_MARK) {
            let meta = serde_json::from_str(&row.metadata).context("an entry's metadata")?;
            sealed.push((i, meta));
        }
    }
    if sealed.is_empty() {
        return Ok(());
    }
    let mut opened: Vec<serde_json::Value> = sealed
        .iter()
        .map(|(_, m)| super::personal::sealed_only(m))
        .collect();
    let mut refs: Vec<&mut serde_json::Value> = opened.iter_mut().collect();
    super::personal::open_all(pool, &mut refs).await?;
    for ((i, _), personal) in sealed.iter().zip(opened) {
        let row = &mut rows[*i];
        // An application's actor is named by its (sealed) name when it still reads.
        if let Some(name) = personal["actor"]["name"].as_str() {
            if row.source == "application" && name != super::personal::ERASED {
                row.actor = Some(name.to_owned());
            }
        }
        row.personal = Some(personal.to_string());
    }
    Ok(())
}

/// The offline check of an export, fed one row at a time.
#[derive(Debug, Default)]
pub struct ExportChecker {
    rows: u64,
    first: Option<(i64, Vec<u8>)>,
    last: Option<(i64, Vec<u8>)>,
    /// The first problem found in a row.
    problem: Option<String>,
    /// The first break between rows (a problem only for a contiguous export).
    gap: Option<String>,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub rows: u64,
    pub contiguous: bool,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// `None` when the export is intact.
    pub problem: Option<String>,
}

fn unhex(v: &str) -> Option<Vec<u8>> {
    hex::decode(v).ok().filter(|h| h.len() == 32)
}

impl ExportChecker {
    pub fn row(&mut self, row: &ExportRow) {
        self.rows += 1;
        if self.problem.is_some() {
            return;
        }
        let (Some(prev), Some(hash)) = (unhex(&row.prev_hash), unhex(&row.hash)) else {
            self.problem = Some(format!(
                "row {} (seq {}): the chain fields are not hashes",
                self.rows, row.seq
            ));
            return;
        };
        let mut h = Sha256::new();
        h.update(&prev);
        h.update(row.canonical().as_bytes());
        if h.finalize().as_slice() != hash.as_slice() {
            self.problem = Some(format!(
                "entry {} was changed: its fields do not give its hash",
                row.seq
            ));
            return;
        }
        if let Some((seq, last_hash)) = &self.last {
            if row.seq <= *seq {
                self.problem = Some(format!("entry {} is out of order or repeated", row.seq));
                return;
            }
            if self.gap.is_none() && !(row.seq == seq + 1 && prev == *last_hash) {
                self.gap = Some(format!("entry {} does not follow entry {seq}", row.seq));
            }
        } else {
            self.first = Some((row.seq, prev));
        }
        self.last = Some((row.seq, hash));
    }

    /// The verdict, given the export's closing note and the published key.
    pub fn finish(self, note: Option<&str>, verifier: &Verifier) -> ExportReport {
        let mut report = ExportReport {
            rows: self.rows,
            contiguous: false,
            first_seq: self.first.as_ref().map(|f| f.0),
            last_seq: self.last.as_ref().map(|l| l.0),
            problem: self.problem.clone(),
        };
        let Some(note) = note else {
            report.problem.get_or_insert(
                "the export has no closing checkpoint: it was cut short or the checkpoint removed"
                    .into(),
            );
            return report;
        };
        let body = match verifier.open(note) {
            Ok(body) => body,
            Err(why) => {
                report.problem.get_or_insert(why);
                return report;
            }
        };
        if report.problem.is_some() {
            return report;
        }
        let export = body.extension("export").unwrap_or_default();
        if let Some(rest) = export.strip_prefix("first ") {
            report.contiguous = true;
            let mut parts = rest.split(' ');
            let first: Option<i64> = parts.next().and_then(|s| s.parse().ok());
            let prev = match (parts.next(), parts.next()) {
                (Some("prev"), Some(b64)) => STANDARD.decode(b64).ok(),
                _ => None,
            };
            let problem = match (&self.first, &self.last) {
                (Some((seq, p)), _) if Some(*seq) != first || prev.as_ref() != Some(p) => Some(format!(
                    "the export should start at entry {}, but starts at entry {seq}: rows were removed or added at the start",
                    first.unwrap_or_default()
                )),
                (_, Some((seq, hash))) if *seq != body.size || *hash != body.hash => Some(format!(
                    "the export should end at entry {}, but ends at entry {seq}: rows were removed or added at the end",
                    body.size
                )),
                (None, _) => Some("the export's rows are missing".into()),
                _ => self.gap.clone(),
            };
            report.problem = problem;
        } else if export == "empty" {
            if self.rows > 0 {
                report.problem = Some("rows were added to an empty export".into());
            }
        } else if export != "filtered" {
            report.problem = Some("the checkpoint is not an export's".into());
        }
        report
    }
}
