//! Webhooks (SPEC §9 "Webhooks", Standard Webhooks 1.0; SPEC §10 secrets at rest): an
//! endpoint is validated whole; an event fans out to the subscribed endpoints in the
//! transaction of the change it announces; deliveries are leased and every answer is
//! recorded by the rules (retry schedule, 2xx, 410, failing after 5 days, the last
//! attempt); rotation keeps the previous secret for its overlap; redelivery starts over;
//! another owner finds nothing; no secret reaches the audit trail.
//!
//! The signature itself (`webhooks::sign` on the Standard Webhooks example) is a unit test
//! of the domain crate.

use super::*;
use gatehouse_domain::users::{
    invite_user, update_user, NewInvitation, UserChange, DEFAULT_LIFETIME,
};
use gatehouse_domain::webhooks::{
    check_url, claim_due_deliveries, create_endpoint, delete_endpoint, get_delivery, get_endpoint,
    list_deliveries, list_endpoints, live_secrets, record_attempt, redeliver, retry_delay,
    rotate_secret, send_test, sign, signature_header, update_endpoint, AttemptResult, Delivery,
    DueDelivery, EndpointChanges, EndpointWithSecret, NewEndpoint, Owner, Recorded, MAX_ATTEMPTS,
};
use serde_json::Value;
use time::OffsetDateTime;

fn keys() -> MasterKeys {
    MasterKeys::parse(&MasterKeys::generate_text("test")).unwrap()
}

fn hook(url: &str, types: &[&str]) -> NewEndpoint {
    NewEndpoint {
        url: url.to_owned(),
        description: None,
        event_types: types.iter().map(|t| (*t).to_owned()).collect(),
        rate_limit_per_second: None,
    }
}

/// A person managing the endpoints of `owner` (a tenant's, or the platform's), as the
/// console and the API do once `Owner::of` has decided whose.
struct Manager<'a> {
    pool: &'a PgPool,
    keys: &'a MasterKeys,
    actor: &'a Actor,
    owner: Owner,
}

impl<'a> Manager<'a> {
    fn new(pool: &'a PgPool, keys: &'a MasterKeys, actor: &'a Actor, owner: Owner) -> Self {
        Self {
            pool,
            keys,
            actor,
            owner,
        }
    }

    /// A registered endpoint (valid by construction).
    async fn register(&self, url: &str, types: &[&str]) -> EndpointWithSecret {
        let ctx = RequestContext::default();
        create_endpoint(
            self.pool,
            self.keys,
            &ctx,
            self.actor,
            self.owner,
            hook(url, types),
            false,
        )
        .await
        .unwrap()
        .value
    }

    /// A `webhook.test` delivery to `endpoint`: pending, due now.
    async fn test(&self, endpoint: Uuid) -> Delivery {
        let ctx = RequestContext::default();
        send_test(self.pool, &ctx, self.actor, self.owner, endpoint)
            .await
            .unwrap()
            .value
    }
}

/// The fields a refusal names, in order.
fn refused_fields<T: std::fmt::Debug>(result: Result<T, DomainError>) -> Vec<String> {
    match result {
        Err(DomainError::Validation(details)) => details.into_iter().map(|d| d.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn is_not_found<T>(result: &Result<T, DomainError>) -> bool {
    matches!(result, Err(DomainError::NotFound(_)))
}

/// Everything due, leased for a minute (as the worker claims it).
async fn claim(pool: &PgPool) -> Vec<DueDelivery> {
    claim_due_deliveries(pool, 100, std::time::Duration::from_secs(60))
        .await
        .unwrap()
}

/// The receiver answered `status` (with a body the history keeps an excerpt of).
fn answered(status: u16) -> AttemptResult {
    AttemptResult {
        status: Some(status),
        latency_ms: 7,
        error: None,
        excerpt: Some(format!("answered {status}")),
    }
}

/// No answer came at all.
fn timed_out() -> AttemptResult {
    AttemptResult {
        status: None,
        latency_ms: 15_000,
        error: Some("the request timed out".into()),
        excerpt: None,
    }
}

/// Makes a delivery due now, as the passing of its wait would.
async fn make_due(pool: &PgPool, delivery: Uuid) {
    sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second' WHERE id = $1",
    )
    .bind(delivery)
    .execute(pool)
    .await
    .unwrap();
}

/// A delivery's status, attempts, last status and last error.
async fn delivery_row(pool: &PgPool, delivery: Uuid) -> (String, i32, Option<i16>, Option<String>) {
    sqlx::query_as(
        "SELECT status, attempts, last_status, last_error FROM webhook_deliveries WHERE id = $1",
    )
    .bind(delivery)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// An endpoint's status, failing mark and reason for being disabled.
async fn endpoint_row(
    pool: &PgPool,
    endpoint: Uuid,
) -> (String, Option<OffsetDateTime>, Option<String>) {
    sqlx::query_as(
        "SELECT status, failing_since, disabled_reason FROM webhook_endpoints WHERE id = $1",
    )
    .bind(endpoint)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Seconds from a delivery's last attempt to its next one: both are stamped in the
/// transaction that records the attempt, so the difference is exactly the wait chosen.
async fn wait_after_last_attempt(pool: &PgPool, delivery: Uuid) -> f64 {
    sqlx::query_scalar(
        "SELECT extract(epoch FROM d.next_attempt_at - a.at)::float8
         FROM webhook_deliveries d,
              LATERAL (SELECT max(attempted_at) AS at FROM webhook_attempts
                       WHERE delivery_id = d.id) a
         WHERE d.id = $1",
    )
    .bind(delivery)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn attempts_of(pool: &PgPool, delivery: Uuid) -> Vec<(Option<i16>, i32, Option<String>)> {
    sqlx::query_as(
        "SELECT status_code, latency_ms, response_excerpt FROM webhook_attempts
         WHERE delivery_id = $1 ORDER BY attempted_at, id",
    )
    .bind(delivery)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The endpoints that got a delivery of `event`, sorted, with every delivery pending and
/// not yet attempted.
async fn fanned_out_to(pool: &PgPool, event: Uuid) -> Vec<Uuid> {
    let rows: Vec<(Uuid, String, i32)> = sqlx::query_as(
        "SELECT endpoint_id, status, attempts FROM webhook_deliveries
         WHERE event_id = $1 ORDER BY endpoint_id",
    )
    .bind(event)
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(
        rows.iter()
            .all(|(_, status, attempts)| status == "pending" && *attempts == 0),
        "{rows:?}"
    );
    rows.into_iter().map(|(endpoint, _, _)| endpoint).collect()
}

/// The one published event of `event_type`: its id, tenant and body.
async fn only_event(pool: &PgPool, event_type: &str) -> (Uuid, Option<Uuid>, Value) {
    let mut rows: Vec<(Uuid, Option<Uuid>, Value)> =
        sqlx::query_as("SELECT id, tenant_id, body FROM webhook_events WHERE event_type = $1")
            .bind(event_type)
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "one {event_type} event: {rows:?}");
    rows.remove(0)
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

/// SPEC §9 validation: every bad field of an endpoint is named in one refusal (the URL's
/// scheme, each unknown or unsubscribable type by its index, the rate limit, the
/// description) and nothing is written; https only, and IP literals in private, loopback
/// and link-local ranges refused unless private addresses are allowed (development).
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_endpoint_is_validated_whole_and_a_refused_one_writes_nothing(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let keys = keys();
    let ctx = RequestContext::default();
    let create = async |new: NewEndpoint| {
        create_endpoint(
            &pool,
            &keys,
            &ctx,
            &owner,
            Owner::Tenant(acme.id),
            new,
            false,
        )
        .await
    };
    let everything_wrong = NewEndpoint {
        url: "ftp://hooks.acme.test/in".into(),
        description: Some("d".repeat(501)),
        event_types: vec![
            "user.invited".into(),
            "user.deleted".into(),
            "webhook.test".into(),
        ],
        rate_limit_per_second: Some(0),
    };
    assert_eq!(
        refused_fields(create(everything_wrong).await),
        [
            "url",
            "event_types[1]",
            "event_types[2]",
            "rate_limit_per_second",
            "description"
        ]
    );
    let too_fast = NewEndpoint {
        rate_limit_per_second: Some(1001),
        ..hook("https://hooks.acme.test/in", &["user.invited"])
    };
    assert_eq!(
        refused_fields(create(too_fast).await),
        ["rate_limit_per_second"]
    );
    assert_eq!(
        refused_fields(create(hook("https://hooks.acme.test/in", &[])).await),
        ["event_types"]
    );
    // Private, loopback and link-local targets (SSRF), plain http, credentials, fragments.
    for url in [
        "http://hooks.acme.test/in",
        "https://10.0.0.8/in",
        "https://192.168.1.20/in",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8443/in",
        "https://[::1]/in",
        "https://[::ffff:10.0.0.1]/in",
        "https://user:pw@hooks.acme.test/in",
        "https://hooks.acme.test/in#top",
        "hooks.acme.test/in",
    ] {
        assert!(check_url(url, false).is_err(), "{url} accepted");
        assert_eq!(
            refused_fields(create(hook(url, &["user.invited"])).await),
            ["url"],
            "{url}"
        );
    }
    // Nothing of it was written, not even an audit entry.
    assert_eq!(
        count(&pool, "SELECT count(*) FROM webhook_endpoints").await,
        0
    );
    assert_eq!(audit_count(&pool, "webhook.create").await, 0);

    // Development allows loopback, private networks and plain http; never the rest.
    for url in [
        "http://127.0.0.1:4700/hook",
        "https://10.0.0.8/in",
        "http://[::1]/in",
    ] {
        assert!(check_url(url, true).is_ok(), "{url} refused in development");
    }
    for url in [
        "ftp://127.0.0.1/in",
        "http://user:pw@127.0.0.1/in",
        "http://127.0.0.1/in#x",
    ] {
        assert!(
            check_url(url, true).is_err(),
            "{url} accepted in development"
        );
    }

    // A valid one: trimmed, types folded (case, duplicates), the default rate.
    let created = create(NewEndpoint {
        url: "  https://hooks.acme.test/in  ".into(),
        description: Some("  CRM  ".into()),
        event_types: vec![
            "user.invited".into(),
            "USER.Invited".into(),
            "user.created".into(),
        ],
        rate_limit_per_second: None,
    })
    .await
    .unwrap()
    .value;
    let e = &created.endpoint;
    assert_eq!(
        (
            e.tenant_id,
            e.url.as_str(),
            e.description.as_deref(),
            e.rate_limit_per_second,
            e.status.as_str()
        ),
        (
            Some(acme.id),
            "https://hooks.acme.test/in",
            Some("CRM"),
            20,
            "active"
        )
    );
    assert_eq!(e.event_types, ["user.invited", "user.created"]);
    assert!(created.secret.expose_secret().starts_with("whsec_"));
    assert_eq!(audit_count(&pool, "webhook.create").await, 1);

    // A change is validated whole too, and a refused one changes nothing.
    let changes = EndpointChanges {
        url: Some("https://169.254.169.254/".into()),
        event_types: Some(vec!["webhook.test".into()]),
        rate_limit_per_second: Some(0),
        ..Default::default()
    };
    let refused = update_endpoint(
        &pool,
        &ctx,
        &owner,
        Owner::Tenant(acme.id),
        e.id,
        changes,
        false,
    )
    .await;
    assert_eq!(
        refused_fields(refused),
        ["url", "event_types[0]", "rate_limit_per_second"]
    );
    assert_eq!(
        &get_endpoint(&pool, Owner::Tenant(acme.id), e.id)
            .await
            .unwrap(),
        e
    );
    assert_eq!(audit_count(&pool, "webhook.update").await, 0);
}

/// SPEC §9: a published event (an invitation, a role change) makes exactly one pending
/// delivery per subscribed endpoint of its tenant and per subscribed platform endpoint;
/// none for another tenant's, an unsubscribed or a disabled endpoint; none when the change
/// rolls back, because the event is written in the change's own transaction.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_event_fans_out_to_the_subscribed_endpoints_with_its_change(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let bob = member(&pool, Some(acme.id), "bob@acme.test", Role::User).await;
    let dave = member(&pool, Some(acme.id), "dave@acme.test", Role::User).await;
    let globex_owner =
        actor_of(&member(&pool, Some(globex.id), "owner@globex.test", Role::Owner).await);
    let operator = actor_of(&member(&pool, None, "op@gatehouse.test", Role::Operator).await);
    let keys = keys();
    let ctx = RequestContext::default();
    let acme_owner = Owner::Tenant(acme.id);
    let acme_hooks = Manager::new(&pool, &keys, &owner, acme_owner);
    let globex_hooks = Manager::new(&pool, &keys, &globex_owner, Owner::Tenant(globex.id));
    let platform_hooks = Manager::new(&pool, &keys, &operator, Owner::Platform);
    let invites = acme_hooks
        .register("https://a.test/invites", &["user.invited"])
        .await;
    let roles = acme_hooks
        .register("https://a.test/roles", &["user.role.changed"])
        .await;
    let off = acme_hooks
        .register("https://a.test/off", &["user.invited"])
        .await;
    let turn_off = EndpointChanges {
        enabled: Some(false),
        ..Default::default()
    };
    update_endpoint(
        &pool,
        &ctx,
        &owner,
        acme_owner,
        off.endpoint.id,
        turn_off,
        false,
    )
    .await
    .unwrap();
    let globex_invites = globex_hooks
        .register("https://g.test/invites", &["user.invited"])
        .await;
    let platform = platform_hooks
        .register(
            "https://platform.test/all",
            &["user.invited", "user.role.changed"],
        )
        .await;
    let before = count(&pool, "SELECT count(*) FROM webhook_deliveries").await;
    assert_eq!(
        before, 0,
        "no event was published since the endpoints exist"
    );

    // An invitation.
    let carol = invite_user(
        &pool,
        &ctx,
        Some(&owner),
        NewInvitation {
            tenant_id: acme.id,
            email: Email::parse("carol@acme.test").unwrap(),
            role: Role::User,
            lifetime: DEFAULT_LIFETIME,
        },
        "http://localhost",
    )
    .await
    .unwrap()
    .value;
    let (event, tenant_id, body) = only_event(&pool, "user.invited").await;
    assert_eq!(tenant_id, Some(acme.id));
    assert_eq!(body["type"], "user.invited");
    assert_eq!(body["data"]["id"], carol.id.to_string());
    assert_eq!(body["data"]["tenant_id"], acme.id.to_string());
    assert_eq!(body["data"]["email"], "carol@acme.test");
    assert_eq!(body["data"]["role"], "user");
    assert_eq!(body["data"]["actor"]["id"], owner.user_id.to_string());
    let fanned = fanned_out_to(&pool, event).await;
    assert_eq!(
        fanned,
        sorted(vec![invites.endpoint.id, platform.endpoint.id])
    );
    for not_sent in [
        roles.endpoint.id,
        off.endpoint.id,
        globex_invites.endpoint.id,
    ] {
        assert!(!fanned.contains(&not_sent));
    }
    // The invitation's `user.created` went to nobody: nobody subscribed to it.
    let created: Uuid = sqlx::query_scalar(
        "SELECT id FROM webhook_events
         WHERE event_type = 'user.created' AND body->'data'->>'id' = $1",
    )
    .bind(carol.id.to_string())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(fanned_out_to(&pool, created).await.is_empty());

    // A role change.
    let promote = UserChange {
        role: Some(Role::Admin),
        ..Default::default()
    };
    update_user(&pool, &ctx, &owner, bob.id, promote, "http://localhost")
        .await
        .unwrap();
    let (event, _, body) = only_event(&pool, "user.role.changed").await;
    assert_eq!(
        (
            body["data"]["previous_role"].as_str(),
            body["data"]["role"].as_str()
        ),
        (Some("user"), Some("admin"))
    );
    assert_eq!(
        fanned_out_to(&pool, event).await,
        sorted(vec![roles.endpoint.id, platform.endpoint.id])
    );
    let after_changes = count(&pool, "SELECT count(*) FROM webhook_deliveries").await;
    assert_eq!(after_changes, 4);

    // A change that rolls back after its role change was audited (the address is taken):
    // no event, no delivery, and the role stays.
    let refused = UserChange {
        role: Some(Role::Admin),
        email: Some(Email::parse("owner@acme.test").unwrap()),
        ..Default::default()
    };
    assert!(matches!(
        update_user(&pool, &ctx, &owner, dave.id, refused, "http://localhost").await,
        Err(DomainError::Conflict { .. })
    ));
    only_event(&pool, "user.role.changed").await;
    assert_eq!(
        count(&pool, "SELECT count(*) FROM webhook_deliveries").await,
        after_changes
    );
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(dave.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(role, "user");

    // The same at the lowest level: the entry's deliveries exist inside its transaction,
    // and go with it.
    let mut tx = pool.begin().await.unwrap();
    append_audit_entry(
        &mut tx,
        &ctx,
        AuditEntry::new("user.invite")
            .tenant(Some(acme.id))
            .resource(format!("user:{}", Uuid::now_v7()))
            .meta("email", "eve@acme.test")
            .meta("role", "user"),
    )
    .await
    .unwrap();
    let inside: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(inside, after_changes + 2);
    tx.rollback().await.unwrap();
    assert_eq!(
        count(&pool, "SELECT count(*) FROM webhook_deliveries").await,
        after_changes
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM webhook_events WHERE event_type = 'user.invited'"
        )
        .await,
        1
    );
}

/// SPEC §9 delivery rules: a claim leases (a second claim right after gets nothing); a 500
/// is recorded and retried 5 s later (Standard Webhooks' first wait), the endpoint noted as
/// failing since then; a 2xx delivers and clears the mark; an outcome recorded for a claim
/// that no longer holds is ignored.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_claim_is_leased_and_each_answer_is_recorded_by_the_rules(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let keys = keys();
    let acme_hooks = Manager::new(&pool, &keys, &owner, Owner::Tenant(acme.id));
    let ep = acme_hooks
        .register("https://a.test/in", &["user.invited"])
        .await;
    let ep_id = ep.endpoint.id;
    let d = acme_hooks.test(ep_id).await;
    assert_eq!((d.status.as_str(), d.attempts), ("pending", 0));

    let claimed = claim(&pool).await;
    assert_eq!(claimed.len(), 1);
    let first = &claimed[0];
    assert_eq!(
        (
            first.id,
            first.endpoint_id,
            first.event_id,
            first.attempts,
            first.tenant_id
        ),
        (d.id, ep_id, d.event_id, 1, Some(acme.id))
    );
    assert_eq!(first.url, "https://a.test/in");
    let body: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(body["type"], "webhook.test");
    assert!(
        claim(&pool).await.is_empty(),
        "a leased delivery is not claimed twice"
    );

    // A 500: recorded, retried 5 s later, the endpoint failing since now (still active).
    let recorded = record_attempt(&pool, first, &answered(500)).await.unwrap();
    assert!(matches!(recorded, Recorded::RetryAt(_)), "{recorded:?}");
    assert_eq!(
        delivery_row(&pool, d.id).await,
        (
            "pending".to_owned(),
            1,
            Some(500),
            Some("the receiver answered HTTP 500".to_owned())
        )
    );
    assert_eq!(wait_after_last_attempt(&pool, d.id).await, 5.0);
    assert_eq!(
        attempts_of(&pool, d.id).await,
        [(Some(500), 7, Some("answered 500".to_owned()))]
    );
    let (status, failing_since, _) = endpoint_row(&pool, ep_id).await;
    assert_eq!(status, "active");
    assert!(failing_since.is_some());

    // Its time comes: the second attempt gets a 204 and delivers.
    make_due(&pool, d.id).await;
    let claimed = claim(&pool).await;
    assert_eq!(claimed.len(), 1);
    let second = &claimed[0];
    assert_eq!(second.attempts, 2);
    assert_eq!(
        record_attempt(&pool, second, &answered(204)).await.unwrap(),
        Recorded::Delivered
    );
    assert_eq!(
        delivery_row(&pool, d.id).await,
        ("delivered".to_owned(), 2, Some(204), None)
    );
    let delivered_at: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT delivered_at FROM webhook_deliveries WHERE id = $1")
            .bind(d.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(delivered_at.is_some());
    assert_eq!(
        endpoint_row(&pool, ep_id).await,
        ("active".to_owned(), None, None)
    );

    // The first claim's outcome, arriving late, changes nothing.
    assert_eq!(
        record_attempt(&pool, first, &answered(500)).await.unwrap(),
        Recorded::Stale
    );
    assert_eq!(attempts_of(&pool, d.id).await.len(), 2);
    assert_eq!(
        delivery_row(&pool, d.id).await,
        ("delivered".to_owned(), 2, Some(204), None)
    );
}

/// SPEC §9 retries: each failure (an answer or none) waits the Standard Webhooks
/// schedule's next delay; after MAX_ATTEMPTS the delivery has failed and is never claimed
/// again; a redelivery makes it pending with a fresh schedule, its history kept.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn after_the_last_attempt_a_delivery_fails_and_a_redelivery_starts_it_over(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let keys = keys();
    let ctx = RequestContext::default();
    let mine = Owner::Tenant(acme.id);
    let acme_hooks = Manager::new(&pool, &keys, &owner, mine);
    let ep = acme_hooks
        .register("https://a.test/in", &["user.invited"])
        .await;
    let d = acme_hooks.test(ep.endpoint.id).await;
    for attempt in 1..=MAX_ATTEMPTS {
        make_due(&pool, d.id).await;
        let claimed = claim(&pool).await;
        assert_eq!(claimed.len(), 1, "attempt {attempt}");
        assert_eq!(claimed[0].attempts, attempt);
        let outcome = if attempt % 2 == 1 {
            answered(503)
        } else {
            timed_out()
        };
        let recorded = record_attempt(&pool, &claimed[0], &outcome).await.unwrap();
        match retry_delay(attempt) {
            Some(wait) => {
                assert!(
                    matches!(recorded, Recorded::RetryAt(_)),
                    "attempt {attempt}: {recorded:?}"
                );
                assert_eq!(
                    wait_after_last_attempt(&pool, d.id).await,
                    wait.as_seconds_f64(),
                    "the wait after attempt {attempt}"
                );
            }
            None => assert_eq!(recorded, Recorded::Failed, "attempt {attempt}"),
        }
    }
    assert_eq!(
        delivery_row(&pool, d.id).await,
        (
            "failed".to_owned(),
            MAX_ATTEMPTS,
            None,
            Some("the request timed out".to_owned())
        )
    );
    assert_eq!(attempts_of(&pool, d.id).await.len(), MAX_ATTEMPTS as usize);
    make_due(&pool, d.id).await;
    assert!(
        claim(&pool).await.is_empty(),
        "a failed delivery is never claimed"
    );

    let again = redeliver(&pool, &ctx, &owner, mine, ep.endpoint.id, d.id)
        .await
        .unwrap()
        .value;
    assert_eq!((again.status.as_str(), again.attempts), ("pending", 0));
    assert!(again.next_attempt_at.is_some());
    assert_eq!(audit_count(&pool, "webhook.redeliver").await, 1);
    assert_eq!(attempts_of(&pool, d.id).await.len(), MAX_ATTEMPTS as usize);
    let claimed = claim(&pool).await;
    assert_eq!(
        claimed
            .iter()
            .map(|c| (c.id, c.attempts))
            .collect::<Vec<_>>(),
        [(d.id, 1)]
    );
}

/// Issue 21 (faults): a receiver that was down gets its backlog as soon as one delivery
/// succeeds again: every delivery waiting for a later retry is due at once, whether its
/// next try was 5 s or 5 min away; one in another worker's hands (leased) and another
/// endpoint's are left alone.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_receiver_back_gets_its_backlog_at_once(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let keys = keys();
    let acme_hooks = Manager::new(&pool, &keys, &owner, Owner::Tenant(acme.id));
    let ep = acme_hooks
        .register("https://a.test/in", &["user.invited"])
        .await;
    let other = acme_hooks
        .register("https://b.test/in", &["user.invited"])
        .await;
    // The receiver is down: two deliveries fail twice (the next try is 5 min away), a third
    // once (5 s away); the other endpoint's fails twice as well.
    let waiting = [
        acme_hooks.test(ep.endpoint.id).await,
        acme_hooks.test(ep.endpoint.id).await,
    ];
    let soon = acme_hooks.test(ep.endpoint.id).await;
    let elsewhere = acme_hooks.test(other.endpoint.id).await;
    for round in 1..=2 {
        for d in waiting
            .iter()
            .chain([&elsewhere])
            .chain((round == 1).then_some(&soon))
        {
            make_due(&pool, d.id).await;
        }
        for claimed in claim(&pool).await {
            let recorded = record_attempt(&pool, &claimed, &timed_out()).await.unwrap();
            assert!(matches!(recorded, Recorded::RetryAt(_)), "{recorded:?}");
        }
    }
    let due_in = |id: Uuid| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, f64>(
                "SELECT extract(epoch FROM next_attempt_at - now())::float8
                   FROM webhook_deliveries WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert!(due_in(waiting[0].id).await > 250.0);
    assert!(due_in(soon.id).await > 0.0);
    assert!(due_in(elsewhere.id).await > 250.0);

    // It is back: a new delivery succeeds, while another worker holds one more.
    let fresh = acme_hooks.test(ep.endpoint.id).await;
    let held = acme_hooks.test(ep.endpoint.id).await;
    let claimed = claim(&pool).await;
    assert_eq!(
        sorted(claimed.iter().map(|c| c.id).collect()),
        sorted(vec![fresh.id, held.id])
    );
    let fresh_claim = claimed.iter().find(|c| c.id == fresh.id).unwrap();
    assert_eq!(
        record_attempt(&pool, fresh_claim, &answered(204))
            .await
            .unwrap(),
        Recorded::Delivered
    );
    for d in waiting.iter().chain([&soon]) {
        assert!(due_in(d.id).await <= 0.0, "the backlog is due now");
    }
    assert!(
        due_in(held.id).await > 0.0,
        "in a worker's hands: left to it"
    );
    assert!(
        due_in(elsewhere.id).await > 250.0,
        "another endpoint: left alone"
    );
    let again = claim(&pool).await;
    assert_eq!(
        sorted(again.iter().map(|c| c.id).collect()),
        sorted(waiting.iter().chain([&soon]).map(|d| d.id).collect()),
        "the held delivery is not claimed twice"
    );
    for c in &again {
        assert!(c.attempts >= 2, "the schedule's count goes on");
        record_attempt(&pool, c, &answered(200)).await.unwrap();
    }
    let held_claim = claimed.iter().find(|c| c.id == held.id).unwrap();
    assert_eq!(
        record_attempt(&pool, held_claim, &answered(200))
            .await
            .unwrap(),
        Recorded::Delivered,
        "its worker records it as usual"
    );
    let (_, failing_since, _) = endpoint_row(&pool, ep.endpoint.id).await;
    assert!(failing_since.is_none());
}

/// SPEC §9 / Standard Webhooks: a 410 Gone disables the endpoint (it receives nothing
/// more), fails its other pending deliveries, and is audited (`webhook.disabled`); another
/// endpoint is untouched; test events and redeliveries to it are refused until it is on.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_410_disables_the_endpoint_and_ends_its_pending_deliveries(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let keys = keys();
    let ctx = RequestContext::default();
    let mine = Owner::Tenant(acme.id);
    let acme_hooks = Manager::new(&pool, &keys, &owner, mine);
    let gone = acme_hooks
        .register("https://a.test/gone", &["user.invited"])
        .await;
    let other = acme_hooks
        .register("https://a.test/other", &["user.invited"])
        .await;
    let (gone_id, other_id) = (gone.endpoint.id, other.endpoint.id);
    let d1 = acme_hooks.test(gone_id).await.id;
    let d2 = acme_hooks.test(gone_id).await.id;
    let d3 = acme_hooks.test(other_id).await.id;
    let claimed = claim(&pool).await;
    assert_eq!(claimed.len(), 3);
    let claim_of = |id: Uuid| claimed.iter().find(|c| c.id == id).unwrap();

    assert_eq!(
        record_attempt(&pool, claim_of(d1), &answered(410))
            .await
            .unwrap(),
        Recorded::Failed
    );
    assert_eq!(
        endpoint_row(&pool, gone_id).await,
        (
            "disabled".to_owned(),
            None,
            Some("the receiver answered 410 Gone".to_owned())
        )
    );
    assert_eq!(
        delivery_row(&pool, d1).await,
        (
            "failed".to_owned(),
            1,
            Some(410),
            Some("the receiver answered HTTP 410".to_owned())
        )
    );
    let (status, _, _, error) = delivery_row(&pool, d2).await;
    assert_eq!(
        (status.as_str(), error.as_deref()),
        ("failed", Some("the endpoint was disabled (410 Gone)"))
    );
    assert_eq!(delivery_row(&pool, d3).await.0, "pending");
    assert_eq!(endpoint_row(&pool, other_id).await.0, "active");
    let disabled: Vec<(Option<Uuid>, Option<String>, Value)> = sqlx::query_as(
        "SELECT tenant_id, resource, metadata FROM audit_log WHERE action = 'webhook.disabled'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].0, Some(acme.id));
    assert_eq!(disabled[0].1, Some(format!("webhook:{gone_id}")));
    assert_eq!(disabled[0].2["reason"], "410 Gone");

    // The second delivery's attempt, answered after the endpoint went, changes nothing.
    assert_eq!(
        record_attempt(&pool, claim_of(d2), &answered(200))
            .await
            .unwrap(),
        Recorded::Stale
    );
    assert_eq!(delivery_row(&pool, d2).await.0, "failed");
    // Nothing more goes to it: no delivery of a new event, no test, no redelivery.
    invite_user(
        &pool,
        &ctx,
        Some(&owner),
        NewInvitation {
            tenant_id: acme.id,
            email: Email::parse("carol@acme.test").unwrap(),
            role: Role::User,
            lifetime: DEFAULT_LIFETIME,
        },
        "http://localhost",
    )
    .await
    .unwrap();
    let (event, _, _) = only_event(&pool, "user.invited").await;
    assert_eq!(fanned_out_to(&pool, event).await, [other_id]);
    assert!(matches!(
        send_test(&pool, &ctx, &owner, mine, gone_id).await,
        Err(DomainError::Conflict { .. })
    ));
    assert!(matches!(
        redeliver(&pool, &ctx, &owner, mine, gone_id, d1).await,
        Err(DomainError::Conflict { .. })
    ));
}

/// SPEC §9: an endpoint whose every attempt has failed for 5 days becomes failing and the
/// tenant's owners and admins are mailed (`webhook_failing`), once; 4 days is not enough;
/// a success makes it active again.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn five_days_of_failures_mark_the_endpoint_failing_and_mail_its_owners_once(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    member(&pool, Some(acme.id), "admin@acme.test", Role::Admin).await;
    member(&pool, Some(acme.id), "user@acme.test", Role::User).await;
    member(&pool, Some(globex.id), "owner@globex.test", Role::Owner).await;
    let keys = keys();
    let acme_hooks = Manager::new(&pool, &keys, &owner, Owner::Tenant(acme.id));
    let old = acme_hooks
        .register("https://a.test/six-days", &["user.invited"])
        .await;
    let young = acme_hooks
        .register("https://a.test/four-days", &["user.invited"])
        .await;
    for (endpoint, days) in [(old.endpoint.id, 6), (young.endpoint.id, 4)] {
        sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = now() - make_interval(days => $2)
             WHERE id = $1",
        )
        .bind(endpoint)
        .bind(days)
        .execute(&pool)
        .await
        .unwrap();
    }
    let since_before = endpoint_row(&pool, old.endpoint.id).await.1;
    let d_old = acme_hooks.test(old.endpoint.id).await.id;
    let d_young = acme_hooks.test(young.endpoint.id).await.id;
    let fail_once = async |delivery: Uuid| {
        make_due(&pool, delivery).await;
        let claimed = claim(&pool).await;
        let this = claimed.iter().find(|c| c.id == delivery).unwrap();
        record_attempt(&pool, this, &answered(500)).await.unwrap()
    };
    assert!(matches!(fail_once(d_old).await, Recorded::RetryAt(_)));
    assert!(matches!(fail_once(d_young).await, Recorded::RetryAt(_)));

    let (status, since, _) = endpoint_row(&pool, old.endpoint.id).await;
    assert_eq!(status, "failing");
    assert_eq!(since, since_before, "the mark keeps its first failure");
    assert_eq!(endpoint_row(&pool, young.endpoint.id).await.0, "active");
    let mails = async || {
        sqlx::query_as::<_, (String, Option<Uuid>, String)>(
            "SELECT to_address, tenant_id, text_body FROM email_outbox
             WHERE template = 'webhook_failing' ORDER BY to_address",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let sent = mails().await;
    assert_eq!(
        sent.iter().map(|m| (m.0.as_str(), m.1)).collect::<Vec<_>>(),
        [
            ("admin@acme.test", Some(acme.id)),
            ("owner@acme.test", Some(acme.id))
        ]
    );
    assert!(sent.iter().all(|m| m.2.contains("https://a.test/six-days")));
    assert_eq!(audit_count(&pool, "webhook.failing").await, 1);

    // Failing again mails nobody again.
    fail_once(d_old).await;
    assert_eq!(mails().await.len(), 2);
    assert_eq!(audit_count(&pool, "webhook.failing").await, 1);

    // A success ends it.
    make_due(&pool, d_old).await;
    let claimed = claim(&pool).await;
    let c = claimed.iter().find(|c| c.id == d_old).unwrap();
    assert_eq!(
        record_attempt(&pool, c, &answered(200)).await.unwrap(),
        Recorded::Delivered
    );
    assert_eq!(
        endpoint_row(&pool, old.endpoint.id).await,
        ("active".to_owned(), None, None)
    );
}

/// Standard Webhooks rotation: the previous secret keeps signing beside the new one for the
/// overlap (the worker's claim carries both, and the header holds two signatures); with an
/// overlap of 0, or once it has passed, only the new one; at most 7 days.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_rotation_keeps_the_previous_secret_for_its_overlap_only(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let keys = keys();
    let ctx = RequestContext::default();
    let mine = Owner::Tenant(acme.id);
    let acme_hooks = Manager::new(&pool, &keys, &owner, mine);
    let created = acme_hooks
        .register("https://a.test/in", &["user.invited"])
        .await;
    let id = created.endpoint.id;
    let first = created.secret.expose_secret().to_owned();
    let rotate = async |overlap: time::Duration| {
        rotate_secret(&pool, &keys, &ctx, &owner, mine, id, overlap).await
    };

    let rotated = rotate(time::Duration::hours(24)).await.unwrap().value;
    let second = rotated.secret.expose_secret().to_owned();
    assert!(second.starts_with("whsec_") && second != first);
    let overlap: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM previous_secret_expires_at - updated_at)::float8
         FROM webhook_endpoints WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(overlap, 86_400.0);

    // What the worker signs with: both, the new one first.
    acme_hooks.test(id).await;
    let claimed = claim(&pool).await;
    let d = &claimed[0];
    let live = live_secrets(
        &keys,
        d.endpoint_id,
        &d.secret_ciphertext,
        d.previous_secret_ciphertext
            .as_deref()
            .zip(d.previous_secret_expires_at),
    )
    .unwrap();
    let exposed: Vec<&str> = live.iter().map(|s| s.expose_secret()).collect();
    assert_eq!(exposed, [second.as_str(), first.as_str()]);
    let header = signature_header(&live, "msg_1", 1_700_000_000, b"{}");
    let expected = [&second, &first]
        .map(|s| sign(&secret(s), "msg_1", 1_700_000_000, b"{}").unwrap())
        .join(" ");
    assert_eq!(header, expected);

    // Once the overlap has passed, the previous one signs no more.
    sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second'
         WHERE id = $1",
    )
    .bind(id)
    .execute(&pool)
    .await
    .unwrap();
    let (current, previous, until): (Vec<u8>, Option<Vec<u8>>, Option<OffsetDateTime>) =
        sqlx::query_as(
            "SELECT secret_ciphertext, previous_secret_ciphertext, previous_secret_expires_at
             FROM webhook_endpoints WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let live = live_secrets(&keys, id, &current, previous.as_deref().zip(until)).unwrap();
    assert_eq!(live.len(), 1);

    // No overlap: the previous secret ends at once.
    let third = rotate(time::Duration::ZERO).await.unwrap().value;
    assert!(third.endpoint.previous_secret_expires_at.is_none());
    let (current, previous, until): (Vec<u8>, Option<Vec<u8>>, Option<OffsetDateTime>) =
        sqlx::query_as(
            "SELECT secret_ciphertext, previous_secret_ciphertext, previous_secret_expires_at
             FROM webhook_endpoints WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(previous.is_none() && until.is_none());
    let live = live_secrets(&keys, id, &current, None).unwrap();
    assert_eq!(
        live.iter().map(|s| s.expose_secret()).collect::<Vec<_>>(),
        [third.secret.expose_secret()]
    );

    // At most 7 days, never negative.
    for overlap in [time::Duration::days(8), time::Duration::hours(-1)] {
        assert_eq!(refused_fields(rotate(overlap).await), ["overlap_hours"]);
    }
    let overlaps: Vec<Option<i64>> = sqlx::query_scalar(
        "SELECT (metadata->>'overlap_seconds')::bigint FROM audit_log
         WHERE action = 'webhook.secret.rotate' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(overlaps, [Some(86_400), Some(0)]);
}

/// SPEC §9 tenancy: another tenant's owner, and an operator acting for the platform, find
/// none of a tenant's endpoints or deliveries (NotFound for every operation, never
/// "denied"), and change nothing; an operator naming the tenant finds them.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn another_tenants_owner_finds_nothing_and_changes_nothing(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let stranger =
        actor_of(&member(&pool, Some(globex.id), "owner@globex.test", Role::Owner).await);
    let operator = actor_of(&member(&pool, None, "op@gatehouse.test", Role::Operator).await);
    let keys = keys();
    let acme_hooks = Manager::new(&pool, &keys, &owner, Owner::Tenant(acme.id));
    let ctx = RequestContext::default();
    let ep = acme_hooks
        .register("https://a.test/in", &["user.invited"])
        .await;
    let ep_id = ep.endpoint.id;
    let d = acme_hooks.test(ep_id).await;
    let audited_before = count(&pool, "SELECT count(*) FROM audit_log").await;

    assert!(is_not_found(&Owner::of(&stranger, Some(acme.id))));
    assert_eq!(
        Owner::of(&stranger, None).unwrap(),
        Owner::Tenant(globex.id)
    );
    for (who, actor, owner_seen) in [
        ("globex's owner", &stranger, Owner::Tenant(globex.id)),
        ("the platform", &operator, Owner::Platform),
    ] {
        assert!(
            list_endpoints(&pool, owner_seen, 25, None)
                .await
                .unwrap()
                .data
                .is_empty(),
            "{who}"
        );
        assert!(
            is_not_found(&get_endpoint(&pool, owner_seen, ep_id).await),
            "{who}"
        );
        let off = EndpointChanges {
            enabled: Some(false),
            ..Default::default()
        };
        assert!(
            is_not_found(&update_endpoint(&pool, &ctx, actor, owner_seen, ep_id, off, false).await),
            "{who}"
        );
        assert!(
            is_not_found(
                &rotate_secret(
                    &pool,
                    &keys,
                    &ctx,
                    actor,
                    owner_seen,
                    ep_id,
                    time::Duration::ZERO
                )
                .await
            ),
            "{who}"
        );
        assert!(
            is_not_found(&send_test(&pool, &ctx, actor, owner_seen, ep_id).await),
            "{who}"
        );
        assert!(
            is_not_found(&list_deliveries(&pool, owner_seen, ep_id, None, 25, None).await),
            "{who}"
        );
        assert!(
            is_not_found(&get_delivery(&pool, owner_seen, ep_id, d.id).await),
            "{who}"
        );
        assert!(
            is_not_found(&redeliver(&pool, &ctx, actor, owner_seen, ep_id, d.id).await),
            "{who}"
        );
        assert!(
            is_not_found(&delete_endpoint(&pool, &ctx, actor, owner_seen, ep_id).await),
            "{who}"
        );
    }
    // Nothing changed, nothing was audited.
    assert_eq!(
        get_endpoint(&pool, Owner::Tenant(acme.id), ep_id)
            .await
            .unwrap(),
        ep.endpoint
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM audit_log").await,
        audited_before
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM webhook_deliveries").await,
        1
    );
    // An operator naming acme acts for it.
    let as_operator = Owner::of(&operator, Some(acme.id)).unwrap();
    assert_eq!(
        get_endpoint(&pool, as_operator, ep_id).await.unwrap().id,
        ep_id
    );
    let page = list_deliveries(&pool, as_operator, ep_id, None, 25, None)
        .await
        .unwrap();
    assert_eq!(page.data.iter().map(|x| x.id).collect::<Vec<_>>(), [d.id]);
}

/// SPEC §8/§10: secrets are shown once and kept sealed: no audit entry of any webhook
/// operation, and no published event, carries a `whsec_` secret; the stored ciphertext
/// does not contain it either; the chain still verifies.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn no_secret_reaches_the_audit_trail(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    let keys = keys();
    let ctx = RequestContext::default();
    let mine = Owner::Tenant(acme.id);
    let acme_hooks = Manager::new(&pool, &keys, &owner, mine);
    let created = acme_hooks
        .register("https://a.test/in", &["user.invited"])
        .await;
    let id = created.endpoint.id;
    let mut secrets = vec![created.secret.expose_secret().to_owned()];
    let change = EndpointChanges {
        description: Some(Some("renamed".into())),
        ..Default::default()
    };
    update_endpoint(&pool, &ctx, &owner, mine, id, change, false)
        .await
        .unwrap();
    let d = acme_hooks.test(id).await;
    for overlap in [time::Duration::hours(24), time::Duration::ZERO] {
        let rotated = rotate_secret(&pool, &keys, &ctx, &owner, mine, id, overlap)
            .await
            .unwrap()
            .value;
        secrets.push(rotated.secret.expose_secret().to_owned());
    }
    redeliver(&pool, &ctx, &owner, mine, id, d.id)
        .await
        .unwrap();
    let current = secrets.last().unwrap();
    let sealed_holds_plaintext: bool = sqlx::query_scalar(
        "SELECT position(convert_to($2, 'UTF8') IN secret_ciphertext) > 0
         FROM webhook_endpoints WHERE id = $1",
    )
    .bind(id)
    .bind(current.as_str())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!sealed_holds_plaintext, "the secret is sealed at rest");
    delete_endpoint(&pool, &ctx, &owner, mine, id)
        .await
        .unwrap();

    for action in [
        "webhook.create",
        "webhook.update",
        "webhook.test",
        "webhook.secret.rotate",
        "webhook.redeliver",
        "webhook.delete",
    ] {
        assert!(audit_count(&pool, action).await >= 1, "{action} audited");
    }
    let mut needles = vec!["whsec_".to_owned()];
    needles.extend(
        secrets
            .iter()
            .map(|s| s.trim_start_matches("whsec_").to_owned()),
    );
    for needle in &needles {
        let leaks: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM audit_log WHERE strpos(metadata::text, $1) > 0)
                  + (SELECT count(*) FROM webhook_events WHERE strpos(body::text, $1) > 0)",
        )
        .bind(needle)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(leaks, 0, "{needle} found in the audit trail or an event");
    }
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
}
