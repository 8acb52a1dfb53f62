// The client side of bench/billing.sh (run it through bench/run.sh billing). No dependencies:
// node:http with keep-alive agents, so each "connection" is one real TCP connection and
// each timing is one request, from its first byte sent to its last byte read.
//
//   node bench/billing.mjs ingest
//       BILLING_BENCH_CONNECTIONS (16) loops, each posting {"events": [BILLING_BENCH_BATCH
//       (100) events]} to /api/v1/billing/events with an application token (BILLING_TOKENS,
//       comma separated; connection i uses token i mod n) for BILLING_BENCH_WARMUP (2) s
//       unmeasured, then BILLING_BENCH_SECONDS (20) s measured. Each event names one of the
//       first BILLING_BENCH_INGEST_TENANTS tenants of BILLING_TENANTS_FILE and one of
//       BILLING_TYPES, at a time of the last minute. Figure: events accepted by responses that
//       completed inside the measured window, divided by the window; batch latencies; 429s;
//       failures by kind (a deadlock would show here as a 500); CPU of the server process,
//       of this client and of the whole machine in the window.
//   node bench/billing.mjs copy-rows FILE ROWS RUN APPLICATION_ID
//       Writes ROWS billing_events rows as CSV for psql \copy (tenant_id, application_id,
//       event_type, quantity, occurred_at, idempotency_key, metadata, content_hash): the same
//       events as `ingest` sends, in the form the server stores them (idempotency key
//       bc-RUN-i, a random 32-byte content hash). Prints the first row's tenant and key (to
//       find the COPY's transaction afterwards).
//   node bench/billing.mjs usage QUERIES_JSON
//       {"warmup": W, "mixes": {name: [query string, ...]}}: round r sends query r of every
//       mix in turn to GET /api/v1/billing/usage with BILLING_READ_TOKEN, one at a time
//       (latency, not throughput); the first W rounds are not counted. Figures per mix:
//       p50/p95/max ms, rows answered, answers cut at the API's 10,000 rows.
//   node bench/billing.mjs pull-csv ROWS
//       GET /api/v1/billing/events (every event from the start; ?limit=ROWS when ROWS > 0)
//       with Accept: text/csv and BILLING_READ_TOKEN, reading the body as a stream and only
//       counting its lines (one header line, then a row per line; the client stops at ROWS
//       rows in any case). 429 (the download places are taken) is retried. The server's
//       VmRSS is sampled every 100 ms meanwhile (VmHWM reset first where allowed). An answer
//       that is not CSV (406, 415, 422, or a 200 that is JSON) is reported as
//       {"supported": false, ...} and exits 0: the shell then falls back to pull-json.
//   node bench/billing.mjs pull-json ROWS
//       The JSON pull as it is today: pages of ?limit=1000 following next_cursor until
//       has_more is false or ROWS rows were read; RSS sampled as above.
// Each mode prints one JSON object on stdout; progress and problems go to stderr.
import http from 'node:http';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const log = (msg) => console.error(`bench/billing: ${msg}`);
const fail = (msg) => { log(msg); process.exit(1); };
const need = (k) => process.env[k] || fail(`${k} is not set (run bench/run.sh billing)`);
const num = (k, d) => {
  const v = Number(process.env[k] ?? d);
  return Number.isFinite(v) && v > 0 ? v : fail(`${k} must be a positive number`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 2) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
/// Nearest-rank percentile of an ascending array.
const pct = (sorted, q) => (sorted.length ? sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] : null);
/// The most rows GET /api/v1/billing/usage answers (domain/src/billing/pull.rs, LIMIT 10000).
const USAGE_CAP = 10000;

// The same vocabulary as the rows bench/billing.sh seeds with SQL (its fill.sql).
const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-southeast-1'];
const pick = (list) => list[Math.floor(Math.random() * list.length)];
/// 1..1000, mostly small (as the seeded quantities).
const quantity = () => 1 + Math.floor(Math.random() ** 4 * 1000);

function types() { return need('BILLING_TYPES').split(',').filter(Boolean); }
/// [{id, domain}] of the bench tenants, in domain order.
function tenants() {
  const all = JSON.parse(readFileSync(need('BILLING_TENANTS_FILE'), 'utf8'));
  const n = Number(process.env.BILLING_BENCH_INGEST_TENANTS || all.length);
  return all.slice(0, Math.max(1, Math.min(n, all.length)));
}

/// One usage event as API-BILL takes it.
function usageEvent(id, at, tenant, type) {
  return { id, tenant, timestamp: at, event_type: type, quantity: quantity(), metadata: { region: pick(REGIONS) } };
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
  const tokens = need('BILLING_TOKENS').split(',').filter(Boolean);
  const conns = num('BILLING_BENCH_CONNECTIONS', 16), size = num('BILLING_BENCH_BATCH', 100);
  const secs = num('BILLING_BENCH_SECONDS', 20), warm = Number(process.env.BILLING_BENCH_WARMUP ?? 2);
  const pid = need('SERVER_PID');
  const domains = tenants().map((t) => t.domain), names = types();
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns, maxFreeSockets: conns });
  const run = randomBytes(4).toString('hex');
  const t0 = performance.now(), startAt = t0 + warm * 1000, endAt = startAt + secs * 1000;
  let events = 0, batches = 0, duplicates = 0, conflicts = 0, limited = 0, failed = 0, warmEvents = 0;
  const latencies = [], kinds = {};
  let before = null, after = null;
  const atStart = setTimeout(() => { before = cpuSnapshot(pid); }, Math.max(0, startAt - performance.now()));
  const atEnd = setTimeout(() => { after = cpuSnapshot(pid); }, Math.max(0, endAt - performance.now()));
  await Promise.all(Array.from({ length: conns }, async (_, c) => {
    const token = tokens[c % tokens.length];
    for (let n = 0; performance.now() < endAt; n++) {
      const now = Date.now();
      const list = Array.from({ length: size }, (_, j) => usageEvent(
        `bi-${run}-${c}-${n}-${j}`, new Date(now - Math.floor(Math.random() * 60_000)).toISOString(), pick(domains), pick(names)));
      const body = JSON.stringify({ events: list });
      const sent = performance.now();
      let res;
      try {
        res = await send(agent, 'POST', '/api/v1/billing/events', {
          authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
        }, body);
      } catch (e) {
        failed++; kinds[e.message] = (kinds[e.message] ?? 0) + 1; await sleep(50); continue;
      }
      const done = performance.now();
      if (res.status === 201 || res.status === 200) {
        const answer = JSON.parse(res.body);
        if (done >= startAt && done <= endAt) {
          events += answer.accepted; duplicates += answer.duplicates; conflicts += answer.conflicts ?? 0;
          batches++; latencies.push(done - sent);
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
    tenants: domains.length,
    event_types: names.length,
    warmup_seconds: warm,
    warmup_events: warmEvents,
    duplicates,
    conflicts,
    rate_limited_requests: limited,
    failed_requests: failed,
    ...(failed ? { failure_kinds: kinds } : {}),
    batch_latency_ms: { p50: round(pct(latencies, 0.5)), p95: round(pct(latencies, 0.95)), p99: round(pct(latencies, 0.99)), max: round(latencies.at(-1)) },
    cpu: before && after ? cpuBetween(before, after) : null,
  }));
}

// --- copy-rows -----------------------------------------------------------------------------
const csvQuote = (s) => `"${s.replace(/"/g, '""')}"`;

function copyRows(file, rows, run, applicationId) {
  if (!file || !(rows > 0) || !run || !applicationId) fail('usage: copy-rows FILE ROWS RUN APPLICATION_ID');
  const list = tenants(), names = types();
  const fd = openSync(file, 'w');
  let lines = [], first = null;
  const start = Date.now();
  for (let i = 0; i < rows; i++) {
    const t = pick(list), key = `bc-${run}-${i}`;
    const e = usageEvent(key, new Date(start - Math.floor(Math.random() * 60_000)).toISOString(), t.domain, pick(names));
    if (first === null) first = { tenant_id: t.id, key };
    lines.push([
      t.id, applicationId, e.event_type, e.quantity, e.timestamp, key,
      csvQuote(JSON.stringify(e.metadata)), `\\x${randomBytes(32).toString('hex')}`,
    ].join(',') + '\n');
    if (lines.length === 10000) { writeSync(fd, lines.join('')); lines = []; }
  }
  if (lines.length) writeSync(fd, lines.join(''));
  closeSync(fd);
  console.log(JSON.stringify({ rows, file, first_tenant_id: first.tenant_id, first_key: first.key }));
}

// --- usage ---------------------------------------------------------------------------------
async function usage(file) {
  const token = need('BILLING_READ_TOKEN');
  const { warmup, mixes } = JSON.parse(readFileSync(file, 'utf8'));
  const names = Object.keys(mixes);
  const rounds = Math.min(...names.map((n) => mixes[n].length));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const stats = Object.fromEntries(names.map((n) => [n, { ms: [], rows: [], failures: 0, empty: 0, capped: 0 }]));
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const query = mixes[name][r];
      const sent = performance.now();
      let res;
      try {
        res = await send(agent, 'GET', `/api/v1/billing/usage?${query}`, { authorization: `Bearer ${token}`, accept: 'application/json' });
      } catch (e) { stats[name].failures++; log(`usage ${name} (${query}): ${e.message}`); continue; }
      const ms = performance.now() - sent;
      let data = null;
      try { data = JSON.parse(res.body); } catch { /* below */ }
      if (res.status !== 200 || !data || !Array.isArray(data.data)) {
        stats[name].failures++;
        log(`usage ${name} (${query}): HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        continue;
      }
      if (r < warmup) continue;
      stats[name].ms.push(ms);
      stats[name].rows.push(data.data.length);
      if (!data.data.length) stats[name].empty++;
      if (data.data.length >= USAGE_CAP) stats[name].capped++;
    }
    if ((r + 1) % 20 === 0) log(`usage: round ${r + 1} of ${rounds}`);
  }
  agent.destroy();
  const out = {};
  for (const name of names) {
    const s = stats[name], ms = [...s.ms].sort((a, b) => a - b);
    out[name] = {
      p50_ms: round(pct(ms, 0.5)),
      p95_ms: round(pct(ms, 0.95)),
      max_ms: round(ms.at(-1)),
      queries: ms.length,
      mean_rows: round(s.rows.reduce((a, b) => a + b, 0) / Math.max(1, s.rows.length), 1),
      empty_results: s.empty,
      capped_at_10000_rows: s.capped,
      failures: s.failures,
      example: mixes[name][warmup] ?? mixes[name][0],
    };
  }
  console.log(JSON.stringify({ warmup_rounds: warmup, rounds: rounds - warmup, mixes: out }));
}

// --- pulls ---------------------------------------------------------------------------------
/// VmRSS every 100 ms while a pull runs; VmHWM reset first (echo 5 > clear_refs), where the
/// kernel lets us, so the exact peak between samples is known too.
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

const mb = (kb) => (kb == null ? null : round(kb / 1024, 1));
function rssFigures(rss) {
  return {
    rss_before_mb: mb(rss.before_kb),
    rss_peak_mb: mb(Math.max(rss.sampled_peak_kb, rss.hwm_kb ?? 0)),
    rss_sampled_peak_mb: mb(rss.sampled_peak_kb),
    rss_hwm_mb: mb(rss.hwm_kb),
    rss_after_mb: mb(rss.after_kb),
    rss_samples: rss.samples,
  };
}

/// Headers of the answer that may carry where the next pull starts.
const cursorHeaders = (h) => Object.fromEntries(Object.entries(h).filter(([k]) => /cursor|link|more|watermark/i.test(k)));

/// One CSV pull, counted and dropped as it arrives; `limit` data rows, then hang up (0: all).
function csvDownload(path, token, limit) {
  const url = base();
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    let settled = false;
    const finish = (v) => { if (!settled) { settled = true; resolve(v); } };
    const req = http.request({
      host: url.hostname, port: url.port, path, method: 'GET', agent: new http.Agent({ keepAlive: false }),
      headers: { authorization: `Bearer ${token}`, accept: 'text/csv' },
    }, (res) => {
      const type = String(res.headers['content-type'] ?? '');
      if (res.statusCode !== 200 || !/^text\/csv\b/i.test(type)) {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => finish({ csv: false, status: res.statusCode, content_type: type, retry_after: res.headers['retry-after'], text: Buffer.concat(chunks).toString('utf8').slice(0, 300) }));
        return;
      }
      // Lines end in LF (or CRLF); the first is the header. No cell of the bench's events holds
      // a line break (ids, domains, types and JSON metadata without raw newlines).
      let bytes = 0, lfs = 0, head = '', lastByte = null, first = null, prev = Buffer.alloc(0), last = Buffer.alloc(0);
      const done = (stopped) => finish({
        csv: true, status: 200, content_type: type, headers: cursorHeaders(res.headers), bytes, stopped_early: stopped,
        rows: stopped ? limit : Math.max(0, lfs - 1 + (lastByte !== null && lastByte !== 10 ? 1 : 0)),
        head, tail: stopped ? null : Buffer.concat([prev, last]).subarray(-600).toString('utf8'),
        seconds: (performance.now() - sent) / 1000, first_byte_ms: first === null ? null : first - sent,
      });
      res.on('data', (c) => {
        if (settled) return;
        if (first === null) first = performance.now();
        if (head.length < 400) head += c.subarray(0, 400).toString('utf8');
        if (limit) {
          for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) {
            if (++lfs === limit + 2) { // the header, `limit` rows and one more: hang up
              bytes += i + 1;
              lfs--;
              done(true);
              req.destroy();
              return;
            }
          }
        } else {
          for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lfs++;
        }
        bytes += c.length;
        lastByte = c[c.length - 1];
        prev = last; last = c;
      });
      res.on('end', () => done(false));
      res.on('close', () => { if (!settled && !res.complete) reject(new Error('the pull was cut off')); });
      res.on('error', (e) => { if (!settled) reject(e); });
    });
    req.on('error', (e) => { if (!settled) reject(e); });
    req.end();
  });
}

/// The most rows a CSV pull may be limited to (server/src/api/billing.rs, CSV_MAX_LIMIT).
const CSV_MAX_LIMIT = 10_000_000;

async function pullCsv(limit) {
  const token = need('BILLING_READ_TOKEN'), pid = need('SERVER_PID');
  // A limited pull asks for its rows (?limit=) and ends where the server ends it; the client
  // also stops counting at `limit` rows, so a server that sends more is hung up on.
  const path = `/api/v1/billing/events${limit && limit <= CSV_MAX_LIMIT ? `?limit=${limit}` : ''}`;
  let r, rss;
  for (let attempt = 1; ; attempt++) {
    const stop = rssSampler(pid);
    r = await csvDownload(path, token, limit);
    rss = stop();
    // A pull that just ended may hold its download place for a moment.
    if (r.csv || r.status !== 429 || attempt >= 20) break;
    log(`pull-csv: 429 (a download place is still taken), again in a moment`);
    await sleep(1000 * Math.min(5, Number(r.retry_after ?? 1)));
  }
  if (!r.csv) {
    log(`pull-csv: the server answered ${r.status} (${r.content_type || 'no content type'}), not CSV: ${r.text.slice(0, 160)}`);
    console.log(JSON.stringify({ format: 'csv', supported: false, status: r.status, content_type: r.content_type, body_head: r.text }));
    return;
  }
  if (/^\s*[{[]/.test(r.head)) fail(`pull-csv: a text/csv answer that looks like JSON: ${JSON.stringify(r.head.slice(0, 120))}`);
  console.log(JSON.stringify({
    format: 'csv',
    supported: true,
    path,
    rows: r.rows,
    asked_rows: limit || null,
    stopped_early: r.stopped_early,
    bytes: r.bytes,
    seconds: round(r.seconds, 3),
    rows_per_s: round(r.rows / r.seconds, 0),
    mb_per_s: round(r.bytes / 1048576 / r.seconds, 1),
    first_byte_ms: round(r.first_byte_ms, 1),
    header: r.head.split('\n')[0].replace(/\r$/, ''),
    tail: r.tail,
    cursor_headers: r.headers,
    ...rssFigures(rss),
  }));
}

async function pullJson(limit) {
  const token = need('BILLING_READ_TOKEN'), pid = need('SERVER_PID');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const stop = rssSampler(pid);
  const t0 = performance.now(), latencies = [];
  let rows = 0, pages = 0, bytes = 0, after = null, more = true;
  while (more && (!limit || rows < limit)) {
    const path = `/api/v1/billing/events?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    const sent = performance.now();
    const res = await send(agent, 'GET', path, { authorization: `Bearer ${token}`, accept: 'application/json' });
    latencies.push(performance.now() - sent);
    if (res.status !== 200) { stop(); fail(`pull-json ${path}: HTTP ${res.status}: ${res.body.slice(0, 200)}`); }
    const page = JSON.parse(res.body);
    pages++; bytes += Buffer.byteLength(res.body); rows += page.data.length;
    after = page.next_cursor; more = page.has_more && page.data.length > 0;
    if (pages % 1000 === 0) log(`pull-json: ${rows} rows, ${pages} pages`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const rss = stop();
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const counted = limit ? Math.min(rows, limit) : rows;
  console.log(JSON.stringify({
    format: 'json',
    rows: counted,
    asked_rows: limit || null,
    pages,
    page_size: 1000,
    bytes,
    seconds: round(seconds, 3),
    rows_per_s: round(counted / seconds, 0),
    mb_per_s: round(bytes / 1048576 / seconds, 1),
    page_latency_ms: { p50: round(pct(latencies, 0.5)), p95: round(pct(latencies, 0.95)), max: round(latencies.at(-1)) },
    ...rssFigures(rss),
  }));
}

const [mode, ...args] = process.argv.slice(2);
switch (mode) {
  case 'ingest': await ingest(); break;
  case 'copy-rows': copyRows(args[0], Number(args[1]), args[2], args[3]); break;
  case 'usage': await usage(args[0] ?? fail('usage: usage QUERIES_JSON')); break;
  case 'pull-csv': await pullCsv(Number(args[0] ?? 0)); break;
  case 'pull-json': await pullJson(Number(args[0] ?? 0)); break;
  default: fail('usage: node bench/billing.mjs ingest | copy-rows FILE ROWS RUN APP | usage FILE | pull-csv ROWS | pull-json ROWS');
}
