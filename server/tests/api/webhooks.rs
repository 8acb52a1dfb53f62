//! Webhooks over `/api/v1/webhooks` and the events stream (SPEC §9 "Webhooks" and the API
//! conventions; Standard Webhooks 1.0): a tenant's owners manage its endpoints and the
//! secret is shown once; every invalid field is named; the user role, auditors,
//! applications, a missing scope and another tenant are refused on every route; operators
//! manage the platform's endpoints and a tenant's only when they name it; private targets
//! are refused when registered and again after DNS resolution; real deliveries to a
//! receiver on loopback are signed (checked here with an HMAC of the tests' own), retried,
//! and a 410 disables the endpoint; `/api/v1/events/stream` follows a tenant's events and
//! resumes after `Last-Event-ID`.
//!
//! `spawn_app` starts the router only; the tests that deliver start the worker as `serve`
//! does, with the same setting as their server.

use crate::helpers::{
    app_token, detail_fields, operator_token, person, spawn_app, spawn_app_with, tenant, test_keys,
    user_token, user_token_with, Caller, TestApp,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use clap::Parser;
use gatehouse_domain::types::Role;
use gatehouse_server::cli::Cli;
use gatehouse_server::webhooks::{spawn_webhooks, WebhookWorker};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use uuid::Uuid;

/// How long a test waits for something asynchronous (a delivery, a retry 5 s later, an
/// event on the stream) before it gives up. Only a broken test waits that long: this
/// bounds a hang on a loaded machine, it asserts no speed.
const PATIENCE: Duration = Duration::from_secs(90);

/// What a tool managing webhooks asks for: the webhooks scopes, and inviting people (to
/// publish events).
const HOOK_SCOPES: &str = "openid users:read users:write webhooks:read webhooks:write";

/// Polls `probe` until it yields, every 100 ms, for at most [`PATIENCE`].
async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Registers an endpoint; its id and its secret.
async fn register(caller: Caller<'_>, url: &str, types: &[&str]) -> (String, String) {
    let (status, created) = caller
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "event_types": types}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// Invites `email` into the caller's tenant through the Users API, which publishes
/// `user.created` and `user.invited`; the invited person's id.
async fn invite(caller: Caller<'_>, email: &str) -> String {
    let (status, body) = caller.post("/api/v1/users", json!({"email": email})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// A test event to the endpoint; its delivery's id.
async fn send_test(caller: Caller<'_>, endpoint: &str) -> String {
    let path = format!("/api/v1/webhooks/{endpoint}/test");
    let (status, delivery) = caller.call(Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{delivery}");
    delivery["id"].as_str().unwrap().to_owned()
}

/// One route of the webhooks API (or the stream), with the scope it takes and a valid
/// body where it takes one.
struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    scope: &'static str,
}

impl Route {
    fn new(method: Method, path: String, scope: &'static str) -> Self {
        Self {
            method,
            path,
            body: None,
            scope,
        }
    }

    fn with(self, body: Value) -> Self {
        Self {
            body: Some(body),
            ..self
        }
    }

    /// The answer's status, error code and message; the body is read only when it is a
    /// refusal (a stream opened by mistake would never end).
    async fn call(&self, caller: Caller<'_>) -> (StatusCode, Option<String>, String) {
        let res = caller
            .send(self.method.clone(), &self.path, self.body.clone())
            .await;
        let status = res.status();
        if status.is_success() {
            return (status, None, String::new());
        }
        let body: Value = res.json().await.unwrap_or(Value::Null);
        (
            status,
            body["code"].as_str().map(str::to_owned),
            body["message"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Every route: the collection, the events stream, and those of endpoint `id` and of its
/// delivery `delivery`.
fn routes(id: &str, delivery: &str) -> Vec<Route> {
    let one = format!("/api/v1/webhooks/{id}");
    let read = "webhooks:read";
    let write = "webhooks:write";
    vec![
        Route::new(Method::GET, "/api/v1/webhooks".into(), read),
        Route::new(Method::POST, "/api/v1/webhooks".into(), write).with(
            json!({"url": "https://hooks.example.com/other", "event_types": ["user.invited"]}),
        ),
        Route::new(Method::GET, "/api/v1/events/stream".into(), read),
        Route::new(Method::GET, one.clone(), read),
        Route::new(Method::PATCH, one.clone(), write).with(json!({"description": "changed"})),
        Route::new(Method::POST, format!("{one}/test"), write),
        Route::new(Method::POST, format!("{one}/rotate-secret"), write),
        Route::new(Method::GET, format!("{one}/deliveries"), read),
        Route::new(Method::GET, format!("{one}/deliveries/{delivery}"), read),
        Route::new(
            Method::POST,
            format!("{one}/deliveries/{delivery}/redeliver"),
            write,
        ),
        Route::new(Method::DELETE, one, write),
    ]
}

// ---------------------------------------------------------------------------------------
// The receiver, and the tests' own signature check.

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

struct Inbox {
    received: Mutex<Vec<Received>>,
    /// The statuses of the next answers, in order; then `otherwise`.
    next: Mutex<VecDeque<u16>>,
    otherwise: AtomicU16,
}

/// A customer's webhook receiver on a random loopback port: it records every request and
/// answers the statuses it is told, with a body naming the status.
struct Receiver {
    port: u16,
    inbox: Arc<Inbox>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Inbox {
            received: Mutex::new(Vec::new()),
            next: Mutex::new(VecDeque::new()),
            otherwise: AtomicU16::new(200),
        });
        let router = Router::new()
            .route("/hook", post(receive))
            .with_state(inbox.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { port, inbox }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn answer_next(&self, statuses: &[u16]) {
        self.inbox.next.lock().unwrap().extend(statuses);
    }

    fn answer_always(&self, status: u16) {
        self.inbox.otherwise.store(status, Ordering::SeqCst);
    }

    fn received(&self) -> Vec<Received> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// The requests received, once there are at least `count`.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        eventually(&format!("{count} requests at the receiver"), async || {
            let got = self.received();
            (got.len() >= count).then_some(got)
        })
        .await
    }
}

async fn receive(
    State(inbox): State<Arc<Inbox>>,
    headers: HeaderMap,
    body: Bytes,
) -> (axum::http::StatusCode, String) {
    inbox.received.lock().unwrap().push(Received {
        headers,
        body: body.to_vec(),
    });
    let queued = inbox.next.lock().unwrap().pop_front();
    let status = queued.unwrap_or_else(|| inbox.otherwise.load(Ordering::SeqCst));
    (
        axum::http::StatusCode::from_u16(status).unwrap(),
        format!("answered {status}"),
    )
}

/// HMAC-SHA256 (RFC 2104) written out over `sha2`, so the check shares no code with the
/// server's signing (which uses the `hmac` crate).
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// Whether a request is signed with `secret` as Standard Webhooks 1.0 says: one of the
/// space-separated `webhook-signature` values is `v1,` and the base64 HMAC-SHA256 of
/// `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64-decoded part of the
/// secret after `whsec_`.
fn signed_with(received: &Received, secret: &str) -> bool {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .unwrap();
    let mut content = format!(
        "{}.{}.",
        received.header("webhook-id"),
        received.header("webhook-timestamp")
    )
    .into_bytes();
    content.extend_from_slice(&received.body);
    let expected = format!("v1,{}", BASE64.encode(hmac_sha256(&key, &content)));
    received
        .header("webhook-signature")
        .split(' ')
        .any(|signature| signature == expected)
}

fn assert_signed(received: &Received, secret: &str) {
    assert!(
        signed_with(received, secret),
        "{} is not a signature of this message with the endpoint's secret",
        received.header("webhook-signature")
    );
}

/// The check above is the tests' own; it accepts the example of the Standard Webhooks
/// reference libraries and nothing else (the server's `sign` has its own unit test on the
/// same example).
#[test]
fn the_tests_own_signature_check_agrees_with_the_standard_webhooks_example() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let mut headers = HeaderMap::new();
    headers.insert(
        "webhook-id",
        "msg_p5jXN8AQM9LWM0D4loKWxJek".parse().unwrap(),
    );
    headers.insert("webhook-timestamp", "1614265330".parse().unwrap());
    headers.insert(
        "webhook-signature",
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
            .parse()
            .unwrap(),
    );
    let example = Received {
        headers,
        body: br#"{"test": 2432232314}"#.to_vec(),
    };
    assert!(signed_with(&example, secret));
    let tampered = Received {
        body: br#"{"test": 2432232315}"#.to_vec(),
        ..example.clone()
    };
    assert!(!signed_with(&tampered, secret));
    assert!(!signed_with(
        &example,
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    ));
}

/// The delivery worker, as `serve` starts it beside the server, with the server's
/// `--webhooks-allow-private` setting.
fn start_worker(pool: &PgPool, allow_private: bool) -> WebhookWorker {
    let mut args = vec!["gatehouse"];
    if allow_private {
        args.push("--webhooks-allow-private");
    }
    let settings = Cli::try_parse_from(args).unwrap().settings;
    spawn_webhooks(pool.clone(), Arc::new(test_keys()), &settings).unwrap()
}

/// A server whose webhooks may target loopback over plain http (development's
/// `--webhooks-allow-private`), its worker, a receiver, and acme's owner with an endpoint
/// at the receiver subscribed to `user.invited`.
struct Delivering {
    app: TestApp,
    worker: WebhookWorker,
    receiver: Receiver,
    acme: Uuid,
    token: String,
    endpoint: String,
    secret: String,
}

impl Delivering {
    async fn start(pool: &PgPool) -> Self {
        let app = spawn_app_with(pool.clone(), &["--webhooks-allow-private"]).await;
        let worker = start_worker(pool, true);
        let receiver = Receiver::start().await;
        let acme = tenant(pool, "acme").await;
        let owner = person(pool, Some(acme), "owner@acme.test", Role::Owner, None).await;
        let token = user_token_with(&app, pool, owner, HOOK_SCOPES).await;
        let (endpoint, secret) =
            register(app.caller(&token), &receiver.url(), &["user.invited"]).await;
        Self {
            app,
            worker,
            receiver,
            acme,
            token,
            endpoint,
            secret,
        }
    }

    fn owner(&self) -> Caller<'_> {
        self.app.caller(&self.token)
    }

    fn path(&self) -> String {
        format!("/api/v1/webhooks/{}", self.endpoint)
    }

    /// The endpoint's deliveries, once the newest has been delivered.
    async fn newest_delivered(&self) -> Vec<Value> {
        let deliveries = format!("{}/deliveries", self.path());
        eventually(
            "the newest delivery to be recorded as delivered",
            async || {
                let (_, page) = self.owner().get(&deliveries).await;
                (page["data"][0]["status"] == "delivered")
                    .then(|| page["data"].as_array().unwrap().clone())
            },
        )
        .await
    }

    /// One delivery with its attempts.
    async fn delivery(&self, id: &Value) -> Value {
        let id = id.as_str().unwrap();
        let (status, detail) = self
            .owner()
            .get(&format!("{}/deliveries/{id}", self.path()))
            .await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        detail
    }

    async fn stop(self) {
        self.worker.stop().await;
    }
}

// ---------------------------------------------------------------------------------------
// Managing endpoints.

/// SPEC §9 webhooks: an owner registers, reads, changes, turns off and on, tests, rotates
/// and deletes an endpoint; the `whsec_` secret is in the creation's (and rotation's)
/// answer only; every change is audited without the secret.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn owners_manage_their_endpoints_and_see_the_secret_once(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let owner = person(&pool, Some(acme), "owner@acme.test", Role::Owner, None).await;
    let token = user_token_with(&app, &pool, owner, HOOK_SCOPES).await;
    let as_owner = app.caller(&token);

    // The catalog names what can be subscribed to.
    let (status, catalog) = as_owner.get("/api/v1/webhooks/event-types").await;
    assert_eq!(status, StatusCode::OK, "{catalog}");
    let subscribable = |name: &str| {
        catalog
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["subscribable"].clone())
    };
    assert_eq!(subscribable("user.invited"), Some(json!(true)));
    assert_eq!(subscribable("tenant.suspended"), Some(json!(true)));
    assert_eq!(subscribable("webhook.test"), Some(json!(false)));

    // Registered: 201 with the secret; trimmed; types case-insensitive, folded.
    let (status, created) = as_owner
        .post(
            "/api/v1/webhooks",
            json!({
                "url": "  https://hooks.acme.example/gatehouse  ",
                "description": "CRM sync",
                "event_types": ["user.invited", "USER.CREATED", "user.invited"],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(created["tenant_id"], json!(acme));
    assert_eq!(created["url"], "https://hooks.acme.example/gatehouse");
    assert_eq!(
        created["event_types"],
        json!(["user.invited", "user.created"])
    );
    assert_eq!(
        (
            created["status"].as_str(),
            created["rate_limit_per_second"].as_i64()
        ),
        (Some("active"), Some(20))
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/webhooks/{id}");

    // Never shown again: not in the endpoint, not in the list.
    for read in [path.as_str(), "/api/v1/webhooks"] {
        let res = as_owner.send(Method::GET, read, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{read}");
        let text = res.text().await.unwrap();
        assert!(text.contains(&id), "{read}: {text}");
        assert!(
            !text.contains(&secret) && !text.contains("whsec_") && !text.contains("\"secret\""),
            "{read} shows the secret: {text}"
        );
    }
    let (_, page) = as_owner.get("/api/v1/webhooks").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert!(page["next_cursor"].is_null());

    // Merge semantics; `null` clears the description.
    let (status, changed) = as_owner
        .patch(
            &path,
            json!({"description": null, "event_types": ["user.role.changed"], "rate_limit_per_second": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert!(changed["description"].is_null());
    assert_eq!(changed["event_types"], json!(["user.role.changed"]));
    assert_eq!(changed["rate_limit_per_second"], 5);
    assert_eq!(changed["url"], "https://hooks.acme.example/gatehouse");

    // Off: nothing can be sent to it; on again.
    let (_, off) = as_owner.patch(&path, json!({"enabled": false})).await;
    assert_eq!(
        (off["status"].as_str(), off["disabled_reason"].as_str()),
        (Some("disabled"), Some("turned off by a person"))
    );
    let (status, body) = as_owner
        .call(Method::POST, &format!("{path}/test"), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("ERR_CONFLICT")),
        "{body}"
    );
    let (_, on) = as_owner.patch(&path, json!({"enabled": true})).await;
    assert_eq!(
        (on["status"].as_str(), on["disabled_reason"].as_str()),
        (Some("active"), None)
    );

    // A test event: its delivery is listed with the body it carries.
    let (status, test) = as_owner
        .call(Method::POST, &format!("{path}/test"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{test}");
    assert_eq!(
        (
            test["event_type"].as_str(),
            test["status"].as_str(),
            test["attempts"].as_i64()
        ),
        (Some("webhook.test"), Some("pending"), Some(0))
    );
    let delivery = test["id"].as_str().unwrap().to_owned();
    let (status, listed) = as_owner.get(&format!("{path}/deliveries")).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["data"][0]["id"], delivery);
    let (status, detail) = as_owner.get(&format!("{path}/deliveries/{delivery}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["body"]["type"], "webhook.test");
    assert_eq!(detail["body"]["data"]["endpoint_id"], id);
    assert_eq!(detail["attempts_made"], json!([]));
    let (_, none) = as_owner
        .get(&format!("{path}/deliveries?status=DELIVERED"))
        .await;
    assert_eq!(none["data"], json!([]));
    // Every bad parameter named at once.
    let (status, body) = as_owner
        .get(&format!("{path}/deliveries?status=sometimes&limit=0"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(detail_fields(&body), ["limit", "status"]);
    let (status, again) = as_owner
        .call(
            Method::POST,
            &format!("{path}/deliveries/{delivery}/redeliver"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["status"], "pending");

    // Rotation: a new secret, shown now; the old one overlaps as asked.
    let (status, rotated) = as_owner
        .call(
            Method::POST,
            &format!("{path}/rotate-secret?overlap_hours=2"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert!(rotated["previous_secret_expires_at"].is_string());
    let (status, body) = as_owner
        .call(
            Method::POST,
            &format!("{path}/rotate-secret?overlap_hours=169"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(detail_fields(&body), ["overlap_hours"]);
    let (status, rotated) = as_owner
        .call(
            Method::POST,
            &format!("{path}/rotate-secret?overlap_hours=0"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert!(rotated["previous_secret_expires_at"].is_null());

    // Deleted: gone for good.
    assert_eq!(as_owner.delete(&path).await.0, StatusCode::NO_CONTENT);
    assert_eq!(as_owner.get(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(as_owner.delete(&path).await.0, StatusCode::NOT_FOUND);
    let (_, page) = as_owner.get("/api/v1/webhooks").await;
    assert_eq!(page["data"], json!([]));

    // Each operation audited (SPEC §8), never with a secret.
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT action FROM audit_log WHERE resource = $1 ORDER BY action",
    )
    .bind(format!("webhook:{id}"))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "webhook.create",
            "webhook.delete",
            "webhook.redeliver",
            "webhook.secret.rotate",
            "webhook.test",
            "webhook.update"
        ]
    );
    let leaks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE strpos(metadata::text, 'whsec_') > 0",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leaks, 0);
}

/// SPEC §9 validation: every violation is listed with its field, all at once, in the
/// body's order (unknown fields last); a type outside the catalog or not subscribable
/// (`webhook.test`) is named by its index; what only the server can judge (plain http
/// without `--webhooks-allow-private`, a private address) is named `url`. A refused body
/// registers nothing, and a refused change changes nothing.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn every_invalid_field_is_named_and_nothing_is_registered(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let owner = person(&pool, Some(acme), "owner@acme.test", Role::Owner, None).await;
    let token = user_token_with(&app, &pool, owner, HOOK_SCOPES).await;
    let as_owner = app.caller(&token);
    let refusals = [
        (
            json!({
                "url": "not a url",
                "description": "d".repeat(501),
                "event_types": ["user.invited", "user.deleted"],
                "rate_limit_per_second": 0,
                "colour": "red",
            }),
            vec![
                "url",
                "description",
                "event_types[1]",
                "rate_limit_per_second",
                "colour",
            ],
        ),
        (
            json!({"url": "https://hooks.acme.example/in", "event_types": ["user.invited", "webhook.test"]}),
            vec!["event_types[1]"],
        ),
        (
            json!({"url": "http://hooks.acme.example/in", "event_types": ["user.invited"]}),
            vec!["url"],
        ),
        (json!({}), vec!["url", "event_types"]),
        (
            json!({"url": "https://hooks.acme.example/in", "event_types": [], "rate_limit_per_second": 1001}),
            vec!["event_types", "rate_limit_per_second"],
        ),
    ];
    for (body, fields) in refusals {
        let (status, refused) = as_owner.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("ERR_VALIDATION")),
            "{body}: {refused}"
        );
        assert_eq!(detail_fields(&refused), fields, "{body}: {refused}");
    }
    let (_, page) = as_owner.get("/api/v1/webhooks").await;
    assert_eq!(page["data"], json!([]));
    let created: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'webhook.create'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(created, 0);

    // A change: the same rules, and nothing changes.
    let (id, _) = register(as_owner, "https://hooks.acme.example/in", &["user.invited"]).await;
    let path = format!("/api/v1/webhooks/{id}");
    let (_, before) = as_owner.get(&path).await;
    for (body, fields) in [
        (json!({"url": "https://10.0.0.8/in"}), vec!["url"]),
        (
            json!({"event_types": ["webhook.test"]}),
            vec!["event_types[0]"],
        ),
        (
            json!({"event_types": [], "rate_limit_per_second": 1001, "secret": "whsec_mine"}),
            vec!["event_types", "rate_limit_per_second", "secret"],
        ),
    ] {
        let (status, refused) = as_owner.patch(&path, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {refused}"
        );
        assert_eq!(detail_fields(&refused), fields, "{body}: {refused}");
    }
    assert_eq!(as_owner.get(&path).await.1, before);
}

/// SPEC §2 roles and §9 scopes (CON-SEC-007): the user role and auditors are refused on
/// every route even with both webhooks scopes, and so are applications' own tokens; an
/// owner's token without the scope a route takes is refused by name, and one with
/// `webhooks:read` reads but changes nothing.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_user_role_auditors_applications_and_missing_scopes_are_refused(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let owner = person(&pool, Some(acme), "owner@acme.test", Role::Owner, None).await;
    let plain = person(&pool, Some(acme), "user@acme.test", Role::User, None).await;
    let auditor = person(&pool, None, "auditor@gatehouse.test", Role::Auditor, None).await;
    let owner_token = user_token_with(&app, &pool, owner, HOOK_SCOPES).await;
    let (id, _) = register(
        app.caller(&owner_token),
        "https://hooks.acme.example/in",
        &["user.invited"],
    )
    .await;
    let delivery = send_test(app.caller(&owner_token), &id).await;
    let path = format!("/api/v1/webhooks/{id}");
    let (_, before) = app.caller(&owner_token).get(&path).await;
    let routes = routes(&id, &delivery);

    let plain_token = user_token_with(&app, &pool, plain, HOOK_SCOPES).await;
    // Platform staff's tooling tokens carry `admin`, which passes every scope check.
    let auditor_token = user_token(&app, &pool, auditor).await;
    let application = app_token(&app, &pool, &["acme"], &["webhooks:read", "webhooks:write"]).await;
    for (who, token) in [
        ("a person with the user role", &plain_token),
        ("an auditor", &auditor_token),
        ("an application", &application),
    ] {
        for route in &routes {
            let (status, code, _) = route.call(app.caller(token)).await;
            assert_eq!(
                (status, code.as_deref()),
                (StatusCode::FORBIDDEN, Some("ERR_PERMISSION_DENIED")),
                "{who}: {route}"
            );
        }
    }

    // The owner's tooling token without the webhooks scopes.
    let unscoped = user_token_with(
        &app,
        &pool,
        owner,
        "openid users:read users:write tenants:read tenants:write",
    )
    .await;
    for route in &routes {
        let (status, code, message) = route.call(app.caller(&unscoped)).await;
        assert_eq!(
            (status, code.as_deref()),
            (StatusCode::FORBIDDEN, Some("ERR_PERMISSION_DENIED")),
            "{route}"
        );
        assert!(message.contains(route.scope), "{route}: {message}");
    }
    // Reading only.
    let read_only = user_token_with(&app, &pool, owner, "openid webhooks:read").await;
    for route in &routes {
        let (status, _, message) = route.call(app.caller(&read_only)).await;
        if route.scope == "webhooks:read" {
            assert_eq!(status, StatusCode::OK, "{route}: {message}");
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "{route}");
            assert!(message.contains("webhooks:write"), "{route}: {message}");
        }
    }
    // Nothing was changed by any of them.
    assert_eq!(app.caller(&owner_token).get(&path).await.1, before);
    let (_, page) = app
        .caller(&owner_token)
        .get(&format!("{path}/deliveries"))
        .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let (_, page) = app.caller(&owner_token).get("/api/v1/webhooks").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
}

/// SPEC §9 tenancy: another tenant's endpoint does not exist for an owner: 404 on every
/// route of it (GET, PATCH, DELETE, test, rotate-secret, deliveries, a delivery,
/// redeliver), for its delivery under the owner's own endpoint, and for the other tenant
/// named with `?tenant=`; nothing of it changes.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn another_tenants_endpoints_answer_404_on_every_route(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let acme_owner = person(&pool, Some(acme), "owner@acme.test", Role::Owner, None).await;
    let globex_owner = person(&pool, Some(globex), "owner@globex.test", Role::Owner, None).await;
    let acme_token = user_token_with(&app, &pool, acme_owner, HOOK_SCOPES).await;
    let globex_token = user_token_with(&app, &pool, globex_owner, HOOK_SCOPES).await;
    let (as_acme, as_globex) = (app.caller(&acme_token), app.caller(&globex_token));
    let (theirs, _) = register(
        as_globex,
        "https://hooks.globex.example/in",
        &["user.invited"],
    )
    .await;
    let their_delivery = send_test(as_globex, &theirs).await;
    let (mine, _) = register(as_acme, "https://hooks.acme.example/in", &["user.invited"]).await;
    let their_path = format!("/api/v1/webhooks/{theirs}");
    let (_, before) = as_globex.get(&their_path).await;

    let mut refused: Vec<Route> = routes(&theirs, &their_delivery)
        .into_iter()
        .filter(|r| r.path.contains(&theirs))
        .collect();
    assert_eq!(refused.len(), 8, "every route of one endpoint");
    refused.extend([
        Route::new(
            Method::GET,
            format!("/api/v1/webhooks/{mine}/deliveries/{their_delivery}"),
            "webhooks:read",
        ),
        Route::new(
            Method::POST,
            format!("/api/v1/webhooks/{mine}/deliveries/{their_delivery}/redeliver"),
            "webhooks:write",
        ),
        Route::new(
            Method::GET,
            "/api/v1/webhooks?tenant=globex".into(),
            "webhooks:read",
        ),
        Route::new(
            Method::POST,
            "/api/v1/webhooks?tenant=globex".into(),
            "webhooks:write",
        )
        .with(json!({"url": "https://hooks.acme.example/x", "event_types": ["user.invited"]})),
        Route::new(
            Method::GET,
            "/api/v1/events/stream?tenant=globex".into(),
            "webhooks:read",
        ),
    ]);
    for route in &refused {
        let (status, code, _) = route.call(as_acme).await;
        assert_eq!(
            (status, code.as_deref()),
            (StatusCode::NOT_FOUND, Some("ERR_NOT_FOUND")),
            "{route}"
        );
    }
    // Their endpoint, its secret and its one delivery are as they were.
    assert_eq!(as_globex.get(&their_path).await.1, before);
    let (_, page) = as_globex.get(&format!("{their_path}/deliveries")).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let (_, page) = as_globex.get("/api/v1/webhooks").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let by_acme: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE actor_id = $1 AND resource = $2")
            .bind(acme_owner)
            .bind(format!("webhook:{theirs}"))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(by_acme, 0);
}

/// SPEC §9: operators manage the platform's endpoints (every tenant's events); a tenant's
/// endpoints only with `?tenant=domain`, and its owners never see the platform's.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn operators_manage_platform_endpoints_and_a_tenants_only_by_naming_it(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let owner = person(&pool, Some(acme), "owner@acme.test", Role::Owner, None).await;
    let owner_token = user_token_with(&app, &pool, owner, HOOK_SCOPES).await;
    let (_, operator_tok) = operator_token(&app, &pool).await;
    let (as_owner, as_operator) = (app.caller(&owner_token), app.caller(&operator_tok));
    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let (status, platform) = as_operator
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://hooks.vendor.example/all", "event_types": ["tenant.suspended"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{platform}");
    assert!(platform["tenant_id"].is_null());
    let platform = platform["id"].as_str().unwrap().to_owned();
    let (tenants, _) = register(as_owner, "https://hooks.acme.example/in", &["user.invited"]).await;

    assert_eq!(
        ids(&as_operator.get("/api/v1/webhooks").await.1),
        std::slice::from_ref(&platform)
    );
    assert_eq!(
        ids(&as_operator.get("/api/v1/webhooks?tenant=ACME").await.1),
        std::slice::from_ref(&tenants)
    );
    assert_eq!(
        ids(&as_owner.get("/api/v1/webhooks").await.1),
        std::slice::from_ref(&tenants)
    );
    let tenants_path = format!("/api/v1/webhooks/{tenants}");
    assert_eq!(
        as_operator.get(&tenants_path).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, shown) = as_operator
        .get(&format!("{tenants_path}?tenant=acme"))
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(
        as_owner
            .get(&format!("/api/v1/webhooks/{platform}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = as_operator.get("/api/v1/webhooks?tenant=nowhere").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("ERR_NOT_FOUND"))
    );

    // An endpoint an operator registers for acme is acme's.
    let (status, for_acme) = as_operator
        .post(
            "/api/v1/webhooks?tenant=acme",
            json!({"url": "https://hooks.acme.example/ops", "event_types": ["user.created"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{for_acme}");
    assert_eq!(for_acme["tenant_id"], json!(acme));
    let (_, page) = as_owner.get("/api/v1/webhooks").await;
    assert_eq!(
        ids(&page),
        [tenants, for_acme["id"].as_str().unwrap().to_owned()]
    );
    // And the platform's endpoint takes a test event like any other.
    send_test(as_operator, &platform).await;
}

// ---------------------------------------------------------------------------------------
// Server-side request forgery.

/// SPEC §9 ("HTTPS endpoints; plain HTTP only to loopback in development") and §10: without
/// `--webhooks-allow-private`, private, loopback and link-local targets and plain http are
/// refused at registration (422 on `url`); a host name is accepted then, and refused at
/// delivery once it resolves to loopback: the receiver never hears of it.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn private_targets_are_refused_when_registered_and_after_resolution(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let owner = person(&pool, Some(acme), "owner@acme.test", Role::Owner, None).await;
    let token = user_token_with(&app, &pool, owner, HOOK_SCOPES).await;
    let as_owner = app.caller(&token);
    for url in [
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8443/hook",
        "https://[::1]/hook",
        "https://[::ffff:169.254.169.254]/hook",
        "http://hooks.acme.example/hook",
    ] {
        let (status, body) = as_owner
            .post(
                "/api/v1/webhooks",
                json!({"url": url, "event_types": ["user.invited"]}),
            )
            .await;
        assert_eq!(
            (status, detail_fields(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["url"]),
            "{url}: {body}"
        );
    }
    let (_, page) = as_owner.get("/api/v1/webhooks").await;
    assert_eq!(page["data"], json!([]));

    // A name that resolves to loopback: accepted as text, refused when delivered.
    let receiver = Receiver::start().await;
    let url = format!("https://localhost:{}/hook", receiver.port);
    let (id, _) = register(as_owner, &url, &["user.invited"]).await;
    let (status, body) = as_owner
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"url": "https://169.254.169.254/"}),
        )
        .await;
    assert_eq!(
        (status, detail_fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["url"]),
        "{body}"
    );
    let worker = start_worker(&pool, false);
    let delivery = send_test(as_owner, &id).await;
    let detail_path = format!("/api/v1/webhooks/{id}/deliveries/{delivery}");
    let detail = eventually("the first attempt", async || {
        let (_, detail) = as_owner.get(&detail_path).await;
        detail["attempts_made"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
            .then_some(detail)
    })
    .await;
    let attempt = &detail["attempts_made"][0];
    assert!(attempt["status_code"].is_null(), "{detail}");
    let error = attempt["error"].as_str().unwrap();
    assert!(
        error.contains("private or reserved address"),
        "refused for its address, not for TLS: {error}"
    );
    assert_eq!(detail["status"], "pending", "retried on its schedule");
    assert!(receiver.received().is_empty());
    worker.stop().await;
}

// ---------------------------------------------------------------------------------------
// Delivery end to end.

/// Standard Webhooks 1.0 / SPEC §9: an invitation reaches the subscribed endpoint as one
/// POST of the event's body, signed with the endpoint's secret (`webhook-id`,
/// `webhook-timestamp` of the attempt, `webhook-signature`), and the history names the
/// same message (the `webhook-id` is the event id) with its one attempt.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_delivery_reaches_the_receiver_signed_with_the_endpoints_secret(pool: PgPool) {
    let d = Delivering::start(&pool).await;
    let before = unix_now();
    let carol = invite(d.owner(), "carol@acme.test").await;
    let got = d.receiver.wait_for(1).await;
    let after = unix_now();
    let message = &got[0];
    assert_signed(message, &d.secret);
    assert_eq!(message.header("content-type"), "application/json");
    let timestamp: i64 = message.header("webhook-timestamp").parse().unwrap();
    assert!(
        (before - 1..=after + 1).contains(&timestamp),
        "signed at {timestamp}, between {before} and {after}"
    );
    let body = message.json();
    assert_eq!(body["type"], "user.invited");
    assert_eq!(body["data"]["id"], carol);
    assert_eq!(body["data"]["email"], "carol@acme.test");
    assert_eq!(body["data"]["tenant_id"], json!(d.acme));
    assert!(body["timestamp"].is_string());

    let listed = d.newest_delivered().await;
    assert_eq!(
        listed.len(),
        1,
        "only user.invited is subscribed: {listed:?}"
    );
    assert_eq!(listed[0]["event_id"], message.header("webhook-id"));
    assert_eq!(listed[0]["event_type"], "user.invited");
    assert_eq!(
        (
            listed[0]["attempts"].as_i64(),
            listed[0]["last_status"].as_i64()
        ),
        (Some(1), Some(200))
    );
    let detail = d.delivery(&listed[0]["id"]).await;
    assert_eq!(detail["body"], body);
    let attempts = detail["attempts_made"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        (
            attempts[0]["status_code"].as_i64(),
            attempts[0]["response_excerpt"].as_str()
        ),
        (Some(200), Some("answered 200"))
    );
    assert_eq!(d.receiver.received().len(), 1);
    d.stop().await;
}

/// SPEC §9 retries (Standard Webhooks' schedule, 5 s first): a 500 is retried with the
/// same message id and body, freshly signed; the history lists both attempts with what the
/// receiver answered.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_failed_attempt_is_retried_and_every_attempt_is_listed(pool: PgPool) {
    let d = Delivering::start(&pool).await;
    d.receiver.answer_next(&[500]);
    invite(d.owner(), "carol@acme.test").await;
    let got = d.receiver.wait_for(2).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(got[0].body, got[1].body);
    for message in &got {
        assert_signed(message, &d.secret);
    }
    let first: i64 = got[0].header("webhook-timestamp").parse().unwrap();
    let second: i64 = got[1].header("webhook-timestamp").parse().unwrap();
    assert!(second >= first, "each attempt is signed when it is sent");

    let listed = d.newest_delivered().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0]["attempts"].as_i64(),
            listed[0]["last_status"].as_i64()
        ),
        (Some(2), Some(200))
    );
    let detail = d.delivery(&listed[0]["id"]).await;
    let answers: Vec<(Option<i64>, Option<&str>)> = detail["attempts_made"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["status_code"].as_i64(), a["response_excerpt"].as_str()))
        .collect();
    assert_eq!(
        answers,
        [
            (Some(500), Some("answered 500")),
            (Some(200), Some("answered 200"))
        ]
    );
    assert_eq!(d.receiver.received().len(), 2);
    d.stop().await;
}

/// Standard Webhooks / SPEC §9: a 410 Gone disables the endpoint at once (no retry), which
/// the endpoint shows with its reason and the audit trail records; nothing more is sent to
/// it, and it cannot be tested or redelivered to, until it is turned on again.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_410_answer_disables_the_endpoint_until_it_is_turned_on(pool: PgPool) {
    let d = Delivering::start(&pool).await;
    let path = d.path();
    d.receiver.answer_always(410);
    invite(d.owner(), "carol@acme.test").await;
    let shown = eventually("the endpoint to be disabled", async || {
        let (_, endpoint) = d.owner().get(&path).await;
        (endpoint["status"] == "disabled").then_some(endpoint)
    })
    .await;
    assert_eq!(shown["disabled_reason"], "the receiver answered 410 Gone");
    let (_, page) = d.owner().get(&format!("{path}/deliveries")).await;
    let listed = page["data"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0]["status"].as_str(),
            listed[0]["last_status"].as_i64()
        ),
        (Some("failed"), Some(410))
    );
    let delivery = listed[0]["id"].as_str().unwrap().to_owned();
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'webhook.disabled' AND resource = $1",
    )
    .bind(format!("webhook:{}", d.endpoint))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // Off: a new event makes no delivery; a test and a redelivery are refused.
    invite(d.owner(), "dave@acme.test").await;
    let (_, page) = d.owner().get(&format!("{path}/deliveries")).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    for refused in [
        format!("{path}/test"),
        format!("{path}/deliveries/{delivery}/redeliver"),
    ] {
        let (status, body) = d.owner().call(Method::POST, &refused, None).await;
        assert_eq!(
            (status, detail_fields(&body)),
            (StatusCode::CONFLICT, vec!["status"]),
            "{refused}: {body}"
        );
    }
    assert_eq!(d.receiver.received().len(), 1, "a 410 is not retried");

    // On again, it receives the next event.
    d.receiver.answer_always(200);
    let (status, on) = d.owner().patch(&path, json!({"enabled": true})).await;
    assert_eq!(
        (status, on["status"].as_str()),
        (StatusCode::OK, Some("active"))
    );
    invite(d.owner(), "erin@acme.test").await;
    let listed = d.newest_delivered().await;
    assert_eq!(listed.len(), 2);
    let got = d.receiver.wait_for(2).await;
    assert_eq!(got[1].json()["data"]["email"], "erin@acme.test");
    assert_signed(&got[1], &d.secret);
    d.stop().await;
}

// ---------------------------------------------------------------------------------------
// The events stream.

/// One server-sent event.
#[derive(Debug)]
struct StreamEvent {
    id: i64,
    event: String,
    data: Value,
}

impl StreamEvent {
    /// The changed resource's id (`data.id` of the body).
    fn subject(&self) -> &str {
        self.data["data"]["id"].as_str().unwrap_or_default()
    }
}

/// `/api/v1/events/stream` read as a client reads it.
struct EventStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl EventStream {
    async fn open(app: &TestApp, token: &str, query: &str, last_event_id: Option<i64>) -> Self {
        let mut request = app
            .client
            .get(app.url(&format!("/api/v1/events/stream{query}")))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Self {
            response,
            buffer: Vec::new(),
        }
    }

    /// Every event up to and including the first `wanted` accepts (keep-alives skipped).
    async fn until(&mut self, wanted: impl Fn(&StreamEvent) -> bool) -> Vec<StreamEvent> {
        let deadline = Instant::now() + PATIENCE;
        let mut seen = Vec::new();
        loop {
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_event(&String::from_utf8(block).unwrap()) {
                    let done = wanted(&event);
                    seen.push(event);
                    if done {
                        return seen;
                    }
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("gave up waiting for the event; saw {seen:?}"))
                .unwrap()
                .expect("the stream ended");
            self.buffer.extend_from_slice(&chunk);
        }
    }
}

/// An event's fields (`id`, `event`, `data`); `None` for a comment (a keep-alive).
fn parse_event(block: &str) -> Option<StreamEvent> {
    let (mut id, mut event, mut data) = (None, None, String::new());
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = value.parse().ok(),
            "event" => event = Some(value.to_owned()),
            "data" => {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
            }
            _ => {}
        }
    }
    Some(StreamEvent {
        id: id?,
        event: event?,
        data: serde_json::from_str(&data).unwrap(),
    })
}

/// SPEC §9 events stream: an owner's stream carries their tenant's events only, in order,
/// each with its position as `id`, starting after the events before it opened; a
/// reconnect with `Last-Event-ID` gets every event after that one, the missed ones
/// included; an operator follows one tenant by naming it; a bad `Last-Event-ID` is 422.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn the_events_stream_follows_a_tenant_and_resumes_after_last_event_id(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let acme = tenant(&pool, "acme").await;
    let globex = tenant(&pool, "globex").await;
    let acme_owner = person(&pool, Some(acme), "owner@acme.test", Role::Owner, None).await;
    let globex_owner = person(&pool, Some(globex), "owner@globex.test", Role::Owner, None).await;
    let acme_token = user_token_with(&app, &pool, acme_owner, HOOK_SCOPES).await;
    let globex_token = user_token_with(&app, &pool, globex_owner, HOOK_SCOPES).await;
    let (_, operator_tok) = operator_token(&app, &pool).await;
    let (as_acme, as_globex) = (app.caller(&acme_token), app.caller(&globex_token));

    let res = app
        .client
        .get(app.url("/api/v1/events/stream"))
        .bearer_auth(&acme_token)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(detail_fields(&body), ["Last-Event-ID"]);

    let mut acme_stream = EventStream::open(&app, &acme_token, "", None).await;
    let mut globex_stream = EventStream::open(&app, &operator_tok, "?tenant=globex", None).await;
    let stranger = invite(as_globex, "x@globex.test").await;
    let carol = invite(as_acme, "carol@acme.test").await;

    let seen = acme_stream
        .until(|e| e.event == "user.invited" && e.subject() == carol)
        .await;
    let names: Vec<(&str, &str)> = seen
        .iter()
        .map(|e| (e.event.as_str(), e.subject()))
        .collect();
    assert_eq!(
        names,
        [
            ("user.created", carol.as_str()),
            ("user.invited", carol.as_str())
        ],
        "acme's events only, from the stream's opening"
    );
    assert!(seen
        .iter()
        .all(|e| e.data["data"]["tenant_id"] == json!(acme)));
    assert_eq!(seen[1].data["type"], "user.invited");
    assert_eq!(seen[1].data["data"]["email"], "carol@acme.test");
    assert!(seen[0].id < seen[1].id);
    let (carol_created, carol_invited) = (seen[0].id, seen[1].id);

    let seen = globex_stream.until(|e| e.event == "user.invited").await;
    assert!(
        seen.iter()
            .all(|e| e.subject() == stranger && e.data["data"]["tenant_id"] == json!(globex)),
        "{seen:?}"
    );
    drop(globex_stream);
    drop(acme_stream);

    // While nobody listens.
    let dave = invite(as_acme, "dave@acme.test").await;
    // Resumed after carol's `user.created`: her invitation again, then what was missed.
    let mut resumed = EventStream::open(&app, &acme_token, "", Some(carol_created)).await;
    let seen = resumed
        .until(|e| e.event == "user.invited" && e.subject() == dave)
        .await;
    let names: Vec<(&str, &str)> = seen
        .iter()
        .map(|e| (e.event.as_str(), e.subject()))
        .collect();
    assert_eq!(
        names,
        [
            ("user.invited", carol.as_str()),
            ("user.created", dave.as_str()),
            ("user.invited", dave.as_str())
        ]
    );
    assert_eq!(seen[0].id, carol_invited);
    assert!(seen.windows(2).all(|w| w[0].id < w[1].id));
}
