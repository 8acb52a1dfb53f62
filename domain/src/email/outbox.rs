//! The outbox (SPEC §3 "Email"): mail is queued in the transaction of the change that sends
//! it, claimed by the mailer, retried with a growing delay, and its single-use links cleared
//! once delivered.

use super::*;

/// Renders `mail` and writes it to the outbox inside the caller's transaction: it is
/// delivered only if that transaction commits. Returns the outbox id.
#[tracing::instrument(skip_all, fields(template = mail.template()))]
pub async fn enqueue_mail(
    conn: &mut PgConnection,
    tenant_id: Option<Uuid>,
    to: &Email,
    mail: Mail,
) -> Result<Uuid, DomainError> {
    let rendered = mail.render();
    // Postgres delivers the notification at commit and drops it on rollback, so the
    // worker wakes exactly when there is a committed mail to send.
    let id: Uuid = sqlx::query_scalar(
        "WITH mail AS (
             INSERT INTO email_outbox (tenant_id, template, to_address, subject, text_body, html_body)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
         )
         SELECT id FROM mail, pg_notify($7, '')",
    )
    .bind(tenant_id)
    .bind(mail.template())
    .bind(to.as_str())
    .bind(&rendered.subject)
    .bind(&rendered.text)
    .bind(&rendered.html)
    .bind(OUTBOX_CHANNEL)
    .fetch_one(&mut *conn)
    .await
    .context("writing the mail to the outbox")?;
    Ok(id)
}

/// One row of the outbox.
#[derive(Clone, PartialEq, Eq, FromRow)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub template: String,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Delivery attempts started so far (a claim counts as one).
    pub attempts: i32,
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

/// The bodies hold live links (reset and invitation tokens), so they are left out.
impl fmt::Debug for OutboxEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboxEntry")
            .field("id", &self.id)
            .field("template", &self.template)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

pub(super) const OUTBOX_COLUMNS: &str =
    "id, tenant_id, template, to_address, subject, text_body, html_body, status, \
     attempts, next_attempt_at, last_error, created_at, sent_at";

/// Takes up to `limit` due mails for delivery and leases them for `lease`: their
/// `next_attempt_at` moves that far ahead and `attempts` grows by one, in one statement.
/// `FOR UPDATE SKIP LOCKED` lets concurrent workers (several server instances) each take
/// different mails, and the moved `next_attempt_at` keeps a mail from being taken again
/// while it is being sent. If the worker dies before it records the outcome, the lease
/// runs out and another worker retries it. `lease` must exceed the time the worker needs
/// for the whole batch.
#[tracing::instrument(skip(pool))]
pub async fn claim_due_mail(
    pool: &PgPool,
    limit: i64,
    lease: std::time::Duration,
) -> Result<Vec<OutboxEntry>, DomainError> {
    // Under READ COMMITTED, a row another worker leased between this statement's snapshot
    // and its lock is re-checked after the lock: its new next_attempt_at no longer
    // qualifies, so it is skipped rather than claimed twice.
    let sql = format!(
        "UPDATE email_outbox o
         SET next_attempt_at = now() + make_interval(secs => $2), attempts = o.attempts + 1
         FROM (SELECT id AS due_id FROM email_outbox
               WHERE status = 'pending' AND next_attempt_at <= now()
               ORDER BY next_attempt_at
               LIMIT $1
               FOR UPDATE SKIP LOCKED) due
         WHERE o.id = due.due_id
         RETURNING {OUTBOX_COLUMNS}"
    );
    let mut claimed: Vec<OutboxEntry> = sqlx::query_as(&sql)
        .bind(limit.clamp(1, 1000))
        .bind(lease.as_secs_f64())
        .fetch_all(pool)
        .await
        .context("claiming due mail")?;
    claimed.sort_by_key(|m| m.created_at);
    Ok(claimed)
}

/// Records that the mail was handed to the SMTP server (or written out).
#[tracing::instrument(skip(pool))]
pub async fn mark_mail_sent(pool: &PgPool, id: Uuid, keep_bodies: bool) -> Result<(), DomainError> {
    // A delivered invitation, reset or verification mail is the link's only copy that
    // matters: the outbox forgets it (unless the dev mailbox shows it, demo mode only), so
    // a database dump holds no live link.
    sqlx::query(
        "UPDATE email_outbox SET status = 'sent', sent_at = now(), last_error = NULL,
                text_body = CASE WHEN $2 OR template NOT IN ('invitation', 'password_reset', 'email_verification')
                                 THEN text_body ELSE $3 END,
                html_body = CASE WHEN $2 OR template NOT IN ('invitation', 'password_reset', 'email_verification')
                                 THEN html_body ELSE $3 END
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(keep_bodies)
    .bind(CLEARED_BODY)
    .execute(pool)
    .await
    .context("marking the mail sent")?;
    Ok(())
}

/// What a delivered mail's bodies become when they held a single-use link.
pub const CLEARED_BODY: &str = "(cleared after delivery: it held a single-use link)";

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Another attempt is due at this time.
    RetryAt(OffsetDateTime),
    /// No more attempts: the mail is `failed`.
    GaveUp,
}

/// The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, ... capped at 1 h.
pub fn retry_delay(attempts: i32) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    let delay = FIRST_RETRY * 2_i32.pow(doublings);
    delay.min(MAX_RETRY)
}

/// Records a failed delivery attempt of a claimed mail: it is due again after
/// [`retry_delay`], or `failed` after [`MAX_ATTEMPTS`] attempts, or at once when
/// `permanent` (the SMTP server refused it for good, or the address cannot be used).
/// `error` is stored as `last_error`; the caller keeps secrets out of it, and it is cut
/// to 1000 characters. Giving up is audited (`email.delivery.failed`), with the change.
#[tracing::instrument(skip(pool, error))]
pub async fn record_failed_attempt(
    pool: &PgPool,
    id: Uuid,
    error: &str,
    permanent: bool,
) -> Result<AttemptOutcome, DomainError> {
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    let mut tx = pool.begin().await?;
    let attempts: Option<i32> = sqlx::query_scalar(
        "SELECT attempts FROM email_outbox WHERE id = $1 AND status = 'pending' FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .context("reading the mail's attempts")?;
    let Some(attempts) = attempts else {
        return Err(DomainError::NotFound("pending mail"));
    };
    let give_up = permanent || attempts >= MAX_ATTEMPTS;
    let outcome = if give_up {
        let (tenant_id, template): (Option<Uuid>, String) = sqlx::query_as(
            "UPDATE email_outbox SET status = 'failed', last_error = $2
             WHERE id = $1 RETURNING tenant_id, template",
        )
        .bind(id)
        .bind(&error)
        .fetch_one(&mut *tx)
        .await
        .context("marking the mail failed")?;
        append_audit_entry(
            &mut tx,
            &RequestContext::default(),
            AuditEntry::new("email.delivery.failed")
                .tenant(tenant_id)
                .resource(format!("email:{id}"))
                .failure()
                .meta("template", template)
                .meta("attempts", attempts)
                .meta("permanent", permanent),
        )
        .await?;
        AttemptOutcome::GaveUp
    } else {
        let next: OffsetDateTime = sqlx::query_scalar(
            "UPDATE email_outbox SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3
             WHERE id = $1 RETURNING next_attempt_at",
        )
        .bind(id)
        .bind(retry_delay(attempts).as_seconds_f64())
        .bind(&error)
        .fetch_one(&mut *tx)
        .await
        .context("scheduling the next attempt")?;
        AttemptOutcome::RetryAt(next)
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Hands claimed mails back so they are due at once (a worker stopping before it sent
/// them, or finding the way out down: the SMTP server unreachable, the mail directory not
/// writable). Their attempt does not count: the mail was not at fault. `error`, when given,
/// becomes their `last_error` (free of secrets, cut to 1000 characters), so the operator
/// console shows why mail waits.
#[tracing::instrument(skip(pool, error))]
pub async fn release_claimed_mail(
    pool: &PgPool,
    ids: &[Uuid],
    error: Option<&str>,
) -> Result<(), DomainError> {
    let error: Option<String> = error.map(|e| e.chars().take(MAX_ERROR_CHARS).collect());
    sqlx::query(
        "UPDATE email_outbox SET next_attempt_at = now(), attempts = greatest(attempts - 1, 0),
                last_error = coalesce($2, last_error)
         WHERE id = ANY($1) AND status = 'pending'",
    )
    .bind(ids)
    .bind(error)
    .execute(pool)
    .await
    .context("releasing claimed mail")?;
    Ok(())
}

/// The newest `limit` (at most 500) mails, newest first: the dev mailbox page.
#[tracing::instrument(skip(pool))]
pub async fn list_outbox(pool: &PgPool, limit: i64) -> Result<Vec<OutboxEntry>, DomainError> {
    let rows = sqlx::query_as(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM email_outbox ORDER BY created_at DESC, id DESC LIMIT $1"
    ))
    .bind(limit.clamp(1, 500))
    .fetch_all(pool)
    .await
    .context("listing the outbox")?;
    Ok(rows)
}

/// One mail of the outbox.
#[tracing::instrument(skip(pool))]
pub async fn get_outbox_entry(pool: &PgPool, id: Uuid) -> Result<OutboxEntry, DomainError> {
    sqlx::query_as(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM email_outbox WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .context("reading the mail")?
    .ok_or(DomainError::NotFound("mail"))
}
