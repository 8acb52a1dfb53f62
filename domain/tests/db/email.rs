//! The transactional outbox (SPEC §3 "Email"): mail commits or rolls back with its change,
//! each mail is delivered by one worker only, and failures back off and end as `failed`.

use super::*;
use gatehouse_domain::email::{
    claim_due_mail, enqueue_mail, get_outbox_entry, list_outbox, mark_mail_sent,
    record_failed_attempt, release_claimed_mail, retry_delay, AttemptOutcome, Mail, MAX_ATTEMPTS,
    OUTBOX_CHANNEL,
};
use std::collections::HashSet;
use std::time::Duration as StdDuration;
use time::OffsetDateTime;

const LEASE: StdDuration = StdDuration::from_secs(300);

fn reset_mail(url: &str) -> Mail {
    Mail::PasswordReset {
        reset_url: url.into(),
        expires_minutes: 60,
    }
}

async fn enqueue_committed(pool: &PgPool, tenant_id: Option<Uuid>, to: &str, mail: Mail) -> Uuid {
    let mut tx = pool.begin().await.unwrap();
    let id = enqueue_mail(&mut tx, tenant_id, &Email::parse(to).unwrap(), mail)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A committed password-reset mail to `to`; its id.
async fn queued_reset(pool: &PgPool, tenant_id: Option<Uuid>, to: &str) -> Uuid {
    enqueue_committed(pool, tenant_id, to, reset_mail("https://gh.example/r")).await
}

async fn outbox_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM email_outbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Makes a mail due now (as if its backoff or lease had run out).
async fn make_due(pool: &PgPool, id: Uuid) {
    sqlx::query(
        "UPDATE email_outbox SET next_attempt_at = now() - interval '1 second' WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn mail_exists_only_if_its_transaction_commits(pool: PgPool) {
    let to = Email::parse("ada@example.com").unwrap();
    let mut tx = pool.begin().await.unwrap();
    enqueue_mail(
        &mut tx,
        None,
        &to,
        reset_mail("https://gh.example/reset-password/x"),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(outbox_count(&pool).await, 0);
    assert!(claim_due_mail(&pool, 10, LEASE).await.unwrap().is_empty());

    let acme = tenant(&pool, "acme").await;
    let id = enqueue_committed(
        &pool,
        Some(acme.id),
        "ada@example.com",
        reset_mail("https://gh.example/reset-password/x"),
    )
    .await;
    let stored = get_outbox_entry(&pool, id).await.unwrap();
    assert_eq!(stored.tenant_id, Some(acme.id));
    assert_eq!(stored.template, "password_reset");
    assert_eq!(stored.to_address, "ada@example.com");
    assert_eq!(stored.subject, "Reset your Gatehouse password");
    assert_eq!(stored.status, "pending");
    assert_eq!(stored.attempts, 0);
    assert!(stored
        .text_body
        .contains("https://gh.example/reset-password/x"));
    assert!(stored
        .html_body
        .contains("href=\"https://gh.example/reset-password/x\""));
    assert!(matches!(
        get_outbox_entry(&pool, Uuid::new_v4()).await,
        Err(DomainError::NotFound(_))
    ));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn enqueueing_notifies_the_worker_at_commit_only(pool: PgPool) {
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool)
        .await
        .unwrap();
    listener.listen(OUTBOX_CHANNEL).await.unwrap();
    let to = Email::parse("ada@example.com").unwrap();

    let mut tx = pool.begin().await.unwrap();
    enqueue_mail(&mut tx, None, &to, reset_mail("https://gh.example/r/1"))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let nothing = tokio::time::timeout(StdDuration::from_millis(300), listener.recv()).await;
    assert!(
        nothing.is_err(),
        "a rolled-back mail must not wake the worker"
    );

    enqueue_committed(
        &pool,
        None,
        "ada@example.com",
        reset_mail("https://gh.example/r/2"),
    )
    .await;
    let woke = tokio::time::timeout(StdDuration::from_secs(5), listener.recv())
        .await
        .expect("the commit wakes the worker")
        .unwrap();
    assert_eq!(woke.channel(), OUTBOX_CHANNEL);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn concurrent_claimers_never_take_the_same_mail(pool: PgPool) {
    let mut ids = HashSet::new();
    for i in 0..40 {
        ids.insert(
            enqueue_committed(
                &pool,
                None,
                &format!("user{i}@example.com"),
                reset_mail(&format!("https://gh.example/r/{i}")),
            )
            .await,
        );
    }
    // Two workers (think: two server instances) claim in small batches at the same time
    // until nothing is due.
    let worker = |pool: PgPool| async move {
        let mut mine = Vec::new();
        loop {
            let batch = claim_due_mail(&pool, 3, LEASE).await.unwrap();
            if batch.is_empty() {
                break;
            }
            mine.extend(batch.into_iter().map(|m| m.id));
            tokio::task::yield_now().await;
        }
        mine
    };
    let (a, b) = tokio::join!(
        tokio::spawn(worker(pool.clone())),
        tokio::spawn(worker(pool.clone()))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut all: Vec<Uuid> = a.iter().chain(b.iter()).copied().collect();
    assert_eq!(
        all.len(),
        40,
        "every mail claimed exactly once (a: {}, b: {})",
        a.len(),
        b.len()
    );
    all.sort();
    all.dedup();
    assert_eq!(all.into_iter().collect::<HashSet<_>>(), ids);

    // The lease keeps them from being claimed again while they are being sent ...
    assert!(claim_due_mail(&pool, 100, LEASE).await.unwrap().is_empty());
    let one = *ids.iter().next().unwrap();
    assert_eq!(get_outbox_entry(&pool, one).await.unwrap().attempts, 1);
    // ... and when it runs out (the worker died), another worker takes the mail again.
    make_due(&pool, one).await;
    let again = claim_due_mail(&pool, 100, LEASE).await.unwrap();
    assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), vec![one]);
    assert_eq!(again[0].attempts, 2);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn sent_mail_is_not_claimed_again(pool: PgPool) {
    let id = queued_reset(&pool, None, "ada@example.com").await;
    let claimed = claim_due_mail(&pool, 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    mark_mail_sent(&pool, id, true).await.unwrap();
    let sent = get_outbox_entry(&pool, id).await.unwrap();
    assert_eq!(sent.status, "sent");
    assert!(sent.sent_at.is_some());
    assert_eq!(sent.attempts, 1);
    make_due(&pool, id).await;
    assert!(claim_due_mail(&pool, 10, LEASE).await.unwrap().is_empty());
    // A sent mail has no attempt left to fail.
    assert!(matches!(
        record_failed_attempt(&pool, id, "late", false).await,
        Err(DomainError::NotFound(_))
    ));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn failed_attempts_back_off_then_end_as_failed(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let id = queued_reset(&pool, Some(acme.id), "ada@example.com").await;
    for attempt in 1..MAX_ATTEMPTS {
        make_due(&pool, id).await;
        let claimed = claim_due_mail(&pool, 10, LEASE).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].attempts, attempt);
        let before = OffsetDateTime::now_utc();
        let outcome = record_failed_attempt(&pool, id, "Connection refused (os error 111)", false)
            .await
            .unwrap();
        let AttemptOutcome::RetryAt(next) = outcome else {
            panic!("attempt {attempt} should be retried, got {outcome:?}");
        };
        let wait = next - before;
        let expected = retry_delay(attempt);
        assert!(
            wait >= expected - time::Duration::seconds(2)
                && wait <= expected + time::Duration::seconds(2),
            "attempt {attempt}: waits {wait}, expected about {expected}"
        );
        // Not due before the backoff has passed.
        assert!(claim_due_mail(&pool, 10, LEASE).await.unwrap().is_empty());
        let row = get_outbox_entry(&pool, id).await.unwrap();
        assert_eq!(row.status, "pending");
        assert_eq!(
            row.last_error.as_deref(),
            Some("Connection refused (os error 111)")
        );
    }
    assert_eq!(retry_delay(1), time::Duration::seconds(30));
    assert_eq!(retry_delay(MAX_ATTEMPTS - 1), time::Duration::hours(1));

    make_due(&pool, id).await;
    assert_eq!(claim_due_mail(&pool, 10, LEASE).await.unwrap().len(), 1);
    let last = record_failed_attempt(&pool, id, "Connection refused", false)
        .await
        .unwrap();
    assert_eq!(last, AttemptOutcome::GaveUp);
    let row = get_outbox_entry(&pool, id).await.unwrap();
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts, MAX_ATTEMPTS);
    assert!(row.sent_at.is_none());
    assert_eq!(audit_count(&pool, "email.delivery.failed").await, 1);
    make_due(&pool, id).await;
    assert!(claim_due_mail(&pool, 10, LEASE).await.unwrap().is_empty());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_permanent_refusal_fails_at_once_and_errors_are_bounded(pool: PgPool) {
    let id = queued_reset(&pool, None, "nobody@example.com").await;
    claim_due_mail(&pool, 10, LEASE).await.unwrap();
    let long_error = format!("550 mailbox unavailable {}", "x".repeat(5000));
    let outcome = record_failed_attempt(&pool, id, &long_error, true)
        .await
        .unwrap();
    assert_eq!(outcome, AttemptOutcome::GaveUp);
    let row = get_outbox_entry(&pool, id).await.unwrap();
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts, 1);
    assert_eq!(row.last_error.unwrap().chars().count(), 1000);
    assert_eq!(audit_count(&pool, "email.delivery.failed").await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn released_mail_is_due_again_without_spending_an_attempt(pool: PgPool) {
    let id = queued_reset(&pool, None, "ada@example.com").await;
    let claimed = claim_due_mail(&pool, 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    release_claimed_mail(&pool, &[id], None).await.unwrap();
    let again = claim_due_mail(&pool, 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].last_error, None);

    // The way out was down (issue 21: SMTP down, mail directory read-only): the reason is
    // kept for the operator console, the attempt still does not count, the mail is due.
    release_claimed_mail(&pool, &[id], Some("connection refused"))
        .await
        .unwrap();
    let row = get_outbox_entry(&pool, id).await.unwrap();
    assert_eq!(row.status, "pending");
    assert_eq!(row.attempts, 0);
    assert_eq!(row.last_error.as_deref(), Some("connection refused"));
    assert!(row.next_attempt_at <= OffsetDateTime::now_utc());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn stored_templates_escape_html_and_carry_the_link_in_both_parts(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let id = enqueue_committed(
        &pool,
        Some(acme.id),
        "new@example.com",
        Mail::Invitation {
            tenant_name: "<script>alert('x')</script> Corp".into(),
            inviter: Some("Ada <ada@example.com>".into()),
            role: "user".into(),
            accept_url: "https://gh.example/invite/tok123".into(),
            expires_at: OffsetDateTime::now_utc() + time::Duration::days(7),
        },
    )
    .await;
    let row = get_outbox_entry(&pool, id).await.unwrap();
    assert_eq!(row.template, "invitation");
    assert!(!row.html_body.contains("<script>"), "{}", row.html_body);
    assert!(row
        .html_body
        .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Corp"));
    assert!(row.html_body.contains("Ada &lt;ada@example.com&gt;"));
    assert!(row
        .html_body
        .contains("href=\"https://gh.example/invite/tok123\""));
    assert!(row
        .text_body
        .contains("\nhttps://gh.example/invite/tok123\n"));
    assert!(row.text_body.contains("as a user."));
    assert_eq!(
        row.subject,
        "You are invited to join <script>alert('x')</script> Corp on Gatehouse"
    );

    let signed_in = enqueue_committed(
        &pool,
        Some(acme.id),
        "ada@example.com",
        Mail::NewDeviceSignIn {
            at: OffsetDateTime::now_utc(),
            ip: Some("198.51.100.7".into()),
            user_agent: Some("<b>Browser</b>".into()),
            account_url: "https://gh.example/account".into(),
        },
    )
    .await;
    let row = get_outbox_entry(&pool, signed_in).await.unwrap();
    assert_eq!(row.template, "new_device_sign_in");
    assert!(row.html_body.contains("&lt;b&gt;Browser&lt;/b&gt;"));
    assert!(row.text_body.contains("198.51.100.7"));

    // The mailbox lists the newest first.
    let listed = list_outbox(&pool, 50).await.unwrap();
    assert_eq!(
        listed.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![signed_in, id]
    );
    assert_eq!(list_outbox(&pool, 1).await.unwrap().len(), 1);
}
