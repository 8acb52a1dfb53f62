//! The Gatehouse server: configuration, startup (embedded Postgres, migrations), the Leptos
//! pages, the REST API, middleware and the command line.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
pub mod assets;
pub mod audit;
pub mod backup;
pub mod bench_baseline;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod csrf;
pub mod embedded_pg;
pub mod extract;
pub mod flags;
pub mod mailer;
pub mod mfa;
pub mod middleware;
pub mod notify;
pub mod oauth;
pub mod ops;
pub mod rate_limit;
pub mod sso;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod users;
pub mod webhooks;
