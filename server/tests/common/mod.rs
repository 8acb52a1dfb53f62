//! The real server on a random port against a fresh database, for the black-box tests.
#![allow(dead_code)]

use clap::Parser;
use gatehouse_domain::crypto::MasterKeys;
use gatehouse_server::cli::Cli;
use gatehouse_server::startup;
use reqwest::Client;
use sqlx::PgPool;

pub struct TestApp {
    pub base: String,
    pub client: Client,
}

/// Starts the server; its public URL (and OAuth issuer) is its real address.
pub async fn spawn_app_with(pool: PgPool, extra_args: &[&str]) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let mut args = vec!["gatehouse", "--addr", "127.0.0.1:0"];
    if !extra_args.contains(&"--public-url") {
        args.extend_from_slice(&["--public-url", &base]);
    }
    args.extend_from_slice(extra_args);
    let settings = Cli::try_parse_from(args).unwrap().settings;
    let keys = MasterKeys::parse(&MasterKeys::generate_text("test")).unwrap();
    let state = startup::app_state(settings, pool, keys).unwrap();
    let app = startup::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp { base, client }
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, &[]).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
