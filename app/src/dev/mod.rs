//! Development aids, served only in development mode: the mailbox of the built-in outbox.

pub mod mailbox;
