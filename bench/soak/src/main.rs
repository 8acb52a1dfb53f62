//! The soak benchmark's load (issue 21: bench/soak). Goose users send the mix of a working
//! day to a release server with demo data, as fast as Goose's throttle lets them
//! (bench/soak/bench.sh: 1,000 requests/s for 10 minutes after a short ramp): sign-in pages
//! and password sign-ins from returning browsers, client-credentials grants and
//! introspections, Flag API and OFREP reads, the Users API as an admin console uses it
//! (reads; invite, rename, archive), and billing and audit ingestion.
//!
//! Every answer is judged against what that request must return — its status and, where it
//! matters, its body: an introspection must say `active`, a sign-in must land signed in, a
//! batch must be accepted whole. Anything else, 429 included, is an error of that kind.
//! Each verdict is one line of `SOAK_LOG` (`t_ms,kind,status,ms,ok,reason`), the one source
//! of the figures and of the plot. Goose's own request log cannot be that source: Goose
//! writes it when the answer arrives, before a transaction has judged it (`set_failure`
//! reaches Goose's metrics, not that log). Goose's metrics get the same verdicts
//! (`set_success` / `set_failure`), so its printed summary agrees.
//!
//! Latency is measured here from sending the request to the last byte of the body: the
//! whole answer, as a client waits for it. Time spent waiting for the user's slot (the
//! pace) is not in it.
//!
//! Reads `SOAK_CONFIG` (the JSON bench.sh prepares: credentials, tokens, accounts, ids) and
//! writes `SOAK_LOG` and `SOAK_META`; the command line is Goose's own.

use goose::goose::GooseResponse;
use goose::metrics::GooseRequestMetric;
use goose::prelude::*;
use reqwest::header::{
    HeaderMap, HeaderName, ACCEPT, ETAG, IF_NONE_MATCH, LOCATION, ORIGIN, USER_AGENT,
};
use reqwest::RequestBuilder;
use serde::Deserialize;
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// The request kinds: Goose's request names, the log's `kind`, one line each in the figures.
const PAGE_LOGIN: &str = "GET /login";
const PAGE_PASSWORD: &str = "GET /login?email=";
const SIGN_IN: &str = "POST /_rpc/sign_in";
const TOKEN: &str = "POST /auth/token";
const INTROSPECT: &str = "POST /auth/introspect";
const FLAGS: &str = "GET /api/v1/flags";
const FLAGS_USER: &str = "GET /api/v1/flags?user_id=";
const OFREP_BULK: &str = "POST /ofrep/v1/evaluate/flags";
const OFREP_ONE: &str = "POST /ofrep/v1/evaluate/flags/{key}";
const USERS_LIST: &str = "GET /api/v1/users";
const USERS_SEARCH: &str = "GET /api/v1/users?search=";
const USERS_SHOW: &str = "GET /api/v1/users/{id}";
const USERS_INVITE: &str = "POST /api/v1/users";
const USERS_RENAME: &str = "PATCH /api/v1/users/{id}";
const USERS_ARCHIVE: &str = "DELETE /api/v1/users/{id}";
const BILLING: &str = "POST /api/v1/billing/events";
const AUDIT: &str = "POST /api/v1/audit-logs";

/// The mix, in requests per 1,000. Every transaction sends one request, so Goose's
/// transaction weights are these shares; the Users API writes are one transaction that
/// takes turns (invite, rename, archive), so its weight is the three together.
const MIX: &[(&str, usize)] = &[
    (PAGE_LOGIN, 70),
    (PAGE_PASSWORD, 30),
    (SIGN_IN, 10),
    (TOKEN, 80),
    (INTROSPECT, 150),
    (FLAGS, 125),
    (FLAGS_USER, 50),
    (OFREP_BULK, 100),
    (OFREP_ONE, 75),
    (USERS_LIST, 80),
    (USERS_SEARCH, 20),
    (USERS_SHOW, 50),
    (USERS_INVITE, 10),
    (USERS_RENAME, 10),
    (USERS_ARCHIVE, 10),
    (BILLING, 80),
    (AUDIT, 50),
];

/// What bench/soak/bench.sh prepared (`SOAK_CONFIG`). Holds secrets: never printed.
#[derive(Deserialize)]
struct Prepared {
    /// Names this run's invitations and event ids.
    run: String,
    /// The soak application's key (client credentials and the admin's authorization code).
    client_id: String,
    client_secret: String,
    /// The scopes of the application's own tokens (flags, billing, audit).
    app_scope: String,
    /// A first application token, until a Goose user's own grant replaces it.
    app_token: String,
    /// A tenant admin's user token (`users:read users:write`), as an admin console holds.
    admin_token: String,
    /// The domain of the addresses invited through the Users API.
    invite_domain: String,
    /// Accounts for password sign-ins (one per Goose user, in turn), and their password.
    signin_emails: Vec<String>,
    password: String,
    /// People of the tenant to read one at a time.
    user_ids: Vec<String>,
    flag_keys: Vec<String>,
    search_terms: Vec<String>,
    /// Mean events per ingestion request (1 to 100).
    billing_batch: usize,
    audit_batch: usize,
}

static PREPARED: OnceLock<Prepared> = OnceLock::new();
/// The run's clock: the log's `t_ms` counts from here (its wall time is in `SOAK_META`).
static START: OnceLock<Instant> = OnceLock::new();
static LOG: OnceLock<Mutex<BufWriter<File>>> = OnceLock::new();
static LOST_LINES: AtomicU64 = AtomicU64::new(0);
static NEXT_VISITOR: AtomicUsize = AtomicUsize::new(0);
static SEQ: AtomicU64 = AtomicU64::new(0);

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
const PAGE_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

// The vocabulary of bench/billing.mjs and bench/audit.mjs.
const EVENT_TYPES: &[&str] = &[
    "api.call",
    "storage.gb_hours",
    "compute.cpu_seconds",
    "ai.tokens_in",
    "ai.tokens_out",
    "email.sent",
    "seat.active",
    "function.invocations",
];
const REGIONS: &[&str] = &["eu-west-1", "us-east-1", "us-west-2", "ap-southeast-1"];
const ACTIONS: &[&str] = &[
    "document.download",
    "document.view",
    "api.request",
    "user.read",
    "flag.evaluate",
    "document.upload",
    "user.update",
    "report.export",
    "invoice.view",
    "document.share",
    "settings.update",
    "api_key.use",
];
const AGENTS: &[&str] = &[
    BROWSER,
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 \
     (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "curl/8.5.0",
    "okhttp/4.12.0",
];

/// One Goose user: a browser (its cookie jar keeps the session and device cookies, so its
/// sign-ins after the first are a returning browser's), an instance of the application
/// (its latest token, the ETags it holds) and an admin console working through one person
/// at a time.
#[derive(Clone)]
struct Visitor {
    index: usize,
    email: String,
    app_token: String,
    flags_etag: Option<String>,
    ofrep_etag: Option<String>,
    targeting_key: String,
    person: Person,
    /// This user's next slot (see [`pace`]).
    next_at: Option<tokio::time::Instant>,
}

/// Where the console is with the person it invited.
#[derive(Clone)]
enum Person {
    Nobody,
    Invited { id: String, n: u64 },
    Renamed { id: String },
}

/// One answer, read whole.
struct Answer {
    metric: GooseRequestMetric,
    /// 0 when no answer came (connection refused, timeout).
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    ms: f64,
    transport: Option<String>,
}

impl Answer {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn contains(&self, needle: &str) -> bool {
        self.body
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    /// The problem, when the status is none of `allowed`.
    fn status_in(&self, allowed: &[u16]) -> Option<String> {
        (!allowed.contains(&self.status)).then(|| format!("HTTP {}", self.status))
    }
}

fn prepared() -> Result<&'static Prepared, Box<TransactionError>> {
    PREPARED
        .get()
        .ok_or_else(|| Box::<TransactionError>::from("SOAK_CONFIG was not read"))
}

fn visitor(user: &GooseUser) -> Result<Visitor, Box<TransactionError>> {
    user.get_session_data::<Visitor>().cloned().ok_or_else(|| {
        Box::<TransactionError>::from("no session data: the on-start transaction did not run")
    })
}

fn remember(user: &mut GooseUser, change: impl FnOnce(&mut Visitor)) {
    if let Some(state) = user.get_session_data_mut::<Visitor>() {
        change(state);
    }
}

/// The time between two requests of one user: users / rate (SOAK_PACE_US).
static PACE: OnceLock<Duration> = OnceLock::new();

/// Waits for this user's next slot, one [`PACE`] after its last, so the users together
/// offer the rate whatever the answers' latency (as wrk2 paces each connection): an open
/// schedule per user rather than Goose's throttle, whose 10 ms token ticks oversleep and
/// offered about 0.89 of 1,000/s here. A user that fell behind catches up by at most one
/// slot. The first slot falls at random within one pace, so the users do not march in step.
async fn pace(user: &mut GooseUser) {
    let Some(period) = PACE.get().copied() else {
        return;
    };
    let now = tokio::time::Instant::now();
    let next = user
        .get_session_data::<Visitor>()
        .and_then(|v| v.next_at)
        .unwrap_or_else(|| now + period.mul_f64(fastrand::f64()));
    let slot = next.max(now.checked_sub(period).unwrap_or(now));
    tokio::time::sleep_until(slot).await;
    remember(user, |v| v.next_at = Some(slot + period));
}

/// Sends `request` through Goose (metrics) in this user's next slot and reads the whole
/// answer. The time is measured here, from sending to the last byte of the body, in µs
/// (Goose's own is whole milliseconds to the headers).
async fn send(
    user: &mut GooseUser,
    kind: &'static str,
    request: RequestBuilder,
) -> Result<Answer, Box<TransactionError>> {
    pace(user).await;
    let sent = Instant::now();
    let GooseResponse {
        request: metric,
        response,
    } = user
        .request(
            GooseRequest::builder()
                // Goose puts the method before the name itself.
                .name(kind.split_once(' ').map_or(kind, |(_, path)| path))
                .set_request_builder(request)
                .build(),
        )
        .await?;
    let (status, headers, body, transport) = match response {
        Ok(answer) => {
            let status = answer.status().as_u16();
            let headers = answer.headers().clone();
            match answer.bytes().await {
                Ok(body) => (status, headers, body.to_vec(), None),
                Err(e) => (
                    status,
                    headers,
                    Vec::new(),
                    Some(format!("reading the body: {e}")),
                ),
            }
        }
        Err(e) => (0, HeaderMap::new(), Vec::new(), Some(e.to_string())),
    };
    Ok(Answer {
        metric,
        status,
        headers,
        body,
        ms: sent.elapsed().as_secs_f64() * 1e3,
        transport,
    })
}

/// Records the verdict on `answer`: a line of the log, and Goose's count agreeing with it.
fn judge(
    user: &mut GooseUser,
    kind: &'static str,
    mut answer: Answer,
    problem: Option<String>,
) -> TransactionResult {
    let problem = answer.transport.take().or(problem);
    record(kind, answer.status, answer.ms, problem.as_deref());
    match problem {
        None => user.set_success(&mut answer.metric),
        Some(why) => {
            let shown = answer.body.len().min(300);
            let body = String::from_utf8_lossy(&answer.body[..shown]).into_owned();
            user.set_failure(
                &format!("{kind}: {why}"),
                &mut answer.metric,
                Some(&answer.headers),
                Some(&body),
            )
        }
    }
}

fn record(kind: &str, status: u16, ms: f64, problem: Option<&str>) {
    let t = START.get().map_or(0.0, |s| s.elapsed().as_secs_f64() * 1e3);
    // The reason is a CSV cell: no commas, quotes or line breaks.
    let reason: String = problem
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control() && *c != ',' && *c != '"')
        .take(160)
        .collect();
    let ok = u8::from(problem.is_none());
    let written = LOG
        .get()
        .and_then(|log| log.lock().ok())
        .map(|mut out| writeln!(out, "{t:.1},{kind},{status},{ms:.2},{ok},{reason}").is_ok());
    if written != Some(true) {
        LOST_LINES.fetch_add(1, Ordering::Relaxed);
    }
}

fn as_browser(request: RequestBuilder) -> RequestBuilder {
    request
        .header(USER_AGENT, BROWSER)
        .header(ACCEPT, PAGE_ACCEPT)
}

fn pick<'a>(list: &[&'a str]) -> &'a str {
    list[fastrand::usize(..list.len())]
}

/// 0..n-1, skewed towards 0 (p > 1): a few values are common, most are rare.
fn skew(n: usize, p: i32) -> usize {
    ((n as f64) * fastrand::f64().powi(p)) as usize
}

/// Events in one ingestion request: 1 to 2 x mean - 1, evenly (mean `mean`), at most 100.
fn batch_of(mean: usize) -> usize {
    let mean = mean.clamp(1, 50);
    1 + fastrand::usize(..2 * mean - 1)
}

fn now_utc() -> Result<String, Box<TransactionError>> {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| Box::<TransactionError>::from(format!("formatting the time: {e}")))
}

fn event_id(run: &str, visitor: usize) -> String {
    format!(
        "soak-{run}-{visitor}-{}",
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// On start: the user's own client (connections, cookie jar; redirects not followed, so a
/// sign-in is judged by where it sends the browser) and its state.
async fn start(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let index = NEXT_VISITOR.fetch_add(1, Ordering::Relaxed);
    let client = reqwest::Client::builder()
        .user_agent(concat!("gatehouse-soak/", env!("CARGO_PKG_VERSION")))
        .cookie_store(true)
        .gzip(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30));
    user.set_client_builder(client).await?;
    let email = prepared.signin_emails[index % prepared.signin_emails.len()].clone();
    user.set_session_data(Visitor {
        index,
        email,
        app_token: prepared.app_token.clone(),
        flags_etag: None,
        ofrep_etag: None,
        targeting_key: format!("soak-visitor-{index}"),
        person: Person::Nobody,
        next_at: None,
    });
    Ok(())
}

/// The sign-in page's first step (the address).
async fn login_page(user: &mut GooseUser) -> TransactionResult {
    let request = as_browser(user.get_request_builder(&GooseMethod::Get, "/login")?);
    let answer = send(user, PAGE_LOGIN, request).await?;
    let problem = answer
        .status_in(&[200])
        .or_else(|| (!answer.contains("email-form")).then(|| "no address form".to_owned()));
    judge(user, PAGE_LOGIN, answer, problem)
}

/// The sign-in page's password step, as `continue_sign_in` sends the browser there.
async fn password_page(user: &mut GooseUser) -> TransactionResult {
    let state = visitor(user)?;
    let request = as_browser(user.get_request_builder(&GooseMethod::Get, "/login")?)
        .query(&[("email", state.email.as_str())]);
    let answer = send(user, PAGE_PASSWORD, request).await?;
    let problem = answer
        .status_in(&[200])
        .or_else(|| (!answer.contains("password-form")).then(|| "no password form".to_owned()));
    judge(user, PAGE_PASSWORD, answer, problem)
}

/// A password sign-in as the page's form posts it without script. Signed in means sent on
/// to the console (`Location` outside `/login`); back to `/login` (an error, a lockout, a
/// second factor) is a failure.
async fn sign_in(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let state = visitor(user)?;
    let origin = user.base_url.origin().ascii_serialization();
    let request = as_browser(user.get_request_builder(&GooseMethod::Post, "/_rpc/sign_in")?)
        .header(ORIGIN, origin)
        .form(&[
            ("email", state.email.as_str()),
            ("password", prepared.password.as_str()),
            ("tenant", ""),
            ("return_to", ""),
        ]);
    let answer = send(user, SIGN_IN, request).await?;
    let landing = answer.header(LOCATION).unwrap_or_default().to_owned();
    let problem = answer.status_in(&[200, 302, 303]).or_else(|| {
        if landing.is_empty() {
            Some("no redirect: not signed in".to_owned())
        } else if landing.starts_with("/login") {
            let shown = landing.split('&').next().unwrap_or_default();
            Some(format!("sent back to {shown}"))
        } else {
            None
        }
    });
    judge(user, SIGN_IN, answer, problem)
}

/// The application's own token (client credentials); it becomes the user's token for the
/// requests that follow, as a client library renews its token.
async fn token_grant(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let request = user
        .get_request_builder(&GooseMethod::Post, "/auth/token")?
        .basic_auth(&prepared.client_id, Some(&prepared.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", prepared.app_scope.as_str()),
        ]);
    let answer = send(user, TOKEN, request).await?;
    let token = answer
        .json()
        .and_then(|j| j["access_token"].as_str().map(str::to_owned));
    let problem = answer
        .status_in(&[200])
        .or_else(|| token.is_none().then(|| "no access_token".to_owned()));
    if let (None, Some(token)) = (&problem, token) {
        remember(user, |s| s.app_token = token);
    }
    judge(user, TOKEN, answer, problem)
}

/// A resource server checking the live token it was handed.
async fn introspect(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let state = visitor(user)?;
    let request = user
        .get_request_builder(&GooseMethod::Post, "/auth/introspect")?
        .basic_auth(&prepared.client_id, Some(&prepared.client_secret))
        .form(&[("token", state.app_token.as_str())]);
    let answer = send(user, INTROSPECT, request).await?;
    let problem = answer.status_in(&[200]).or_else(|| {
        let active = answer.json().is_some_and(|j| j["active"] == true);
        (!active).then(|| "a live token is not active".to_owned())
    });
    judge(user, INTROSPECT, answer, problem)
}

/// A request that sends the ETag it holds (`If-None-Match`) and keeps the new one: 304 is
/// then an answer as good as 200; a 200 must carry flags (`listed`).
async fn conditional_read(
    user: &mut GooseUser,
    kind: &'static str,
    request: RequestBuilder,
    held: Option<String>,
    listed: fn(&Value) -> bool,
    keep: fn(&mut Visitor, String),
) -> TransactionResult {
    let request = match &held {
        Some(etag) => request.header(IF_NONE_MATCH, etag.as_str()),
        None => request,
    };
    let answer = send(user, kind, request).await?;
    let allowed: &[u16] = if held.is_some() { &[200, 304] } else { &[200] };
    let problem = answer.status_in(allowed).or_else(|| {
        let ok = answer.status == 304 || answer.json().is_some_and(|j| listed(&j));
        (!ok).then(|| "no flags in the answer".to_owned())
    });
    if problem.is_none() {
        if let Some(etag) = answer.header(ETAG).map(str::to_owned) {
            remember(user, |s| keep(s, etag));
        }
    }
    judge(user, kind, answer, problem)
}

/// A server SDK polling the tenant's flags with the ETag it holds (mostly 304).
async fn flags(user: &mut GooseUser) -> TransactionResult {
    let state = visitor(user)?;
    let request = user
        .get_request_builder(&GooseMethod::Get, "/api/v1/flags")?
        .bearer_auth(&state.app_token);
    conditional_read(
        user,
        FLAGS,
        request,
        state.flags_etag,
        |j| j["flags"].is_object(),
        |s, etag| s.flags_etag = Some(etag),
    )
    .await
}

/// One end user's flags (evaluated for them: the sticky rollouts).
async fn flags_for_user(user: &mut GooseUser) -> TransactionResult {
    let state = visitor(user)?;
    let person = format!("u-{}", skew(50_000, 2));
    let request = user
        .get_request_builder(&GooseMethod::Get, "/api/v1/flags")?
        .bearer_auth(&state.app_token)
        .query(&[("user_id", person.as_str())]);
    let answer = send(user, FLAGS_USER, request).await?;
    let problem = answer.status_in(&[200]).or_else(|| {
        let listed = answer.json().is_some_and(|j| j["flags"].is_object());
        (!listed).then(|| "no flags in the answer".to_owned())
    });
    judge(user, FLAGS_USER, answer, problem)
}

/// A client-side OpenFeature provider refreshing its user's flags (OFREP bulk, with the
/// ETag it holds).
async fn ofrep_bulk(user: &mut GooseUser) -> TransactionResult {
    let state = visitor(user)?;
    let request = user
        .get_request_builder(&GooseMethod::Post, "/ofrep/v1/evaluate/flags")?
        .bearer_auth(&state.app_token)
        .json(&json!({ "context": { "targetingKey": state.targeting_key } }));
    conditional_read(
        user,
        OFREP_BULK,
        request,
        state.ofrep_etag,
        |j| j["flags"].is_array(),
        |s, etag| s.ofrep_etag = Some(etag),
    )
    .await
}

/// A server-side OpenFeature provider evaluating one flag for one end user.
async fn ofrep_one(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let state = visitor(user)?;
    let key = &prepared.flag_keys[fastrand::usize(..prepared.flag_keys.len())];
    let path = format!("/ofrep/v1/evaluate/flags/{key}");
    let request = user
        .get_request_builder(&GooseMethod::Post, &path)?
        .bearer_auth(&state.app_token)
        .json(&json!({ "context": { "targetingKey": format!("user-{}", skew(50_000, 2)) } }));
    let answer = send(user, OFREP_ONE, request).await?;
    let problem = answer.status_in(&[200]).or_else(|| {
        let valued = answer.json().is_some_and(|j| j["value"].is_boolean());
        (!valued).then(|| "no value in the answer".to_owned())
    });
    judge(user, OFREP_ONE, answer, problem)
}

/// The admin console's people page: the first page, newest first.
async fn users_list(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let request = user
        .get_request_builder(&GooseMethod::Get, "/api/v1/users")?
        .bearer_auth(&prepared.admin_token)
        .query(&[("limit", "25")]);
    let answer = send(user, USERS_LIST, request).await?;
    let problem = answer.status_in(&[200]).or_else(|| page_problem(&answer));
    judge(user, USERS_LIST, answer, problem)
}

/// The people page's search box.
async fn users_search(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let term = &prepared.search_terms[fastrand::usize(..prepared.search_terms.len())];
    let request = user
        .get_request_builder(&GooseMethod::Get, "/api/v1/users")?
        .bearer_auth(&prepared.admin_token)
        .query(&[("search", term.as_str()), ("limit", "25")]);
    let answer = send(user, USERS_SEARCH, request).await?;
    let problem = answer.status_in(&[200]).or_else(|| page_problem(&answer));
    judge(user, USERS_SEARCH, answer, problem)
}

fn page_problem(answer: &Answer) -> Option<String> {
    let paged = answer.json().is_some_and(|j| j["data"].is_array());
    (!paged).then(|| "no page of people".to_owned())
}

/// One person's page.
async fn users_show(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let id = &prepared.user_ids[fastrand::usize(..prepared.user_ids.len())];
    let path = format!("/api/v1/users/{id}");
    let request = user
        .get_request_builder(&GooseMethod::Get, &path)?
        .bearer_auth(&prepared.admin_token);
    let answer = send(user, USERS_SHOW, request).await?;
    let problem = answer.status_in(&[200]).or_else(|| {
        let same = answer.json().is_some_and(|j| j["id"] == id.as_str());
        (!same).then(|| "not the person asked for".to_owned())
    });
    judge(user, USERS_SHOW, answer, problem)
}

/// The console's writes, in turns: invite a person, rename them, archive them. The tenant
/// keeps the archived records (for the audit trail), as it would in real use.
async fn users_write(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let state = visitor(user)?;
    match state.person {
        Person::Nobody => {
            let n = SEQ.fetch_add(1, Ordering::Relaxed);
            let (run, index, domain) = (&prepared.run, state.index, &prepared.invite_domain);
            let body = json!({
                "email": format!("soak-{run}-{index}-{n}@{domain}"),
                "name": format!("Soak person {n}"),
                "role": "user",
            });
            let request = user
                .get_request_builder(&GooseMethod::Post, "/api/v1/users")?
                .bearer_auth(&prepared.admin_token)
                .json(&body);
            let answer = send(user, USERS_INVITE, request).await?;
            let id = answer
                .json()
                .and_then(|j| j["id"].as_str().map(str::to_owned));
            let problem = answer
                .status_in(&[201])
                .or_else(|| id.is_none().then(|| "no id in the answer".to_owned()));
            if let (None, Some(id)) = (&problem, id) {
                remember(user, |s| s.person = Person::Invited { id, n });
            }
            judge(user, USERS_INVITE, answer, problem)
        }
        Person::Invited { id, n } => {
            let name = format!("Soak person {n} (renamed)");
            let path = format!("/api/v1/users/{id}");
            let request = user
                .get_request_builder(&GooseMethod::Patch, &path)?
                .bearer_auth(&prepared.admin_token)
                .json(&json!({ "name": name }));
            let answer = send(user, USERS_RENAME, request).await?;
            let problem = answer.status_in(&[200]).or_else(|| {
                let renamed = answer.json().is_some_and(|j| j["name"] == name.as_str());
                (!renamed).then(|| "the name did not change".to_owned())
            });
            // Archived next even when the rename failed: nobody is left behind.
            remember(user, |s| s.person = Person::Renamed { id });
            judge(user, USERS_RENAME, answer, problem)
        }
        Person::Renamed { id } => {
            let path = format!("/api/v1/users/{id}");
            let request = user
                .get_request_builder(&GooseMethod::Delete, &path)?
                .bearer_auth(&prepared.admin_token);
            let answer = send(user, USERS_ARCHIVE, request).await?;
            let problem = answer.status_in(&[204]);
            remember(user, |s| s.person = Person::Nobody);
            judge(user, USERS_ARCHIVE, answer, problem)
        }
    }
}

/// Usage reported by the application, in small batches.
async fn billing(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let state = visitor(user)?;
    let at = now_utc()?;
    let n = batch_of(prepared.billing_batch);
    let events: Vec<Value> = (0..n)
        .map(|_| {
            json!({
                "id": event_id(&prepared.run, state.index),
                "timestamp": at,
                "event_type": pick(EVENT_TYPES),
                "quantity": 1 + (fastrand::f64().powi(4) * 1000.0) as i64,
                "metadata": { "region": pick(REGIONS) },
            })
        })
        .collect();
    let request = user
        .get_request_builder(&GooseMethod::Post, "/api/v1/billing/events")?
        .bearer_auth(&state.app_token)
        .json(&json!({ "events": events }));
    let answer = send(user, BILLING, request).await?;
    let problem = answer.status_in(&[201]).or_else(|| whole_batch(&answer, n));
    judge(user, BILLING, answer, problem)
}

/// The application's own audit events, in small batches.
async fn audit(user: &mut GooseUser) -> TransactionResult {
    let prepared = prepared()?;
    let state = visitor(user)?;
    let at = now_utc()?;
    let n = batch_of(prepared.audit_batch);
    let events: Vec<Value> = (0..n)
        .map(|_| {
            let actor = skew(50_000, 2);
            let action = ACTIONS[skew(ACTIONS.len(), 2)];
            let kind = action.split('.').next().unwrap_or("item");
            let ip = skew(20_000, 2);
            let outcome = if fastrand::f64() < 0.05 {
                "failure"
            } else {
                "success"
            };
            json!({
                "id": event_id(&prepared.run, state.index),
                "occurred_at": at,
                "actor": {
                    "id": format!("u-{actor}"),
                    "type": "user",
                    "name": format!("User {actor}"),
                },
                "action": action,
                "resource": { "id": fastrand::u32(..200_000).to_string(), "type": kind },
                "outcome": outcome,
                "ip_address": format!("10.{}.{}.{}", ip >> 16, (ip >> 8) & 255, ip & 255),
                "user_agent": pick(AGENTS),
                "metadata": { "plan": "pro", "bytes": fastrand::u32(..5_000_000) },
            })
        })
        .collect();
    let request = user
        .get_request_builder(&GooseMethod::Post, "/api/v1/audit-logs")?
        .bearer_auth(&state.app_token)
        .json(&json!({ "events": events }));
    let answer = send(user, AUDIT, request).await?;
    let problem = answer.status_in(&[201]).or_else(|| whole_batch(&answer, n));
    judge(user, AUDIT, answer, problem)
}

/// The problem, unless every one of the `n` events sent was accepted.
fn whole_batch(answer: &Answer, n: usize) -> Option<String> {
    let accepted = answer.json().and_then(|j| j["accepted"].as_u64());
    (accepted != Some(n as u64))
        .then(|| format!("{} of {n} events accepted", accepted.unwrap_or(0)))
}

fn share(kind: &str) -> Result<usize, String> {
    MIX.iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, w)| *w)
        .ok_or_else(|| format!("{kind} is not in the mix"))
}

fn weighted(transaction: Transaction, name: &str, weight: usize) -> Result<Transaction, String> {
    transaction
        .set_name(name)
        .set_weight(weight)
        .map_err(|e| format!("the weight of {name}: {e:?}"))
}

fn env_path(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set (run through bench/run.sh soak)"))
}

fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = env_path("SOAK_CONFIG")?;
    let log_path = env_path("SOAK_LOG")?;
    let meta_path = env_path("SOAK_META")?;
    let prepared: Prepared =
        serde_json::from_slice(&std::fs::read(&config)?).map_err(|e| format!("{config}: {e}"))?;
    for (what, empty) in [
        ("signin_emails", prepared.signin_emails.is_empty()),
        ("user_ids", prepared.user_ids.is_empty()),
        ("flag_keys", prepared.flag_keys.is_empty()),
        ("search_terms", prepared.search_terms.is_empty()),
    ] {
        if empty {
            return Err(format!("{config}: {what} is empty").into());
        }
    }
    PREPARED
        .set(prepared)
        .map_err(|_| "the configuration was read twice")?;
    if let Ok(us) = std::env::var("SOAK_PACE_US") {
        let us: u64 = us
            .parse()
            .map_err(|_| format!("SOAK_PACE_US is not a number of µs: {us}"))?;
        PACE.set(Duration::from_micros(us))
            .map_err(|_| "the pace was set twice")?;
    }

    let mut log = BufWriter::with_capacity(1 << 20, File::create(&log_path)?);
    writeln!(log, "t_ms,kind,status,ms,ok,reason")?;
    LOG.set(Mutex::new(log))
        .map_err(|_| "the request log was opened twice")?;

    let mut scenario = scenario!("Soak").register_transaction(
        transaction!(start)
            .set_name("start: client and state")
            .set_on_start(),
    );
    let users_write_share = share(USERS_INVITE)? + share(USERS_RENAME)? + share(USERS_ARCHIVE)?;
    for (transaction, name, weight) in [
        (transaction!(login_page), PAGE_LOGIN, share(PAGE_LOGIN)?),
        (
            transaction!(password_page),
            PAGE_PASSWORD,
            share(PAGE_PASSWORD)?,
        ),
        (transaction!(sign_in), SIGN_IN, share(SIGN_IN)?),
        (transaction!(token_grant), TOKEN, share(TOKEN)?),
        (transaction!(introspect), INTROSPECT, share(INTROSPECT)?),
        (transaction!(flags), FLAGS, share(FLAGS)?),
        (transaction!(flags_for_user), FLAGS_USER, share(FLAGS_USER)?),
        (transaction!(ofrep_bulk), OFREP_BULK, share(OFREP_BULK)?),
        (transaction!(ofrep_one), OFREP_ONE, share(OFREP_ONE)?),
        (transaction!(users_list), USERS_LIST, share(USERS_LIST)?),
        (
            transaction!(users_search),
            USERS_SEARCH,
            share(USERS_SEARCH)?,
        ),
        (transaction!(users_show), USERS_SHOW, share(USERS_SHOW)?),
        (
            transaction!(users_write),
            "Users API writes",
            users_write_share,
        ),
        (transaction!(billing), BILLING, share(BILLING)?),
        (transaction!(audit), AUDIT, share(AUDIT)?),
    ] {
        scenario = scenario.register_transaction(weighted(transaction, name, weight)?);
    }

    let mix: serde_json::Map<String, Value> = MIX
        .iter()
        .map(|(kind, per_mille)| ((*kind).to_owned(), json!(per_mille)))
        .collect();
    let start_epoch = epoch_now();
    START
        .set(Instant::now())
        .map_err(|_| "the clock was started twice")?;
    // Written before the load too, so a run that is cut short still has its clock.
    let mut meta = json!({
        "start_epoch": start_epoch,
        "mix_per_mille": mix,
        "load_generator": concat!("gatehouse-soak ", env!("CARGO_PKG_VERSION")),
    });
    std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta)?)?;

    // Random: each user's transactions come shuffled, so the mix holds over any stretch of
    // the run (the default, round robin, sends every kind equally until the light ones run
    // out of their share).
    let metrics = GooseAttack::initialize()
        .map_err(|e| format!("goose: {e:?}"))?
        .set_scheduler(GooseScheduler::Random)
        .register_scenario(scenario)
        .execute()
        .await
        .map_err(|e| format!("goose: {e:?}"))?;

    let end_epoch = epoch_now();
    if let Some(log) = LOG.get() {
        let mut out = log
            .lock()
            .map_err(|_| "the request log's lock was poisoned")?;
        out.flush()?;
    }
    // Goose's own counts (after its metrics reset at the end of the ramp, unless
    // --no-reset-metrics), to set beside the log's.
    let goose_counts: serde_json::Map<String, Value> = metrics
        .requests
        .iter()
        .map(|(key, agg)| {
            (
                key.clone(),
                json!({ "success": agg.success_count, "fail": agg.fail_count }),
            )
        })
        .collect();
    meta["end_epoch"] = json!(end_epoch);
    meta["goose_requests"] = Value::Object(goose_counts);
    meta["lost_log_lines"] = json!(LOST_LINES.load(Ordering::Relaxed));
    std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta)?)?;
    Ok(())
}
