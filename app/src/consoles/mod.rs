//! The consoles' landing pages: the home page, the Operator Console's dashboard and the
//! Tenant Administration overview.

pub mod admin;
pub mod home;
pub mod operator;
