//! People: the tenant admin's people pages and each person's own account page.

pub mod account;
pub mod admin;
