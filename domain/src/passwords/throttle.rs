//! The brute-force throttle of password attempts (SPEC §3, CON-SEC-005): failures are
//! counted per account key (the address) and per client IP within a window; after a few
//! failures each attempt waits a growing delay, after more the key is locked for a while.
//! Every attempt is reserved before any password is hashed, so concurrent guesses cannot
//! pass a check that another has not counted yet. Sign-in, re-authentication (a password
//! change) and reset requests count here.

use crate::audit::{append_audit_entry, AuditEntry, RequestContext};
use crate::DomainError;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;

/// Failures counted within this window.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Failures before the account key is locked.
pub const ACCOUNT_LOCK_AFTER: i32 = 10;
/// Failures before the IP key is locked (an office NAT holds many people).
pub const IP_LOCK_AFTER: i32 = 50;
/// How long a lock lasts.
pub const LOCK_SECS: i64 = 15 * 60;
/// Failures tolerated before the delay starts growing (1 s, 2 s, 4 s, capped at 8 s).
pub(crate) const FREE_FAILURES: i32 = 3;
/// Failures per IP tolerated before the delay starts: an office behind one NAT address
/// must not slow down everyone's sign-in because of a few typos.
const IP_FREE_FAILURES: i32 = 20;
const MAX_DELAY_SECS: u64 = 8;

/// The throttle of an account key (`$1`) and an IP key (`$2`) within the window (`$3`
/// seconds), as one row.
macro_rules! throttle_counts {
    () => {
        "SELECT coalesce(sum(failures) FILTER (WHERE scope = 'account'
                    AND window_start > now() - make_interval(secs => $3)), 0)::int4 AS account_failures,
                coalesce(sum(failures) FILTER (WHERE scope = 'ip'
                    AND window_start > now() - make_interval(secs => $3)), 0)::int4 AS ip_failures,
                max(extract(epoch FROM locked_until - now()))::float8 AS lock_left,
                coalesce(bool_or(scope = 'account'), false) AS account_tracked
         FROM auth_throttle
         WHERE (scope = 'account' AND key = $1) OR (scope = 'ip' AND key = $2)"
    };
}

/// Counts one attempt against an account key (`$1`) and an IP key (`$2`) of the scopes
/// `$6` and `$7`, within a window of `$3` seconds, before any password is hashed: each
/// key's counter goes up by one unless the key is locked or already at its limit (`$4`,
/// `$5`; NULL: no limit), in one atomic upsert, so concurrent guesses cannot all pass a
/// check that another has not counted yet. The CTE `r` answers each key's count
/// including this attempt, NULL when refused (no IP: `ip_reserved` is NULL and
/// `ip_known` false). Bound by [`bind_reservation`].
macro_rules! reserve_attempt {
    () => {
        "WITH up AS (
             INSERT INTO auth_throttle AS t (scope, key, failures, window_start)
             SELECT k.scope, k.key, 1, now()
             FROM (VALUES ($6::text, $1::text), ($7::text, $2::text)) k(scope, key)
             WHERE k.key IS NOT NULL
             ON CONFLICT (scope, key) DO UPDATE SET
                 failures = CASE WHEN t.window_start > now() - make_interval(secs => $3) THEN t.failures + 1 ELSE 1 END,
                 window_start = CASE WHEN t.window_start > now() - make_interval(secs => $3) THEN t.window_start ELSE now() END
             WHERE (t.locked_until IS NULL OR t.locked_until <= now())
               AND NOT (t.window_start > now() - make_interval(secs => $3)
                        AND t.failures >= coalesce(CASE WHEN t.scope = $6 THEN $4::int4 ELSE $5::int4 END, 2147483647))
             RETURNING scope, failures
         ), r AS (
             SELECT (SELECT failures FROM up WHERE scope = $6) AS account_reserved,
                    (SELECT failures FROM up WHERE scope = $7) AS ip_reserved,
                    $2::text IS NOT NULL AS ip_known
         )"
    };
}
pub(crate) use reserve_attempt;

/// Takes one reservation back from a counter that is not locked.
const UNRESERVE: &str = "UPDATE auth_throttle SET failures = greatest(failures - 1, 0)
     WHERE scope = $1 AND key = $2 AND (locked_until IS NULL OR locked_until <= now())";

/// The throttle scopes and limits of password attempts (sign-in, re-authentication).
pub(crate) const PASSWORD_ATTEMPTS: Throttle = Throttle {
    scopes: ("account", "ip"),
    window_secs: WINDOW_SECS,
    limits: (Some(ACCOUNT_LOCK_AFTER), Some(IP_LOCK_AFTER)),
};

/// A pair of counters (per account key and per IP) in `auth_throttle`.
pub(crate) struct Throttle {
    pub(crate) scopes: (&'static str, &'static str),
    pub(crate) window_secs: i64,
    /// Counts at which a key refuses further attempts; `None`: it only counts.
    pub(crate) limits: (Option<i32>, Option<i32>),
}

/// Binds `$1..$7` of [`reserve_attempt!`].
pub(crate) fn bind_reservation<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    throttle: &Throttle,
    account_key: &'q str,
    ip_key: Option<&'q str>,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    query
        .bind(account_key)
        .bind(ip_key)
        .bind(throttle.window_secs as f64)
        .bind(throttle.limits.0)
        .bind(throttle.limits.1)
        .bind(throttle.scopes.0)
        .bind(throttle.scopes.1)
}

/// Counts one attempt of `throttle` for `account_key` and the request's IP: each key's
/// count including it, `None` where refused.
pub(crate) async fn count_attempt(
    pool: &PgPool,
    throttle: &Throttle,
    account_key: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<Reserved, DomainError> {
    let ip_key = ip.map(|ip| ip.to_string());
    Ok(bind_reservation(
        sqlx::query_as(concat!(reserve_attempt!(), " SELECT * FROM r")),
        throttle,
        account_key,
        ip_key.as_deref(),
    )
    .fetch_one(pool)
    .await?)
}

/// What [`reserve_attempt!`] answered.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub(crate) struct Reserved {
    pub(crate) account_reserved: Option<i32>,
    pub(crate) ip_reserved: Option<i32>,
    ip_known: bool,
}

impl Reserved {
    pub(crate) fn admitted(&self) -> bool {
        self.account_reserved.is_some() && (self.ip_reserved.is_some() || !self.ip_known)
    }

    /// The throttle as it stood before this attempt.
    pub(crate) fn before(&self) -> ThrottleCounts {
        ThrottleCounts {
            account_failures: self.account_reserved.unwrap_or(1) - 1,
            ip_failures: self.ip_reserved.unwrap_or(1) - 1,
            lock_left: None,
            account_tracked: true,
        }
    }
}

/// An attempt counted against the throttles of its account key and IP key before the
/// password was checked. [`Attempt::failed`] keeps it as a failure (and locks a key that
/// reached its limit); [`Attempt::succeeded`] takes it back and clears the account key.
pub(crate) struct Attempt {
    pub(crate) account_key: String,
    pub(crate) ip_key: Option<String>,
    pub(crate) reserved: Reserved,
}

impl Attempt {
    /// Reserves an attempt, or refuses it as locked (audited, sampled: see
    /// [`refuse_locked`]) without any password being hashed.
    pub(crate) async fn reserve(
        pool: &PgPool,
        ctx: &RequestContext,
        account_key: String,
        failure: AuditEntry,
    ) -> Result<Self, DomainError> {
        let reserved = count_attempt(pool, &PASSWORD_ATTEMPTS, &account_key, ctx.ip).await?;
        let attempt = Self {
            account_key,
            ip_key: ctx.ip.map(|ip| ip.to_string()),
            reserved,
        };
        if !reserved.admitted() {
            return Err(attempt.refuse_locked(pool, ctx, failure).await?);
        }
        Ok(attempt)
    }

    /// Takes back a half-made reservation, audits the refusal (sampled) and answers the
    /// lock's error.
    pub(crate) async fn refuse_locked(
        self,
        pool: &PgPool,
        ctx: &RequestContext,
        failure: AuditEntry,
    ) -> Result<DomainError, DomainError> {
        let mut tx = pool.begin().await?;
        // Both counters, account first (the one order), before anything else in here.
        sqlx::query(
            "SELECT 1 FROM auth_throttle
             WHERE (scope = 'account' AND key = $1) OR (scope = 'ip' AND key = $2)
             ORDER BY scope, key FOR UPDATE",
        )
        .bind(&self.account_key)
        .bind(self.ip_key.as_deref())
        .execute(&mut *tx)
        .await?;
        self.release(&mut tx, false).await?;
        // The refusals of the lock so far; entries at the 1st, 10th, 100th, ...
        let (lock_left, refused): (Option<f64>, i32) = sqlx::query_as(
            "WITH r AS (
                 UPDATE auth_throttle SET refused = refused + 1
                 WHERE (scope = 'account' AND key = $1) OR (scope = 'ip' AND key = $2)
                 RETURNING locked_until, refused
             )
             SELECT max(extract(epoch FROM locked_until - now()))::float8, coalesce(max(refused), 1)
             FROM r",
        )
        .bind(&self.account_key)
        .bind(self.ip_key.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        if is_sampled(refused) {
            append_audit_entry(
                &mut tx,
                ctx,
                failure.meta("reason", "locked").meta("refusals", refused),
            )
            .await?;
        }
        tx.commit().await?;
        // At the limit with attempts still in flight: the lock is about to begin.
        let retry_after_secs = lock_left
            .filter(|left| *left > 0.0)
            .map_or(LOCK_SECS as u64, |left| left.ceil() as u64);
        Ok(DomainError::Locked {
            message: format!(
                "too many failed sign-ins; try again in {} minutes",
                retry_after_secs.div_ceil(60)
            ),
            retry_after_secs,
        })
    }

    /// How long to wait before checking this attempt (the growing delay).
    pub(crate) fn delay(&self) -> Duration {
        self.reserved.before().state().delay
    }

    /// Failures on the account key before this attempt.
    pub(crate) fn failures_before(&self) -> i32 {
        self.reserved.before().account_failures
    }

    /// The first factor was right (or the attempt did not count): the reservation is
    /// taken back. `clear_account` also forgets the account's earlier failures (a proven
    /// password ends the series).
    pub(crate) async fn release(
        &self,
        conn: &mut PgConnection,
        clear_account: bool,
    ) -> Result<(), DomainError> {
        // One row per statement, the account's before the IP's: the order every statement
        // on these rows takes them in (`reserve_attempt!` inserts the account row first).
        // A single statement changing both locked them in whichever order its plan ran,
        // and concurrent sign-ins of one account from one address deadlocked.
        if clear_account {
            sqlx::query("DELETE FROM auth_throttle WHERE scope = 'account' AND key = $1")
                .bind(&self.account_key)
                .execute(&mut *conn)
                .await?;
        } else if self.reserved.account_reserved.is_some() {
            sqlx::query(UNRESERVE)
                .bind("account")
                .bind(&self.account_key)
                .execute(&mut *conn)
                .await?;
        }
        if let (Some(ip), Some(_)) = (self.ip_key.as_deref(), self.reserved.ip_reserved) {
            sqlx::query(UNRESERVE)
                .bind("ip")
                .bind(ip)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// The password could not be checked (an error before any verdict): the attempt is
    /// taken back without touching earlier failures.
    pub(crate) async fn abandon(&self, pool: &PgPool) -> Result<(), DomainError> {
        let mut conn = pool.acquire().await?;
        self.release(&mut conn, false).await
    }

    /// The password was right: the attempt is not a failure, and the account's series ends.
    pub(crate) async fn succeeded(&self, pool: &PgPool) -> Result<(), DomainError> {
        let mut conn = pool.acquire().await?;
        self.release(&mut conn, true).await
    }

    /// The password was wrong: audits the failure and locks a key whose count reached its
    /// limit (audited as `auth.lockout`). The attempt stays counted.
    pub(crate) async fn failed(
        &self,
        pool: &PgPool,
        ctx: &RequestContext,
        failure: AuditEntry,
    ) -> Result<(), DomainError> {
        let mut tx = pool.begin().await?;
        // The counters first, the audit chain's head last: the order `refuse_locked` takes
        // them in, so the two never wait on each other.
        let mut locked = Vec::new();
        let keys = [
            (
                "account",
                Some(&self.account_key),
                self.reserved.account_reserved,
                ACCOUNT_LOCK_AFTER,
            ),
            (
                "ip",
                self.ip_key.as_ref(),
                self.reserved.ip_reserved,
                IP_LOCK_AFTER,
            ),
        ];
        for (scope, key, reserved, limit) in keys {
            let (Some(key), Some(reserved)) = (key, reserved) else {
                continue;
            };
            if reserved < limit {
                continue;
            }
            sqlx::query(
                "UPDATE auth_throttle SET locked_until = now() + make_interval(secs => $3),
                        failures = 0, window_start = now(), refused = 0
                 WHERE scope = $1 AND key = $2",
            )
            .bind(scope)
            .bind(key)
            .bind(LOCK_SECS as f64)
            .execute(&mut *tx)
            .await?;
            locked.push((scope, key));
        }
        append_audit_entry(&mut tx, ctx, failure).await?;
        for (scope, key) in locked {
            append_audit_entry(
                &mut tx,
                ctx,
                AuditEntry::new("auth.lockout")
                    .failure()
                    .resource(format!("{scope}:{key}"))
                    .meta("scope", scope)
                    .meta("lock_secs", LOCK_SECS),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Whether the `n`-th refusal of a lock is audited: the 1st, 10th, 100th, ...
pub(crate) fn is_sampled(n: i32) -> bool {
    let mut k = 1;
    while k < n {
        k = k.saturating_mul(10);
    }
    k == n
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleState {
    /// Seconds until the lock ends, when locked.
    pub locked_for: Option<u64>,
    /// How long to wait before checking this attempt.
    pub delay: Duration,
    /// Failures on the account key within the window.
    pub account_failures: i32,
    /// Whether the account key has a throttle row (a success clears it).
    pub account_tracked: bool,
}

/// The throttle rows of an account key and an IP key, summed.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub(crate) struct ThrottleCounts {
    account_failures: i32,
    ip_failures: i32,
    /// Seconds left on the later lock of the two (negative once it ended).
    lock_left: Option<f64>,
    account_tracked: bool,
}

impl ThrottleCounts {
    /// The stricter of the two throttles.
    pub(crate) fn state(&self) -> ThrottleState {
        let locked_for = self
            .lock_left
            .filter(|left| *left > 0.0)
            .map(|left| left.ceil() as u64);
        let failures = self
            .account_failures
            .max(self.ip_failures - (IP_FREE_FAILURES - FREE_FAILURES));
        let delay = if failures > FREE_FAILURES {
            let exp = u32::try_from(failures - FREE_FAILURES - 1)
                .unwrap_or(u32::MAX)
                .min(3);
            Duration::from_secs((1u64 << exp).min(MAX_DELAY_SECS))
        } else {
            Duration::ZERO
        };
        ThrottleState {
            locked_for,
            delay,
            account_failures: self.account_failures,
            account_tracked: self.account_tracked,
        }
    }
}

/// The throttle for an account and an IP: the stricter of the two.
pub async fn throttle_state(
    pool: &PgPool,
    account: &str,
    ip: Option<&str>,
) -> Result<ThrottleState, DomainError> {
    let counts: ThrottleCounts = sqlx::query_as(throttle_counts!())
        .bind(account)
        .bind(ip)
        .bind(WINDOW_SECS as f64)
        .fetch_one(pool)
        .await?;
    Ok(counts.state())
}
