//! Applications' events, exports, checkpoints and retention (FR-LOG-001/002, API-LOG;
//! SPEC §8): one verifiable trail under concurrent ingestion and control-plane writes,
//! idempotent event ids, exports that verify offline and fail on any edit, removal or
//! addition, checkpoints that catch a rewritten chain, and retention that keeps
//! verification passing.

use super::*;
use gatehouse_domain::audit::{
    self, AuditExportWalk, AuditFilter, CheckpointSigner, ExportChecker, ExportRow, LogEvent,
    Sender, Taken,
};
use serde_json::json;
use time::OffsetDateTime;

fn sender(tenant: Uuid) -> Sender {
    Sender {
        application_id: Uuid::from_u128(0xA11),
        token_tenant: Some(tenant),
        tenants: Vec::new(),
    }
}

fn event(id: &str, action: &str) -> LogEvent {
    let body = json!({
        "id": id, "occurred_at": "2026-12-01T09:30:00Z",
        "actor": {"id": "u-1", "type": "user", "name": "Zoë \"Z\" O'Neil"},
        "action": action, "resource": {"id": "doc-1", "type": "document"},
        "outcome": "success", "ip_address": "2001:db8::7",
        "metadata": {"size": 2.5, "note": "=HYPERLINK(\"x\")\n'quoted'", "bytes": 12}
    });
    audit::parse_batch(&body, OffsetDateTime::now_utc())
        .unwrap()
        .remove(0)
}

async fn ingest(pool: &PgPool, tenant: Uuid, events: &[LogEvent]) -> Vec<audit::TakenEvent> {
    let tenants = vec![tenant; events.len()];
    audit::ingest(pool, &sender(tenant), Some("req-1"), events, &tenants)
        .await
        .unwrap()
}

fn auditor() -> Actor {
    Actor {
        user_id: Uuid::now_v7(),
        tenant_id: None,
        role: Role::Auditor,
    }
}

async fn signer(pool: &PgPool) -> CheckpointSigner {
    let keys = MasterKeys::parse(&MasterKeys::generate_text("k1")).unwrap();
    CheckpointSigner::load(pool, &keys, "example.test/audit")
        .await
        .unwrap()
}

async fn export(
    pool: &PgPool,
    signer: &CheckpointSigner,
    filter: AuditFilter,
) -> (Vec<ExportRow>, String) {
    let mut walk = AuditExportWalk::start(pool, &auditor(), signer, filter)
        .await
        .unwrap();
    let mut rows = Vec::new();
    loop {
        let page = walk.next_page(pool).await.unwrap();
        if page.is_empty() {
            break;
        }
        rows.extend(page);
    }
    (rows, walk.note.clone())
}

fn check(rows: &[ExportRow], note: &str, signer: &CheckpointSigner) -> audit::ExportReport {
    let mut checker = ExportChecker::default();
    for r in rows {
        checker.row(r);
    }
    checker.finish(Some(note), &signer.verifier())
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_same_event_id_from_two_connections_at_once_is_stored_once(pool: PgPool) {
    let t = tenant(&pool, "ingest").await;
    let mut tasks = Vec::new();
    for i in 0..2 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let events = [
                event(&format!("own-{i}"), "document.read"),
                event("shared", "document.read"),
            ];
            ingest(&pool, t.id, &events).await
        }));
    }
    let mut shared = Vec::new();
    for task in tasks {
        shared.push(task.await.unwrap()[1].clone());
    }
    let accepted = shared
        .iter()
        .filter(|s| s.status == Taken::Accepted)
        .count();
    assert_eq!(accepted, 1, "{shared:?}");
    assert_eq!(
        shared[0].seq, shared[1].seq,
        "the duplicate names the stored entry"
    );
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE metadata->>'event_id' = 'shared'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, 1);
    // Re-sent later: a duplicate again, nothing stored.
    let again = ingest(&pool, t.id, &[event("shared", "document.read")]).await;
    assert_eq!(again[0].status, Taken::Duplicate);
    assert!(verify_audit_chain(&pool).await.unwrap().is_intact());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn concurrent_ingestion_and_control_plane_writes_keep_one_verifiable_trail(pool: PgPool) {
    let t = tenant(&pool, "busy").await;
    let before = verify_audit_chain(&pool).await.unwrap().entries;
    let mut tasks = Vec::new();
    for w in 0..4 {
        let shipping = pool.clone();
        tasks.push(tokio::spawn(async move {
            let pool = shipping;
            for b in 0..5 {
                let events: Vec<LogEvent> = (0..40)
                    .map(|i| event(&format!("w{w}-b{b}-e{i}"), "report.generated"))
                    .collect();
                ingest(&pool, t.id, &events).await;
            }
        }));
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..30 {
                super::append(&pool, &format!("test.control{w}x{i}")).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, before + 4 * 5 * 40 + 4 * 30);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn an_export_verifies_offline_and_fails_on_an_edited_removed_or_added_row(pool: PgPool) {
    let t = tenant(&pool, "export").await;
    for i in 0..3 {
        super::append(&pool, &format!("test.before{i}")).await;
    }
    ingest(
        &pool,
        t.id,
        &[event("x-1", "document.read"), event("x-2", "login")],
    )
    .await;
    super::append(&pool, "test.after").await;
    let signer = signer(&pool).await;

    let (rows, note) = export(&pool, &signer, AuditFilter::default()).await;
    assert!(rows.len() >= 6);
    let intact = check(&rows, &note, &signer);
    assert_eq!(intact.problem, None, "{intact:?}");
    assert!(intact.contiguous);

    let mut edited = rows.clone();
    edited[rows.len() - 2].action = "document.write".into();
    let report = check(&edited, &note, &signer);
    assert!(report.problem.unwrap().contains("was changed"));

    let mut edited_metadata = rows.clone();
    let i = rows.iter().position(|r| r.action == "login").unwrap();
    edited_metadata[i].metadata = edited_metadata[i].metadata.replace("2.5", "3.5");
    assert!(check(&edited_metadata, &note, &signer).problem.is_some());

    for removed_at in [0, 2, rows.len() - 1] {
        let mut removed = rows.clone();
        removed.remove(removed_at);
        let report = check(&removed, &note, &signer);
        assert!(
            report.problem.is_some(),
            "removing row {removed_at} is seen"
        );
    }

    let mut added = rows.clone();
    added.insert(3, rows[3].clone());
    assert!(check(&added, &note, &signer).problem.is_some());

    let forged_note = note.replace("export first", "export filtered first");
    assert!(
        check(&rows, &forged_note, &signer).problem.is_some(),
        "the note is signed"
    );

    // A filtered export: each row against its own hash.
    let filter = AuditFilter {
        actor_type: Some("application".into()),
        ..AuditFilter::default()
    };
    let (rows, note) = export(&pool, &signer, filter).await;
    assert_eq!(rows.len(), 2);
    let report = check(&rows, &note, &signer);
    assert_eq!(report.problem, None);
    assert!(!report.contiguous);
    let mut edited = rows.clone();
    edited[0].resource = Some("document:doc-2".into());
    assert!(check(&edited, &note, &signer).problem.is_some());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn checkpoints_catch_a_chain_rewritten_consistently_behind_the_trigger(pool: PgPool) {
    for i in 0..5 {
        super::append(&pool, &format!("test.e{i}")).await;
    }
    let signer = signer(&pool).await;
    audit::sign_head(&pool, &signer).await.unwrap().unwrap();
    assert_eq!(
        audit::verify_checkpoints(&pool, &signer.verifier())
            .await
            .unwrap(),
        None
    );
    // A superuser changes entry 2 and recomputes every later hash and the head: the chain
    // alone verifies again, the signed checkpoint does not.
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(
        r#"DO $$
        DECLARE r record; prev bytea; h bytea;
        BEGIN
          UPDATE audit_log SET action = 'test.forged' WHERE seq = 2;
          SELECT hash INTO prev FROM audit_log WHERE seq = 1;
          FOR r IN SELECT * FROM audit_log WHERE seq >= 2 ORDER BY seq LOOP
            h := audit_entry_hash(prev, r.seq, r.id, r.recorded_at, r.occurred_at, r.tenant_id, r.actor_id,
                 r.actor_type, r.action, r.resource, r.outcome, r.metadata, r.request_id, r.source, r.application_id);
            UPDATE audit_log SET prev_hash = prev, hash = h WHERE seq = r.seq;
            prev := h;
          END LOOP;
          UPDATE audit_chain_head SET hash = prev;
        END $$"#,
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    assert!(verify_audit_chain(&pool).await.unwrap().is_intact());
    let problem = audit::verify_checkpoints(&pool, &signer.verifier())
        .await
        .unwrap();
    assert!(problem.unwrap().contains("rewritten"));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn removing_the_oldest_entries_is_seen(pool: PgPool) {
    for i in 0..4 {
        super::append(&pool, &format!("test.e{i}")).await;
    }
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 1")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let report = verify_audit_chain(&pool).await.unwrap();
    assert_eq!(report.broken_seq, Some(2), "{report:?}");
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn retention_drops_whole_expired_partitions_audited_and_verification_still_passes(
    pool: PgPool,
) {
    for i in 0..3 {
        super::append(&pool, &format!("test.old{i}")).await;
    }
    let signer = signer(&pool).await;
    // Fourteen months from now, this month's and next month's partitions have expired.
    let later = OffsetDateTime::now_utc() + time::Duration::days(14 * 31);
    let dropped = audit::drop_expired_partitions(&pool, Some(&signer), 13, later)
        .await
        .unwrap();
    assert!(!dropped.is_empty());
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'test.old%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(left, 0);
    let drops: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'audit.partition.dropped'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(drops as usize, dropped.len());
    let report = verify_audit_chain(&pool).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        audit::verify_checkpoints(&pool, &signer.verifier())
            .await
            .unwrap(),
        None
    );
    super::append(&pool, "test.after_retention").await;
    assert!(verify_audit_chain(&pool).await.unwrap().is_intact());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn each_console_filter_finds_what_it_names_and_a_tenant_sees_only_its_own(pool: PgPool) {
    let a = tenant(&pool, "alpha").await;
    let b = tenant(&pool, "beta").await;
    let ann = member(&pool, Some(a.id), "ann@alpha.test", Role::Admin).await;
    super::append(&pool, "test.system").await;
    let mut tx = pool.begin().await.unwrap();
    append_audit_entry(
        &mut tx,
        &RequestContext {
            request_id: Some("req-ann".into()),
            ip: Some("198.51.100.4".parse().unwrap()),
            user_agent: None,
        },
        AuditEntry::new("user.role.update")
            .actor(ActorType::User, Some(ann.id))
            .tenant(Some(a.id))
            .resource(format!("user:{}", ann.id)),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    ingest(&pool, b.id, &[event("b-1", "document.read")]).await;
    let search = |f: AuditFilter, actor: Actor| {
        let pool = pool.clone();
        async move {
            audit::search(&pool, &actor, &f, None, 50)
                .await
                .unwrap()
                .data
                .into_iter()
                .map(|r| r.action)
                .collect::<Vec<_>>()
        }
    };
    let only = |f: AuditFilter| search(f, auditor());
    let by = |actor: &str| AuditFilter {
        actor: Some(actor.into()),
        ..AuditFilter::default()
    };
    assert_eq!(only(by("ann@alpha.test")).await, ["user.role.update"]);
    assert_eq!(only(by(&ann.id.to_string())).await, ["user.role.update"]);
    assert_eq!(
        only(by("u-1")).await,
        ["document.read"],
        "the id an application reported"
    );
    let f = AuditFilter {
        actor_type: Some("application".into()),
        ..AuditFilter::default()
    };
    assert_eq!(only(f).await, ["document.read"]);
    let f = AuditFilter {
        action: Some("user.role".into()),
        ..AuditFilter::default()
    };
    assert_eq!(only(f).await, ["user.role.update"]);
    let f = AuditFilter {
        request_id: Some("req-ann".into()),
        ..AuditFilter::default()
    };
    assert_eq!(only(f).await, ["user.role.update"]);
    let f = AuditFilter {
        ip: Some("2001:db8::7".into()),
        ..AuditFilter::default()
    };
    assert_eq!(only(f).await, ["document.read"]);
    let f = AuditFilter {
        resource: Some("document:doc-1".into()),
        ..AuditFilter::default()
    };
    assert_eq!(only(f).await, ["document.read"]);
    let f = AuditFilter {
        tenant: Some("beta".into()),
        ..AuditFilter::default()
    };
    assert_eq!(only(f).await, ["document.read", "tenant.create"]);
    let f = AuditFilter {
        outcome: Some("failure".into()),
        ..AuditFilter::default()
    };
    assert!(only(f).await.is_empty());
    // Alpha's admin, asking for everything or for beta's, sees alpha's entries only.
    let admin = Actor {
        user_id: ann.id,
        tenant_id: Some(a.id),
        role: Role::Admin,
    };
    let everything = search(AuditFilter::default(), admin.clone()).await;
    assert!(everything.contains(&"user.role.update".to_owned()));
    assert!(!everything.contains(&"document.read".to_owned()));
    let f = AuditFilter {
        tenant: Some("beta".into()),
        ..AuditFilter::default()
    };
    assert!(search(f, admin.clone()).await.is_empty());
    let beta_entry: Uuid =
        sqlx::query_scalar("SELECT id FROM audit_log WHERE tenant_id = $1 LIMIT 1")
            .bind(b.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(matches!(
        audit::entry(&pool, &admin, beta_entry).await,
        Err(DomainError::NotFound(_))
    ));
    let user = Actor {
        user_id: ann.id,
        tenant_id: Some(a.id),
        role: Role::User,
    };
    assert!(
        audit::search(&pool, &user, &AuditFilter::default(), None, 50)
            .await
            .is_err()
    );
}
