//! Maintenance windows (NFR-OPS-002): operators schedule a window (start, end, message)
//! that every tenant is told about beforehand — a banner in the consoles, the webhook
//! events `maintenance.scheduled` and `maintenance.cancelled` (sent to every tenant's
//! subscribed endpoints as well as the platform's), and `GET /api/v1/status`. Scheduling
//! and cancelling are audited (`maintenance.schedule`, `maintenance.cancel`); the audit
//! entry publishes the event in the same transaction.
//!
//! A window belongs to the platform, not to a tenant, so it lives beside the tenants'
//! lifecycle: the same operators (`TenantsProvision`) schedule it.

use crate::audit::{append_audit_entry, parse_utc, AuditEntry, RequestContext};
use crate::effects::{commit, Done, Effects};
use crate::permissions::{Actor, Permission};
use crate::{DomainError, FieldError};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

/// The longest window: a week. Longer is not maintenance, it is an outage plan.
const MAX_WINDOW: Duration = Duration::days(7);
/// How far in the past a start may lie (a form sent a little after the minute it named).
const START_TOLERANCE: Duration = Duration::minutes(1);
/// The longest message, in characters (the banner is one line).
const MAX_MESSAGE: usize = 500;
/// How long before its start a window shows in the tenants' consoles.
pub const BANNER_HORIZON: Duration = Duration::days(7);
/// At most this many windows are announced at once (they are few by nature; the bound
/// keeps the public endpoint's answer small whatever is scheduled).
const ANNOUNCED: i64 = 50;
/// The console lists at most this many past windows (the audit trail keeps them all).
const RECENT: i64 = 25;

/// A maintenance window as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MaintenanceWindow {
    pub id: Uuid,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub message: String,
    /// The operator who scheduled it (`None` once that account is erased).
    pub created_by: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub cancelled_at: Option<OffsetDateTime>,
}

/// Where a window stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    Scheduled,
    InProgress,
    Ended,
    Cancelled,
}

impl WindowState {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowState::Scheduled => "scheduled",
            WindowState::InProgress => "in progress",
            WindowState::Ended => "ended",
            WindowState::Cancelled => "cancelled",
        }
    }
}

impl MaintenanceWindow {
    pub fn state(&self, now: OffsetDateTime) -> WindowState {
        if self.cancelled_at.is_some() {
            WindowState::Cancelled
        } else if self.ends_at <= now {
            WindowState::Ended
        } else if self.starts_at <= now {
            WindowState::InProgress
        } else {
            WindowState::Scheduled
        }
    }

    /// Whether the tenants' consoles show it at `now`: in progress, or starting within
    /// [`BANNER_HORIZON`].
    pub fn announced(&self, now: OffsetDateTime) -> bool {
        matches!(
            self.state(now),
            WindowState::InProgress | WindowState::Scheduled
        ) && self.starts_at <= now + BANNER_HORIZON
    }

    /// What the public sees of it: the times and the message, nothing of who or which.
    pub fn notice(&self) -> MaintenanceNotice {
        MaintenanceNotice {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            message: self.message.clone(),
        }
    }
}

/// A window to schedule. Build it with [`NewMaintenanceWindow::parse`] from what a form or
/// a request typed; [`schedule_maintenance`] checks the rules again whatever built it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMaintenanceWindow {
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub message: String,
}

/// What a time field must look like.
const TIME_FORMAT: &str =
    "must be a date and time in UTC, like 2026-12-06T09:30 or 2026-12-06T09:30:00Z";

/// A time as typed: ISO 8601 in UTC (`Z` or `+00:00`, SPEC §9), or the value of an
/// `<input type="datetime-local">` (`2026-12-06T09:30`, with or without seconds), which
/// the console says is UTC.
fn parse_time(raw: &str) -> Option<OffsetDateTime> {
    use time::macros::format_description;
    if let Some(t) = parse_utc(raw) {
        return Some(t);
    }
    PrimitiveDateTime::parse(
        raw,
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    )
    .or_else(|_| {
        PrimitiveDateTime::parse(
            raw,
            format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        )
    })
    .ok()
    .map(PrimitiveDateTime::assume_utc)
}

/// To the whole second: what was typed is what is stored and announced.
fn whole_second(t: OffsetDateTime) -> OffsetDateTime {
    t - Duration::nanoseconds(i64::from(t.nanosecond()))
}

/// The message's violations (it is trimmed first).
fn message_violations(message: &str, errors: &mut Vec<FieldError>) {
    if message.is_empty() {
        errors.push(FieldError::new("message", "is required"));
    } else if message.chars().count() > MAX_MESSAGE {
        errors.push(FieldError::new(
            "message",
            format!("must be at most {MAX_MESSAGE} characters"),
        ));
    } else if message.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "message",
            "must be one line of text, without control characters",
        ));
    }
}

/// The times' violations at `now`, each named by its field.
fn time_violations(
    starts_at: Option<OffsetDateTime>,
    ends_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
    errors: &mut Vec<FieldError>,
) {
    if let Some(start) = starts_at {
        if start < now - START_TOLERANCE {
            errors.push(FieldError::new("starts_at", "must not be in the past"));
        }
    }
    if let (Some(start), Some(end)) = (starts_at, ends_at) {
        if end <= start {
            errors.push(FieldError::new("ends_at", "must be after the start"));
        } else if end - start > MAX_WINDOW {
            errors.push(FieldError::new(
                "ends_at",
                "must be at most 7 days after the start",
            ));
        }
    }
}

impl NewMaintenanceWindow {
    /// The form or request as typed, at `now`: every field checked and every violation
    /// listed by field (a time that is missing or unreadable, a start in the past, an end
    /// not after the start or more than 7 days after it, a message empty, too long or with
    /// control characters).
    pub fn parse(
        starts_at: &str,
        ends_at: &str,
        message: &str,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        let mut errors = Vec::new();
        let mut read_time = |raw: &str, field: &str| {
            let raw = raw.trim();
            if raw.is_empty() {
                errors.push(FieldError::new(field, "is required"));
                return None;
            }
            let parsed = parse_time(raw).map(whole_second);
            if parsed.is_none() {
                errors.push(FieldError::new(field, TIME_FORMAT));
            }
            parsed
        };
        let start = read_time(starts_at, "starts_at");
        let end = read_time(ends_at, "ends_at");
        let message = message.trim();
        time_violations(start, end, now, &mut errors);
        message_violations(message, &mut errors);
        match (start, end) {
            (Some(starts_at), Some(ends_at)) if errors.is_empty() => Ok(NewMaintenanceWindow {
                starts_at,
                ends_at,
                message: message.to_owned(),
            }),
            _ => Err(DomainError::Validation(errors)),
        }
    }

    /// Every violation of the rules at `now` (see [`Self::parse`]).
    fn check(&self, now: OffsetDateTime) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        time_violations(Some(self.starts_at), Some(self.ends_at), now, &mut errors);
        message_violations(self.message.trim(), &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(errors))
        }
    }
}

const COLUMNS: &str = "id, starts_at, ends_at, message, created_by, created_at, cancelled_at";

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The entry of a scheduled or cancelled window: its times and message are the event's
/// `data` (see the catalog in `audit::events`).
fn audit_entry(action: &str, actor: &Actor, window: &MaintenanceWindow) -> AuditEntry {
    AuditEntry::new(action)
        .by(Some(actor))
        .resource(format!("maintenance:{}", window.id))
        .meta("starts_at", rfc3339(window.starts_at))
        .meta("ends_at", rfc3339(window.ends_at))
        .meta("message", window.message.clone())
}

/// NFR-OPS-002: schedules a window, audited as `maintenance.schedule` (which publishes
/// `maintenance.scheduled` to every subscribed endpoint). Operators only; every rule
/// violation is listed by field and nothing is written.
pub async fn schedule_maintenance(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    new: NewMaintenanceWindow,
) -> Result<Done<MaintenanceWindow>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
        actor.require(Permission::TenantsProvision)?;
        new.check(OffsetDateTime::now_utc())?;
        let window: MaintenanceWindow = sqlx::query_as(&format!(
            "INSERT INTO maintenance_windows (id, starts_at, ends_at, message, created_by)
             VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
        ))
        .bind(Uuid::now_v7())
        .bind(whole_second(new.starts_at))
        .bind(whole_second(new.ends_at))
        .bind(new.message.trim())
        .bind(actor.user_id)
        .fetch_one(&mut *conn)
        .await?;
        append_audit_entry(
            conn,
            ctx,
            audit_entry("maintenance.schedule", actor, &window),
        )
        .await?;
        Ok(window)
    })
    .await
}

/// Cancels a window that is not over yet: the banner and the status endpoint stop
/// announcing it, and `maintenance.cancel` publishes `maintenance.cancelled`. Cancelling a
/// cancelled window changes nothing (and writes no second entry); one that is over cannot
/// be cancelled (409).
pub async fn cancel_maintenance(
    pool: &PgPool,
    ctx: &RequestContext,
    actor: &Actor,
    id: Uuid,
) -> Result<Done<MaintenanceWindow>, DomainError> {
    commit(pool, Effects::NONE, async |conn| {
        actor.require(Permission::TenantsProvision)?;
        let window = lock_window(conn, id).await?;
        if window.cancelled_at.is_some() {
            return Ok(window);
        }
        if window.ends_at <= OffsetDateTime::now_utc() {
            return Err(DomainError::Conflict {
                message: "this maintenance window is over: there is nothing to cancel".into(),
                field: None,
            });
        }
        let window: MaintenanceWindow = sqlx::query_as(&format!(
            "UPDATE maintenance_windows SET cancelled_at = now() WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        append_audit_entry(conn, ctx, audit_entry("maintenance.cancel", actor, &window)).await?;
        Ok(window)
    })
    .await
}

/// The window `id`, locked until the transaction ends.
async fn lock_window(conn: &mut PgConnection, id: Uuid) -> Result<MaintenanceWindow, DomainError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM maintenance_windows WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(DomainError::NotFound("maintenance window"))
}

/// The windows not over and not cancelled, soonest first: what the banner, the status
/// endpoint and the console's upcoming list show. Public information: no caller needed.
pub async fn upcoming_windows(pool: &PgPool) -> Result<Vec<MaintenanceWindow>, DomainError> {
    Ok(sqlx::query_as::<_, MaintenanceWindow>(&format!(
        "SELECT {COLUMNS} FROM maintenance_windows
          WHERE cancelled_at IS NULL AND ends_at > now()
          ORDER BY starts_at, id LIMIT $1"
    ))
    .bind(ANNOUNCED)
    .fetch_all(pool)
    .await?)
}

/// The Operator Console's list: the windows to come (and in progress), soonest first, and
/// the recent ones that are over or cancelled, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceWindows {
    pub upcoming: Vec<MaintenanceWindow>,
    pub past: Vec<MaintenanceWindow>,
}

pub async fn list_maintenance_windows(
    pool: &PgPool,
    actor: &Actor,
) -> Result<MaintenanceWindows, DomainError> {
    actor.require(Permission::TenantsProvision)?;
    let upcoming = upcoming_windows(pool).await?;
    let past = sqlx::query_as::<_, MaintenanceWindow>(&format!(
        "SELECT {COLUMNS} FROM maintenance_windows
          WHERE cancelled_at IS NOT NULL OR ends_at <= now()
          ORDER BY starts_at DESC, id DESC LIMIT $1"
    ))
    .bind(RECENT)
    .fetch_all(pool)
    .await?;
    Ok(MaintenanceWindows { upcoming, past })
}

/// A window as the public sees it (`GET /api/v1/status`): when, and what the vendor says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MaintenanceNotice {
    /// When it starts (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// When it ends (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: OffsetDateTime,
    /// What the vendor says about it.
    #[schema(max_length = 500)]
    pub message: String,
}

/// Whether the service is in a maintenance window right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceState {
    Ok,
    Maintenance,
}

/// The service's status: `maintenance` while a window is in progress, else `ok`; and
/// every window in progress or to come, soonest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ServiceStatus {
    pub status: ServiceState,
    pub maintenance: Vec<MaintenanceNotice>,
}

/// What `GET /api/v1/status` answers.
pub async fn service_status(pool: &PgPool) -> Result<ServiceStatus, DomainError> {
    let now = OffsetDateTime::now_utc();
    let windows = upcoming_windows(pool).await?;
    let status = if windows
        .iter()
        .any(|w| w.state(now) == WindowState::InProgress)
    {
        ServiceState::Maintenance
    } else {
        ServiceState::Ok
    };
    Ok(ServiceStatus {
        status,
        maintenance: windows.iter().map(MaintenanceWindow::notice).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-06 09:00 UTC);

    fn fields(result: Result<NewMaintenanceWindow, DomainError>) -> Vec<String> {
        match result {
            Err(DomainError::Validation(details)) => details.into_iter().map(|d| d.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn form_values_and_api_times_are_utc_and_whole_seconds() {
        let w = NewMaintenanceWindow::parse(
            "2026-12-08T22:00",
            "2026-12-09T01:30:00Z",
            "  Database upgrade  ",
            NOW,
        )
        .unwrap();
        assert_eq!(w.starts_at, datetime!(2026-12-08 22:00 UTC));
        assert_eq!(w.ends_at, datetime!(2026-12-09 01:30 UTC));
        assert_eq!(w.message, "Database upgrade");
        let w = NewMaintenanceWindow::parse(
            "2026-12-08T22:00:00.750+00:00",
            "2026-12-08T23:00:05",
            "x",
            NOW,
        )
        .unwrap();
        assert_eq!(w.starts_at, datetime!(2026-12-08 22:00 UTC));
        assert_eq!(w.ends_at, datetime!(2026-12-08 23:00:05 UTC));
    }

    #[test]
    fn every_violation_is_named_by_its_field() {
        assert_eq!(
            fields(NewMaintenanceWindow::parse("", "tomorrow", " ", NOW)),
            ["starts_at", "ends_at", "message"]
        );
        // Another offset than UTC is not taken (SPEC §9).
        assert_eq!(
            fields(NewMaintenanceWindow::parse(
                "2026-12-08T22:00:00+01:00",
                "2026-12-08T23:00",
                "m",
                NOW
            )),
            ["starts_at"]
        );
        // In the past, ending before it starts, and a message too long: all three at once.
        assert_eq!(
            fields(NewMaintenanceWindow::parse(
                "2026-12-06T08:58",
                "2026-12-06T08:00",
                &"x".repeat(MAX_MESSAGE + 1),
                NOW
            )),
            ["starts_at", "ends_at", "message"]
        );
        // Over a week long; a message with a line break.
        assert_eq!(
            fields(NewMaintenanceWindow::parse(
                "2026-12-07T00:00",
                "2026-12-14T00:01",
                "two\nlines",
                NOW
            )),
            ["ends_at", "message"]
        );
        // A minute late is still on time; exactly a week is allowed.
        assert!(NewMaintenanceWindow::parse(
            "2026-12-06T08:59:30Z",
            "2026-12-13T08:59:30Z",
            "m",
            NOW
        )
        .is_ok());
    }

    #[test]
    fn a_window_is_announced_from_a_week_before_until_it_ends() {
        let window = |starts_at, ends_at, cancelled_at| MaintenanceWindow {
            id: Uuid::nil(),
            starts_at,
            ends_at,
            message: "m".into(),
            created_by: None,
            created_at: NOW,
            cancelled_at,
        };
        let soon = window(NOW + Duration::days(2), NOW + Duration::days(3), None);
        assert_eq!(soon.state(NOW), WindowState::Scheduled);
        assert!(soon.announced(NOW));
        let later = window(NOW + Duration::days(8), NOW + Duration::days(9), None);
        assert!(!later.announced(NOW));
        assert!(later.announced(NOW + Duration::days(1)));
        let now = window(NOW - Duration::hours(1), NOW + Duration::hours(1), None);
        assert_eq!(now.state(NOW), WindowState::InProgress);
        assert!(now.announced(NOW));
        let over = window(NOW - Duration::hours(2), NOW, None);
        assert_eq!(over.state(NOW), WindowState::Ended);
        assert!(!over.announced(NOW));
        let off = window(NOW + Duration::days(1), NOW + Duration::days(2), Some(NOW));
        assert_eq!(off.state(NOW), WindowState::Cancelled);
        assert!(!off.announced(NOW));
    }
}
