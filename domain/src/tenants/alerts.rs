//! Continuous monitoring of the audit trail (NFR-MON-001): detectors over the last minutes
//! of entries, each finding raised once per window as a `security.alert` audit entry with
//! its evidence, listed on the operator's dashboard (and the tenant's, when it concerns one
//! tenant), mailed to the operators (or the tenant's owners) and published as the
//! `security.alert` webhook event.
//!
//! The detectors, each a query over the trail (the addresses through their keyed
//! references, since the trail holds them sealed):
//!
//! - `failed_sign_ins_account`, `failed_sign_ins_ip`, `failed_sign_ins_tenant`: bursts of
//!   failed sign-ins on one account (or unknown address), from one address, in one tenant;
//! - `credential_stuffing`: one address trying many accounts;
//! - `mass_reads`: one person reading or exporting personal data or the trail in bulk;
//! - `admin_unusual_hour`: an administrative change at an hour the actor never works at
//!   (learned from their last 30 days, once they have 10 such changes);
//! - `introspection_failures`: an application's introspections answered inactive in bulk;
//! - `disabled_application`: a disabled application still calling the token endpoints
//!   (5 calls in the window).
//!
//! The thresholds are settings ([`Thresholds`], `GATEHOUSE_ALERT_THRESHOLDS`) with defaults
//! the normal browser test suite never reaches (it checks that it raised none, with its
//! lockout tests' 11 failures on one account and 10 accounts tried from one address).

use crate::audit::personal::open_all;
use crate::audit::{append_audit_entry, ActorType, AuditEntry, RequestContext};
use crate::email::{enqueue_mail, Mail};
use crate::permissions::{Actor, Permission};
use crate::types::Email;
use crate::DomainError;
use anyhow::Context as _;
use serde::Serialize;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

/// What makes a finding, each detector's count within the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    pub window_minutes: i64,
    pub failed_sign_ins_account: i64,
    pub failed_sign_ins_ip: i64,
    pub failed_sign_ins_tenant: i64,
    pub credential_stuffing_accounts: i64,
    pub mass_reads: i64,
    pub introspection_failures: i64,
    pub disabled_application_calls: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            window_minutes: 10,
            failed_sign_ins_account: 20,
            failed_sign_ins_ip: 50,
            failed_sign_ins_tenant: 100,
            credential_stuffing_accounts: 20,
            mass_reads: 300,
            introspection_failures: 200,
            disabled_application_calls: 5,
        }
    }
}

impl Thresholds {
    /// `window_minutes=10,failed_sign_ins_account=10,...`: the named ones replace their
    /// defaults; every bad part is named.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut t = Self::default();
        let mut bad = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = part.split_once('=') else {
                bad.push(format!("{part}: expected name=number"));
                continue;
            };
            let Ok(value) = value.trim().parse::<i64>() else {
                bad.push(format!("{name}: not a whole number"));
                continue;
            };
            if value < 1 {
                bad.push(format!("{name}: must be at least 1"));
                continue;
            }
            let slot = match name.trim() {
                "window_minutes" => &mut t.window_minutes,
                "failed_sign_ins_account" => &mut t.failed_sign_ins_account,
                "failed_sign_ins_ip" => &mut t.failed_sign_ins_ip,
                "failed_sign_ins_tenant" => &mut t.failed_sign_ins_tenant,
                "credential_stuffing_accounts" => &mut t.credential_stuffing_accounts,
                "mass_reads" => &mut t.mass_reads,
                "introspection_failures" => &mut t.introspection_failures,
                "disabled_application_calls" => &mut t.disabled_application_calls,
                other => {
                    bad.push(format!("{other}: no such threshold"));
                    continue;
                }
            };
            *slot = value;
        }
        if bad.is_empty() {
            Ok(t)
        } else {
            Err(bad.join("; "))
        }
    }
}

/// One finding, before it is raised.
#[derive(Debug, Clone)]
struct Finding {
    detector: &'static str,
    key: String,
    tenant_id: Option<Uuid>,
    count: i64,
    summary: String,
    resource: Option<String>,
    /// An entry whose address is the evidence (for the address detectors).
    sample_seq: Option<i64>,
}

/// A raised alert, as the dashboards list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SecurityAlert {
    pub id: Uuid,
    pub detector: String,
    pub tenant_id: Option<Uuid>,
    pub tenant_domain: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub raised_at: OffsetDateTime,
    pub summary: String,
    pub count: i64,
    /// The `security.alert` audit entry with the evidence.
    pub audit_id: Uuid,
}

const FAILURES: &str = "l.action = 'auth.login.failure'";
/// Reads of personal data or of the trail, one entry per request (CON-SEC-002).
const READS: &str =
    "l.action IN ('user.read', 'user.list', 'user.data.export', 'audit.read', 'audit.search', 'audit.export')";
/// Administrative changes: what owners, admins and operators do to others' settings.
const ADMIN_CHANGES: &str = "l.actor_type IN ('user', 'operator') AND l.actor_id IS NOT NULL
     AND l.outcome = 'success'
     AND l.action ~ '^(user|tenant|flag|sso|application|webhook|maintenance|backup)\\.'
     AND l.action NOT IN ('user.read', 'user.list', 'user.data.export', 'user.erasure.requested')";

fn count_of(row: &sqlx::postgres::PgRow) -> Result<i64, DomainError> {
    Ok(row.try_get("n").context("count")?)
}

async fn findings(
    pool: &PgPool,
    t: &Thresholds,
    since: OffsetDateTime,
) -> Result<Vec<Finding>, DomainError> {
    let w = t.window_minutes;
    let mut out = Vec::new();
    // Failed sign-ins on one account (or one unknown address, by its reference). A locked
    // account's refusals are audited at the 1st, 10th, 100th...: each carries the count so far.
    for row in sqlx::query(&format!(
        "SELECT resource, tenant_id, n FROM (
             SELECT l.resource, max(l.tenant_id::text)::uuid AS tenant_id,
                    count(*) FILTER (WHERE l.metadata->>'reason' IS DISTINCT FROM 'locked')
                    + coalesce(max((l.metadata->>'refusals')::bigint)
                               FILTER (WHERE l.metadata->>'reason' = 'locked'), 0) AS n
               FROM audit_log l WHERE {FAILURES} AND l.recorded_at > $1 AND l.resource IS NOT NULL
              GROUP BY l.resource) a
          WHERE n >= $2"
    ))
    .bind(since)
    .bind(t.failed_sign_ins_account)
    .fetch_all(pool)
    .await?
    {
        let resource: String = row.try_get("resource").context("resource")?;
        let n = count_of(&row)?;
        out.push(Finding {
            detector: "failed_sign_ins_account",
            key: resource.clone(),
            tenant_id: row.try_get("tenant_id").context("tenant")?,
            count: n,
            summary: format!("{n} failed sign-ins on one account in {w} minutes"),
            resource: Some(resource),
            sample_seq: None,
        });
    }
    // From one address: a burst, and many accounts (credential stuffing).
    for row in sqlx::query(&format!(
        "SELECT encode(r.ip_ref, 'hex') AS key, count(*) AS n, max(l.seq) AS sample,
                count(DISTINCT l.resource) AS accounts
           FROM audit_log l JOIN audit_ip_refs r ON r.seq = l.seq AND r.recorded_at > $1
          WHERE {FAILURES} AND l.recorded_at > $1
          GROUP BY r.ip_ref HAVING count(*) >= least($2, $3)"
    ))
    .bind(since)
    .bind(t.failed_sign_ins_ip)
    .bind(t.credential_stuffing_accounts)
    .fetch_all(pool)
    .await?
    {
        let key: String = row.try_get("key").context("key")?;
        let n = count_of(&row)?;
        let accounts: i64 = row.try_get("accounts").context("accounts")?;
        let sample: i64 = row.try_get("sample").context("sample")?;
        if accounts >= t.credential_stuffing_accounts {
            out.push(Finding {
                detector: "credential_stuffing",
                key: key.clone(),
                tenant_id: None,
                count: accounts,
                summary: format!(
                    "{accounts} accounts tried from one address in {w} minutes ({n} failed sign-ins)"
                ),
                resource: None,
                sample_seq: Some(sample),
            });
        } else if n >= t.failed_sign_ins_ip {
            out.push(Finding {
                detector: "failed_sign_ins_ip",
                key,
                tenant_id: None,
                count: n,
                summary: format!("{n} failed sign-ins from one address in {w} minutes"),
                resource: None,
                sample_seq: Some(sample),
            });
        }
    }
    // In one tenant.
    for row in sqlx::query(&format!(
        "SELECT l.tenant_id, count(*) AS n FROM audit_log l
          WHERE {FAILURES} AND l.recorded_at > $1 AND l.tenant_id IS NOT NULL
          GROUP BY l.tenant_id HAVING count(*) >= $2"
    ))
    .bind(since)
    .bind(t.failed_sign_ins_tenant)
    .fetch_all(pool)
    .await?
    {
        let tenant: Uuid = row.try_get("tenant_id").context("tenant")?;
        let n = count_of(&row)?;
        out.push(Finding {
            detector: "failed_sign_ins_tenant",
            key: tenant.to_string(),
            tenant_id: Some(tenant),
            count: n,
            summary: format!("{n} failed sign-ins in the tenant in {w} minutes"),
            resource: Some(format!("tenant:{tenant}")),
            sample_seq: None,
        });
    }
    // One person reading personal data (or the trail) in bulk.
    for row in sqlx::query(&format!(
        "SELECT l.actor_id, max(l.tenant_id::text)::uuid AS tenant_id, count(*) AS n
           FROM audit_log l WHERE {READS} AND l.recorded_at > $1 AND l.actor_id IS NOT NULL
          GROUP BY l.actor_id HAVING count(*) >= $2"
    ))
    .bind(since)
    .bind(t.mass_reads)
    .fetch_all(pool)
    .await?
    {
        let actor: Uuid = row.try_get("actor_id").context("actor")?;
        let n = count_of(&row)?;
        out.push(Finding {
            detector: "mass_reads",
            key: actor.to_string(),
            tenant_id: row.try_get("tenant_id").context("tenant")?,
            count: n,
            summary: format!("{n} reads or exports of personal data by one person in {w} minutes"),
            resource: Some(format!("user:{actor}")),
            sample_seq: None,
        });
    }
    // Administrative changes at an hour the actor never works at.
    for row in sqlx::query(&format!(
        "WITH recent AS (
             SELECT l.actor_id, max(l.tenant_id::text)::uuid AS tenant_id,
                    extract(hour FROM l.recorded_at AT TIME ZONE 'UTC')::int AS h, count(*) AS n
               FROM audit_log l WHERE {ADMIN_CHANGES} AND l.recorded_at > $1
              GROUP BY l.actor_id, h
         ), hist AS (
             SELECT l.actor_id, extract(hour FROM l.recorded_at AT TIME ZONE 'UTC')::int AS h, count(*) AS c
               FROM audit_log l
              WHERE {ADMIN_CHANGES} AND l.recorded_at > $1 - interval '30 days' AND l.recorded_at <= $1
                AND l.actor_id IN (SELECT actor_id FROM recent)
              GROUP BY l.actor_id, h
         )
         SELECT r.actor_id, r.tenant_id, r.h, r.n FROM recent r
          WHERE (SELECT coalesce(sum(c), 0) FROM hist WHERE hist.actor_id = r.actor_id) >= 10
            AND NOT EXISTS (SELECT 1 FROM hist WHERE hist.actor_id = r.actor_id AND hist.c >= 2
                              AND least(abs(hist.h - r.h), 24 - abs(hist.h - r.h)) <= 1)"
    ))
    .bind(since)
    .fetch_all(pool)
    .await?
    {
        let actor: Uuid = row.try_get("actor_id").context("actor")?;
        let hour: i32 = row.try_get("h").context("hour")?;
        let n = count_of(&row)?;
        out.push(Finding {
            detector: "admin_unusual_hour",
            key: actor.to_string(),
            tenant_id: row.try_get("tenant_id").context("tenant")?,
            count: n,
            summary: format!(
                "{n} administrative changes at {hour:02}:00 UTC, an hour this admin never works at"
            ),
            resource: Some(format!("user:{actor}")),
            sample_seq: None,
        });
    }
    // Applications: failed introspections, and calls of a disabled one.
    for row in sqlx::query(
        "SELECT l.resource, sum(coalesce((l.metadata->>'count')::bigint, 1))::bigint AS n,
                l.action
           FROM audit_log l
          WHERE l.action IN ('oauth.introspection.inactive', 'application.disabled.call')
            AND l.recorded_at > $1
          GROUP BY l.resource, l.action",
    )
    .bind(since)
    .fetch_all(pool)
    .await?
    {
        let resource: Option<String> = row.try_get("resource").context("resource")?;
        let action: String = row.try_get("action").context("action")?;
        let n = count_of(&row)?;
        let resource = resource.unwrap_or_default();
        if action == "application.disabled.call" {
            // One stray call (a retry, a test of the refusal) is not yet "still calling".
            if n < t.disabled_application_calls {
                continue;
            }
            out.push(Finding {
                detector: "disabled_application",
                key: resource.clone(),
                tenant_id: None,
                count: n,
                summary: format!(
                    "a disabled application still called the token endpoints {n} times in {w} minutes"
                ),
                resource: Some(resource),
                sample_seq: None,
            });
        } else if n >= t.introspection_failures {
            out.push(Finding {
                detector: "introspection_failures",
                key: resource.clone(),
                tenant_id: None,
                count: n,
                summary: format!(
                    "{n} introspections answered inactive for one application in {w} minutes"
                ),
                resource: Some(resource),
                sample_seq: None,
            });
        }
    }
    Ok(out)
}

/// Runs every detector over the last window and raises what is new; returns how many.
/// `console_url` is the public URL's origin, for the mails.
pub async fn detect_anomalies(
    pool: &PgPool,
    thresholds: &Thresholds,
    base_url: &str,
) -> Result<Vec<SecurityAlert>, DomainError> {
    let now = OffsetDateTime::now_utc();
    let since = now - time::Duration::minutes(thresholds.window_minutes);
    let mut raised = Vec::new();
    for finding in findings(pool, thresholds, since).await? {
        if let Some(alert) = raise(pool, thresholds, finding, since, base_url).await? {
            raised.push(alert);
        }
    }
    Ok(raised)
}

async fn raise(
    pool: &PgPool,
    t: &Thresholds,
    f: Finding,
    since: OffsetDateTime,
    base_url: &str,
) -> Result<Option<SecurityAlert>, DomainError> {
    let mut tx = pool.begin().await?;
    // One alert per detector and key a window; concurrent instances take turns.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('security_alerts'))")
        .execute(&mut *tx)
        .await?;
    let seen: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM security_alerts WHERE detector = $1 AND key = $2 AND raised_at > $3)",
    )
    .bind(f.detector)
    .bind(&f.key)
    .bind(since)
    .fetch_one(&mut *tx)
    .await?;
    if seen {
        return Ok(None);
    }
    let mut entry = AuditEntry::new("security.alert")
        .tenant(f.tenant_id)
        .actor(ActorType::System, None)
        .meta("detector", f.detector)
        .meta("summary", f.summary.clone())
        .meta("count", f.count)
        .meta("window_minutes", t.window_minutes)
        .meta("key", f.key.clone());
    if let Some(resource) = &f.resource {
        entry = entry.resource(resource.clone());
    }
    // The address itself, as evidence: sealed in the entry like any address.
    if let Some(seq) = f.sample_seq {
        let sample: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT metadata FROM audit_log WHERE seq = $1")
                .bind(seq)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(mut sample) = sample {
            open_all(&mut *tx, &mut [&mut sample]).await?;
            if let Some(ip) = sample.get("ip").and_then(|v| v.as_str()) {
                entry = entry.meta("ip", ip.to_owned());
            }
        }
    }
    let appended = append_audit_entry(&mut tx, &RequestContext::default(), entry).await?;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO security_alerts (id, detector, key, tenant_id, summary, count, audit_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(f.detector)
    .bind(&f.key)
    .bind(f.tenant_id)
    .bind(&f.summary)
    .bind(f.count)
    .bind(appended.id)
    .execute(&mut *tx)
    .await?;
    // The tenant's owners hear of their tenant's alerts; the operators of every alert.
    let recipients: Vec<(String, Option<Uuid>)> = sqlx::query_as(
        "SELECT email, tenant_id FROM users
          WHERE status = 'active' AND (role = 'operator' OR (role = 'owner' AND tenant_id = $1))",
    )
    .bind(f.tenant_id)
    .fetch_all(&mut *tx)
    .await?;
    let base = base_url.trim_end_matches('/');
    for (to, tenant) in recipients {
        let Ok(to) = Email::parse(&to) else { continue };
        let console_url = if tenant.is_some() {
            format!("{base}/admin")
        } else {
            format!("{base}/operator")
        };
        enqueue_mail(
            &mut tx,
            tenant,
            &to,
            Mail::SecurityAlert {
                summary: f.summary.clone(),
                at: OffsetDateTime::now_utc(),
                console_url,
            },
        )
        .await?;
    }
    let alert = sqlx::query_as(&format!("{SELECT_ALERT} WHERE a.id = $1"))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::warn!(
        detector = f.detector,
        count = f.count,
        "security alert raised"
    );
    Ok(Some(alert))
}

const SELECT_ALERT: &str = "
    SELECT a.id, a.detector, a.tenant_id, t.domain AS tenant_domain, a.raised_at, a.summary,
           a.count, a.audit_id
      FROM security_alerts a LEFT JOIN tenants t ON t.id = a.tenant_id";

/// The latest alerts: every alert for platform staff who read the trail, the tenant's own
/// for its owners and admins.
pub async fn recent_alerts(
    pool: &PgPool,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<SecurityAlert>, DomainError> {
    let limit = limit.clamp(1, 100);
    if actor.tenant_id.is_none() {
        actor.require(Permission::AuditReadAll)?;
        return Ok(sqlx::query_as(&format!(
            "{SELECT_ALERT} ORDER BY a.raised_at DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(pool)
        .await?);
    }
    let tenant = actor
        .tenant_id
        .ok_or_else(|| DomainError::PermissionDenied("no tenant".into()))?;
    actor.require_in_tenant(Permission::TenantAuditRead, tenant, "tenant")?;
    Ok(sqlx::query_as(&format!(
        "{SELECT_ALERT} WHERE a.tenant_id = $1 ORDER BY a.raised_at DESC LIMIT $2"
    ))
    .bind(tenant)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Counts of what the token endpoints refused since the last flush, written as one entry
/// per application and kind (`oauth.introspection.inactive`, `application.disabled.call`),
/// so the detectors see them without an entry per request.
pub async fn record_client_tallies(
    pool: &PgPool,
    tallies: &[(&'static str, Uuid, u64)],
) -> Result<(), DomainError> {
    if tallies.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    for (action, application, count) in tallies {
        append_audit_entry(
            &mut tx,
            &RequestContext::default(),
            AuditEntry::new(*action)
                .actor(ActorType::Application, Some(*application))
                .resource(format!("application:{application}"))
                .failure()
                .meta("count", *count),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_take_named_values_and_name_every_bad_part() {
        let t = Thresholds::parse("window_minutes=5, mass_reads=50").unwrap();
        assert_eq!((t.window_minutes, t.mass_reads), (5, 50));
        assert_eq!(t.failed_sign_ins_account, 20);
        let err = Thresholds::parse("nope=1,mass_reads=x,window_minutes=0,junk").unwrap_err();
        assert_eq!(
            err,
            "nope: no such threshold; mass_reads: not a whole number; window_minutes: must be at least 1; junk: expected name=number"
        );
    }
}
