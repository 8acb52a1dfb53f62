//! The audit trail (SPEC §8): entries chain and verify, keep context and never secrets, never
//! fork under concurrency, roll back with their change, refuse changes, and expose tampering.

use super::*;

mod ingest_export;
mod personal;

async fn append(pool: &PgPool, action: &str) {
    let mut tx = pool.begin().await.unwrap();
    append_audit_entry(
        &mut tx,
        &RequestContext::default(),
        AuditEntry::new(action).actor(ActorType::System, None),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Runs `statements` on one connection with the triggers off, as a superuser could.
async fn bypassing_triggers(pool: &PgPool, statements: &[String]) {
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    for sql in statements {
        sqlx::query(sql).execute(&mut *conn).await.unwrap();
    }
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn audit_entries_chain_and_verify(pool: PgPool) {
    for i in 0..5 {
        append(&pool, &format!("test.event{i}")).await;
    }
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        (report.entries, report.first_seq, report.last_seq),
        (5, Some(1), Some(5))
    );
    let links: Vec<(i64, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        links[0].1,
        vec![0u8; 32],
        "the first entry links to the genesis hash"
    );
    for pair in links.windows(2) {
        assert_eq!(
            pair[1].1, pair[0].2,
            "each entry carries its predecessor's hash"
        );
    }
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn audit_metadata_keeps_context_and_never_secrets(pool: PgPool) {
    let mut tx = pool.begin().await.unwrap();
    let ctx = RequestContext {
        request_id: Some("req-123".into()),
        ip: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("TestAgent/1.0".into()),
    };
    append_audit_entry(
        &mut tx,
        &ctx,
        AuditEntry::new("auth.login.failure")
            .failure()
            .meta("reason", "wrong_password")
            .meta("password", "hunter2"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (mut metadata, request_id, outcome): (serde_json::Value, String, String) =
        sqlx::query_as("SELECT metadata, request_id, outcome FROM audit_log")
            .fetch_one(&pool)
            .await
            .unwrap();
    // The address and the browser are personal: stored sealed (CON-COMP-001), read in clear.
    assert!(!metadata.to_string().contains("203.0.113.7"));
    gatehouse_domain::audit::personal::open_all(&pool, &mut [&mut metadata])
        .await
        .unwrap();
    assert_eq!(request_id, "req-123");
    assert_eq!(outcome, "failure");
    assert_eq!(metadata["ip"], "203.0.113.7");
    assert_eq!(metadata["user_agent"], "TestAgent/1.0");
    assert_eq!(metadata["reason"], "wrong_password");
    assert_eq!(metadata["password"], "[redacted]");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn concurrent_appends_never_fork_the_chain(pool: PgPool) {
    let mut tasks = Vec::new();
    for i in 0..24 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            append(&pool, &format!("test.concurrent{i}")).await
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 24);
    let distinct_prev: i64 = sqlx::query_scalar("SELECT count(DISTINCT prev_hash) FROM audit_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(distinct_prev, 24, "no two entries share a predecessor");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_rolled_back_change_leaves_no_audit_entry(pool: PgPool) {
    append(&pool, "test.kept").await;
    {
        let mut tx = pool.begin().await.unwrap();
        append_audit_entry(
            &mut tx,
            &RequestContext::default(),
            AuditEntry::new("test.rolled_back"),
        )
        .await
        .unwrap();
        tx.rollback().await.unwrap();
    }
    append(&pool, "test.after").await;
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 2);
    assert_eq!(audit_count(&pool, "test.rolled_back").await, 0);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_audit_log_refuses_update_delete_and_truncate(pool: PgPool) {
    append(&pool, "test.immutable").await;
    for sql in [
        "UPDATE audit_log SET action = 'test.forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "TRUNCATE audit_log_default",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    // Every monthly partition is protected too.
    let part: String = sqlx::query_scalar("SELECT audit_log_ensure_partition(now())")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(sqlx::query(&format!("TRUNCATE {part}"))
        .execute(&pool)
        .await
        .is_err());
    assert_eq!(audit_count(&pool, "test.immutable").await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn tampering_is_detected_by_verification(pool: PgPool) {
    for i in 0..4 {
        append(&pool, &format!("test.e{i}")).await;
    }
    // Simulate an attacker with superuser rights who bypasses the trigger.
    let part: String = sqlx::query_scalar("SELECT audit_log_ensure_partition(now())")
        .fetch_one(&pool)
        .await
        .unwrap();
    let forge = format!("UPDATE {part} SET action = 'test.forged' WHERE seq = 2");
    bypassing_triggers(
        &pool,
        &[forge, "SET session_replication_role = origin".into()],
    )
    .await;
    let report = verify_audit_chain(&pool).await.unwrap();
    assert_eq!(
        report.problem.as_deref(),
        Some("entry 2 was changed after it was written")
    );

    let remove = format!("DELETE FROM {part} WHERE seq = 4");
    let restore = format!("UPDATE {part} SET action = 'test.e1' WHERE seq = 2");
    bypassing_triggers(&pool, &[remove, restore]).await;
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(
        report
            .problem
            .as_deref()
            .unwrap_or_default()
            .contains("removed"),
        "{report:?}"
    );
}
