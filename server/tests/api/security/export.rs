//! Stalled audit CSV downloads: tenant admins who open many
//! `/admin/audit.csv` downloads and never read them must not take the database pool from
//! everyone else. Downloads read in keyset pages without holding a connection between
//! them, are admitted up to a global and a per-tenant limit (beyond: 429 with
//! `Retry-After`), and give their places back when the client stops taking data.

use crate::helpers::{operator_token, session_cookie, spawn_app_with, TestApp};
use gatehouse_domain::types::Role;
use gatehouse_server::audit::{GLOBAL_EXPORTS, IDLE_DEADLINE, TENANT_EXPORTS};
use reqwest::StatusCode;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use uuid::Uuid;

/// Connections in the server's pool: fewer than the downloads that run at once.
const POOL_SIZE: u32 = 5;
const TENANTS: usize = 5;
const DOWNLOADS_PER_TENANT: usize = 4;
/// Several pages per download, and (about 2 KB a line) far more than socket buffers hold,
/// so a download that is not read stalls instead of finishing into the buffers.
const ROWS_PER_TENANT: i32 = 3_000;
const PASSWORD: &str = "Quartz-Lantern-Orbit-58!";
/// Generous: this is a liveness check, not a timing.
const PATIENCE: Duration = Duration::from_secs(10);

struct Downloader {
    tenant: Uuid,
    domain: String,
    /// `gatehouse_session=...` of the tenant's owner (second factor done).
    cookie: String,
}

/// A tenant with an owner signed in, and `ROWS_PER_TENANT` audit entries.
async fn tenant_with_history(pool: &PgPool, domain: &str) -> Downloader {
    let tenant = crate::helpers::tenant(pool, domain).await;
    let owner = crate::helpers::person(
        pool,
        Some(tenant),
        &format!("owner@{domain}.test"),
        Role::Owner,
        None,
    )
    .await;
    let cookie = session_cookie(pool, owner).await;
    // Through the chain's own append, so the trail stays a valid hash chain.
    sqlx::query(
        "SELECT audit_append(gen_random_uuid(), NULL, $1, NULL, 'system', 'test.filler', NULL,
                             'success', jsonb_build_object('n', n, 'filler', repeat('x', 2000)), NULL,
                             NULL, NULL)
           FROM generate_series(1, $2) AS n",
    )
    .bind(tenant)
    .bind(ROWS_PER_TENANT)
    .execute(pool)
    .await
    .unwrap();
    Downloader {
        tenant,
        domain: domain.to_owned(),
        cookie,
    }
}

/// Opens a download on a raw socket with a small receive window, reads just the status
/// line, and hands back the status and the socket, which is then never read again.
async fn stalled_download(addr: SocketAddr, cookie: String) -> (u16, TcpStream) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET /admin/audit.csv HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 64];
    while head.len() < 12 {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the server closed the connection without answering");
        head.extend_from_slice(&buf[..n]);
    }
    let status = std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap();
    (status, stream)
}

async fn download(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.client
        .get(app.url("/admin/audit.csv"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn stalled_audit_downloads_leave_sign_in_and_the_api_working(
    pool_options: PgPoolOptions,
    connect_options: PgConnectOptions,
) {
    let pool = pool_options
        .max_connections(POOL_SIZE)
        // Longer than PATIENCE: a request waiting for a connection shows as a timeout here.
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(connect_options)
        .await
        .unwrap();
    // The pool above is the server's (the flag documents the same limit).
    let pool_size = POOL_SIZE.to_string();
    let app = spawn_app_with(pool.clone(), &["--db-max-connections", pool_size.as_str()]).await;
    let addr: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();

    let mut tenants = Vec::new();
    for i in 0..TENANTS {
        tenants.push(tenant_with_history(&pool, &format!("stall-{i}")).await);
    }
    // Someone who will sign in with a password while the downloads stall.
    crate::helpers::person(
        &pool,
        Some(tenants[0].tenant),
        "walker@stall-0.test",
        Role::User,
        Some(PASSWORD),
    )
    .await;
    let (_, operator) = operator_token(&app, &pool).await;

    // 20 downloads at once, none of them read past the status line.
    let mut opened = Vec::new();
    for t in &tenants {
        for _ in 0..DOWNLOADS_PER_TENANT {
            let tenant = t.tenant;
            let started = tokio::spawn(stalled_download(addr, t.cookie.clone()));
            opened.push((tenant, started));
        }
    }
    let mut stalled = Vec::new();
    let mut admitted_per_tenant = std::collections::HashMap::<Uuid, usize>::new();
    let (mut admitted, mut refused) = (0, 0);
    for (tenant, started) in opened {
        let (status, socket) = tokio::time::timeout(Duration::from_secs(30), started)
            .await
            .expect("a download never answered: the database pool is exhausted")
            .unwrap();
        match status {
            200 => {
                admitted += 1;
                *admitted_per_tenant.entry(tenant).or_default() += 1;
            }
            429 => refused += 1,
            other => panic!("a download answered {other}"),
        }
        stalled.push(socket);
    }
    let expected = GLOBAL_EXPORTS.min(TENANTS * TENANT_EXPORTS);
    assert_eq!(admitted, expected, "downloads run up to the global limit");
    assert_eq!(refused, TENANTS * DOWNLOADS_PER_TENANT - expected);
    assert!(admitted_per_tenant.values().all(|&n| n <= TENANT_EXPORTS));
    assert!(
        admitted > POOL_SIZE as usize,
        "more downloads stall than the pool has connections"
    );

    // While they stall: one more is refused plainly, with a time to come back.
    let res = download(&app, &tenants[0].cookie).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(
        res.text().await.unwrap(),
        "Too many downloads are running; try again in a minute."
    );

    // A password sign-in still answers.
    let res = tokio::time::timeout(
        PATIENCE,
        app.client
            .post(app.url("/_rpc/sign_in"))
            .header("accept", "text/html")
            .header("origin", &app.base)
            .form(&[
                ("email", "walker@stall-0.test"),
                ("password", PASSWORD),
                ("tenant", ""),
                ("return_to", ""),
            ])
            .send(),
    )
    .await
    .expect("sign-in did not answer while downloads stalled")
    .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(!location.starts_with("/login?error"), "{location}");
    assert!(res.headers().get_all("set-cookie").iter().any(|c| {
        let c = c.to_str().unwrap();
        c.starts_with("gatehouse_session=") && !c.starts_with("gatehouse_session=;")
    }));

    // The API still answers, with a call that reads the database.
    let res = tokio::time::timeout(
        PATIENCE,
        app.client
            .get(app.url(&format!("/api/v1/users?tenant={}", tenants[1].domain)))
            .bearer_auth(&operator)
            .send(),
    )
    .await
    .expect("the API did not answer while downloads stalled")
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // And the pool has a connection to give.
    let conn = tokio::time::timeout(PATIENCE, pool.acquire())
        .await
        .expect("the database pool is exhausted")
        .unwrap();
    drop(conn);

    // Stalled downloads give their places back after the idle deadline; then a download
    // runs again, and the whole filtered trail arrives across its pages.
    tokio::time::sleep(IDLE_DEADLINE).await;
    let expected_rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE tenant_id = $1")
            .bind(tenants[1].tenant)
            .fetch_one(&pool)
            .await
            .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let res = loop {
        let res = download(&app, &tenants[1].cookie).await;
        if res.status() != StatusCode::TOO_MANY_REQUESTS {
            break res;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "stalled downloads kept their places past the idle deadline"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(res.status(), StatusCode::OK);
    let csv = res.bytes().await.unwrap();
    let lines = csv
        .windows(2)
        .filter(|w| w[0] == b'\r' && w[1] == b'\n')
        .count() as i64;
    // The header line, every row once, and the download's own `audit.export` entry
    // (CON-SEC-002: written before the first page is read).
    assert_eq!(
        lines,
        expected_rows + 2,
        "the header line and every row, once"
    );

    drop(stalled);
    let _ = tokio::time::timeout(PATIENCE, pool.close()).await;
}
