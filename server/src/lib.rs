//! The Gatehouse server: configuration, startup (embedded Postgres, migrations), the Leptos
//! pages, the REST API, middleware and the command line.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod admin_export;
pub mod api;
pub mod bench_baseline;
pub mod cli;
pub mod cli_apps;
pub mod client_ip;
pub mod config;
pub mod embedded_pg;
pub mod flags;
pub mod mailer;
pub mod middleware;
pub mod oauth;
pub mod ops;
pub mod passkeys;
pub mod rate_limit;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod tokens;
