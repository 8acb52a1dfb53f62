// The checks of the high-availability scenario (scripts/ha_test.sh, bench/ha/bench.sh start
// the processes through end2end/support/ha/lib.sh and call this for the HTTP work and the
// arithmetic). Node's fetch only, no dependencies.
//
//   node scenario.mjs setup              tokens (operator: authorization code on A; the
//                                        applications': client credentials on A), every
//                                        request of the load plan tried on A, B and the load
//                                        balancer, the plans written (secrets dir, 0600)
//   node scenario.mjs session            a person signs in on A and keeps working on B
//   node scenario.mjs propagation --rounds N
//                                        revocation, suspension, flag change through A; how
//                                        long until B honours each (polled every HA_POLL_MS)
//   node scenario.mjs analyze-kill LOAD.json EVENTS.json
//   node scenario.mjs analyze-pg LOAD.json TIMES.json READYZ_A.log READYZ_B.log
//   node scenario.mjs analyze-ingest LOAD.json COUNTS.json EVENTS.json
//   node scenario.mjs summary            every result of HA_RESULTS as one JSON line
//
// Environment: HA_A_URL, HA_B_URL, HA_LB_URL, HA_PUBLIC_URL, HA_SECRETS (key-acme.json,
// key-platform.json, key-suspend.json, operator-session), HA_RESULTS, HA_RUN,
// HA_ACME_TENANT_ID, HA_SUSPEND_TENANT_ID, HA_REDIRECT_URI, HA_POLL_MS (50),
// HA_ASSERT (1: a failed check exits 1; 0: it is reported only, for the benchmark).
// Each command prints one JSON object on stdout, with `checks` (what was asserted, and
// whether it held). Tokens, secrets, cookies and codes are never printed.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  ASSERT, INSTANCES, POLL_MS, PUBLIC, TARGET_MS, basic, call, check, checks, die, env, finish, keys, log,
  parseArgs, pct, readJson, round, said, sleep, tokens, writePrivate,
} from './common.mjs';

async function clientCredentials(base, key, scope) {
  return call(base, 'POST', '/auth/token', { key, form: { grant_type: 'client_credentials', scope } });
}
async function ccToken(base, key, scope, where) {
  const r = await clientCredentials(base, key, scope);
  if (r.status !== 200 || !r.json?.access_token) die(`client credentials on ${where} answered ${said(r)}`);
  return r.json.access_token;
}

/// The authorization code flow on `base` for the session in `cookie`; the code is exchanged
/// on `exchangeAt`. Returns the token answer.
async function authorizationCode(base, exchangeAt, cookie, key, scope, where) {
  const redirect = env('HA_REDIRECT_URI');
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    response_type: 'code', client_id: key.client_id, redirect_uri: redirect, scope, state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  });
  const auth = await call(base, 'GET', `/authorize?${query}`, { cookie });
  const location = auth.headers.get('location') ?? '';
  if (![302, 303].includes(auth.status) || !location.startsWith(redirect)) {
    // The Location names the sign-in page or an error, never a code here.
    die(`/authorize on ${where} answered ${auth.status} to ${location.split('?')[0] || auth.text.slice(0, 200)}`);
  }
  const back = new URL(location);
  const code = back.searchParams.get('code');
  if (!code || back.searchParams.get('state') !== state) die(`/authorize on ${where} sent back no code (error: ${back.searchParams.get('error')})`);
  const token = await call(exchangeAt, 'POST', '/auth/token', {
    key, form: { grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier },
  });
  if (token.status !== 200 || !token.json?.access_token) die(`the code exchange answered ${said(token)}`);
  return token.json;
}

// --- setup ----------------------------------------------------------------------------------
const STEADY_SCOPE = 'flag:read bill:read';

async function setup() {
  const { A, B, LB } = INSTANCES();
  const k = keys();
  const secrets = env('HA_SECRETS');
  const operatorCookie = `gatehouse_session=${k.operatorSession}`;
  const operator = (await authorizationCode(A, A, operatorCookie, k.platform, 'openid admin', 'A')).access_token;
  const load = await ccToken(A, k.acme, STEADY_SCOPE, 'A');
  const ingest = await ccToken(A, k.acme, 'bill:write log:write', 'A');
  const flags = await ccToken(A, k.acme, 'flag:read', 'A');
  writePrivate(`${secrets}/tokens.json`, { operator, load, ingest, flags });
  const auth = { authorization: `Bearer ${load}` };
  const requests = [
    { name: 'flags', method: 'GET', path: '/api/v1/flags', headers: auth },
    { name: 'me', method: 'GET', path: '/api/v1/me', headers: auth },
    {
      name: 'introspect', method: 'POST', path: '/auth/introspect',
      headers: { authorization: basic(k.acme), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: load }).toString(),
    },
    // The one that reads the database on every request (the others are answered from memory).
    { name: 'usage', method: 'GET', path: '/api/v1/billing/usage?window=month', headers: auth },
  ];
  const tried = {};
  for (const [where, base] of Object.entries({ A, B, LB })) {
    for (const r of requests) {
      const res = await call(base, r.method, r.path, { headers: r.headers, ...(r.body ? { form: Object.fromEntries(new URLSearchParams(r.body)) } : {}) });
      tried[`${r.name}@${where}`] = res.status;
      check(res.status === 200, `${r.name} answers 200 on ${where} before the load`, res.status === 200 ? undefined : said(res));
    }
  }
  const introspected = await call(B, 'POST', '/auth/introspect', { key: k.acme, form: { token: load } });
  check(introspected.json?.active === true, 'B finds the load token (issued by A) active');
  writePrivate(`${secrets}/plan-steady.json`, { base: LB, requests });
  writePrivate(`${secrets}/plan-ingest.json`, { base: LB, token: ingest, run: env('HA_RUN') });
  finish({ step: 'setup', tried });
}

// --- a. a person signs in on A, keeps working on B ---------------------------------------------
async function session() {
  const { A, B, LB } = INSTANCES();
  const k = keys();
  const origin = PUBLIC();
  const email = 'user@acme.test';
  // The documented demo password (README, "Demo logins"): demo data, local evaluation only.
  const password = env('HA_DEMO_PASSWORD', 'Gatehouse-demo-2026');
  const rpc = (base, name, cookie, form = {}) => call(base, 'POST', `/_rpc/${name}`, {
    cookie, form, headers: { origin, accept: 'application/json' },
  });
  const steps = {};

  // The Universal Login's form, posted as a browser without JavaScript posts it.
  const signIn = await call(A, 'POST', '/_rpc/sign_in', {
    form: { email, password, tenant: 'acme', return_to: '' }, headers: { origin, accept: 'text/html' },
  });
  const cookies = typeof signIn.headers.getSetCookie === 'function' ? signIn.headers.getSetCookie() : [signIn.headers.get('set-cookie') ?? ''];
  const pair = cookies.map((c) => c.split(';')[0]).find((c) => c.startsWith('gatehouse_session=') && c.length > 'gatehouse_session='.length);
  steps.sign_in_on_a = { status: signIn.status, location: signIn.headers.get('location') };
  check(signIn.status === 302 && signIn.headers.get('location') === '/account' && pair, 'the sign-in on A answers 302 to /account with a session cookie', steps.sign_in_on_a);
  if (!pair) return finish({ step: 'session', steps });

  const onB = await rpc(B, 'account_overview', pair);
  steps.account_on_b = { status: onB.status, sessions: onB.json?.sessions?.length ?? null };
  check(onB.status === 200 && onB.json?.email === email, 'B knows the session started on A (account overview: 200, the same person)', steps.account_on_b);
  const stranger = await rpc(B, 'account_overview', undefined);
  steps.account_on_b_without_cookie = { status: stranger.status };
  check(stranger.status !== 200 || stranger.json?.email !== email, 'without the cookie B shows nobody (the check can fail)', steps.account_on_b_without_cookie);

  const name = `HA ${env('HA_RUN')}`;
  const update = await rpc(B, 'update_profile', pair, { name });
  steps.update_profile_on_b = { status: update.status };
  check(update.status === 200, 'a change made on B with that session is accepted', steps.update_profile_on_b);
  const onA = await rpc(A, 'account_overview', pair);
  steps.account_on_a = { status: onA.status, name_changed: onA.json?.name === name };
  check(onA.status === 200 && onA.json?.name === name, 'A shows the change made on B', steps.account_on_a);

  // The same session authorizes an application on B; the code is redeemed on A; the token
  // works on B.
  const granted = await authorizationCode(B, A, pair, k.acme, 'openid email', 'B');
  const info = await call(B, 'GET', '/userinfo', { token: granted.access_token });
  steps.userinfo_on_b = { status: info.status };
  check(info.status === 200 && info.json?.email === email, 'authorize on B, code redeemed on A, /userinfo on B: the same person', steps.userinfo_on_b);

  // Through the load balancer, requests alternate between the instances.
  const seen = {};
  let good = 0;
  for (let i = 0; i < 6; i++) {
    const r = await rpc(LB, 'account_overview', pair);
    if (r.status === 200 && r.json?.email === email) good++;
    if (r.instance) seen[r.instance] = (seen[r.instance] ?? 0) + 1;
  }
  steps.through_lb = { good, of: 6, served_by: seen };
  check(good === 6 && seen.a > 0 && seen.b > 0, '6 of 6 requests through the load balancer answered, by both instances', steps.through_lb);
  finish({ step: 'session', steps });
}

// --- b. propagation ---------------------------------------------------------------------------
/// Calls `probe` every POLL_MS until it says yes; ms from the call (the change answered).
async function until(probe, timeout = 5000) {
  const t0 = performance.now();
  for (let polls = 1; ; polls++) {
    const started = performance.now();
    if (await probe()) return { ms: performance.now() - t0, polls };
    if (performance.now() - t0 > timeout) return { ms: null, polls };
    const wait = POLL_MS - (performance.now() - started);
    if (wait > 0) await sleep(wait);
  }
}

async function revocationRound(k) {
  const { A, B } = INSTANCES();
  const t = await ccToken(A, k.acme, 'flag:read', 'A');
  const before = await call(B, 'GET', '/api/v1/me', { token: t });
  check(before.status === 200, 'B accepts a token from A before its revocation', before.status);
  const started = performance.now();
  const revoked = await call(A, 'POST', '/auth/revoke', { key: k.acme, form: { token: t, token_type_hint: 'access_token' } });
  const changeMs = performance.now() - started;
  check(revoked.status === 200, 'A answers the revocation', said(revoked));
  const onB = await until(async () => (await call(B, 'GET', '/api/v1/me', { token: t })).status === 401);
  const onA = await call(A, 'GET', '/api/v1/me', { token: t });
  return { ms: onB.ms, polls: onB.polls, change_ms: changeMs, refused_on_a: onA.status === 401 };
}

// A suspension refuses the tenant's tokens issued up to its cutoff, a whole second
// (`iat <= cutoff`, both in seconds): a token issued in that same second stays refused after
// the reactivation. The next round's token is issued in a later second.
let lastSuspension = 0;

async function suspensionRound(k, operator) {
  const { A, B } = INSTANCES();
  const tenant = env('HA_SUSPEND_TENANT_ID');
  const wait = (Math.floor(lastSuspension / 1000) + 1) * 1000 + 50 - Date.now();
  if (lastSuspension && wait > 0) await sleep(wait);
  const s = await ccToken(A, k.suspend, 'flag:read', 'A');
  const me = await call(B, 'GET', '/api/v1/me', { token: s });
  const issue = await clientCredentials(B, k.suspend, 'flag:read');
  check(me.status === 200 && issue.status === 200, 'before the suspension B accepts the tenant\'s token and issues new ones', [me.status, issue.status]);
  const started = performance.now();
  const suspended = await call(A, 'POST', `/api/v1/tenants/${tenant}/suspend`, { token: operator, json: { reason: 'HA test' } });
  const changeMs = performance.now() - started;
  lastSuspension = Date.now();
  check(suspended.status === 200 && suspended.json?.status === 'suspended', 'A suspends the tenant', said(suspended));
  const [used, issued] = await Promise.all([
    until(async () => (await call(B, 'GET', '/api/v1/me', { token: s })).status === 401),
    until(async () => (await clientCredentials(B, k.suspend, 'flag:read')).status !== 200),
  ]);
  const reactivated = await call(A, 'POST', `/api/v1/tenants/${tenant}/reactivate`, { token: operator });
  check(reactivated.status === 200, 'A reactivates the tenant', said(reactivated));
  const back = await until(async () => (await clientCredentials(B, k.suspend, 'flag:read')).status === 200);
  const ms = used.ms == null || issued.ms == null ? null : Math.max(used.ms, issued.ms);
  return {
    ms, polls: used.polls + issued.polls, change_ms: changeMs,
    token_refused_ms: used.ms, issuing_refused_ms: issued.ms, reactivation_ms: back.ms,
  };
}

async function flagRound(t, operator) {
  const { A, B } = INSTANCES();
  const tenant = env('HA_ACME_TENANT_ID');
  const before = await call(B, 'GET', '/api/v1/flags', { token: t.flags });
  check(before.status === 200 && typeof before.json?.flags?.dark_mode === 'boolean', 'B serves acme\'s flags (now cached) before the change', said(before));
  const want = !before.json?.flags?.dark_mode;
  const started = performance.now();
  const set = await call(A, 'PUT', `/api/v1/tenants/${tenant}/flags/dark_mode`, { token: operator, json: { value: want } });
  const changeMs = performance.now() - started;
  check(set.status === 200, 'A sets the override', said(set));
  const onB = await until(async () => (await call(B, 'GET', '/api/v1/flags', { token: t.flags })).json?.flags?.dark_mode === want);
  return { ms: onB.ms, polls: onB.polls, change_ms: changeMs };
}

function figures(rounds) {
  const ms = rounds.map((r) => r.ms);
  const measured = ms.filter((x) => x != null).sort((a, b) => a - b);
  return {
    rounds: rounds.length,
    ms: ms.map((x) => round(x)),
    p50_ms: round(pct(measured, 0.5)), p99_ms: round(pct(measured, 0.99)), max_ms: round(measured.at(-1) ?? null),
    not_seen_within_5s: ms.filter((x) => x == null).length,
    change_request_ms_p50: round(pct(rounds.map((r) => r.change_ms).sort((a, b) => a - b), 0.5)),
    polls: rounds.reduce((a, r) => a + r.polls, 0),
  };
}

async function propagation() {
  const rounds = Math.max(1, Number(argv.rounds ?? 3));
  const k = keys();
  const t = tokens();
  const out = { step: 'propagation', label: argv.label ?? null, poll_interval_ms: POLL_MS, target_ms: TARGET_MS };
  const kinds = {
    revocation: () => revocationRound(k),
    suspension: () => suspensionRound(k, t.operator),
    flag: () => flagRound(t, t.operator),
  };
  for (const [kind, round1] of Object.entries(kinds)) {
    const results = [];
    for (let i = 0; i < rounds; i++) results.push(await round1());
    out[kind] = figures(results);
    if (kind === 'revocation') out[kind].refused_on_a_at_once = results.filter((r) => r.refused_on_a).length;
    if (kind === 'suspension') {
      out[kind].token_refused_ms = results.map((r) => round(r.token_refused_ms));
      out[kind].issuing_refused_ms = results.map((r) => round(r.issuing_refused_ms));
      out[kind].reactivation_ms = results.map((r) => round(r.reactivation_ms));
    }
    const within = results.filter((r) => r.ms != null && r.ms < TARGET_MS).length;
    out[kind].within_target = within;
    check(within === rounds, `${kind} through A honoured by B within ${TARGET_MS} ms: ${within} of ${rounds} rounds`, out[kind].ms);
  }
  finish(out);
}

// --- c. kill -9 under load ----------------------------------------------------------------------
const firstEvent = (load, server, status, from) => load.lb_events.find((e) => e.server === server && e.status === status && e.t >= from) ?? null;

function analyzeKill(loadPath, eventsPath) {
  const load = readJson(loadPath);
  const kills = readJson(eventsPath);
  const per = kills.map((k, i) => {
    const until = kills[i + 1]?.kill ?? load.end + 60_000;
    const down = firstEvent(load, k.victim, 'DOWN', k.kill);
    const up = firstEvent(load, k.victim, 'UP', k.restart);
    const failures = load.failure_times.filter(([, done]) => done >= k.kill && done < until).map(([, done]) => done);
    const second = Math.floor((k.kill - load.start) / 1000);
    const around = load.per_second.slice(Math.max(0, second), second + 2).map((s) => s.max_ms);
    return {
      victim: k.victim,
      at_s: round((k.kill - load.start) / 1000, 2),
      in_flight_at_kill: load.marks[i]?.in_flight ?? null,
      failover_ms: down ? down.t - k.kill : null,
      failed_requests: failures.length,
      error_window_ms: failures.length ? Math.max(...failures) - k.kill : 0,
      max_latency_ms_around_kill: around.length ? Math.max(...around) : null,
      restart_to_ready_ms: k.ready - k.restart,
      back_in_rotation_ms: up ? up.t - k.restart : null,
    };
  });
  const inFlight = per.reduce((a, p) => a + (p.in_flight_at_kill ?? 0), 0);
  const out = {
    step: 'kill', rate: load.rate, seconds: load.seconds, sent: load.sent, ok: load.ok, failed: load.failed,
    unanswered: load.unanswered, error_rate: load.error_rate, offered_per_s: load.offered_per_s,
    in_flight_bound: inFlight, kills: per, latency_ms: load.latency_ms, served_by: load.served_by,
    status_counts: load.status_counts, error_counts: load.error_counts, lb: load.lb?.counters ?? null,
    failures: load.failures.slice(0, 20),
  };
  check(load.sent >= 0.5 * load.rate * load.seconds, `the load was offered (${load.sent} requests in ${load.seconds} s at ${load.rate}/s)`);
  check(load.unanswered === 0, 'every request was answered or failed (none hung)', load.unanswered);
  check(load.failed <= inFlight, `failures (${load.failed}) <= requests in flight at the kills (${inFlight})`);
  check(load.error_rate < 0.001, `error rate ${load.error_rate} < 0.1 %`, { failed: load.failed, sent: load.sent });
  for (const p of per) {
    check(p.failover_ms != null, `HAProxy took ${p.victim} out after the kill (${p.failover_ms} ms)`);
    check(p.back_in_rotation_ms != null, `${p.victim}, restarted, is back in rotation (${p.back_in_rotation_ms} ms after its restart)`);
  }
  finish(out);
}

// --- d. PostgreSQL restart under load -------------------------------------------------------------
function readyzLog(path) {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [t, code] = l.trim().split(/\s+/);
    return { t: Number(t), code: Number(code) };
  });
}

function analyzePg(loadPath, timesPath, aPath, bPath) {
  const load = readJson(loadPath);
  const times = readJson(timesPath);
  const probes = { a: readyzLog(aPath), b: readyzLog(bPath) };
  const inst = {};
  for (const [name, samples] of Object.entries(probes)) {
    const during = samples.filter((s) => s.t >= times.stopped && s.t <= times.start_begin);
    const first503 = samples.find((s) => s.t >= times.stop_begin && s.code === 503);
    const ready = samples.find((s) => s.t >= times.started && s.code === 200);
    inst[name] = {
      readyz_during_outage: during.length,
      answered_503: during.filter((s) => s.code === 503).length,
      // An answer just after the stop may come from a check that began before it.
      answered_200: during.filter((s) => s.code === 200 && s.t > times.stopped + 500).length,
      other: during.filter((s) => s.code !== 503 && s.code !== 200).map((s) => s.code),
      not_ready_after_stop_ms: first503 ? first503.t - times.stop_begin : null,
      ready_after_start_ms: ready ? ready.t - times.started : null,
      pid_unchanged: times.pids_before[name] === times.pids_after[name],
    };
  }
  const bothDown = ['a', 'b'].map((s) => firstEvent(load, s, 'DOWN', times.stop_begin));
  const bothUp = ['a', 'b'].map((s) => firstEvent(load, s, 'UP', times.started));
  const lbDownAt = bothDown.every(Boolean) ? Math.max(...bothDown.map((e) => e.t)) : null;
  const lbUpAt = bothUp.every(Boolean) ? Math.max(...bothUp.map((e) => e.t)) : null;
  const readyAt = Math.max(...Object.values(inst).map((i) => (i.ready_after_start_ms ?? Infinity) + times.started));
  const recovered = Math.max(lbUpAt ?? Infinity, readyAt);
  const before = load.failure_times.filter(([due]) => due < times.stop_begin).length;
  const after = Number.isFinite(recovered) ? load.failure_times.filter(([due]) => due >= recovered).length : null;
  const out = {
    step: 'pg_restart', outage_ms: times.start_begin - times.stop_begin, pg_start_ms: times.started - times.start_begin,
    instances: inst,
    lb_all_down_after_stop_ms: lbDownAt != null ? lbDownAt - times.stop_begin : null,
    lb_all_up_after_start_ms: lbUpAt != null ? lbUpAt - times.started : null,
    recovery_ms: Number.isFinite(recovered) ? recovered - times.started : null,
    load: {
      rate: load.rate, sent: load.sent, ok: load.ok, failed: load.failed,
      failed_before_restart: before, failed_during_outage: load.failed - before - (after ?? 0), failed_after_recovery: after,
      status_counts: load.status_counts, served_by: load.served_by,
    },
    lb: load.lb?.counters ?? null,
  };
  for (const [name, i] of Object.entries(inst)) {
    check(i.answered_503 >= 1, `${name} answered /readyz 503 while PostgreSQL was down (${i.answered_503} of ${i.readyz_during_outage})`);
    check(i.answered_200 === 0, `${name} never answered /readyz 200 while PostgreSQL was down`, i.answered_200);
    check(i.ready_after_start_ms != null, `${name} answered /readyz 200 again after PostgreSQL came back (${i.ready_after_start_ms} ms)`);
    check(i.pid_unchanged, `${name} recovered without a restart of its own (same process)`);
  }
  check(lbDownAt != null && lbUpAt != null, 'HAProxy took both instances out during the outage and back after it', { down: out.lb_all_down_after_stop_ms, up: out.lb_all_up_after_start_ms });
  check(before === 0, 'no request failed before PostgreSQL stopped', before);
  check(after === 0, 'no request failed once both instances were back in rotation', after);
  finish(out);
}

// --- e. kill -9 during ingestion ------------------------------------------------------------------
function analyzeIngest(loadPath, countsPath, eventsPath) {
  const load = readJson(loadPath);
  const db = readJson(countsPath);
  if (!db?.billing || !db?.audit) die(`the database counts are missing (${countsPath})`);
  const events = readJson(eventsPath);
  const out = { step: 'ingest', kill_at_s: round((events.kill - load.start) / 1000, 2), restart_to_ready_ms: events.ready - events.restart, audit_verify: db.audit_verify };
  for (const kind of ['billing', 'audit']) {
    const f = load[kind], d = db[kind];
    out[kind] = {
      batches: f.batches, events_sent: f.events_sent, acknowledged: f.acknowledged,
      acknowledged_before_kill: f.acknowledged_by_mark[0], acknowledged_after_kill: f.acknowledged_by_mark.slice(1).reduce((a, b) => a + b, 0),
      stored_of_acknowledged: d.stored_of_acknowledged, rows_of_run: d.rows, distinct_ids_stored: d.distinct,
      lost: d.acknowledged_distinct - d.stored_of_acknowledged,
      stored_without_acknowledgement: d.rows - d.stored_of_acknowledged,
      failed_attempts: f.failed_attempts, retried_batches: f.retried_batches,
      committed_in_flight_then_acknowledged_as_duplicate: f.duplicates_on_retry,
      gave_up_batches: f.gave_up_batches, conflicts: f.conflicts, failure_kinds: f.failure_kinds,
    };
    const o = out[kind];
    check(f.acknowledged > 0 && d.acknowledged_distinct === f.acknowledged, `${kind}: ${f.acknowledged} events acknowledged, each once`);
    check(o.lost === 0, `${kind}: every acknowledged event is stored (${d.stored_of_acknowledged} of ${d.acknowledged_distinct})`);
    check(d.rows === d.distinct, `${kind}: no event stored twice (${d.rows} rows, ${d.distinct} ids)`);
    check(f.gave_up_batches === 0 && f.conflicts === 0, `${kind}: every batch answered in the end, no conflict`, { gave_up: f.gave_up_batches, conflicts: f.conflicts });
  }
  const before = out.billing.acknowledged_before_kill + out.audit.acknowledged_before_kill;
  const after = out.billing.acknowledged_after_kill + out.audit.acknowledged_after_kill;
  check(before > 0 && after > 0, `the kill fell during the ingestion (${before} events acknowledged before it, ${after} after)`);
  check(db.audit_verify === 'intact', 'gatehouse audit verify: the trail is intact after the kill', db.audit_verify);
  out.served_by = load.served_by;
  out.batch_latency_ms = load.batch_latency_ms;
  finish(out);
}

// --- summary ----------------------------------------------------------------------------------
function summary() {
  const dir = env('HA_RESULTS');
  const results = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    try { results[f.replace(/\.json$/, '')] = readJson(`${dir}/${f}`); } catch { /* partial */ }
  }
  const all = Object.values(results).flatMap((r) => r.checks ?? []);
  const passed = (r) => (r ? r.checks.every((c) => c.ok) : null);
  const p = results.propagation, after = results['propagation-after-pg'];
  const kill = results.kill, pg = results.pg_restart, ing = results.ingest;
  const ds = results.downstream, ro = results.mail_readonly;
  const kinds = ['revocation', 'suspension', 'flag'];
  const maxOf = (xs) => { const v = xs.filter((x) => x != null); return v.length ? Math.max(...v) : null; };
  const started = Number(process.env.HA_STARTED ?? NaN);
  const out = {
    seconds: Number.isFinite(started) ? round((Date.now() - started) / 1000) : null,
    checks_passed: all.filter((c) => c.ok).length,
    checks_failed: all.filter((c) => !c.ok).length,
    session_across_instances: passed(results.session),
    propagation_ms: p ? {
      ...Object.fromEntries(kinds.map((k) => [k, p[k].ms])),
      p50: Object.fromEntries(kinds.map((k) => [k, p[k].p50_ms])),
      max: maxOf(kinds.map((k) => p[k].max_ms)),
      suspension_detail: { token_refused_ms: p.suspension.token_refused_ms, issuing_refused_ms: p.suspension.issuing_refused_ms, reactivation_ms: p.suspension.reactivation_ms },
      poll_interval_ms: p.poll_interval_ms, target_ms: TARGET_MS,
    } : null,
    propagation_after_pg_restart_ms: after ? Object.fromEntries(kinds.map((k) => [k, after[k].ms])) : null,
    failover: kill ? {
      failover_ms: kill.kills.map((k) => k.failover_ms),
      error_window_ms: kill.kills.map((k) => k.error_window_ms),
      back_in_rotation_ms: kill.kills.map((k) => k.back_in_rotation_ms),
      max_latency_ms_around_kill: kill.kills.map((k) => k.max_latency_ms_around_kill),
      rate: kill.rate, seconds: kill.seconds, sent: kill.sent, failed: kill.failed, error_rate: kill.error_rate,
      in_flight_bound: kill.in_flight_bound, latency_ms: kill.latency_ms, served_by: kill.served_by,
      lb_retries: kill.lb?.backend?.retries ?? null, lb_redispatches: kill.lb?.backend?.redispatches ?? null,
    } : null,
    pg_restart: pg ? {
      outage_ms: pg.outage_ms,
      readyz_503_during_outage: { a: pg.instances.a.answered_503, b: pg.instances.b.answered_503 },
      readyz_200_during_outage: { a: pg.instances.a.answered_200, b: pg.instances.b.answered_200 },
      ready_after_start_ms: { a: pg.instances.a.ready_after_start_ms, b: pg.instances.b.ready_after_start_ms },
      back_in_rotation_after_start_ms: pg.lb_all_up_after_start_ms, recovery_ms: pg.recovery_ms,
      sent: pg.load.sent, failed_during_outage: pg.load.failed_during_outage, failed_after_recovery: pg.load.failed_after_recovery,
      same_processes: pg.instances.a.pid_unchanged && pg.instances.b.pid_unchanged,
    } : null,
    ingest_kill: ing ? {
      ...Object.fromEntries(['billing', 'audit'].map((k) => [k, {
        acknowledged: ing[k].acknowledged, stored: ing[k].stored_of_acknowledged, lost: ing[k].lost,
        stored_twice: ing[k].rows_of_run - ing[k].distinct_ids_stored, failed_attempts: ing[k].failed_attempts,
        acknowledged_as_duplicate_on_retry: ing[k].committed_in_flight_then_acknowledged_as_duplicate,
      }])),
      audit_verify: ing.audit_verify,
    } : null,
    receivers_down: ds ? {
      down_ms: ds.down_ms, invited_while_down: ds.invited_while_down,
      mail: { waited: ds.while_down.mail.pending, attempts_spent: ds.while_down.mail.attempts_spent, received: ds.mail.received, distinct: ds.mail.distinct, all_delivered_after_back_ms: ds.mail.all_delivered_after_back_ms },
      webhooks: { waited: ds.while_down.webhooks.pending, failed_attempts: ds.while_down.webhook_failed_attempts, received: ds.webhooks.received, verified: ds.webhooks.verified, distinct: ds.webhooks.distinct, all_delivered_after_back_ms: ds.webhooks.all_delivered_after_back_ms },
      load: ds.load,
    } : null,
    mail_readonly: ro ? {
      method: ro.method, read_only_ms: ro.read_only_ms, waited: ro.while_read_only.pending, attempts_spent: ro.while_read_only.attempts_spent,
      error: ro.while_read_only.error, pages: ro.pages_while_read_only, files: ro.files, written_after_writable_ms: ro.written_after_writable_ms, load: ro.load,
    } : null,
    meets_target: {
      session_across_instances: passed(results.session),
      propagation_within_1s: p ? kinds.every((k) => p[k].within_target === p[k].rounds) : null,
      failures_within_in_flight: kill ? kill.failed <= kill.in_flight_bound : null,
      error_rate_below_0_1_percent: kill ? kill.error_rate < 0.001 : null,
      pg_restart_503_then_recovered: passed(pg),
      no_acknowledged_event_lost: ing ? ing.billing.lost === 0 && ing.audit.lost === 0 : null,
      receivers_down_nothing_lost: passed(ds),
      mail_readonly_reported_nothing_stopped: passed(ro),
    },
  };
  const failed = all.filter((c) => !c.ok).map((c) => c.what);
  if (failed.length) out.failed = failed;
  if (argv.full !== undefined) out.details = results;
  console.log(JSON.stringify(argv.full !== undefined ? out : { ha: out }));
}

// --- main -------------------------------------------------------------------------------------
const { command, argv, positional, need } = parseArgs(process.argv.slice(2));
switch (command) {
  case 'setup': await setup(); break;
  case 'session': await session(); break;
  case 'propagation': await propagation(); break;
  case 'analyze-kill': need(2); analyzeKill(...positional); break;
  case 'analyze-pg': need(4); analyzePg(...positional); break;
  case 'analyze-ingest': need(3); analyzeIngest(...positional); break;
  case 'summary': summary(); break;
  default: die('usage: scenario.mjs setup|session|propagation|analyze-kill|analyze-pg|analyze-ingest|summary');
}
