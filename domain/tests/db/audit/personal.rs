//! Personal data in the audit trail is sealed per data subject, and erasure shreds it
//! without breaking the chain (CON-COMP-001).

use super::*;
use gatehouse_domain::audit::{
    entry, seal_existing_entries, search, verify_checkpoints, AuditFilter, CheckpointSigner,
};
use gatehouse_domain::users::{
    decline_erasure, erase_user, erasure_requests, own_erasure_request, person_data,
    request_erasure,
};

fn from(ip: &str) -> RequestContext {
    RequestContext {
        request_id: Some("req-personal".into()),
        ip: Some(ip.parse().unwrap()),
        user_agent: Some("Mozilla/5.0 (X11) Firefox/140".into()),
    }
}

/// How many rows of any table hold `needle` in their text form: what a dump would show.
async fn rows_holding(pool: &PgPool, needle: &str) -> Vec<String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut found = Vec::new();
    for table in tables {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} t WHERE t::text ILIKE '%' || $1 || '%'"
        ))
        .bind(needle)
        .fetch_one(pool)
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{table}: {n}"));
        }
    }
    found
}

async fn auditor(pool: &PgPool) -> Actor {
    actor_of(&member(pool, None, "auditor@platform.test", Role::Auditor).await)
}

struct World {
    tenant: Tenant,
    owner: Actor,
    admin: Actor,
    person: User,
}

async fn world(pool: &PgPool) -> World {
    let tenant = tenant(pool, "acme").await;
    let owner = actor_of(&member(pool, Some(tenant.id), "owner@acme.test", Role::Owner).await);
    let admin = actor_of(&member(pool, Some(tenant.id), "admin@acme.test", Role::Admin).await);
    let mut new = new_user(Some(tenant.id), "Ann.Person@acme.test", Role::User);
    new.name = Some(DisplayName::parse("Ann Person").unwrap());
    let person = create_user(pool, &from("203.0.113.7"), Some(&owner), new)
        .await
        .unwrap()
        .value;
    World {
        tenant,
        owner,
        admin,
        person,
    }
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn personal_values_are_stored_sealed_and_read_in_clear(pool: PgPool) {
    let w = world(&pool).await;
    // The stored trail holds neither the address, the name nor the IP in clear.
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT metadata::text FROM audit_log WHERE resource = $1 ORDER BY seq")
            .bind(format!("user:{}", w.person.id))
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(!stored.is_empty());
    for text in &stored {
        assert!(!text.to_lowercase().contains("ann.person"), "{text}");
        assert!(!text.contains("203.0.113.7"), "{text}");
        assert!(text.contains("$sealed"), "{text}");
    }
    // Readers open them.
    let aud = auditor(&pool).await;
    let filter = AuditFilter {
        resource: Some(format!("user:{}", w.person.id)),
        ..AuditFilter::default()
    };
    let page = search(&pool, &aud, &filter, None, 50).await.unwrap();
    let created = page
        .data
        .iter()
        .find(|e| e.action == "user.create")
        .expect("the user.create entry");
    assert_eq!(created.metadata["email"], "Ann.Person@acme.test");
    assert_eq!(created.metadata["ip"], "203.0.113.7");
    // Searching by address still finds the entry (through its keyed reference).
    let by_ip = AuditFilter {
        ip: Some("203.0.113.7".into()),
        ..AuditFilter::default()
    };
    let page = search(&pool, &aud, &by_ip, None, 50).await.unwrap();
    assert!(page.data.iter().any(|e| e.action == "user.create"));
    let other_ip = AuditFilter {
        ip: Some("198.51.100.1".into()),
        ..AuditFilter::default()
    };
    assert!(search(&pool, &aud, &other_ip, None, 50)
        .await
        .unwrap()
        .data
        .is_empty());
    assert!(verify_audit_chain(&pool).await.unwrap().is_intact());
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn erasure_shreds_the_person_and_keeps_the_chain_verifiable(pool: PgPool) {
    let w = world(&pool).await;
    let _session = session_for(&pool, w.person.id).await;
    let erased = erase_user(&pool, &from("198.51.100.9"), &w.admin, w.person.id)
        .await
        .unwrap()
        .value;
    assert_eq!(erased.user_id, w.person.id);
    assert!(erased.keys_destroyed >= 1);
    assert!(erased.sessions_revoked >= 1);

    // Every entry about the person reads [erased] in its personal fields.
    let aud = auditor(&pool).await;
    let filter = AuditFilter {
        resource: Some(format!("user:{}", w.person.id)),
        ..AuditFilter::default()
    };
    let page = search(&pool, &aud, &filter, None, 50).await.unwrap();
    let created = page
        .data
        .iter()
        .find(|e| e.action == "user.create")
        .unwrap();
    assert_eq!(created.metadata["email"], "[erased]");
    assert_eq!(created.metadata["name"], serde_json::Value::Null);
    // The creating owner's own address stays theirs and readable.
    assert_eq!(created.metadata["ip"], "203.0.113.7");
    let detail = entry(&pool, &aud, created.id).await.unwrap();
    assert_eq!(detail.entry.metadata["email"], "[erased]");
    // The erasure is audited without personal data.
    let erase = page.data.iter().find(|e| e.action == "user.erase").unwrap();
    assert!(!erase.metadata.to_string().to_lowercase().contains("ann"));

    // Nobody can read it again: the key is gone and no table holds the address or name.
    let held = rows_holding(&pool, "ann.person").await;
    assert!(held.is_empty(), "{held:?}");
    let held = rows_holding(&pool, "Ann Person").await;
    assert!(held.is_empty(), "{held:?}");
    let key: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT sealed_key FROM subject_keys WHERE subject = $1")
            .bind(format!("user:{}", w.person.id))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(key.is_none());
    // And the trail's proofs still hold.
    assert!(verify_audit_chain(&pool).await.unwrap().is_intact());
    let (email, status): (String, String) =
        sqlx::query_as("SELECT email, status FROM users WHERE id = $1")
            .bind(w.person.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(email, format!("erased-{}@erased.invalid", w.person.id));
    assert_eq!(status, "archived");
    let _ = w.owner;
    let _ = w.tenant;
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn erasure_is_refused_to_whoever_may_not_erase(pool: PgPool) {
    let w = world(&pool).await;
    let ctx = RequestContext::default();
    // A user, another tenant's admin, an admin against an owner, oneself.
    let plain = actor_of(&member(&pool, Some(w.tenant.id), "plain@acme.test", Role::User).await);
    assert!(matches!(
        erase_user(&pool, &ctx, &plain, w.person.id).await,
        Err(DomainError::PermissionDenied(_))
    ));
    let other = tenant(&pool, "globex").await;
    let stranger = actor_of(&member(&pool, Some(other.id), "admin@globex.test", Role::Admin).await);
    assert!(matches!(
        erase_user(&pool, &ctx, &stranger, w.person.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(erase_user(&pool, &ctx, &w.admin, w.owner.user_id)
        .await
        .is_err());
    assert!(matches!(
        erase_user(&pool, &ctx, &w.admin, w.admin.user_id).await,
        Err(DomainError::PermissionDenied(_))
    ));
    // Nothing changed.
    assert_eq!(audit_count(&pool, "user.erase").await, 0);
    // Once erased, again is gone.
    erase_user(&pool, &ctx, &w.owner, w.person.id)
        .await
        .unwrap();
    assert!(matches!(
        erase_user(&pool, &ctx, &w.owner, w.person.id).await,
        Err(DomainError::Gone(_))
    ));
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_person_asks_and_an_admin_decides(pool: PgPool) {
    let w = world(&pool).await;
    let ctx = RequestContext::default();
    let me = actor_of(&w.person);
    let asked = request_erasure(&pool, &ctx, &me).await.unwrap();
    assert_eq!(asked.status, "pending");
    // Asking twice is the same request.
    assert_eq!(
        request_erasure(&pool, &ctx, &me).await.unwrap().id,
        asked.id
    );
    let listed = erasure_requests(&pool, &w.admin, w.tenant.id)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(matches!(
        erasure_requests(&pool, &me, w.tenant.id).await,
        Err(DomainError::PermissionDenied(_))
    ));
    let declined = decline_erasure(&pool, &ctx, &w.admin, asked.id, "legal hold until March")
        .await
        .unwrap();
    assert_eq!(declined.status, "declined");
    assert!(decline_erasure(&pool, &ctx, &w.admin, asked.id, "again")
        .await
        .is_err());
    // A new request, approved by erasing.
    request_erasure(&pool, &ctx, &me).await.unwrap();
    erase_user(&pool, &ctx, &w.admin, w.person.id)
        .await
        .unwrap();
    let mine = own_erasure_request(&pool, &me).await.unwrap().unwrap();
    assert_eq!(mine.status, "approved");
    assert_eq!(audit_count(&pool, "user.erasure.requested").await, 2);
    assert_eq!(audit_count(&pool, "user.erasure.declined").await, 1);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_person_gets_everything_held_about_them(pool: PgPool) {
    let w = world(&pool).await;
    let _session = session_for(&pool, w.person.id).await;
    let me = actor_of(&w.person);
    let ctx = from("203.0.113.8");
    let data = person_data(&pool, &ctx, &me, w.person.id).await.unwrap();
    assert_eq!(data["profile"]["email"], "Ann.Person@acme.test");
    assert_eq!(data["profile"]["name"], "Ann Person");
    assert_eq!(data["sessions"].as_array().unwrap().len(), 1);
    let entries = data["audit_entries"].as_array().unwrap();
    let created = entries
        .iter()
        .find(|e| e["action"] == "user.create")
        .unwrap();
    assert_eq!(created["metadata"]["email"], "Ann.Person@acme.test");
    // No secret is part of it.
    let text = data.to_string();
    for secret in [
        "password_hash",
        "token_hash",
        "secret_ciphertext",
        "code_hash",
    ] {
        assert!(!text.contains(secret), "{secret}");
    }
    // Admins of the tenant and auditors may; a colleague and another tenant may not.
    person_data(&pool, &ctx, &w.admin, w.person.id)
        .await
        .unwrap();
    person_data(&pool, &ctx, &auditor(&pool).await, w.person.id)
        .await
        .unwrap();
    let colleague =
        actor_of(&member(&pool, Some(w.tenant.id), "colleague@acme.test", Role::User).await);
    assert!(person_data(&pool, &ctx, &colleague, w.person.id)
        .await
        .is_err());
    let other = tenant(&pool, "globex").await;
    let stranger = actor_of(&member(&pool, Some(other.id), "admin@globex.test", Role::Admin).await);
    assert!(matches!(
        person_data(&pool, &ctx, &stranger, w.person.id).await,
        Err(DomainError::NotFound(_))
    ));
    // Each download is audited, in the person's tenant.
    assert_eq!(audit_count(&pool, "user.data.export").await, 3);
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn entries_written_in_clear_are_sealed_once_and_the_chain_still_verifies(pool: PgPool) {
    let w = world(&pool).await;
    // Entries as the trail held them before sealing: personal values in clear.
    for n in 0..3 {
        sqlx::query(
            "SELECT audit_append(gen_random_uuid(), NULL, $1, NULL, 'system', 'user.update', $2,
                                 'success', $3, NULL, NULL, NULL)",
        )
        .bind(w.tenant.id)
        .bind(format!("user:{}", w.person.id))
        .bind(serde_json::json!({"email": "Old.Address@acme.test", "ip": format!("192.0.2.{n}")}))
        .execute(&pool)
        .await
        .unwrap();
    }
    // A failed sign-in for an address that is no account named it in its resource.
    sqlx::query(
        "SELECT audit_append(gen_random_uuid(), NULL, NULL, NULL, 'user', 'auth.login.failure',
                             'email:old.address@acme.test', 'failure', '{\"method\": \"password\"}', NULL,
                             NULL, NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let keys = MasterKeys::parse(&MasterKeys::generate_text("k1")).unwrap();
    let signer = CheckpointSigner::load(&pool, &keys, "test/audit")
        .await
        .unwrap();
    gatehouse_domain::audit::sign_head(&pool, &signer)
        .await
        .unwrap()
        .unwrap();
    let report = seal_existing_entries(&pool).await.unwrap().unwrap();
    assert_eq!(report.sealed, 4);
    assert_eq!(report.checkpoints_superseded, 1);
    assert!(rows_holding(&pool, "old.address").await.is_empty());
    assert!(verify_audit_chain(&pool).await.unwrap().is_intact());
    assert_eq!(
        verify_checkpoints(&pool, &signer.verifier()).await.unwrap(),
        None
    );
    gatehouse_domain::audit::sign_head(&pool, &signer)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        verify_checkpoints(&pool, &signer.verifier()).await.unwrap(),
        None
    );
    // Read in clear, found by address; a second run does nothing.
    let aud = auditor(&pool).await;
    let f = AuditFilter {
        ip: Some("192.0.2.1".into()),
        ..AuditFilter::default()
    };
    let page = search(&pool, &aud, &f, None, 10).await.unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].metadata["email"], "Old.Address@acme.test");
    assert_eq!(seal_existing_entries(&pool).await.unwrap(), None);
    assert_eq!(audit_count(&pool, "audit.personal_data.sealed").await, 1);
    // Erasing the person now shreds the sealed old entries too.
    erase_user(&pool, &RequestContext::default(), &w.owner, w.person.id)
        .await
        .unwrap();
    let page = search(&pool, &aud, &f, None, 10).await.unwrap();
    assert!(
        page.data.is_empty(),
        "the address reference went with the key"
    );
    assert!(verify_audit_chain(&pool).await.unwrap().is_intact());
}
