// The webhooks benchmark's driver (bench/webhooks/bench.sh sets it up and runs it; see
// there for what is measured). Prints one JSON object on stdout; progress on stderr.
//
// Phases:
//   webhooks  one endpoint of the bench tenant (rate_limit_per_second 1000, subscribed to
//             flag.updated) at the bench receiver; an operator's flag overrides for the
//             tenant, toggled (each a real change, so each publishes one event), offered
//             open-loop at WEBHOOK_BENCH_RATE a second for WEBHOOK_BENCH_SECONDS after a
//             warm-up: events/s, deliveries/s, and the delay from the change (the body's
//             `timestamp`) to the receiver, p50/p99.
//   mail      the baseline: invitations into the bench tenant at WEBHOOK_BENCH_MAIL_RATE a
//             second for WEBHOOK_BENCH_MAIL_SECONDS, each one mail in the outbox; how fast
//             the outbox delivers them (SMTP to end2end/support/smtp_sink.py when the server
//             has GATEHOUSE_SMTP_URL, else .eml files) and its delay, from the database.
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const log = (msg) => console.error(`bench/webhooks: ${msg}`);
const fail = (msg) => { log(msg); process.exit(1); };
const need = (k) => process.env[k] || fail(`${k} is not set (run bench/run.sh webhooks)`);
const int = (k, d, min = 1) => {
  const v = Number(process.env[k] ?? d);
  return Number.isInteger(v) && v >= min ? v : fail(`${k} must be a whole number >= ${min} (got '${process.env[k]}')`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 2) => (x == null || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

const BASE = new URL(need('BASE_URL'));
const PID = need('SERVER_PID');
const DB = need('BENCH_DATABASE_URL');
const COOKIE = need('BENCH_COOKIE');
const CLIENT_ID = need('BENCH_CLIENT_ID');
const CLIENT_SECRET = need('BENCH_CLIENT_SECRET');
const REDIRECT = need('BENCH_REDIRECT_URI');
const RECEIVER = need('BENCH_RECEIVER_URL');
const TENANT = need('BENCH_TENANT');
const TENANT_ID = need('BENCH_TENANT_ID');
const SMTP_API = process.env.SMTP_API || null;
const RATE = int('WEBHOOK_BENCH_RATE', 500);
const SECS = int('WEBHOOK_BENCH_SECONDS', 20);
const WARMUP = int('WEBHOOK_BENCH_WARMUP', 3, 0);
const KEYS = int('WEBHOOK_BENCH_KEYS', 64);
const DRAIN = int('WEBHOOK_BENCH_DRAIN_TIMEOUT', 60);
const MAIL_RATE = int('WEBHOOK_BENCH_MAIL_RATE', RATE);
const MAIL_SECS = int('WEBHOOK_BENCH_MAIL_SECONDS', 4);
const MAIL_TIMEOUT = int('WEBHOOK_BENCH_MAIL_TIMEOUT', 300);
const PHASES = (process.env.WEBHOOK_BENCH_PHASES ?? 'webhooks,mail').split(',').map((p) => p.trim());
const TICK_MS = 1000 / int('CLK_TCK', 100);
const SCOPES = 'openid admin users:write webhooks:read webhooks:write';
const TARGET_P99_MS = 1000;

/// One HTTP request to the server; the body is read whole.
function send(agent, method, path, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: BASE.hostname, port: BASE.port, path, method, agent,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const q = (sql) => execFileSync('psql', [DB, '-XqAt', '-v', 'ON_ERROR_STOP=1', '-c', sql]).toString().trim();
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] : null);
const spread = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return { p50: round(pct(s, 0.5), 1), p90: round(pct(s, 0.9), 1), p99: round(pct(s, 0.99), 1), p999: round(pct(s, 0.999), 1), max: round(s.at(-1), 1) };
};

/// utime + stime of a process, in ms.
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}
/// The machine's busy and total CPU time (all cores), in ticks.
function machineTicks() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - cpu[3] - cpu[4], total };
}
function cpuProbe() {
  const t = performance.now(), server = cpuMs(PID), machine = machineTicks();
  return () => {
    const secs = (performance.now() - t) / 1000, m = machineTicks();
    return {
      server_cores: round((cpuMs(PID) - server) / 1000 / secs, 2),
      machine_busy_share: round((m.busy - machine.busy) / Math.max(1, m.total - machine.total), 2),
    };
  };
}

// An operator's token: the authorization code flow on the session bench.sh made.
async function operatorToken() {
  const agent = new http.Agent({ keepAlive: false });
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT, scope: SCOPES, state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  });
  const auth = await send(agent, 'GET', `/authorize?${query}`, { cookie: COOKIE });
  const location = auth.headers.location ?? '';
  if (!location.startsWith(REDIRECT)) fail(`/authorize answered ${auth.status} -> ${location || auth.body.slice(0, 200)} (the bench operator's session?)`);
  const back = new URL(location);
  if (!back.searchParams.get('code') || back.searchParams.get('state') !== state) fail(`/authorize sent back ${location}`);
  const basic = Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64');
  const form = new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: verifier });
  const token = await send(agent, 'POST', '/auth/token', { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, form.toString());
  if (token.status !== 200) fail(`/auth/token answered ${token.status}: ${token.body.slice(0, 300)}`);
  agent.destroy();
  return JSON.parse(token.body).access_token;
}

const TOKEN = await operatorToken();
const setupAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const authorized = { authorization: `Bearer ${TOKEN}`, accept: 'application/json' };
async function api(method, path, body) {
  const r = await send(setupAgent, method, `/api/v1${path}`,
    body === undefined ? authorized : { ...authorized, 'content-type': 'application/json' },
    body === undefined ? undefined : JSON.stringify(body));
  let json = null;
  try { json = r.body ? JSON.parse(r.body) : null; } catch { /* kept as text */ }
  return { ...r, json };
}
const receiver = async (method, path, body) => {
  const res = await fetch(`${RECEIVER}${path}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  if (!res.ok) fail(`the receiver answered ${res.status} to ${method} ${path}`);
  return res.json();
};

/// Offers `rate` requests a second, open-loop, for `warmup` + `seconds` seconds, on `lanes`
/// lanes: request i goes to lane i % lanes, and each lane sends one at a time (a lane that
/// falls behind queues, and the lag is reported). Returns every request's times.
async function drive({ rate, seconds, warmup, lanes, request }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: lanes });
  const total = Math.round(rate * (warmup + seconds));
  const perf0 = performance.now() + 200, wall0 = Date.now() + 200;
  const from = perf0 + warmup * 1000, to = from + seconds * 1000;
  const tails = Array.from({ length: lanes }, () => Promise.resolve());
  const records = [];
  let cpu = null, cpuAt = null;
  const cpuStart = setTimeout(() => { cpu = cpuProbe(); }, Math.max(0, from - performance.now()));
  const cpuEnd = setTimeout(() => { cpuAt = cpu?.(); }, Math.max(0, to - performance.now()));
  for (let i = 0; i < total; i++) {
    const due = perf0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0.5) await sleep(wait);
    const rec = { due, start: 0, end: 0, status: 0, error: null };
    records.push(rec);
    const lane = i % lanes;
    tails[lane] = tails[lane].then(async () => {
      rec.start = performance.now();
      try {
        const r = await request(i, lane, agent);
        rec.status = r.status;
        if (r.status >= 300) rec.error = `HTTP ${r.status}: ${r.body.slice(0, 160)}`;
      } catch (e) {
        rec.error = e.message;
      }
      rec.end = performance.now();
    });
  }
  await Promise.all(tails);
  clearTimeout(cpuStart); clearTimeout(cpuEnd);
  agent.destroy();
  const wall = (t) => wall0 + (t - perf0);
  const measured = records.filter((r) => r.due >= from && r.due < to);
  const ok = measured.filter((r) => !r.error);
  const kinds = {};
  for (const r of records.filter((x) => x.error)) kinds[r.error] = (kinds[r.error] ?? 0) + 1;
  return {
    records,
    ok: records.filter((r) => !r.error).length,
    window: { from: wall(from), to: wall(to) },
    figures: {
      offered_per_s: rate,
      seconds,
      warmup_seconds: warmup,
      lanes,
      requests: measured.length,
      completed_per_s: round(records.filter((r) => !r.error && r.end >= from && r.end < to).length / seconds, 1),
      failed: records.filter((r) => r.error).length,
      ...(Object.keys(kinds).length ? { failure_kinds: kinds } : {}),
      latency_ms: spread(ok.map((r) => r.end - r.start)),
      lag_behind_schedule_ms: spread(measured.map((r) => r.start - r.due)),
      cpu: cpuAt,
    },
  };
}

const out = {
  tool: 'node http (bench/webhooks/bench.mjs), open-loop at a fixed rate; receiver bench/webhooks/receiver.mjs; server, PostgreSQL, driver, receiver and SMTP sink on the same machine',
  target: { p99_delay_ms: TARGET_P99_MS, at_events_per_s: 500 },
};

// The endpoint. Those of earlier runs go first (their receivers are gone; their deliveries
// go with them).
const old = await api('GET', `/webhooks?tenant=${TENANT}&limit=100`);
if (old.status !== 200) fail(`GET /api/v1/webhooks?tenant=${TENANT} answered ${old.status}: ${old.body.slice(0, 300)}`);
for (const e of old.json.data) await api('DELETE', `/webhooks/${e.id}?tenant=${TENANT}`);
const created = await api('POST', `/webhooks?tenant=${TENANT}`, {
  url: `${RECEIVER}/hook`, description: 'bench/webhooks', event_types: ['flag.updated'], rate_limit_per_second: 1000,
});
if (created.status !== 201) {
  fail(`registering the endpoint answered ${created.status}: ${created.body.slice(0, 300)}`
    + (created.status === 422 ? ' (the server needs GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE=true for a receiver on 127.0.0.1: bench/run.sh sets it for webhooks)' : ''));
}
const endpoint = created.json;
await receiver('POST', '/_secret', { secret: endpoint.secret });
{
  // One test event end to end first: the receiver gets it and its signature checks out.
  const test = await api('POST', `/webhooks/${endpoint.id}/test?tenant=${TENANT}`);
  if (test.status !== 202) fail(`the test event answered ${test.status}: ${test.body.slice(0, 300)}`);
  const deadline = Date.now() + 15_000;
  let stats;
  while (Date.now() < deadline && !(stats = await receiver('GET', '/stats')).deliveries) await sleep(100);
  if (!stats?.deliveries) {
    const d = await api('GET', `/webhooks/${endpoint.id}/deliveries/${test.json.id}?tenant=${TENANT}`);
    fail(`the test event did not arrive within 15 s: ${d.body.slice(0, 400)}`);
  }
  if (stats.bad_signatures) fail('the test event arrived with a signature that does not check out');
  await receiver('DELETE', '/stats');
}

// Phase 1: webhooks at RATE events/s.
if (PHASES.includes('webhooks')) {
  const keys = Array.from({ length: KEYS }, (_, i) => `webhooks_bench_${String(i).padStart(2, '0')}`);
  for (const key of keys) {
    const got = await api('GET', `/flag-definitions/${key}`);
    if (got.status === 404) {
      const made = await api('POST', '/flag-definitions', { key, description: 'bench/webhooks: overridden for the bench tenant, on and off', default_value: false });
      if (made.status !== 201 && made.status !== 409) fail(`defining ${key} answered ${made.status}: ${made.body.slice(0, 200)}`);
    } else if (got.status !== 200) {
      fail(`GET /api/v1/flag-definitions/${key} answered ${got.status}: ${got.body.slice(0, 200)}`);
    }
  }
  // Each request flips its flag's override, so every one is a change that publishes.
  const current = new Map(q(`SELECT flag_key || CASE WHEN value THEN '=t' ELSE '=f' END FROM flag_overrides WHERE tenant_id = '${TENANT_ID}' AND flag_key LIKE 'webhooks\\_bench\\_%'`)
    .split('\n').filter(Boolean).map((l) => { const [k, v] = l.split('='); return [k, v === 't']; }));
  log(`webhooks: ${RATE} flag changes/s for ${WARMUP} + ${SECS} s over ${KEYS} flags`);
  const run = await drive({
    rate: RATE, seconds: SECS, warmup: WARMUP, lanes: KEYS,
    request: async (i, lane, agent) => {
      const key = keys[lane];
      const value = current.get(key) !== true;
      const r = await send(agent, 'PUT', `/api/v1/tenants/${TENANT_ID}/flags/${key}`,
        { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, JSON.stringify({ value }));
      if (r.status === 200) current.set(key, value);
      return r;
    },
  });
  // Wait for every event the requests made to arrive (or for the drain timeout).
  const started = Date.now();
  let stats = await receiver('GET', '/stats');
  while (stats.arrived_ms.length < run.ok && Date.now() - started < DRAIN * 1000) {
    await sleep(500);
    stats = await receiver('GET', '/stats');
  }
  const { from, to } = run.window;
  const delays = [];
  let inWindow = 0;
  for (let i = 0; i < stats.arrived_ms.length; i++) {
    if (stats.arrived_ms[i] >= from && stats.arrived_ms[i] < to) inWindow++;
    const at = stats.event_ms[i];
    if (at >= from && at < to) delays.push(stats.arrived_ms[i] - at);
  }
  const db = q(`SELECT count(*) FILTER (WHERE status = 'delivered') || ' ' || count(*) FILTER (WHERE status = 'pending') || ' '
      || count(*) FILTER (WHERE status = 'failed') || ' ' || count(*) FILTER (WHERE attempts > 1) || ' '
      || coalesce(round((1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.delivered_at - d.created_at)))::numeric, 1)::text, 'null') || ' '
      || coalesce(round((1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM d.delivered_at - d.created_at)))::numeric, 1)::text, 'null')
    FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
    WHERE d.endpoint_id = '${endpoint.id}' AND ev.event_type = 'flag.updated'`).split(' ');
  const delay = spread(delays);
  out.webhooks = {
    event: 'flag.updated',
    trigger: `PUT /api/v1/tenants/{id}/flags/{key} by an operator's token, ${KEYS} flags of the bench tenant toggled in turn (each a change, one event each)`,
    endpoint: { rate_limit_per_second: 1000, receiver: 'answers 200 at once, then checks the signature' },
    requests: run.figures,
    events_triggered: run.ok,
    events_published_in_window: delays.length,
    events_per_s: round(delays.length / SECS, 1),
    deliveries_per_s: round(inWindow / SECS, 1),
    delivered: stats.arrived_ms.length,
    undelivered_after_drain: Math.max(0, run.ok - stats.arrived_ms.length),
    drain_seconds: round((Date.now() - started) / 1000, 1),
    duplicates: stats.duplicates,
    bad_signatures: stats.bad_signatures,
    other_types: Object.fromEntries(Object.entries(stats.types).filter(([t]) => t !== 'flag.updated')),
    delay_ms: delay,
    db: {
      delivered: Number(db[0]), pending: Number(db[1]), failed: Number(db[2]), retried: Number(db[3]),
      delay_ms: { p50: db[4] === 'null' ? null : Number(db[4]), p99: db[5] === 'null' ? null : Number(db[5]) },
    },
  };
  out.target_met = delay.p99 !== null && delay.p99 < TARGET_P99_MS && delays.length / SECS >= 0.95 * 500
    && out.webhooks.undelivered_after_drain === 0;
  log(`webhooks: ${out.webhooks.events_per_s} events/s, ${out.webhooks.deliveries_per_s} deliveries/s, delay p50 ${delay.p50} ms, p99 ${delay.p99} ms`);
}
await api('DELETE', `/webhooks/${endpoint.id}?tenant=${TENANT}`);

// Phase 2: the mail outbox, the baseline.
if (PHASES.includes('mail')) {
  const run = randomBytes(3).toString('hex');
  const prefix = `wb-${run}-`;
  log(`mail: ${MAIL_RATE} invitations/s for ${MAIL_SECS} s (${prefix}N@${TENANT}.test)`);
  const invites = await drive({
    rate: MAIL_RATE, seconds: MAIL_SECS, warmup: 0, lanes: Math.min(KEYS, 64),
    request: (i, lane, agent) => send(agent, 'POST', `/api/v1/users?tenant=${TENANT}`,
      { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, JSON.stringify({ email: `${prefix}${i}@${TENANT}.test` })),
  });
  const started = Date.now();
  const where = `to_address LIKE '${prefix}%'`;
  let counts;
  for (;;) {
    const [sent, pending, failed] = q(`SELECT count(*) FILTER (WHERE status = 'sent') || ' ' || count(*) FILTER (WHERE status = 'pending')
        || ' ' || count(*) FILTER (WHERE status = 'failed') FROM email_outbox WHERE ${where}`).split(' ').map(Number);
    counts = { sent, pending, failed };
    if (pending === 0 && sent + failed >= invites.ok) break;
    if (Date.now() - started > MAIL_TIMEOUT * 1000) { log(`mail: ${pending} mails still pending after ${MAIL_TIMEOUT} s`); break; }
    await sleep(1000);
  }
  const [n, first, last, p50, p99] = q(`SELECT count(*) || ' ' || coalesce(extract(epoch FROM min(sent_at))::text, 'null') || ' '
      || coalesce(extract(epoch FROM max(sent_at))::text, 'null') || ' '
      || coalesce((1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)))::text, 'null') || ' '
      || coalesce((1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)))::text, 'null')
    FROM email_outbox WHERE ${where} AND status = 'sent'`).split(' ');
  let sink = null;
  if (SMTP_API) {
    const all = await (await fetch(`${SMTP_API}/messages`)).json();
    sink = all.filter((m) => (m.to ?? []).some((t) => String(t).startsWith(prefix))).length;
  }
  const sent = Number(n);
  const span = Number(last) - Number(first);
  out.mail_baseline = {
    transport: SMTP_API ? 'SMTP to end2end/support/smtp_sink.py (aiosmtpd) on loopback' : '.eml files in the data directory (GATEHOUSE_SMTP_URL unset)',
    trigger: 'POST /api/v1/users?tenant=... (an invitation: one mail in the outbox, in the same transaction)',
    requests: invites.figures,
    invitations: invites.ok,
    mails_sent: sent,
    mails_pending: counts.pending,
    mails_failed: counts.failed,
    ...(sink === null ? {} : { mails_at_sink: sink }),
    mails_per_s: sent > 1 && span > 0 ? round((sent - 1) / span, 1) : null,
    drain_seconds: round((Date.now() - started) / 1000, 1),
    db_delay_ms: { p50: p50 === 'null' ? null : round(Number(p50), 1), p99: p99 === 'null' ? null : round(Number(p99), 1) },
  };
  log(`mail: ${out.mail_baseline.mails_per_s} mails/s, delay p50 ${out.mail_baseline.db_delay_ms.p50} ms, p99 ${out.mail_baseline.db_delay_ms.p99} ms`);
}

if (out.webhooks && out.mail_baseline?.mails_per_s) {
  out.deliveries_vs_mails = round(out.webhooks.deliveries_per_s / out.mail_baseline.mails_per_s, 2);
}
out.notes = 'delay_ms: the receiver\'s clock at arrival minus the body\'s `timestamp` (taken when the change is written, just before its commit; one clock, one machine), for the events published in the measured window. db.delay_ms and mail_baseline.db_delay_ms: delivered_at/sent_at minus the row\'s created_at (both the server\'s database clock; created_at is the start of the writing transaction), the like-for-like comparison of the two outboxes. deliveries_per_s: first deliveries arriving during the measured window, per second; mails_per_s: mails the outbox sent, per second from its first to its last.';
setupAgent.destroy();
console.log(JSON.stringify(out));
