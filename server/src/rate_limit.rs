//! Rate limits of the REST and flag APIs (SPEC §9): per API key (an application's token,
//! keyed by its client id), per user token (keyed by the user) and, for requests without
//! a token, per client IP — each a requests-per-minute figure whose whole minute may come
//! at once (the burst allowance), then refilled evenly (GCRA, the `governor` crate).
//! Every answer of `/api` and `/ofrep` carries `X-RateLimit-Limit`, `X-RateLimit-Remaining`
//! and `X-RateLimit-Reset` (seconds until the allowance is whole again); over the limit the
//! answer is 429 ERR_RATE_LIMIT with `Retry-After`.
//!
//! The limits live in each server's memory: with several instances a client's allowance is
//! per instance.

use crate::api::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_domain::oauth::AccessClaims;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{Quota, RateLimiter};
use std::cell::Cell;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

type Keyed<K> = RateLimiter<
    K,
    governor::state::keyed::DefaultKeyedStateStore<K>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// What one request's check found, for the response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the whole allowance is back.
    pub reset_secs: u64,
    /// Over the limit: seconds until the next request is let through.
    pub retry_after_secs: Option<u64>,
}

/// One kind of caller's limit; `None` when it is switched off (0 per minute).
struct Limit<K: Hash + Eq + Clone> {
    limiter: Option<Keyed<K>>,
    per_minute: u32,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| RateLimiter::keyed(Quota::per_minute(n)).with_middleware()),
            per_minute,
        }
    }

    fn check(&self, key: &K) -> Option<Decision> {
        let limiter = self.limiter.as_ref()?;
        let per_request = Duration::from_secs(60) / self.per_minute.max(1);
        Some(match limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    limit: self.per_minute,
                    remaining,
                    reset_secs: ceil_secs(per_request * (self.per_minute - remaining)),
                    retry_after_secs: None,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Decision {
                    limit: self.per_minute,
                    remaining: 0,
                    reset_secs: ceil_secs(per_request * self.per_minute),
                    retry_after_secs: Some(ceil_secs(wait).max(1)),
                }
            }
        })
    }

    fn forget_idle(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The server's limits (from the settings).
pub struct RateLimits {
    api_key: Limit<String>,
    /// Events through the batch endpoints, per API key.
    events: Limit<String>,
    user: Limit<uuid::Uuid>,
    anonymous: Limit<IpAddr>,
}

impl RateLimits {
    pub fn new(api_key: u32, user: u32, anonymous: u32) -> Self {
        Self {
            api_key: Limit::new(api_key),
            events: Limit::new(0),
            user: Limit::new(user),
            anonymous: Limit::new(anonymous),
        }
    }

    /// Counts a request of a verified token against its key's or user's allowance.
    pub fn check_token(&self, claims: &AccessClaims) -> Option<Decision> {
        match claims.user_id() {
            Some(user) => self.user.check(&user),
            None => self.api_key.check(&claims.client_id),
        }
    }

    /// The limit of events a minute per API key of the batch endpoints.
    pub fn with_events(mut self, per_minute: u32) -> Self {
        self.events = Limit::new(per_minute);
        self
    }

    /// Counts `n` events of `client_id` (an API key); `Err(seconds to wait)` when they do
    /// not fit in its allowance now (a batch larger than a whole minute's never fits).
    pub fn check_events(&self, client_id: &str, n: u32) -> Result<(), u64> {
        let Some(limiter) = &self.events.limiter else {
            return Ok(());
        };
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        match limiter.check_key_n(&client_id.to_owned(), n) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(not_until)) => {
                Err(ceil_secs(not_until.wait_time_from(DefaultClock::default().now())).max(1))
            }
            Err(_) => Err(60),
        }
    }

    pub fn check_anonymous(&self, ip: IpAddr) -> Option<Decision> {
        self.anonymous.check(&ip)
    }

    /// Drops the state of callers whose allowance is whole again (run now and then, so
    /// memory follows the callers of the last minutes, not of all time).
    pub fn forget_idle(&self) {
        self.api_key.forget_idle();
        self.events.forget_idle();
        self.user.forget_idle();
        self.anonymous.forget_idle();
    }
}

tokio::task_local! {
    /// The decision of the request being served, set by whoever checked it.
    static DECISION: Cell<Option<Decision>>;
    /// The client IP of the request being served, and whether its allowance was counted.
    static CLIENT: (Option<IpAddr>, Cell<bool>);
}

/// Counts a request whose token is missing or does not verify against its client IP's
/// allowance, as a request without a token: a made-up `Authorization` header buys no
/// exemption from the anonymous limit. `Err` (429) when over it.
pub fn admit_unverified(state: &AppState) -> Result<(), ApiError> {
    let ip = CLIENT
        .try_with(|(ip, counted)| {
            let first = !counted.replace(true);
            ip.filter(|_| first)
        })
        .ok()
        .flatten();
    let Some(decision) = ip.and_then(|ip| state.rate_limits.check_anonymous(ip)) else {
        return Ok(());
    };
    let _ = DECISION.try_with(|d| d.set(Some(decision)));
    match decision.retry_after_secs {
        Some(_) => Err(too_many(decision)),
        None => Ok(()),
    }
}

/// Records a token's check for this request's headers; `Err` (429) when over the limit.
pub fn admit_token(state: &AppState, claims: &AccessClaims) -> Result<(), ApiError> {
    let Some(decision) = state.rate_limits.check_token(claims) else {
        return Ok(());
    };
    // Outside the middleware (a test calling a handler directly) there is nothing to record.
    let _ = DECISION.try_with(|d| d.set(Some(decision)));
    match decision.retry_after_secs {
        Some(_) => Err(too_many(decision)),
        None => Ok(()),
    }
}

fn too_many(decision: Decision) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "ERR_RATE_LIMIT",
        format!(
            "too many requests: at most {} a minute; try again in {} s",
            decision.limit,
            decision.retry_after_secs.unwrap_or(1)
        ),
    )
}

/// `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`.
pub static HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("x-ratelimit-limit"),
    HeaderName::from_static("x-ratelimit-remaining"),
    HeaderName::from_static("x-ratelimit-reset"),
];

fn add_headers(response: &mut Response, d: Decision) {
    let [limit, remaining, reset] = &HEADERS;
    let h = response.headers_mut();
    h.insert(limit.clone(), HeaderValue::from(d.limit));
    h.insert(remaining.clone(), HeaderValue::from(d.remaining));
    h.insert(reset.clone(), HeaderValue::from(d.reset_secs));
    if let Some(after) = d.retry_after_secs {
        h.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(after));
    }
}

/// The middleware of `/api` and `/ofrep`: requests without a token count against their IP
/// before they are served; a token's check happens where it is verified
/// ([`admit_token`]); the answer gets the headers of whichever check was made.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut decision = None;
    let ip = client_ip(&req);
    let anonymous = !req
        .headers()
        .contains_key(axum::http::header::AUTHORIZATION);
    if anonymous {
        if let Some(d) = ip.and_then(|ip| state.rate_limits.check_anonymous(ip)) {
            if d.retry_after_secs.is_some() {
                let mut response = too_many(d).into_response();
                add_headers(&mut response, d);
                return response;
            }
            decision = Some(d);
        }
    }
    let served = DECISION.scope(Cell::new(decision), async move {
        let mut response = next.run(req).await;
        if let Some(d) = DECISION.with(Cell::get) {
            add_headers(&mut response, d);
        }
        response
    });
    CLIENT.scope((ip, Cell::new(anonymous)), served).await
}

/// The client's IP, as resolved from the peer and the trusted proxies.
fn client_ip(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<gatehouse_app::auth::ssr::ClientIp>()
        .map(|c| c.0)
        .or_else(|| {
            req.extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_whole_minute_then_refusals_with_a_retry_time() {
        let limit = Limit::new(3);
        let key = "k".to_owned();
        let first = limit.check(&key).unwrap();
        assert_eq!((first.limit, first.remaining), (3, 2));
        assert_eq!(first.retry_after_secs, None);
        assert!(first.reset_secs > 0 && first.reset_secs <= 20);
        assert_eq!(limit.check(&key).unwrap().remaining, 1);
        assert_eq!(limit.check(&key).unwrap().remaining, 0);
        let refused = limit.check(&key).unwrap();
        assert_eq!(refused.remaining, 0);
        let after = refused.retry_after_secs.unwrap();
        assert!((1..=20).contains(&after), "{after}");
        // Another key has its own allowance.
        assert_eq!(limit.check(&"other".to_owned()).unwrap().remaining, 2);
    }

    #[test]
    fn zero_switches_a_limit_off() {
        let limit = Limit::<String>::new(0);
        assert_eq!(limit.check(&"k".to_owned()), None);
    }
}
