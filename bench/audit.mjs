// The client side of bench/audit.sh (run it through bench/run.sh audit). No dependencies:
// node:http with keep-alive agents, so each "connection" is one real TCP connection and
// each timing is one request, from its first byte sent to its last byte read.
//
//   node bench/audit.mjs ingest
//       AUDIT_BENCH_CONNECTIONS (16) loops, each posting {"events": [AUDIT_BENCH_BATCH (100)
//       events]} to /api/v1/audit-logs with its application token (AUDIT_TOKENS, comma
//       separated; connection i uses token i mod n) for AUDIT_BENCH_WARMUP (2) s unmeasured,
//       then AUDIT_BENCH_SECONDS (20) s measured. Figure: events accepted by responses that
//       completed inside the measured window, divided by the window; batch latencies; 429s;
//       CPU of the server process, of this client and of the whole machine in the window.
//   node bench/audit.mjs copy-rows FILE ROWS SEQ0 APPLICATION_ID TENANT_ID
//       Writes ROWS audit_log rows as CSV for psql \copy: the same events as `ingest` sends,
//       in the form the server stores them (metadata {actor, ip, user_agent, data, event_id},
//       resource "type:id", source/actor_type application, a request id per 100 events,
//       random 32-byte hashes), seqs SEQ0.. (below the chain), recorded now.
//   node bench/audit.mjs export QUERY EXPECTED_ROWS
//       GET /audit/export.csv?QUERY with the auditor's cookie (AUDIT_COOKIE), reading the body
//       as fast as it comes and only counting it; the server's VmRSS is sampled every 100 ms
//       (and its VmHWM reset before and read after, where the kernel allows) meanwhile.
//   node bench/audit.mjs search QUERIES_JSON
//       {"warmup": W, "filters": {name: [query string, ...]}}: round r sends query r of every
//       filter in turn to /_rpc/audit_search, one at a time (latency, not throughput); the
//       first W rounds are not counted. Figures per filter: p50/p95/max ms, entries found.
// Each mode prints one JSON object on stdout; progress and problems go to stderr.
import http from 'node:http';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const log = (msg) => console.error(`bench/audit: ${msg}`);
const fail = (msg) => { log(msg); process.exit(1); };
const need = (k) => process.env[k] || fail(`${k} is not set (run bench/run.sh audit)`);
const num = (k, d) => {
  const v = Number(process.env[k] ?? d);
  return Number.isFinite(v) && v > 0 ? v : fail(`${k} must be a positive number`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 2) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
/// Nearest-rank percentile of an ascending array.
const pct = (sorted, q) => (sorted.length ? sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] : null);
const FORM = 'application/x-www-form-urlencoded';

// The same vocabulary as the rows bench/audit.sh seeds with SQL (its fill.sql).
const ACTIONS = [
  'auth.login.success', 'user.read', 'document.download', 'document.view', 'auth.token.issue',
  'api.request', 'auth.logout', 'flag.evaluate', 'document.upload', 'user.update',
  'auth.login.failure', 'session.refresh', 'report.export', 'invoice.view', 'auth.mfa.verify',
  'billing.usage.record', 'document.share', 'user.invite', 'document.delete', 'settings.update',
  'auth.password.change', 'api_key.use', 'user.create', 'webhook.deliver', 'group.update',
  'auth.mfa.enroll', 'tenant.settings.update', 'invoice.pay', 'user.disable', 'role.assign',
  'auth.password.reset', 'sso.login.success', 'export.download', 'user.archive', 'api_key.create',
  'flag.update', 'tenant.plan.change', 'audit.search', 'audit.export', 'api_key.revoke',
];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'curl/8.5.0', 'python-requests/2.32.3', 'okhttp/4.12.0', 'Go-http-client/2.0',
];
/// 0..n-1, skewed towards 0 (p > 1): a few values are common, most are rare.
const skew = (n, p) => Math.floor(n * Math.random() ** p);
const ipOf = (k) => (k % 10 === 0 ? `2001:db8::${(k + 1).toString(16)}` : `10.${k >> 16}.${(k >> 8) & 255}.${k & 255}`);

/// One application event as API-LOG takes it.
function appEvent(id, at) {
  const k = skew(50000, 1.5);
  const action = ACTIONS[skew(ACTIONS.length, 2.5)];
  return {
    id,
    occurred_at: at,
    actor: { id: `u-${k}`, type: 'user', name: `User ${k}` },
    action,
    resource: { id: String(Math.floor(Math.random() * 200000)), type: action.split('.')[0] },
    outcome: Math.random() < 0.05 ? 'failure' : 'success',
    ip_address: ipOf(skew(20000, 2)),
    user_agent: AGENTS[Math.floor(Math.random() * AGENTS.length)],
    metadata: { bytes: Math.floor(Math.random() * 5000000), plan: 'pro' },
  };
}

function base() { return new URL(need('BASE_URL')); }

/// One request; the whole answer as text.
function send(agent, method, path, headers, body) {
  const url = base();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('close', () => { if (!res.complete) reject(new Error('the answer was cut off')); });
      res.on('error', reject);
    });
    req.setTimeout(120_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/// CPU counters: the server process (clock ticks), the machine (/proc/stat), this client.
function cpuSnapshot(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return {
    t: performance.now(),
    server: Number(f[11]) + Number(f[12]),
    total: cpu.slice(0, 8).reduce((a, b) => a + b, 0),
    idle: cpu[3] + cpu[4],
    client: process.cpuUsage(),
  };
}

function cpuBetween(a, b) {
  const secs = (b.t - a.t) / 1000;
  const tick = 1 / num('CLK_TCK', 100);
  return {
    server_process_cores: round(((b.server - a.server) * tick) / secs, 2),
    load_client_cores: round((b.client.user - a.client.user + b.client.system - a.client.system) / 1e6 / secs, 2),
    machine_busy_fraction: round(1 - (b.idle - a.idle) / Math.max(1, b.total - a.total), 3),
  };
}

// --- ingest --------------------------------------------------------------------------------
async function ingest() {
  const tokens = need('AUDIT_TOKENS').split(',').filter(Boolean);
  const conns = num('AUDIT_BENCH_CONNECTIONS', 16), size = num('AUDIT_BENCH_BATCH', 100);
  const secs = num('AUDIT_BENCH_SECONDS', 20), warm = Number(process.env.AUDIT_BENCH_WARMUP ?? 2);
  const pid = need('SERVER_PID');
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns, maxFreeSockets: conns });
  const run = randomBytes(4).toString('hex');
  const t0 = performance.now(), startAt = t0 + warm * 1000, endAt = startAt + secs * 1000;
  let events = 0, batches = 0, duplicates = 0, limited = 0, failed = 0, warmEvents = 0;
  const latencies = [], kinds = {};
  let before = null, after = null;
  const atStart = setTimeout(() => { before = cpuSnapshot(pid); }, Math.max(0, startAt - performance.now()));
  const atEnd = setTimeout(() => { after = cpuSnapshot(pid); }, Math.max(0, endAt - performance.now()));
  await Promise.all(Array.from({ length: conns }, async (_, c) => {
    const token = tokens[c % tokens.length];
    for (let n = 0; performance.now() < endAt; n++) {
      const at = new Date().toISOString();
      const list = Array.from({ length: size }, (_, j) => appEvent(`ab-${run}-${c}-${n}-${j}`, at));
      const body = JSON.stringify({ events: list });
      const sent = performance.now();
      let res;
      try {
        res = await send(agent, 'POST', '/api/v1/audit-logs', {
          authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
        }, body);
      } catch (e) {
        failed++; kinds[e.message] = (kinds[e.message] ?? 0) + 1; await sleep(50); continue;
      }
      const done = performance.now();
      if (res.status === 201 || res.status === 200) {
        const answer = JSON.parse(res.body);
        if (done >= startAt && done <= endAt) {
          events += answer.accepted; duplicates += answer.duplicates; batches++; latencies.push(done - sent);
        } else if (done < startAt) warmEvents += answer.accepted;
      } else if (res.status === 429) {
        // The events limit per key (GATEHOUSE_RATE_LIMIT_EVENTS): wait as told, and say so.
        limited++;
        await sleep(Math.min(5, Number(res.headers['retry-after'] ?? 1)) * 1000);
      } else {
        failed++;
        const kind = `HTTP ${res.status}: ${res.body.slice(0, 160)}`;
        if (!kinds[kind]) log(`ingest: ${kind}`);
        kinds[kind] = (kinds[kind] ?? 0) + 1;
        await sleep(50);
      }
    }
  }));
  clearTimeout(atStart); clearTimeout(atEnd);
  agent.destroy();
  if (!events) fail(`ingest: no event was accepted in the measured window (${failed} failures: ${JSON.stringify(kinds)})`);
  latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({
    events,
    seconds: secs,
    events_per_s: round(events / secs, 1),
    batches,
    batch_size: size,
    connections: conns,
    api_keys: tokens.length,
    warmup_seconds: warm,
    warmup_events: warmEvents,
    duplicates,
    rate_limited_requests: limited,
    failed_requests: failed,
    ...(failed ? { failure_kinds: kinds } : {}),
    batch_latency_ms: { p50: round(pct(latencies, 0.5)), p95: round(pct(latencies, 0.95)), p99: round(pct(latencies, 0.99)), max: round(latencies.at(-1)) },
    cpu: before && after ? cpuBetween(before, after) : null,
  }));
}

// --- copy-rows -----------------------------------------------------------------------------
function uuid7(ms) {
  const h = ms.toString(16).padStart(12, '0'), r = randomBytes(10).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${r.slice(0, 3)}-8${r.slice(3, 6)}-${r.slice(6, 18)}`;
}
const csvQuote = (s) => `"${s.replace(/"/g, '""')}"`;

function copyRows(file, rows, seq0, applicationId, tenantId) {
  if (!file || !(rows > 0) || !Number.isSafeInteger(seq0) || !applicationId || !tenantId) {
    fail('usage: copy-rows FILE ROWS SEQ0 APPLICATION_ID TENANT_ID');
  }
  const run = randomBytes(4).toString('hex');
  const fd = openSync(file, 'w');
  let lines = [], request = '';
  const start = Date.now();
  for (let i = 0; i < rows; i++) {
    if (i % 100 === 0) request = randomUUID(); // one request per batch of 100, as the API stores them
    const ms = start + Math.floor(i / 20);
    const at = new Date(ms).toISOString();
    const e = appEvent(`cp-${run}-${i}`, at);
    const metadata = { actor: e.actor, ip: e.ip_address, user_agent: e.user_agent, data: e.metadata, event_id: e.id };
    const hashes = randomBytes(64).toString('hex');
    lines.push([
      seq0 + i, uuid7(ms), at, at, tenantId, '' /* actor_id NULL */, 'application', e.action,
      `${e.resource.type}:${e.resource.id}`, e.outcome, csvQuote(JSON.stringify(metadata)), request,
      'application', applicationId, `\\x${hashes.slice(0, 64)}`, `\\x${hashes.slice(64)}`,
    ].join(',') + '\n');
    if (lines.length === 10000) { writeSync(fd, lines.join('')); lines = []; }
  }
  if (lines.length) writeSync(fd, lines.join(''));
  closeSync(fd);
  console.log(JSON.stringify({ rows, file }));
}

// --- export --------------------------------------------------------------------------------
/// VmRSS every 100 ms while a download runs; VmHWM reset first (echo 5 > clear_refs), where
/// the kernel lets us, so the exact peak between samples is known too.
function rssSampler(pid) {
  const read = (key) => {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : null;
  };
  let hwm = false;
  try { writeFileSync(`/proc/${pid}/clear_refs`, '5'); hwm = true; } catch { /* not allowed: samples only */ }
  const before = read('VmRSS');
  let peak = before, samples = 0;
  const timer = setInterval(() => { const v = read('VmRSS'); samples++; if (v > peak) peak = v; }, 100);
  return () => {
    clearInterval(timer);
    const after = read('VmRSS');
    peak = Math.max(peak, after);
    return { before_kb: before, sampled_peak_kb: peak, after_kb: after, samples, hwm_kb: hwm ? read('VmHWM') : null };
  };
}

/// One download, counted and dropped as it arrives.
function download(agent, path, cookie) {
  const url = base();
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    const req = http.request({ host: url.hostname, port: url.port, path, method: 'GET', agent, headers: { cookie, accept: 'text/csv' } }, (res) => {
      if (res.statusCode !== 200) {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8').slice(0, 300), retryAfter: res.headers['retry-after'] }));
        return;
      }
      let bytes = 0, crs = 0, head = '', prev = Buffer.alloc(0), last = Buffer.alloc(0);
      let first = null;
      res.on('data', (c) => {
        if (first === null) first = performance.now();
        bytes += c.length;
        // Rows end in CRLF; no cell of these rows holds a CR (the closing note's lines are LF).
        for (let i = c.indexOf(13); i !== -1; i = c.indexOf(13, i + 1)) crs++;
        if (head.length < 64) head += c.subarray(0, 64).toString('utf8');
        prev = last; last = c;
      });
      res.on('end', () => resolve({
        status: 200, bytes, crs, head, tail: Buffer.concat([prev, last]).subarray(-4096).toString('utf8'),
        seconds: (performance.now() - sent) / 1000, first_byte_ms: first === null ? null : first - sent,
      }));
      res.on('close', () => { if (!res.complete) reject(new Error('the download was cut off')); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function exportOnce(query, expected) {
  const cookie = need('AUDIT_COOKIE'), pid = need('SERVER_PID');
  const agent = new http.Agent({ keepAlive: false });
  const path = `/audit/export.csv?${query}`;
  let r, rss;
  for (let attempt = 1; ; attempt++) {
    const stop = rssSampler(pid);
    r = await download(agent, path, cookie);
    rss = stop();
    // A download that just ended may hold its place for a moment (2 per auditor).
    if (r.status !== 429 || attempt >= 20) break;
    await sleep(1000 * Math.min(5, Number(r.retryAfter ?? 1)));
  }
  if (r.status !== 200) fail(`export ${path}: HTTP ${r.status}: ${r.text}`);
  if (!r.head.startsWith('"seq","id","recorded_at"')) fail(`export ${path}: not the export's CSV: ${JSON.stringify(r.head)}`);
  const closed = r.tail.includes('"checkpoint"');
  if (!closed) log(`export ${path}: no closing checkpoint row: the download broke off`);
  const rows = r.crs - 2; // the header and the checkpoint row
  if (rows !== expected) log(`export ${path}: ${rows} rows, ${expected} expected`);
  const mb = (kb) => (kb == null ? null : round(kb / 1024, 1));
  const peak = Math.max(rss.sampled_peak_kb, rss.hwm_kb ?? 0);
  console.log(JSON.stringify({
    query,
    rows,
    expected_rows: expected,
    complete: closed && rows === expected,
    bytes: r.bytes,
    seconds: round(r.seconds, 3),
    rows_per_s: round(rows / r.seconds, 0),
    mb_per_s: round(r.bytes / 1048576 / r.seconds, 1),
    first_byte_ms: round(r.first_byte_ms, 1),
    rss_before_mb: mb(rss.before_kb),
    rss_peak_mb: mb(peak),
    rss_sampled_peak_mb: mb(rss.sampled_peak_kb),
    rss_hwm_mb: mb(rss.hwm_kb),
    rss_after_mb: mb(rss.after_kb),
    rss_samples: rss.samples,
  }));
}

// --- search --------------------------------------------------------------------------------
async function search(file) {
  const cookie = need('AUDIT_COOKIE');
  const { warmup, filters } = JSON.parse(readFileSync(file, 'utf8'));
  const names = Object.keys(filters);
  const rounds = Math.min(...names.map((n) => filters[n].length));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const origin = base().origin;
  const stats = Object.fromEntries(names.map((n) => [n, { ms: [], entries: [], failures: 0, empty: 0 }]));
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const query = filters[name][r];
      const body = `query=${encodeURIComponent(query)}`;
      const sent = performance.now();
      let res;
      try {
        res = await send(agent, 'POST', '/_rpc/audit_search', {
          origin, 'content-type': FORM, accept: 'application/json', cookie, 'content-length': Buffer.byteLength(body),
        }, body);
      } catch (e) { stats[name].failures++; log(`search ${name} (${query}): ${e.message}`); continue; }
      const ms = performance.now() - sent;
      let data = null;
      try { data = JSON.parse(res.body); } catch { /* below */ }
      if (res.status !== 200 || !data || !Array.isArray(data.entries) || data.problems?.length) {
        stats[name].failures++;
        log(`search ${name} (${query}): HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        continue;
      }
      if (r < warmup) continue;
      stats[name].ms.push(ms);
      stats[name].entries.push(data.entries.length);
      if (!data.entries.length) stats[name].empty++;
    }
    if ((r + 1) % 10 === 0) log(`search: round ${r + 1} of ${rounds}`);
  }
  agent.destroy();
  const out = {};
  for (const name of names) {
    const s = stats[name], ms = [...s.ms].sort((a, b) => a - b);
    out[name] = {
      p50_ms: round(pct(ms, 0.5)),
      p95_ms: round(pct(ms, 0.95)),
      max_ms: round(ms.at(-1)),
      searches: ms.length,
      mean_entries: round(s.entries.reduce((a, b) => a + b, 0) / Math.max(1, s.entries.length), 1),
      empty_results: s.empty,
      failures: s.failures,
      example: filters[name][warmup] ?? filters[name][0],
    };
  }
  console.log(JSON.stringify({ warmup_rounds: warmup, rounds: rounds - warmup, filters: out }));
}

const [mode, ...args] = process.argv.slice(2);
switch (mode) {
  case 'ingest': await ingest(); break;
  case 'copy-rows': copyRows(args[0], Number(args[1]), Number(args[2]), args[3], args[4]); break;
  case 'export': await exportOnce(args[0] ?? '', Number(args[1])); break;
  case 'search': await search(args[0] ?? fail('usage: search QUERIES_JSON')); break;
  default: fail('usage: node bench/audit.mjs ingest | copy-rows ... | export QUERY ROWS | search FILE');
}
