//! The anomaly detectors (NFR-MON-001): each fires on a scripted attack, once per window,
//! with its evidence in a `security.alert` entry, mailed and listed; quiet traffic raises
//! nothing.

use super::*;
use gatehouse_domain::login::{verify_password_login, PasswordLogin};
use gatehouse_domain::tenants::{
    detect_anomalies, recent_alerts, record_client_tallies, Thresholds,
};

fn from(ip: &str) -> RequestContext {
    RequestContext {
        request_id: None,
        ip: Some(ip.parse().unwrap()),
        user_agent: Some("attack-script/1.0".into()),
    }
}

async fn wrong_password(pool: &PgPool, ip: &str, email: &str) {
    let _ = verify_password_login(
        pool,
        &from(ip),
        PasswordLogin {
            email: Email::parse(email).unwrap(),
            password: secret("not-the-password-at-all"),
            tenant: None,
        },
    )
    .await;
}

async fn operator(pool: &PgPool) -> Actor {
    actor_of(&member(pool, None, "ops@platform.test", Role::Operator).await)
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn quiet_traffic_raises_nothing(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    member(&pool, Some(acme.id), "ada@acme.test", Role::Owner).await;
    for _ in 0..3 {
        wrong_password(&pool, "203.0.113.5", "ada@acme.test").await;
    }
    let raised = detect_anomalies(&pool, &Thresholds::default(), "http://gh.test")
        .await
        .unwrap();
    assert!(raised.is_empty(), "{raised:?}");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn credential_stuffing_from_one_address_is_raised_once_with_its_evidence(pool: PgPool) {
    let ops = operator(&pool).await;
    for n in 0..22 {
        wrong_password(&pool, "198.51.100.66", &format!("victim{n}@example.test")).await;
    }
    let raised = detect_anomalies(&pool, &Thresholds::default(), "http://gh.test")
        .await
        .unwrap();
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0].detector, "credential_stuffing");
    assert!(raised[0]
        .summary
        .starts_with("22 accounts tried from one address"));
    // Once per window.
    assert!(
        detect_anomalies(&pool, &Thresholds::default(), "http://gh.test")
            .await
            .unwrap()
            .is_empty()
    );
    // The evidence: the address, sealed in the entry and opened for readers.
    let entry: serde_json::Value =
        sqlx::query_scalar("SELECT metadata FROM audit_log WHERE action = 'security.alert'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!entry.to_string().contains("198.51.100.66"));
    let mut opened = entry.clone();
    gatehouse_domain::audit::personal::open_all(&pool, &mut [&mut opened])
        .await
        .unwrap();
    assert_eq!(opened["ip"], "198.51.100.66");
    assert_eq!(opened["detector"], "credential_stuffing");
    // Listed for operators, mailed to them, published for webhooks.
    assert_eq!(recent_alerts(&pool, &ops, 10).await.unwrap().len(), 1);
    let mails: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM email_outbox WHERE template = 'security_alert' AND to_address = 'ops@platform.test'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(mails, 1);
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_events WHERE event_type = 'security.alert'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(events, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn bursts_on_one_account_and_one_tenant_reach_their_owners(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let owner = actor_of(&member(&pool, Some(acme.id), "owner@acme.test", Role::Owner).await);
    for n in 0..22 {
        // Several addresses, one account: a per-account burst, not stuffing. The account
        // locks after a few; its refusals still count.
        wrong_password(&pool, &format!("192.0.2.{n}"), "owner@acme.test").await;
    }
    let raised = detect_anomalies(&pool, &Thresholds::default(), "http://gh.test")
        .await
        .unwrap();
    assert_eq!(
        raised
            .iter()
            .map(|a| a.detector.as_str())
            .collect::<Vec<_>>(),
        ["failed_sign_ins_account"]
    );
    // A tenant's alert is listed for its owners; another tenant's owner sees none of it.
    let t = Thresholds {
        failed_sign_ins_tenant: 5,
        ..Thresholds::default()
    };
    sqlx::query("UPDATE audit_log SET tenant_id = $1 WHERE action = 'auth.login.failure'")
        .bind(acme.id)
        .execute(&pool)
        .await
        .expect_err("the trail is append-only");
    let mut tx = pool.begin().await.unwrap();
    for _ in 0..5 {
        append_audit_entry(
            &mut tx,
            &RequestContext::default(),
            AuditEntry::new("auth.login.failure")
                .failure()
                .tenant(Some(acme.id))
                .actor(ActorType::User, None),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let raised = detect_anomalies(&pool, &t, "http://gh.test").await.unwrap();
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0].detector, "failed_sign_ins_tenant");
    let seen = recent_alerts(&pool, &owner, 10).await.unwrap();
    assert_eq!(seen.len(), 1);
    let globex = tenant(&pool, "globex").await;
    let stranger =
        actor_of(&member(&pool, Some(globex.id), "owner@globex.test", Role::Owner).await);
    assert!(recent_alerts(&pool, &stranger, 10)
        .await
        .unwrap()
        .is_empty());
    let mailed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM email_outbox WHERE template = 'security_alert' AND to_address = 'owner@acme.test'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(mailed, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn mass_reads_unusual_admin_hours_and_application_refusals_are_raised(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let admin = actor_of(&member(&pool, Some(acme.id), "admin@acme.test", Role::Admin).await);
    let t = Thresholds {
        mass_reads: 20,
        introspection_failures: 50,
        ..Thresholds::default()
    };
    for _ in 0..20 {
        gatehouse_domain::audit::record_read(
            &pool,
            &RequestContext::default(),
            &admin,
            "user.read",
            None,
            serde_json::json!({}),
        )
        .await
        .unwrap();
    }
    // The admin's habits: a month of changes twelve hours from now.
    sqlx::query(
        "INSERT INTO audit_log (seq, id, recorded_at, occurred_at, tenant_id, actor_id, actor_type,
                                action, resource, outcome, metadata, source, prev_hash, hash)
         SELECT -d, gen_random_uuid(), at, at, $2, $1, 'user', 'user.update', 'user:x', 'success',
                '{}', 'control_plane', decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex')
           FROM (SELECT d, now() + interval '12 hours' - make_interval(days => d) AS at
                   FROM generate_series(2, 13) AS d) s",
    )
    .bind(admin.user_id)
    .bind(acme.id)
    .execute(&pool)
    .await
    .unwrap();
    let mut tx = pool.begin().await.unwrap();
    append_audit_entry(
        &mut tx,
        &RequestContext::default(),
        AuditEntry::new("tenant.settings.update")
            .by(Some(&admin))
            .tenant(Some(acme.id))
            .resource(format!("tenant:{}", acme.id)),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let app = Uuid::now_v7();
    record_client_tallies(
        &pool,
        &[
            ("oauth.introspection.inactive", app, 60),
            ("application.disabled.call", app, 5),
        ],
    )
    .await
    .unwrap();
    let raised = detect_anomalies(&pool, &t, "http://gh.test").await.unwrap();
    let mut detectors: Vec<&str> = raised.iter().map(|a| a.detector.as_str()).collect();
    detectors.sort();
    assert_eq!(
        detectors,
        [
            "admin_unusual_hour",
            "disabled_application",
            "introspection_failures",
            "mass_reads"
        ]
    );
}
