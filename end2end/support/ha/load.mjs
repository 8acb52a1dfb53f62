// The load generator of the high-availability test and benchmark (scripts/ha_test.sh,
// bench/ha/bench.sh). No dependencies: node:http with a keep-alive agent, so each of
// --connections is one real TCP connection to the load balancer.
//
//   node load.mjs steady --plan PLAN.json --rate R [--seconds S] [--connections C]
//                        [--stats URL] [--backend NAME] [--timeout MS] [--ready FILE]
//       Open loop: request i is due at start + i/R and is sent then (or as soon as a
//       connection is free: its latency counts from when it was due, so queueing shows).
//       PLAN.json: {"base": "http://host:port", "requests": [{"name", "method", "path",
//       "headers", "body"}]}, used in turn. A request succeeds on 2xx or 304; anything else
//       (another status, a reset, a cut answer, no answer within --timeout) is a failure:
//       all of them in `failure_times` ([due, done] pairs), the first 500 described in `failures`.
//       --stats: HAProxy's stats page (…/stats;csv), read every 50 ms: each server's state
//       changes (UP, DOWN, ...) with their times, and the retry counters at the end.
//   node load.mjs ingest --plan PLAN.json [--seconds S] [--connections C] [--batch N]
//                        [--rate BATCHES_PER_S] [--acks DIR] [--grace S] [--ready FILE]
//       C workers post batches of N events, billing (/api/v1/billing/events) and audit
//       (/api/v1/audit-logs) in turn, ids `{run}-b-…` / `{run}-a-…`, at most --rate batches a
//       second in all. PLAN.json: {"base", "token" (bill:write log:write), "run"}. A batch
//       that fails is sent again, the same bytes, every 100 ms until it is answered or
//       --grace seconds after the end (ids make this safe: a stored event answers
//       `duplicate`). Every event of a 2xx answer is acknowledged: its id goes to
//       DIR/billing.txt or DIR/audit.txt (one a line); ids never acknowledged to
//       DIR/unacknowledged-*.txt.
//
// Both modes: SIGUSR2 records a mark (time, requests in flight) — the test sends one just
// before it kills an instance; SIGTERM (or --seconds) ends the run: no new requests, those
// in flight are awaited. Times are epoch milliseconds (as `date +%s%3N`). One JSON object
// on stdout; progress and problems on stderr. No token, secret or body is ever printed.
import http from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const log = (msg) => console.error(`ha/load: ${msg}`);
const fail = (msg) => { log(msg); process.exit(2); };

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) {
      const key = argv[i].slice(2);
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) out[key] = true;
      else { out[key] = next; i++; }
    } else out._.push(argv[i]);
  }
  return out;
}
const args = parseArgs(process.argv.slice(2));
const num = (key, dflt, min = 0) => {
  const v = Number(args[key] ?? dflt);
  return Number.isFinite(v) && v >= min ? v : fail(`--${key} must be a number >= ${min} (got '${args[key]}')`);
};
const mode = args._[0];
if (!['steady', 'ingest'].includes(mode)) fail('usage: load.mjs steady|ingest --plan PLAN.json [options] (see the header)');
const plan = JSON.parse(readFileSync(args.plan || fail('--plan is required'), 'utf8'));
const BASE = new URL(plan.base || fail('the plan has no base'));

// Epoch milliseconds from a monotonic clock (so intervals never jump with the wall clock).
const EPOCH0 = Date.now(), PERF0 = performance.now();
const now = () => EPOCH0 + (performance.now() - PERF0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 1) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
/// Nearest-rank percentile of an ascending array.
const pct = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : null);
const spread = (values) => {
  const s = Float64Array.from(values).sort();
  return { p50: round(pct(s, 0.5)), p90: round(pct(s, 0.9)), p99: round(pct(s, 0.99)), max: round(s.length ? s[s.length - 1] : null) };
};

let stopping = false;
let inFlight = 0, maxInFlight = 0;
const marks = [];
process.on('SIGUSR2', () => {
  marks.push({ t: Math.round(now()), in_flight: inFlight });
  log(`mark ${marks.length}: ${inFlight} requests in flight`);
});
process.on('SIGTERM', () => { stopping = true; });
process.on('SIGINT', () => { stopping = true; });

/// One request; resolves with {status, body?, instance} or {error}. Never rejects.
function send(agent, { method, path, headers = {}, body }, { keepBody = false, timeout = 15000 } = {}) {
  return new Promise((resolve) => {
    const h = { ...headers };
    if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
    let settled = false;
    const done = (v) => { if (!settled) { settled = true; resolve(v); } };
    const req = http.request({ host: BASE.hostname, port: BASE.port, path, method, agent, headers: h }, (res) => {
      const chunks = [];
      res.on('data', (c) => { if (keepBody) chunks.push(c); });
      res.on('end', () => done({
        status: res.statusCode,
        instance: res.headers['x-gatehouse-instance'] ?? null,
        body: keepBody ? Buffer.concat(chunks).toString('utf8') : undefined,
      }));
      res.on('close', () => { if (!res.complete) done({ error: 'answer cut off' }); });
      res.on('error', (e) => done({ error: e.code || e.message }));
    });
    req.setTimeout(timeout, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => done({ error: e.code || e.message }));
    req.end(body);
  });
}

// --- HAProxy's stats page -------------------------------------------------------------------
function statsWatcher(url, backend) {
  if (!url) return { stop: async () => null, events: [] };
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: false });
  const events = [];
  const last = new Map();
  let busy = false, latest = null, polls = 0, errors = 0;
  const read = () => new Promise((resolve) => {
    const req = http.get({ host: target.hostname, port: target.port, path: target.pathname + target.search, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve(res.statusCode === 200 ? text : null));
      res.on('error', () => resolve(null));
    });
    req.setTimeout(1000, () => req.destroy());
    req.on('error', () => resolve(null));
  });
  const parse = (text) => {
    const lines = text.split('\n').filter(Boolean);
    const cols = lines[0].replace(/^#\s*/, '').split(',');
    return lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])))
      .filter((r) => r.pxname === backend);
  };
  const poll = async () => {
    if (busy) return;
    busy = true;
    const t = Math.round(now());
    const text = await read();
    busy = false;
    polls++;
    if (!text) { errors++; return; }
    const rows = parse(text);
    latest = rows;
    for (const r of rows) {
      if (r.svname === 'FRONTEND') continue;
      if (last.get(r.svname) !== r.status) {
        last.set(r.svname, r.status);
        events.push({ t, server: r.svname === 'BACKEND' ? 'backend' : r.svname, status: r.status });
      }
    }
  };
  const timer = setInterval(poll, 50);
  poll();
  return {
    events,
    async stop() {
      clearInterval(timer);
      while (busy) await sleep(10);
      await poll();
      const counters = {};
      for (const r of latest ?? []) {
        if (r.svname === 'FRONTEND') continue;
        const n = (k) => (r[k] === '' || r[k] === undefined ? null : Number(r[k]));
        counters[r.svname === 'BACKEND' ? 'backend' : r.svname] = {
          status: r.status, requests: n('stot'), connection_errors: n('econ'), response_errors: n('eresp'),
          retries: n('wretr'), redispatches: n('wredis'), http_5xx: n('hrsp_5xx'),
          failed_checks: n('chkfail'), went_down: n('chkdown'), downtime_s: n('downtime'),
        };
      }
      agent.destroy();
      return { polls, poll_errors: errors, counters };
    },
  };
}

function ready() {
  if (args.ready) writeFileSync(args.ready, `${Math.round(now())}\n`);
}

// --- steady ---------------------------------------------------------------------------------
async function steady() {
  const rate = num('rate', 200, 0.001), seconds = num('seconds', 10, 0.1);
  const connections = num('connections', 32, 1), timeout = num('timeout', 15000, 1);
  const requests = plan.requests;
  if (!Array.isArray(requests) || !requests.length) fail('the plan has no requests');
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const stats = statsWatcher(args.stats, args.backend || 'gatehouse');
  const interval = 1000 / rate;
  const start = Math.round(now()) + 50;
  let end = start + seconds * 1000;
  let sent = 0, ok = 0, failed = 0;
  const latencies = [], failures = [], failureTimes = [], statusCounts = {}, errorCounts = {}, servedBy = {}, perName = {}, perSecond = [];
  let pending = 0;
  const fire = (i, due) => {
    const r = requests[i % requests.length];
    const name = r.name ?? `${r.method} ${r.path.split('?')[0]}`;
    const p = (perName[name] ??= { sent: 0, ok: 0, failed: 0 });
    const s = (perSecond[Math.floor((due - start) / 1000)] ??= { sent: 0, ok: 0, failed: 0, max_ms: 0 });
    sent++; p.sent++; s.sent++;
    inFlight++; pending++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    send(agent, r, { timeout }).then((res) => {
      inFlight--; pending--;
      const t = now();
      const ms = t - due;
      latencies.push(ms);
      if (ms > s.max_ms) s.max_ms = round(ms);
      if (res.instance) servedBy[res.instance] = (servedBy[res.instance] ?? 0) + 1;
      const good = res.status !== undefined && ((res.status >= 200 && res.status < 300) || res.status === 304);
      if (res.status !== undefined) statusCounts[res.status] = (statusCounts[res.status] ?? 0) + 1;
      else errorCounts[res.error] = (errorCounts[res.error] ?? 0) + 1;
      if (good) { ok++; p.ok++; s.ok++; return; }
      failed++; p.failed++; s.failed++;
      failureTimes.push([Math.round(due), Math.round(t)]);
      if (failures.length < 500) {
        failures.push({ due: Math.round(due), done: Math.round(t), name, ...(res.status !== undefined ? { status: res.status } : { error: res.error }), instance: res.instance });
      }
      if (failed <= 5) log(`${name}: ${res.status ?? res.error} (${round(ms)} ms)`);
    });
  };
  ready();
  log(`steady: ${rate}/s over ${connections} connections to ${BASE.host} for up to ${seconds} s`);
  let i = 0;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      if (stopping) end = Math.min(end, now());
      const t = now();
      while (start + i * interval <= t && start + i * interval < end) { fire(i, start + i * interval); i++; }
      if (t >= end) { clearInterval(timer); resolve(); }
    }, 1);
  });
  const stoppedAt = now();
  while (pending > 0 && now() - stoppedAt < timeout + 5000) await sleep(10);
  const lb = await stats.stop();
  agent.destroy();
  const actual = (Math.min(end, stoppedAt) - start) / 1000;
  console.log(JSON.stringify({
    mode: 'steady', base: BASE.origin, rate, connections, start, end: Math.round(Math.min(end, stoppedAt)),
    seconds: round(actual, 2), sent, ok, failed, unanswered: pending,
    offered_per_s: round(sent / actual), error_rate: sent ? failed / sent : null,
    status_counts: statusCounts, error_counts: errorCounts, served_by: servedBy, per_request: perName,
    latency_ms: spread(latencies), max_in_flight: maxInFlight, marks,
    failures, failure_times: failureTimes, per_second: Array.from(perSecond, (s, k) => ({ second: k, ...(s ?? { sent: 0, ok: 0, failed: 0, max_ms: 0 }) })),
    lb_events: stats.events, lb: lb,
  }));
}

// --- ingest ---------------------------------------------------------------------------------
function billingEvent(id, w, at) {
  return { id, timestamp: at, event_type: 'ha.request', quantity: 1, metadata: { worker: String(w) } };
}
function auditEvent(id, w, at) {
  return {
    id, occurred_at: at, actor: { id: `ha-worker-${w}`, type: 'user', name: `HA worker ${w}` },
    action: 'ha.ingest', resource: { id, type: 'document' }, outcome: 'success',
    ip_address: '203.0.113.7', user_agent: 'gatehouse-ha-load',
  };
}

async function ingest() {
  const seconds = num('seconds', 10, 0.1), workers = num('connections', 4, 1), size = num('batch', 10, 1);
  const rate = num('rate', 0, 0), grace = num('grace', 20, 0), timeout = num('timeout', 15000, 1);
  const acks = args.acks || null;
  const token = plan.token || fail('the plan has no token');
  const run = plan.run || fail('the plan has no run');
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers, maxFreeSockets: workers });
  const kinds = {
    billing: { path: '/api/v1/billing/events', make: billingEvent, letter: 'b' },
    audit: { path: '/api/v1/audit-logs', make: auditEvent, letter: 'a' },
  };
  const fig = {};
  for (const k of Object.keys(kinds)) {
    fig[k] = {
      batches: 0, events_sent: 0, acknowledged: 0, accepted: 0, duplicates: 0, conflicts: 0,
      failed_attempts: 0, retried_batches: 0, duplicates_on_retry: 0, gave_up_batches: 0,
      acknowledged_by_mark: [], failure_kinds: {},
    };
  }
  const acked = { billing: [], audit: [] }, unacked = { billing: [], audit: [] };
  const failures = [], servedBy = {}, latencies = [];
  const start = Math.round(now());
  let end = start + seconds * 1000;
  let nextSlot = start;
  const slot = async () => { // at most `rate` batches a second in all (0: as fast as answered)
    if (!rate) return;
    const mine = Math.max(nextSlot, now());
    nextSlot = mine + 1000 / rate;
    const wait = mine - now();
    if (wait > 0) await sleep(wait);
  };
  const markIndex = (t) => marks.filter((m) => m.t <= t).length; // acks before the first mark: 0
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  ready();
  log(`ingest: ${workers} workers, batches of ${size}${rate ? `, ${rate} batches/s` : ''}, up to ${seconds} s`);
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    for (let n = 0; ; n++) {
      await slot();
      if (stopping) end = Math.min(end, now());
      if (now() >= end) break;
      const kind = (w + n) % 2 === 0 ? 'billing' : 'audit';
      const k = kinds[kind], f = fig[kind];
      const at = new Date().toISOString();
      const ids = Array.from({ length: size }, (_, j) => `${run}-${k.letter}-${w}-${n}-${j}`);
      const body = JSON.stringify({ events: ids.map((id) => k.make(id, w, at)) });
      f.batches++; f.events_sent += size;
      for (let attempt = 1; ; attempt++) {
        const sentAt = now();
        inFlight++; if (inFlight > maxInFlight) maxInFlight = inFlight;
        const res = await send(agent, { method: 'POST', path: k.path, headers, body }, { keepBody: true, timeout });
        inFlight--;
        const t = now();
        if (res.instance) servedBy[res.instance] = (servedBy[res.instance] ?? 0) + 1;
        if (res.status === 200 || res.status === 201) {
          latencies.push(t - sentAt);
          let answer;
          try { answer = JSON.parse(res.body); } catch { answer = null; }
          const data = Array.isArray(answer?.data) ? answer.data : [];
          const m = markIndex(t);
          for (const d of data) {
            if (d.status === 'conflict') { f.conflicts++; continue; }
            if (d.status !== 'accepted' && d.status !== 'duplicate') continue;
            acked[kind].push(d.id);
            f.acknowledged++;
            f.acknowledged_by_mark[m] = (f.acknowledged_by_mark[m] ?? 0) + 1;
            if (d.status === 'accepted') f.accepted++;
            else { f.duplicates++; if (attempt > 1) f.duplicates_on_retry++; }
          }
          if (data.length !== size) log(`${kind}: an answer named ${data.length} of ${size} events`);
          if (attempt > 1) f.retried_batches++;
          break;
        }
        f.failed_attempts++;
        const what = res.status !== undefined ? `HTTP ${res.status}` : res.error;
        f.failure_kinds[what] = (f.failure_kinds[what] ?? 0) + 1;
        if (failures.length < 500) failures.push({ t: Math.round(sentAt), done: Math.round(t), kind, attempt, what, instance: res.instance });
        if (f.failed_attempts <= 3) log(`${kind}: ${what} (attempt ${attempt}; sent again)`);
        // A refusal other than "try again" will not change: do not hammer it.
        const permanent = res.status !== undefined && res.status >= 400 && res.status < 500 && ![408, 429].includes(res.status);
        if (permanent || now() > end + grace * 1000) {
          f.gave_up_batches++;
          unacked[kind].push(...ids);
          break;
        }
        await sleep(res.status === 429 ? 1000 : 100);
      }
    }
  }));
  agent.destroy();
  if (acks) {
    mkdirSync(acks, { recursive: true });
    for (const kind of Object.keys(kinds)) {
      writeFileSync(`${acks}/${kind}.txt`, acked[kind].length ? `${acked[kind].join('\n')}\n` : '');
      writeFileSync(`${acks}/unacknowledged-${kind}.txt`, unacked[kind].length ? `${unacked[kind].join('\n')}\n` : '');
    }
  }
  for (const kind of Object.keys(kinds)) {
    const a = fig[kind].acknowledged_by_mark;
    fig[kind].acknowledged_by_mark = Array.from({ length: marks.length + 1 }, (_, i) => a[i] ?? 0);
  }
  console.log(JSON.stringify({
    mode: 'ingest', base: BASE.origin, run, workers, batch: size, rate_batches_per_s: rate || null,
    start, end: Math.round(Math.min(end, now())), ...fig, served_by: servedBy,
    batch_latency_ms: spread(latencies), max_in_flight: maxInFlight, marks, failures,
  }));
}

if (mode === 'steady') await steady();
else await ingest();
