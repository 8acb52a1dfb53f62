//! `/api/v1/events/stream`: the event catalog as server-sent events, for a tenant's
//! owners and admins (their tenant's events) or operators (every tenant's, or one named
//! tenant's). Each event's `id` is its position in the log: a client that reconnects with
//! `Last-Event-ID` gets every event after it (30 days are kept), then the live ones.
//!
//! One LISTEN per instance feeds every open stream through a `watch` of the newest
//! position; each stream reads its own events from the database when it moves.

use crate::api::error::{ErrorBody, Refusals};
use crate::api::ApiError;
use crate::extract::Bearer;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use gatehouse_domain::audit::{EventType, EVENTS_CHANNEL};
use gatehouse_domain::webhooks::Owner;
use serde::Deserialize;
use sqlx::postgres::PgNotification;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::watch;
use utoipa::IntoParams;
use uuid::Uuid;

/// Streams one person may hold open at once.
pub const STREAMS_PER_PERSON: usize = 10;
/// Events read from the log at a time.
const PAGE: i64 = 500;

/// The newest event position, as this instance heard it.
pub struct Feed {
    pool: PgPool,
    listen: bool,
    head: watch::Sender<i64>,
    started: OnceLock<()>,
    open: Mutex<HashMap<Uuid, usize>>,
}

struct Heads(watch::Sender<i64>);

impl crate::notify::Follower for Heads {
    const NAME: &'static str = "events";
    const CHANNELS: &'static [&'static str] = &[EVENTS_CHANNEL];
    async fn resync(&self) {
        // Streams re-read from their own position: a nudge is enough.
        self.0.send_modify(|h| *h = h.wrapping_add(0));
    }
    async fn notice(&self, n: PgNotification) {
        if let Ok(seq) = n.payload().parse::<i64>() {
            self.0.send_if_modified(|h| {
                let newer = seq > *h;
                *h = (*h).max(seq);
                newer
            });
        } else {
            self.0.send_modify(|_| {});
        }
    }
}

/// A place among a person's open streams, freed when the stream ends.
pub struct Slot {
    feed: Arc<Feed>,
    user: Uuid,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.feed.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

impl Feed {
    /// `listen: false` (tests' `--no-listen`) only polls.
    pub fn new(pool: PgPool, listen: bool) -> Arc<Self> {
        Arc::new(Self {
            pool,
            listen,
            head: watch::channel(0).0,
            started: OnceLock::new(),
            open: Mutex::new(HashMap::new()),
        })
    }

    fn subscribe(&self) -> watch::Receiver<i64> {
        self.started.get_or_init(|| {
            if self.listen {
                tokio::spawn(crate::notify::follow(
                    self.pool.clone(),
                    Arc::new(Heads(self.head.clone())),
                ));
            }
        });
        self.head.subscribe()
    }

    fn open_stream(self: &Arc<Self>, user: Uuid) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(user).or_insert(0);
        if *n >= STREAMS_PER_PERSON {
            return None;
        }
        *n += 1;
        Some(Slot {
            feed: self.clone(),
            user,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct StreamQuery {
    /// Operators: one tenant's events (by domain) instead of every tenant's.
    tenant: Option<String>,
}

/// One row of the log, as sent.
#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    event_type: String,
    body: String,
}

async fn events_after(pool: &PgPool, owner: Owner, after: i64) -> Result<Vec<Row>, sqlx::Error> {
    // Platform-wide announcements (maintenance) reach every tenant's stream too.
    let every_tenant: Vec<&str> = EventType::ALL
        .iter()
        .filter(|t| t.reaches_every_tenant())
        .map(|t| t.as_str())
        .collect();
    sqlx::query_as(
        "SELECT seq, event_type, body::text AS body FROM webhook_events
         WHERE seq > $1 AND event_type <> 'webhook.test'
           AND ($2::uuid IS NULL OR tenant_id = $2
                OR (tenant_id IS NULL AND event_type = ANY($4)))
         ORDER BY seq LIMIT $3",
    )
    .bind(after)
    .bind(owner.tenant_id())
    .bind(PAGE)
    .bind(every_tenant)
    .fetch_all(pool)
    .await
}

/// Follow the event catalog live.
///
/// Server-sent events: each has the catalog type as its `event`, the position as its `id`,
/// and the webhook body as its `data`. Reconnect with `Last-Event-ID` to get what was
/// missed (30 days are kept); without it the stream starts with the next event.
#[utoipa::path(
    get,
    path = "/v1/events/stream",
    operation_id = "stream_events",
    tag = "webhooks",
    params(
        StreamQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "The `id` of the last event received: the stream resumes after it"),
    ),
    responses(
        Refusals,
        (status = 200, description = "The event stream", content_type = "text/event-stream", body = String,
            example = json!("id: 42\nevent: user.created\ndata: {\"type\":\"user.created\",\"timestamp\":\"2026-12-06T09:00:00Z\",\"data\":{\"id\":\"0193…\"}}\n\n")),
        (status = 403, description = "The token lacks `webhooks:read`, or the role may not follow events", body = ErrorBody),
        (status = 404, description = "No such tenant (or not the caller's)", body = ErrorBody),
        (status = 422, description = "A bad `Last-Event-ID`, or an unknown parameter", body = ErrorBody),
        (status = 429, description = "10 streams are already open for this person, or over the rate limit (`Retry-After`)", body = ErrorBody),
    ),
    security(("oauth2" = ["webhooks:read"]))
)]
pub(crate) async fn stream(
    State(state): State<AppState>,
    bearer: Bearer,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let last: Option<i64> = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ApiError::validation(vec![gatehouse_domain::FieldError::new(
                        "Last-Event-ID",
                        "must be the id of an event received before",
                    )])
                })?,
        ),
    };
    let (actor, owner) =
        crate::api::webhooks::owner(&state, &bearer, "webhooks:read", q.tenant.as_deref()).await?;
    let slot = state.events.open_stream(actor.user_id).ok_or_else(|| ApiError {
        retry_after_secs: Some(60),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ERR_RATE_LIMIT",
            format!("at most {STREAMS_PER_PERSON} event streams may be open per person; close one first"),
        )
    })?;
    let mut head = state.events.subscribe();
    let pool = state.pool.clone();
    let mut position = match last {
        Some(n) => n,
        None => {
            sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM webhook_events")
                .fetch_one(&pool)
                .await?
        }
    };
    let events = crate::flags::delivery::async_stream(move |tx| async move {
        let _slot = slot;
        loop {
            let rows = match events_after(&pool, owner, position).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "reading events for a stream failed; ending it");
                    return;
                }
            };
            let full = rows.len() as i64 == PAGE;
            for row in rows {
                position = row.seq;
                let event = Event::default()
                    .id(row.seq.to_string())
                    .event(row.event_type)
                    .data(row.body);
                if tx.send(event).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                changed = head.changed() => if changed.is_err() { return },
                // A missed notification is caught within the poll.
                () = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
                () = tx.closed() => return,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
