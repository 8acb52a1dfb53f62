//! Keeps every instance's cache of personal-data keys true to erasures (CON-COMP-001): an
//! erasure NOTIFYs the subjects whose keys it destroyed, and each instance drops them, so
//! no instance can open an erased person's entries after the erasure commits.

use crate::notify::Follower;
use gatehouse_domain::audit::personal;
use sqlx::postgres::PgNotification;

pub struct ErasedKeys;

impl Follower for ErasedKeys {
    const NAME: &'static str = "personal data key";
    const CHANNELS: &'static [&'static str] = &[personal::ERASED_CHANNEL];

    /// Erasures may have been missed while not listening: forget every key.
    async fn resync(&self) {
        personal::forget_all();
    }

    async fn notice(&self, notification: PgNotification) {
        personal::forget(&[notification.payload().to_owned()]);
    }
}
