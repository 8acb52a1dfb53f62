//! The black-box API tests: the real server on a random port against a fresh database,
//! driven over HTTP. One test binary with a module per feature word (one link on two
//! cores, not one per file).

mod audit;
mod backup;
mod billing;
mod flags;
mod helpers;
mod oauth;
mod ops;
mod security;
mod sso;
mod status;
mod tenants;
mod users;
mod webhooks;
