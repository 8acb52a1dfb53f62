//! The Users API (SPEC §9; FR-TENANT-001/002/004/006): conventions and refusals.

use crate::helpers::{
    detail_fields, operator_token, person, spawn_app, tenant, user_token, user_token_with,
};
use gatehouse_domain::types::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

async fn member(pool: &PgPool, tenant: Uuid, email: &str, role: Role) -> Uuid {
    person(pool, Some(tenant), email, role, None).await
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn admins_run_their_users_through_the_api(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let owner = member(&pool, acme, "owner@acme.test", Role::Owner).await;
    let admin = member(&pool, acme, "admin@acme.test", Role::Admin).await;
    let admin_token = user_token(&app, &pool, admin).await;
    let as_admin = app.caller(&admin_token);

    // Create = invite; trimming, case-insensitive enums, stored lowercase.
    let (status, created) = as_admin
        .post(
            "/api/v1/users",
            json!({"name": "  Carol  ", "email": " carol@acme.test ", "role": "ADMIN"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (
            created["name"].as_str(),
            created["role"].as_str(),
            created["status"].as_str()
        ),
        (Some("Carol"), Some("admin"), Some("invited"))
    );
    let carol = created["id"].as_str().unwrap().to_owned();
    let carol_path = format!("/api/v1/users/{carol}");
    let owner_path = format!("/api/v1/users/{owner}");
    // Every violation listed with its field; unknown fields refused.
    let invalid = json!({"email": "not-an-address", "role": "boss"});
    let (status, body) = as_admin.post("/api/v1/users", invalid).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(detail_fields(&body), ["email", "role"]);
    let unknown = json!({"email": "d@acme.test", "nickname": "d"});
    let (status, _) = as_admin.post("/api/v1/users", unknown).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // An unknown field does not hide the other violations, each is in our own words (no
    // parser text), and a role names only the tenant's roles.
    let mixed = json!({"email": "nope", "bogus": 1, "role": "operator", "name": 5});
    let (status, body) = as_admin.post("/api/v1/users", mixed).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // In the body's documented field order, unknown fields last.
    assert_eq!(
        detail_fields(&body),
        ["name", "email", "role", "bogus"],
        "{body}"
    );
    let said = |field: &str| {
        body["details"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["field"] == field))
            .and_then(|d| d["message"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(said("bogus"), "is not a field of this body");
    assert_eq!(said("role"), "must be one of: owner, admin, user");
    assert_eq!(said("name"), "must be a string or null");
    for d in body["details"].as_array().unwrap() {
        let m = d["message"].as_str().unwrap();
        assert!(
            !m.contains('`') && !m.contains("line ") && !m.contains("expected"),
            "{m}"
        );
    }
    // A NUL character, which PostgreSQL cannot store, in a query parameter or a body
    // (schemathesis found the first as a 500): refused by field, nothing stored.
    let (status, body) = as_admin
        .post(
            "/api/v1/users?tenant=ac%00me",
            json!({"email": "n@acme.test"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(detail_fields(&body), ["tenant"], "{body}");
    let (status, body) = as_admin
        .post(
            "/api/v1/users",
            json!({"email": "n@acme.test", "name": "a\u{0}b"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(detail_fields(&body), ["name"], "{body}");
    // The same on PATCH.
    let (status, body) = as_admin
        .patch(
            &format!("/api/v1/users/{owner}"),
            json!({"role": "boss", "colour": "red"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(detail_fields(&body), ["role", "colour"], "{body}");
    let taken = json!({"email": "CAROL@acme.test"});
    let (status, body) = as_admin.post("/api/v1/users", taken).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // An admin cannot grant owner.
    let boss = json!({"email": "e@acme.test", "role": "owner"});
    let (status, body) = as_admin.post("/api/v1/users", boss).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("ERR_PERMISSION_DENIED"))
    );

    // List: cursor pages, limit rules.
    let (status, page) = as_admin.get("/api/v1/users?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, rest) = as_admin
        .get(&format!("/api/v1/users?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    assert_eq!(
        as_admin.get("/api/v1/users?limit=101").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        as_admin.get("/api/v1/users?role=OWNER").await.1["data"][0]["email"],
        "owner@acme.test"
    );
    let (_, one) = as_admin.get(&owner_path).await;
    assert!(one.get("last_login").is_some() && one["created_at"].as_str().unwrap().ends_with('Z'));

    // PATCH merges; the rules of SPEC §2 hold; email changes only through verification.
    let (status, body) = as_admin
        .patch(&carol_path, json!({"name": "Carol Jones"}))
        .await;
    assert_eq!(
        (status, body["name"].as_str(), body["role"].as_str()),
        (StatusCode::OK, Some("Carol Jones"), Some("admin"))
    );
    let (status, _) = as_admin
        .patch(&owner_path, json!({"status": "disabled"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins cannot act on owners");
    // An email change goes through verification of the new address: the answer names the
    // pending address, the old one stays until the link mailed to the new one is followed.
    let (status, body) = as_admin
        .patch(&carol_path, json!({"email": "new@acme.test"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pending_email"], "new@acme.test");
    assert_eq!(body["email"], "carol@acme.test");
    let mail: String = sqlx::query_scalar(
        "SELECT text_body FROM email_outbox WHERE to_address = 'new@acme.test' AND template = 'email_verification'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let token = mail
        .split("/verify-email/")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap()
        .to_owned();
    // Confirmed on the page's server function (no session needed: the link is the proof).
    let confirm = |token: String| {
        app.client
            .post(app.url("/_rpc/confirm_new_email"))
            .header("origin", &app.base)
            .form(&[("token", token)])
            .send()
    };
    assert_eq!(
        confirm(token.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    let (_, shown) = as_admin.get(&carol_path).await;
    assert_eq!(shown["email"], "new@acme.test");
    assert_eq!(
        confirm(token).await.unwrap().status(),
        StatusCode::GONE,
        "a link works once"
    );
    // A taken address, or a bad one, is refused by field.
    let (status, body) = as_admin
        .patch(&carol_path, json!({"email": "owner@acme.test"}))
        .await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (StatusCode::CONFLICT, Some("email")),
        "{body}"
    );
    let (status, _) = as_admin
        .patch(&carol_path, json!({"email": "not an address"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let owner_token = user_token(&app, &pool, owner).await;
    let as_owner = app.caller(&owner_token);
    let (status, body) = as_owner.patch(&owner_path, json!({"role": "admin"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("ERR_CONFLICT")),
        "last owner"
    );

    // Disabling the admin ends their token at once.
    let disable = json!({"status": "Disabled"});
    let (status, _) = as_owner
        .patch(&format!("/api/v1/users/{admin}"), disable)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = as_admin.get("/api/v1/users").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("ERR_AUTH"))
    );

    // DELETE archives; a second delete is 410.
    let (status, _) = as_owner.delete(&carol_path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = as_owner.delete(&carol_path).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::GONE, Some("ERR_GONE"))
    );
    let (_, page) = as_owner.get("/api/v1/users").await;
    assert!(
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["status"] != "archived"),
        "archived users hidden"
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn other_tenants_are_404_and_the_user_role_gets_403(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let acme_owner = member(&pool, acme, "owner@acme.test", Role::Owner).await;
    let plain = member(&pool, acme, "u@acme.test", Role::User).await;
    let stranger = member(&pool, globex, "x@globex.test", Role::Owner).await;
    let owner_token = user_token(&app, &pool, acme_owner).await;
    let user_tok = user_token(&app, &pool, plain).await;
    for (method, path) in [
        (Method::GET, format!("/api/v1/users/{stranger}")),
        (Method::PATCH, format!("/api/v1/users/{stranger}")),
        (Method::DELETE, format!("/api/v1/users/{stranger}")),
        (
            Method::POST,
            format!("/api/v1/users/{stranger}/sessions/revoke"),
        ),
        (Method::POST, format!("/api/v1/users/{stranger}/mfa/reset")),
        (Method::GET, "/api/v1/users?tenant=globex".to_owned()),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"name": "x"}));
        let (status, res) = app
            .caller(&owner_token)
            .call(method.clone(), &path, body)
            .await;
        assert_eq!(
            (status, res["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("ERR_NOT_FOUND")),
            "{method} {path}"
        );
    }
    for (method, path) in [
        (Method::GET, "/api/v1/users".to_owned()),
        (Method::POST, "/api/v1/users".to_owned()),
        (Method::GET, format!("/api/v1/users/{acme_owner}")),
        (Method::PATCH, format!("/api/v1/users/{acme_owner}")),
        (Method::DELETE, format!("/api/v1/users/{acme_owner}")),
        (
            Method::POST,
            format!("/api/v1/users/{acme_owner}/sessions/revoke"),
        ),
    ] {
        let body =
            matches!(method, Method::PATCH | Method::POST).then(|| json!({"email": "z@acme.test"}));
        let (status, res) = app
            .caller(&user_tok)
            .call(method.clone(), &path, body)
            .await;
        assert_eq!(
            (status, res["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("ERR_PERMISSION_DENIED")),
            "{method} {path}: {res}"
        );
    }
    // Operators name the tenant.
    let (_, op) = operator_token(&app, &pool).await;
    let as_op = app.caller(&op);
    let (status, page) = as_op.get("/api/v1/users?tenant=globex").await;
    assert_eq!(
        (status, page["data"][0]["email"].as_str()),
        (StatusCode::OK, Some("x@globex.test"))
    );
    assert_eq!(
        as_op.get("/api/v1/users").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn owners_and_admins_set_the_tenant_policies(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let admin = member(&pool, acme, "admin@acme.test", Role::Admin).await;
    let plain = member(&pool, acme, "u@acme.test", Role::User).await;
    let token = user_token(&app, &pool, admin).await;
    let as_admin = app.caller(&token);
    let (status, settings) = as_admin.get("/api/v1/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["password_policy"]["min_length"], 12);
    assert_eq!(settings["mfa_policy"], "off");
    assert_eq!(settings["session_idle_timeout_secs"], 1800);
    // Every violation listed by field; nothing changes.
    let (status, body) = as_admin
        .patch(
            "/api/v1/settings",
            json!({"password_policy": {"min_length": 4}, "mfa_policy": "sometimes", "session_idle_timeout_secs": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail_fields(&body),
        [
            "password_policy.min_length",
            "mfa_policy",
            "session_idle_timeout_secs"
        ]
    );
    let typo = json!({"password_policy": {"min_lenght": 14}});
    let (status, body) = as_admin.patch("/api/v1/settings", typo).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a typo is an error: {body}"
    );
    // A valid change, audited with old and new.
    let (status, body) = as_admin
        .patch(
            "/api/v1/settings",
            json!({"password_policy": {"min_length": 14, "require_digit": true}, "mfa_policy": "Everyone", "session_idle_timeout_secs": 900}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["password_policy"]["min_length"].as_i64(),
            body["mfa_policy"].as_str()
        ),
        (Some(14), Some("everyone"))
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'tenant.settings.update' AND tenant_id = $1",
    )
    .bind(acme)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    // The user role may not.
    let user_tok = user_token(&app, &pool, plain).await;
    let off = json!({"mfa_policy": "off"});
    assert_eq!(
        app.caller(&user_tok).patch("/api/v1/settings", off).await.0,
        StatusCode::FORBIDDEN
    );
}

/// `pg_dump` of the test's own database, as plain SQL: what an operator with the database
/// could read.
async fn dump(pool: &PgPool) -> String {
    use secrecy::ExposeSecret;
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let master = secrecy::SecretString::from(std::env::var("DATABASE_URL").unwrap());
    let url = gatehouse_server::backup::with_database_name(&master, &name).unwrap();
    let pg_dump = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|versions| {
            versions
                .flatten()
                .map(|v| v.path().join("bin/pg_dump"))
                .find(|p| p.exists())
        })
        .unwrap_or_else(|| "pg_dump".into());
    let out = tokio::process::Command::new(pg_dump)
        .arg("--dbname")
        .arg(url.expose_secret())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// CON-COMP-001: a tenant admin downloads a person's data and erases them; afterwards the
/// audit trail reads `[erased]` where the person's data was, still verifies, and neither
/// the database nor its dump holds their address. Refusals change nothing.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn admins_export_and_erase_a_person_and_the_dump_forgets_them(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let owner = member(&pool, acme, "owner@acme.test", Role::Owner).await;
    let admin = member(&pool, acme, "admin@acme.test", Role::Admin).await;
    let ann = member(&pool, acme, "Ann.Forgotten@acme.test", Role::User).await;
    let admin_token = user_token(&app, &pool, admin).await;
    let as_admin = app.caller(&admin_token);
    let ann_path = format!("/api/v1/users/{ann}");
    let (status, _) = as_admin
        .patch(&ann_path, json!({"name": "Ann Forgotten"}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Access: everything about her, her audit entries in clear.
    let (status, data) = as_admin.get(&format!("{ann_path}/export")).await;
    assert_eq!(status, StatusCode::OK, "{data}");
    assert_eq!(data["format"], "gatehouse.person-data/1");
    assert_eq!(data["profile"]["email"], "Ann.Forgotten@acme.test");
    let entries = data["audit_entries"].as_array().unwrap();
    assert!(entries.iter().any(
        |e| e["action"] == "user.create" && e["metadata"]["email"] == "Ann.Forgotten@acme.test"
    ));

    // Refusals: a user, another tenant's admin, a token without users:write, herself.
    let bob = member(&pool, acme, "bob@acme.test", Role::User).await;
    let bob_token = user_token(&app, &pool, bob).await;
    let (status, _) = app
        .caller(&bob_token)
        .get(&format!("{ann_path}/export"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .caller(&bob_token)
        .post(&format!("{ann_path}/erase"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let globex = tenant(&pool, "globex").await;
    let stranger = member(&pool, globex, "admin@globex.test", Role::Admin).await;
    let stranger_token = user_token(&app, &pool, stranger).await;
    for (method, path) in [
        ("GET", format!("{ann_path}/export")),
        ("POST", format!("{ann_path}/erase")),
    ] {
        let call = app.caller(&stranger_token);
        let (status, _) = if method == "GET" {
            call.get(&path).await
        } else {
            call.post(&path, json!({})).await
        };
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let read_only = user_token_with(&app, &pool, admin, "users:read").await;
    let (status, _) = app
        .caller(&read_only)
        .post(&format!("{ann_path}/erase"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = as_admin
        .post(&format!("/api/v1/users/{admin}/erase"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = as_admin
        .post(&format!("/api/v1/users/{owner}/erase"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins never act on owners");
    let (status, body) = as_admin
        .post("/api/v1/users/not-a-uuid/erase", json!({}))
        .await;
    assert!(status.is_client_error(), "{body}");
    assert!(dump(&pool).await.to_lowercase().contains("ann.forgotten"));

    // Erasure.
    let (status, erased) = as_admin.post(&format!("{ann_path}/erase"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert!(erased["keys_destroyed"].as_u64().unwrap() >= 1);
    let (status, _) = as_admin.post(&format!("{ann_path}/erase"), json!({})).await;
    assert_eq!(status, StatusCode::GONE);
    let (_, after) = as_admin.get(&format!("{ann_path}/export")).await;
    assert_eq!(
        after["profile"]["email"],
        format!("erased-{ann}@erased.invalid")
    );
    assert!(!after["profile"]["erased_at"].is_null());
    let entries = after["audit_entries"].as_array().unwrap();
    let created = entries
        .iter()
        .find(|e| e["action"] == "user.create")
        .unwrap();
    assert_eq!(created["metadata"]["email"], "[erased]");
    let renamed = entries
        .iter()
        .find(|e| e["action"] == "user.update")
        .unwrap();
    assert_eq!(renamed["metadata"]["new_name"], "[erased]");
    assert!(entries.iter().any(|e| e["action"] == "user.erase"));
    let (_, shown) = as_admin.get(&ann_path).await;
    assert!(!shown["erased_at"].is_null(), "{shown}");
    // The dump holds neither her address nor her name; the trail verifies.
    let dumped = dump(&pool).await.to_lowercase();
    assert!(!dumped.contains("ann.forgotten"));
    assert!(!dumped.contains("ann forgotten"));
    assert!(gatehouse_domain::audit::verify_audit_chain(&pool)
        .await
        .unwrap()
        .is_intact());
}
