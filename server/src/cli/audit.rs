//! `gatehouse audit …`: verify the trail and its checkpoints, verify an export offline,
//! print the verifier key, sign a checkpoint now.

use super::{with_database, AuditCommand};
use crate::audit::export::restored;
use crate::config::Settings;
use anyhow::{bail, Context as _, Result};
use gatehouse_domain::audit::{self, ExportChecker, ExportReport, ExportRow, Verifier, COLUMNS};
use serde::Deserialize;
use std::io::BufRead;
use std::path::Path;

pub async fn run(settings: &Settings, cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::Verify => {
            with_database(settings, |db| async move {
                let report = audit::verify_audit_chain(&db.pool)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("{}", serde_json::to_string_pretty(&report)?);
                if let Some(problem) = report.problem {
                    bail!("the audit trail is NOT intact: {problem}");
                }
                let verifier = Verifier::stored(&db.pool)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                if let Some(verifier) = verifier {
                    let problem = audit::verify_checkpoints(&db.pool, &verifier)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    if let Some(problem) = problem {
                        bail!("the audit trail is NOT intact: {problem}");
                    }
                }
                println!("the audit trail is intact ({} entries)", report.entries);
                Ok(())
            })
            .await
        }
        AuditCommand::VerifyExport { file, key } => {
            let verifier = Verifier::parse(&key).map_err(|e| anyhow::anyhow!("--key: {e}"))?;
            let report = verify_export(&file, &verifier)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if let Some(problem) = report.problem {
                bail!("the export is NOT intact: {problem}");
            }
            if report.contiguous {
                println!(
                    "the export is intact: {} entries, complete and unchanged, as signed",
                    report.rows
                );
            } else {
                println!(
                    "every one of the {} rows matches its hash (a filtered export: completeness is checked on the server with `gatehouse audit verify`)",
                    report.rows
                );
            }
            Ok(())
        }
        AuditCommand::Key => {
            with_database(settings, |db| async move {
                match Verifier::stored(&db.pool)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                {
                    Some(v) => println!("{}", v.key_text()),
                    None => bail!("no checkpoint key yet: the server makes one when it starts"),
                }
                Ok(())
            })
            .await
        }
        AuditCommand::Checkpoint => {
            let keys = crate::startup::master_keys(settings)?;
            let origin = url::Url::parse(&settings.public_url())
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "gatehouse".into());
            with_database(settings, |db| async move {
                let signer =
                    audit::CheckpointSigner::load(&db.pool, &keys, &format!("{origin}/audit"))
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                match audit::sign_head(&db.pool, &signer)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                {
                    Some(c) => print!("{}", c.note),
                    None => println!("the audit trail is empty: nothing to sign"),
                }
                Ok(())
            })
            .await
        }
        AuditCommand::Detect => {
            let base = settings.public_url();
            let thresholds = settings.alert_thresholds.clone();
            with_database(settings, |db| async move {
                let raised =
                    gatehouse_domain::tenants::detect_anomalies(&db.pool, &thresholds, &base)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                for alert in raised {
                    println!("{}", serde_json::to_string(&alert)?);
                }
                Ok(())
            })
            .await
        }
    }
}

/// Checks an export file; CSV or JSON Lines, told apart by the first byte.
pub fn verify_export(file: &Path, verifier: &Verifier) -> Result<ExportReport> {
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut reader = std::io::BufReader::new(f);
    let json = reader.fill_buf()?.first() == Some(&b'{');
    let mut checker = ExportChecker::default();
    let note = if json {
        json_lines(reader, &mut checker)?
    } else {
        csv_rows(reader, &mut checker)?
    };
    Ok(checker.finish(note.as_deref(), verifier))
}

fn csv_rows(reader: impl std::io::Read, checker: &mut ExportChecker) -> Result<Option<String>> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let header: Vec<String> = csv.headers()?.iter().map(str::to_owned).collect();
    // Exports made before personal values were sealed have no `personal` column.
    if header != COLUMNS && header != COLUMNS[..COLUMNS.len() - 1] {
        bail!(
            "this is not an audit export: its columns are not {}",
            COLUMNS.join(",")
        );
    }
    let mut note = None;
    for record in csv.records() {
        let record = record.context("reading a CSV row")?;
        let cell = |i: usize| restored(record.get(i).unwrap_or_default()).to_owned();
        let opt = |i: usize| Some(cell(i)).filter(|v| !v.is_empty());
        if note.is_some() {
            bail!("rows follow the closing checkpoint");
        }
        if cell(0) == "checkpoint" {
            note = Some(cell(15));
            continue;
        }
        let Ok(seq) = cell(0).parse() else {
            bail!(
                "row {}: seq is not a number",
                record.position().map_or(0, |p| p.line())
            );
        };
        checker.row(&ExportRow {
            seq,
            id: cell(1),
            recorded_at: cell(2),
            occurred_at: cell(3),
            tenant_id: opt(4),
            tenant: opt(5),
            actor_id: opt(6),
            actor_type: cell(7),
            actor: opt(8),
            action: cell(9),
            resource: opt(10),
            outcome: cell(11),
            request_id: opt(12),
            source: cell(13),
            application_id: opt(14),
            metadata: cell(15),
            prev_hash: cell(16),
            hash: cell(17),
            personal: opt(18),
            at: time::OffsetDateTime::UNIX_EPOCH,
        });
    }
    Ok(note)
}

/// One JSON line: an entry (with its metadata as the exact text that was hashed) or the
/// closing checkpoint.
#[derive(Deserialize)]
struct Line<'a> {
    checkpoint: Option<String>,
    seq: Option<i64>,
    #[serde(default)]
    id: String,
    #[serde(default)]
    recorded_at: String,
    #[serde(default)]
    occurred_at: String,
    tenant_id: Option<String>,
    tenant: Option<String>,
    actor_id: Option<String>,
    #[serde(default)]
    actor_type: String,
    actor: Option<String>,
    #[serde(default)]
    action: String,
    resource: Option<String>,
    #[serde(default)]
    outcome: String,
    request_id: Option<String>,
    #[serde(default)]
    source: String,
    application_id: Option<String>,
    #[serde(borrow)]
    metadata: Option<&'a serde_json::value::RawValue>,
    #[serde(default)]
    prev_hash: String,
    #[serde(default)]
    hash: String,
}

fn json_lines(reader: impl BufRead, checker: &mut ExportChecker) -> Result<Option<String>> {
    let mut note = None;
    for (n, line) in reader.lines().enumerate() {
        let line = line.context("reading a line")?;
        if line.trim().is_empty() {
            continue;
        }
        if note.is_some() {
            bail!("lines follow the closing checkpoint");
        }
        let l: Line<'_> = serde_json::from_str(&line)
            .with_context(|| format!("line {}: not an export line", n + 1))?;
        if let Some(c) = l.checkpoint {
            note = Some(c);
            continue;
        }
        let (Some(seq), Some(metadata)) = (l.seq, l.metadata) else {
            bail!("line {}: an entry needs seq and metadata", n + 1);
        };
        checker.row(&ExportRow {
            seq,
            id: l.id,
            recorded_at: l.recorded_at,
            occurred_at: l.occurred_at,
            tenant_id: l.tenant_id,
            tenant: l.tenant,
            actor_id: l.actor_id,
            actor_type: l.actor_type,
            actor: l.actor,
            action: l.action,
            resource: l.resource,
            outcome: l.outcome,
            request_id: l.request_id,
            source: l.source,
            application_id: l.application_id,
            metadata: metadata.get().to_owned(),
            prev_hash: l.prev_hash,
            hash: l.hash,
            personal: None,
            at: time::OffsetDateTime::UNIX_EPOCH,
        });
    }
    Ok(note)
}
