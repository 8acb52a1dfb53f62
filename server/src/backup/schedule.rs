//! The backup schedule: a backup every day at `GATEHOUSE_BACKUP_SCHEDULE_HOUR` (UTC) and
//! a verify every week on `GATEHOUSE_BACKUP_VERIFY_WEEKDAY` after that day's backup.
//!
//! Every few minutes each instance looks at the latest slot that has begun; a slot not yet
//! taken (`backup_runs`) is run, so a server that was down at the hour catches up when it
//! starts, and of several instances one runs it. One attempt per slot: a failure shows on
//! the dashboard and in `gatehouse_backup_last_success_timestamp_seconds`, whose age is
//! what to alert on.
//!
//! The weekly verify needs the identity (`GATEHOUSE_BACKUP_IDENTITY_FILE`) on this server,
//! which gives up the point of keeping it elsewhere; without it the verify is skipped, and
//! `gatehouse backup verify --identity FILE` is run from the machine that keeps the key.

use super::create::create;
use super::restore::Which;
use super::runs::Trigger;
use super::store::Place;
use super::verify::{verify, Key};
use super::{connection_url, scratch_server_url, Destinations, Identity, Recipients};
use crate::state::AppState;
use secrecy::SecretString;
use sqlx::PgPool;
use std::path::PathBuf;
use std::time::Duration;
use time::{OffsetDateTime, Time, Weekday};

const CHECK_EVERY: Duration = Duration::from_secs(300);

/// `GATEHOUSE_BACKUP_VERIFY_WEEKDAY`: a day's English name or its first three letters, in
/// any case.
pub fn parse_weekday(raw: &str) -> Result<Weekday, String> {
    let lower = raw.trim().to_ascii_lowercase();
    let days = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    days.into_iter()
        .find(|day| {
            let name = day.to_string().to_ascii_lowercase();
            lower == name || (lower.len() == 3 && name.starts_with(&lower))
        })
        .ok_or_else(|| format!("'{raw}' is not a day of the week (monday … sunday)"))
}

struct Plan {
    hour: u8,
    weekday: Weekday,
    recipients: Recipients,
    destinations: Destinations,
    database_url: SecretString,
    verify: Option<VerifyPlan>,
}

struct VerifyPlan {
    identity_file: PathBuf,
    scratch_server_url: SecretString,
}

/// Starts the schedule when `GATEHOUSE_BACKUP_SCHEDULE_HOUR` is set. Settings that cannot
/// work (no recipients, an unreadable identity file) stop the server at startup rather
/// than fail silently at night.
pub fn spawn(state: AppState) -> anyhow::Result<()> {
    let settings = &state.settings;
    let Some(hour) = settings.backup_schedule_hour else {
        return Ok(());
    };
    if Time::from_hms(hour, 0, 0).is_err() {
        anyhow::bail!("GATEHOUSE_BACKUP_SCHEDULE_HOUR must be 0 to 23");
    }
    let recipients = Recipients::from_settings(settings)?;
    let destinations = Destinations::from_settings(settings);
    let verify = match &settings.backup_identity_file {
        Some(file) => {
            // Read now to fail early; it is read again at each verify and never kept.
            Identity::from_file(file)?;
            Some(VerifyPlan {
                identity_file: file.clone(),
                scratch_server_url: scratch_server_url(settings)?,
            })
        }
        None => {
            tracing::info!(
                "weekly backup verify is off: GATEHOUSE_BACKUP_IDENTITY_FILE is unset (run `gatehouse backup verify --identity FILE` where the key is kept)"
            );
            None
        }
    };
    tracing::info!(
        hour,
        verify_weekday = %settings.backup_verify_weekday,
        dir = %destinations.dir.display(),
        s3 = destinations.s3.is_some(),
        "backup schedule on"
    );
    let plan = Plan {
        hour,
        weekday: settings.backup_verify_weekday,
        recipients,
        destinations,
        database_url: connection_url(settings)?,
        verify,
    };
    tokio::spawn(run(state.pool.clone(), plan));
    Ok(())
}

async fn run(pool: PgPool, plan: Plan) {
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = OffsetDateTime::now_utc();
        let Some(daily) = last_daily(now, plan.hour) else {
            continue;
        };
        match create(
            &pool,
            &plan.database_url,
            &plan.recipients,
            &plan.destinations,
            Trigger::Scheduled { slot: daily },
        )
        .await
        {
            Ok(Some(created)) => tracing::info!(
                backup = %created.name,
                size_bytes = created.manifest.archive.size_bytes,
                s3 = ?created.s3,
                "scheduled backup written"
            ),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "scheduled backup failed"),
        }
        let (Some(verify_plan), Some(weekly)) =
            (&plan.verify, last_weekly(now, plan.weekday, plan.hour))
        else {
            continue;
        };
        // The offsite copy when there is one: it is the one a disaster leaves.
        let place = if plan.destinations.s3.is_some() {
            Place::S3
        } else {
            Place::Local
        };
        match verify(
            &pool,
            &plan.destinations,
            &Which::Newest(place),
            Key::File(&verify_plan.identity_file),
            &verify_plan.scratch_server_url,
            Trigger::Scheduled { slot: weekly },
        )
        .await
        {
            Ok(Some(report)) if report.ok => {
                tracing::info!(backup = %report.backup, "{}", report.summary())
            }
            Ok(Some(report)) => tracing::error!(backup = %report.backup, "{}", report.summary()),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "scheduled backup verify failed"),
        }
    }
}

/// The latest daily slot that has begun: today at `hour`:00 UTC, or yesterday's.
fn last_daily(now: OffsetDateTime, hour: u8) -> Option<OffsetDateTime> {
    let today = now.replace_time(Time::from_hms(hour, 0, 0).ok()?);
    if today <= now {
        Some(today)
    } else {
        today.checked_sub(time::Duration::days(1))
    }
}

/// The latest weekly slot that has begun: `weekday` at `hour`:00 UTC.
fn last_weekly(now: OffsetDateTime, weekday: Weekday, hour: u8) -> Option<OffsetDateTime> {
    let mut slot = last_daily(now, hour)?;
    for _ in 0..7 {
        if slot.weekday() == weekday {
            return Some(slot);
        }
        slot = slot.checked_sub(time::Duration::days(1))?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_daily_slot_is_today_once_the_hour_has_come() {
        let before = datetime!(2026-12-09 01:59 UTC);
        let after = datetime!(2026-12-09 02:00 UTC);
        assert_eq!(last_daily(before, 2), Some(datetime!(2026-12-08 02:00 UTC)));
        assert_eq!(last_daily(after, 2), Some(datetime!(2026-12-09 02:00 UTC)));
        assert_eq!(last_daily(after, 24), None);
    }

    #[test]
    fn the_weekly_slot_is_the_last_such_day_at_the_hour() {
        // 2026-12-09 is a Wednesday.
        let wednesday = datetime!(2026-12-09 10:00 UTC);
        assert_eq!(
            last_weekly(wednesday, Weekday::Sunday, 2),
            Some(datetime!(2026-12-06 02:00 UTC))
        );
        assert_eq!(
            last_weekly(wednesday, Weekday::Wednesday, 2),
            Some(datetime!(2026-12-09 02:00 UTC))
        );
        assert_eq!(
            last_weekly(datetime!(2026-12-09 01:00 UTC), Weekday::Wednesday, 2),
            Some(datetime!(2026-12-02 02:00 UTC))
        );
    }

    #[test]
    fn weekdays_are_named_in_full_or_by_three_letters() {
        assert_eq!(parse_weekday("Sunday"), Ok(Weekday::Sunday));
        assert_eq!(parse_weekday(" sat "), Ok(Weekday::Saturday));
        assert_eq!(parse_weekday("WED"), Ok(Weekday::Wednesday));
        assert!(parse_weekday("someday").is_err());
        assert!(parse_weekday("su").is_err());
    }
}
