//! Retention (SPEC §8): only whole monthly partitions older than the retention period are
//! dropped, oldest first, each drop audited in the same transaction. The chain's recorded
//! start moves to the first entry kept, and a checkpoint is signed afterwards, so
//! verification still passes and still sees a removal anywhere else.

use super::checkpoints::{sign_head, CheckpointSigner};
use super::{append_audit_entry, AuditEntry, RequestContext};
use crate::DomainError;
use sqlx::PgPool;
use time::{Date, Month, OffsetDateTime};

/// The default retention: 13 months (PCI DSS asks for 12).
pub const DEFAULT_RETENTION_MONTHS: u32 = 13;

/// The first day of the month `months` before `now`'s month.
fn cutoff(now: OffsetDateTime, months: u32) -> Option<Date> {
    let index = now.year() as i64 * 12 + (now.month() as i64 - 1) - months as i64;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    Date::from_calendar_date(year, month, 1).ok()
}

/// The first day of the month after `d`'s.
fn next_month(d: Date) -> Option<Date> {
    let next = d.month().next();
    let year = if next == Month::January {
        d.year() + 1
    } else {
        d.year()
    };
    Date::from_calendar_date(year, next, 1).ok()
}

/// The month of a partition named `audit_log_YYYYMM`.
fn month_of(name: &str) -> Option<Date> {
    let digits = name.strip_prefix("audit_log_")?;
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let year: i32 = digits[..4].parse().ok()?;
    let month = Month::try_from(digits[4..].parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, 1).ok()
}

/// Drops every monthly partition that ended before the retention period began; answers
/// the names dropped.
pub async fn drop_expired_partitions(
    pool: &PgPool,
    signer: Option<&CheckpointSigner>,
    months: u32,
    now: OffsetDateTime,
) -> Result<Vec<String>, DomainError> {
    let Some(keep_from) = cutoff(now, months) else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'audit_log'::regclass ORDER BY c.relname",
    )
    .fetch_all(pool)
    .await?;
    let mut dropped = Vec::new();
    for name in names {
        let Some(month) = month_of(&name) else {
            continue;
        };
        let Some(end) = next_month(month) else {
            continue;
        };
        if end > keep_from {
            break;
        }
        if !drop_partition(pool, &name, month, end, months).await? {
            break;
        }
        dropped.push(name);
    }
    if !dropped.is_empty() {
        if let Some(signer) = signer {
            sign_head(pool, signer).await?;
        }
    }
    Ok(dropped)
}

/// Drops one partition if it holds the oldest entries; `false` when it does not (an older
/// entry sits elsewhere), and nothing is dropped.
async fn drop_partition(
    pool: &PgPool,
    name: &str,
    month: Date,
    end: Date,
    months: u32,
) -> Result<bool, DomainError> {
    let mut tx = pool.begin().await?;
    sqlx::query("LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT 1 FROM audit_chain_head WHERE singleton FOR UPDATE")
        .execute(&mut *tx)
        .await?;
    // `name` is `audit_log_` and six digits (checked by `month_of`).
    let (count, first, last): (i64, Option<i64>, Option<i64>) =
        sqlx::query_as(&format!("SELECT count(*), min(seq), max(seq) FROM {name}"))
            .fetch_one(&mut *tx)
            .await?;
    let start: i64 = sqlx::query_scalar("SELECT seq FROM audit_chain_start WHERE singleton")
        .fetch_one(&mut *tx)
        .await?;
    if let (Some(first), Some(last)) = (first, last) {
        if first != start {
            tracing::warn!(
                partition = name,
                first,
                start,
                "audit retention: the partition does not hold the oldest entries; nothing dropped"
            );
            return Ok(false);
        }
        let hash: Vec<u8> = sqlx::query_scalar(&format!("SELECT hash FROM {name} WHERE seq = $1"))
            .bind(last)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("UPDATE audit_chain_start SET seq = $1, prev_hash = $2 WHERE singleton")
            .bind(last + 1)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(&format!("ALTER TABLE audit_log DETACH PARTITION {name}"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("DROP TABLE {name}"))
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM audit_ingested WHERE recorded_at < $1")
        .bind(end.midnight().assume_utc())
        .execute(&mut *tx)
        .await?;
    append_audit_entry(
        &mut tx,
        &RequestContext::default(),
        AuditEntry::new("audit.partition.dropped")
            .resource(format!("audit_partition:{name}"))
            .meta("month", month.to_string())
            .meta("entries", count)
            .meta("first_seq", first)
            .meta("last_seq", last)
            .meta("retention_months", months),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        partition = name,
        entries = count,
        "audit retention: partition dropped"
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_counts_whole_months_back() {
        let now = OffsetDateTime::parse(
            "2026-12-06T10:00:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(cutoff(now, 13).unwrap().to_string(), "2025-11-01");
        assert_eq!(cutoff(now, 0).unwrap().to_string(), "2026-12-01");
        assert_eq!(
            month_of("audit_log_202511").unwrap().to_string(),
            "2025-11-01"
        );
        assert!(month_of("audit_log_default").is_none());
    }
}
