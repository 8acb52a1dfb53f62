//! The client's address behind proxies (`GATEHOUSE_TRUSTED_PROXIES`) and HTTPS served
//! directly (`GATEHOUSE_TLS_CERT` / `GATEHOUSE_TLS_KEY`, CON-SEC-003).

use crate::helpers::*;
use clap::Parser;
use gatehouse_domain::crypto::MasterKeys;
use gatehouse_server::cli::Cli;
use gatehouse_server::{startup, tls};
use reqwest::StatusCode;
use sqlx::PgPool;
use std::path::PathBuf;

/// A wrong password for an address nobody has (so every attempt is a fresh account and
/// only the IP throttle adds up), sent with extra `headers`.
async fn failed_sign_in(app: &TestApp, email: &str, headers: &[(&'static str, String)]) {
    let mut req = app
        .client
        .post(app.url("/_rpc/sign_in"))
        .header("accept", "text/html")
        .header("origin", &app.base)
        .form(&[
            ("email", email),
            ("password", "not the password"),
            ("tenant", ""),
            ("return_to", ""),
        ]);
    for (name, value) in headers {
        req = req.header(*name, value.as_str());
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "{email}");
    let to = res.headers()["location"].to_str().unwrap();
    assert!(
        to.starts_with("/login?error=invalid&email="),
        "{email}: {to}"
    );
}

/// The `ip` of every failed sign-in in the audit trail, oldest first.
async fn audited_sign_in_ips(pool: &PgPool) -> Vec<Option<String>> {
    let stored: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT metadata FROM audit_log WHERE action = 'auth.login.failure' ORDER BY seq",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut ips = Vec::new();
    for metadata in stored {
        let metadata = crate::helpers::opened(pool, metadata).await;
        ips.push(metadata["ip"].as_str().map(str::to_owned));
    }
    ips
}

/// The sign-in throttle of each IP: (address, failures), by address.
async fn ip_throttles(pool: &PgPool) -> Vec<(String, i32)> {
    sqlx::query_as("SELECT key, failures FROM auth_throttle WHERE scope = 'ip' ORDER BY key")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_spoofed_forwarding_header_from_an_untrusted_peer_is_ignored(pool: PgPool) {
    // No proxy trusted, then proxies trusted but not this peer (127.0.0.1).
    let no_proxies = spawn_app_with(pool.clone(), &[]).await;
    let other_proxies = spawn_app_with(pool.clone(), &["--trusted-proxies", "10.0.0.0/8"]).await;
    let mut attempt = 0;
    for app in [&no_proxies, &other_proxies] {
        for _ in 0..3 {
            attempt += 1;
            let spoofed = format!("198.51.100.{attempt}");
            failed_sign_in(
                app,
                &format!("nobody{attempt}@example.test"),
                &[
                    ("x-forwarded-for", spoofed.clone()),
                    ("forwarded", format!("for={spoofed}")),
                ],
            )
            .await;
        }
    }

    let ips = audited_sign_in_ips(&pool).await;
    assert_eq!(ips.len(), attempt, "{ips:?}");
    assert!(
        ips.iter().all(|ip| ip.as_deref() == Some("127.0.0.1")),
        "the audit trail took a spoofed address: {ips:?}"
    );
    // Every attempt counted against the real peer; no invented address got a fresh throttle.
    assert_eq!(
        ip_throttles(&pool).await,
        vec![("127.0.0.1".to_owned(), attempt as i32)]
    );
}

const CLIENT_A: &str = "203.0.113.7";
const CLIENT_B: &str = "198.51.100.23";

/// An unauthenticated API call from `client`, as the proxy on 127.0.0.1 forwards it.
async fn openapi_for(app: &TestApp, client: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/openapi.json"))
        .header("x-forwarded-for", client)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn through_a_trusted_proxy_each_client_has_its_own_throttles(pool: PgPool) {
    let app = spawn_app_with(
        pool.clone(),
        &[
            "--trusted-proxies",
            "127.0.0.1/32",
            "--rate-limit-anonymous",
            "2",
        ],
    )
    .await;

    // Client A fails three times. Once it sent its own X-Forwarded-For, which the proxy
    // kept and appended A's real address to: the invented entry is not believed.
    failed_sign_in(
        &app,
        "a1@example.test",
        &[("x-forwarded-for", CLIENT_A.to_owned())],
    )
    .await;
    failed_sign_in(
        &app,
        "a2@example.test",
        &[("x-forwarded-for", CLIENT_A.to_owned())],
    )
    .await;
    failed_sign_in(
        &app,
        "a3@example.test",
        &[("x-forwarded-for", format!("192.0.2.66, {CLIENT_A}"))],
    )
    .await;
    // Client B fails once; it also sent a `Forwarded` of its own, which the proxy (writing
    // X-Forwarded-For) passed through: never read.
    failed_sign_in(
        &app,
        "b1@example.test",
        &[
            ("x-forwarded-for", CLIENT_B.to_owned()),
            (
                "forwarded",
                "for=\"192.0.2.99:4711\";proto=https".to_owned(),
            ),
        ],
    )
    .await;

    assert_eq!(
        ip_throttles(&pool).await,
        vec![(CLIENT_B.to_owned(), 1), (CLIENT_A.to_owned(), 3)],
        "one sign-in throttle per client, none for the proxy"
    );
    let ips = audited_sign_in_ips(&pool).await;
    let expected = [CLIENT_A, CLIENT_A, CLIENT_A, CLIENT_B].map(|ip| Some(ip.to_owned()));
    assert_eq!(ips, expected.to_vec());

    // The anonymous API limit (2 a minute) is per client too: A is refused its third
    // call while B, behind the same proxy, still has its whole allowance.
    assert_eq!(openapi_for(&app, CLIENT_A).await.status(), StatusCode::OK);
    assert_eq!(openapi_for(&app, CLIENT_A).await.status(), StatusCode::OK);
    let refused = openapi_for(&app, CLIENT_A).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let b = openapi_for(&app, CLIENT_B).await;
    assert_eq!(b.status(), StatusCode::OK);
    assert_eq!(b.headers()["x-ratelimit-remaining"], "1");
}

/// The server behind TLS with a fresh self-signed certificate for `localhost`, and a
/// client that trusts it (and resolves `localhost` to the server).
struct TlsApp {
    port: u16,
    client: reqwest::Client,
    cert_pem: String,
    dir: PathBuf,
}

impl TlsApp {
    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// Another client that trusts the certificate, from `builder`'s settings.
    fn client_from(&self, builder: reqwest::ClientBuilder) -> reqwest::Client {
        trusting_client(builder, &self.cert_pem, self.port)
    }
}

/// A client that trusts `cert_pem` and finds `localhost` on 127.0.0.1, opening a new
/// connection (so a new handshake) for every request.
fn trusting_client(builder: reqwest::ClientBuilder, cert_pem: &str, port: u16) -> reqwest::Client {
    let cert = reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap();
    builder
        .add_root_certificate(cert)
        .resolve(
            "localhost",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl Drop for TlsApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn spawn_tls_app(pool: PgPool) -> TlsApp {
    let dir = std::env::temp_dir().join(format!("gatehouse-tls-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key_pair)
        .unwrap();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key_pair.serialize_pem()).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    // No --public-url: HSTS must follow from serving TLS itself.
    let settings = Cli::try_parse_from([
        "gatehouse",
        "--addr",
        addr.as_str(),
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ])
    .unwrap()
    .settings;
    let keys = MasterKeys::parse(&MasterKeys::generate_text("test")).unwrap();
    let state = startup::app_state(settings, pool, keys).unwrap();
    let config = tls::load_config(&cert_path, &key_path).unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(tls::serve_tls(
        listener,
        config,
        startup::router(state),
        std::future::pending::<()>(),
    ));
    let cert_pem = cert.pem();
    TlsApp {
        port,
        client: trusting_client(reqwest::Client::builder(), &cert_pem, port),
        cert_pem,
        dir,
    }
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn https_is_served_with_hsts_and_plain_http_is_refused(pool: PgPool) {
    let app = spawn_tls_app(pool).await;

    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let hsts = res.headers()["strict-transport-security"].to_str().unwrap();
    assert!(hsts.starts_with("max-age="), "{hsts}");

    // TLS 1.2 is still accepted (CON-SEC-003: 1.2 and later).
    let tls12 =
        app.client_from(reqwest::Client::builder().max_tls_version(reqwest::tls::Version::TLS_1_2));
    let res = tls12.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Plain HTTP on the TLS port gets no HTTP answer...
    let plain = app
        .client
        .get(format!("http://localhost:{}/healthz", app.port))
        .send()
        .await;
    assert!(
        plain.is_err(),
        "plain HTTP was answered: {:?}",
        plain.map(|r| r.status())
    );
    // ...and its failed handshake did not stop the server.
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// NFR-SEC-006 as a browser behind the proxy meets it: a person who signed in from France
/// signs in from Japan minutes later. The second factor is asked for, and the page says
/// why ("New country: Japan"); the audit entry records the countries.
#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn a_sign_in_from_a_new_country_asks_for_the_second_factor_and_says_why(pool: PgPool) {
    let geoip = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../.data/geoip/geo-whois-asn-country.mmdb"
    );
    let app = spawn_app_with(
        pool.clone(),
        &["--trusted-proxies", "127.0.0.1/32", "--geoip-db", geoip],
    )
    .await;
    let acme = tenant(&pool, "acme").await;
    let ada = person(
        &pool,
        Some(acme),
        "ada@acme.test",
        gatehouse_domain::types::Role::User,
        Some("Orchard-lantern-4417"),
    )
    .await;
    // Ada has a second factor, and signed in from Paris a few minutes ago.
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, secret_ciphertext, confirmed_at) VALUES ($1, '\\x00', now())",
    )
    .bind(ada)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, tenant_id, created_at, expires_at, idle_timeout_secs,
                               mfa_verified_at, auth_methods, ip)
         VALUES (sha256('paris'), $1, $2, now() - interval '10 minutes', now() + interval '1 hour', 3600,
                 now() - interval '10 minutes', '{pwd,otp}', '193.51.224.1')",
    )
    .bind(ada)
    .bind(acme)
    .execute(&pool)
    .await
    .unwrap();

    let res = app
        .client
        .post(app.url("/_rpc/sign_in"))
        .header("accept", "text/html")
        .header("origin", &app.base)
        .header("x-forwarded-for", "133.242.0.1")
        .form(&[
            ("email", "ada@acme.test"),
            ("password", "Orchard-lantern-4417"),
            ("return_to", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login/mfa"));
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .find(|p| p.starts_with("gatehouse_session="))
        .expect("a pending session")
        .to_owned();
    let challenge: serde_json::Value = app
        .client
        .post(app.url("/_rpc/mfa_challenge"))
        .header("origin", &app.base)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reasons: Vec<&str> = challenge["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert!(reasons.contains(&"New country: Japan"), "{challenge}");
    assert!(
        reasons.contains(&"Impossible travel: France, then Japan soon after"),
        "{challenge}"
    );
    let stored: serde_json::Value = sqlx::query_scalar(
        "SELECT metadata FROM audit_log WHERE action = 'auth.mfa.challenge.issued'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let entry = opened(&pool, stored).await;
    assert_eq!(entry["country"], "JP");
    assert_eq!(entry["previous_country"], "FR");
    assert_eq!(entry["ip"], "133.242.0.1");
}
