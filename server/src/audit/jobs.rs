//! The audit trail's scheduled work (SPEC §8):
//! - every minute, a signed checkpoint of the chain's head when entries arrived since the
//!   last one (several instances may race: one checkpoint per position is kept);
//! - daily, the monthly partitions for this month and the next three, and retention: the
//!   whole partitions older than `GATEHOUSE_AUDIT_RETENTION_MONTHS` are dropped, each drop
//!   audited, and a checkpoint anchors the new start;
//! - every minute, the anomaly detectors (NFR-MON-001) over the last window, after the
//!   token endpoints' refusal counts are written to the trail.

use crate::state::AppState;
use gatehouse_domain::audit;
use std::time::Duration;

const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);
const DAILY: Duration = Duration::from_secs(24 * 3600);

pub fn spawn(state: AppState) {
    tokio::spawn(checkpoints(state.clone()));
    tokio::spawn(detectors(state.clone()));
    tokio::spawn(daily(state));
}

async fn detectors(state: AppState) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let tallies = crate::oauth::take_client_tallies();
        if let Err(e) =
            gatehouse_domain::tenants::record_client_tallies(&state.pool, &tallies).await
        {
            tracing::warn!(error = %e, "recording the token endpoints' refusals failed");
        }
        if let Err(e) = gatehouse_domain::tenants::detect_anomalies(
            &state.pool,
            &state.settings.alert_thresholds,
            &state.settings.public_url(),
        )
        .await
        {
            tracing::warn!(error = %e, "the anomaly detectors failed");
        }
    }
}

async fn checkpoints(state: AppState) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let signed = match state.services.checkpoint_signer().await {
            Ok(signer) => audit::sign_head(&state.pool, &signer).await,
            Err(e) => Err(e),
        };
        if let Err(e) = signed {
            tracing::warn!(error = %e, "signing an audit checkpoint failed");
        }
    }
}

async fn daily(state: AppState) {
    let mut tick = tokio::time::interval(DAILY);
    loop {
        tick.tick().await;
        if let Err(e) = audit::ensure_audit_partitions(&state.pool).await {
            tracing::warn!(error = %e, "creating audit partitions failed");
        }
        let signer = state.services.checkpoint_signer().await.ok();
        match audit::drop_expired_partitions(
            &state.pool,
            signer.as_deref(),
            state.settings.audit_retention_months,
            time::OffsetDateTime::now_utc(),
        )
        .await
        {
            Ok(dropped) if !dropped.is_empty() => {
                tracing::info!(?dropped, "audit retention dropped expired partitions")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "audit retention failed"),
        }
    }
}
