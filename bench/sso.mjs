// Tenant SSO sign-in throughput and server CPU per sign-in (FR-AUTH-003, UC-LOGIN), run by
// bench/sso.sh. Set-up, as the demo owner through the same server functions as the wizard at
// /admin/sso: discovery, a client registered at the provider (dynamic registration), a test
// sign-in, activation, JIT people, the email domain acme.test. Then rounds of two phases:
//   sso      — C virtual clients, each a returning person (p<i>@acme.test, the device cookie of
//              an earlier sign-in, a live session at the provider): /sso/{id}/start -> the
//              provider's /auth (answers with the code at once) -> /sso/{id}/callback -> 303
//              /account with a session cookie: flow, token exchange, ID token checks, account,
//              session, audit;
//   password — C clients posting user@acme.test's password to /_rpc/sign_in (argon2id), with
//              the device cookie of an earlier sign-in, as bench/login.sh does.
// Server CPU is utime+stime of SERVER_PID (all its threads; not PostgreSQL, not the provider)
// per phase, divided by the phase's completed sign-ins. Prints one JSON object on stdout.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const fail = (msg) => { console.error(`bench/sso: ${msg}`); process.exit(1); };
const need = (k) => process.env[k] || fail(`${k} is not set (run bench/run.sh sso)`);
const int = (k, d) => { const v = Number(process.env[k] ?? d); return Number.isInteger(v) && v > 0 ? v : fail(`${k} must be a positive integer`); };
const BASE = need('BASE_URL'), IDP = need('IDP_URL'), PID = need('SERVER_PID'), DB = need('DATABASE_URL'), ACCOUNTS = need('IDP_ACCOUNTS');
const CLIENTS = int('BENCH_SSO_CLIENTS', 16), SECS = int('BENCH_PHASE_SECS', 8), ROUNDS = int('BENCH_ROUNDS', 3);
const TICK_MS = 1000 / int('CLK_TCK', 100);
const PASSWORD = 'Gatehouse-demo-2026';
const FORM = 'application/x-www-form-urlencoded';
const TIMEOUT_MS = 30_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const log = (msg) => console.error(`bench/sso: ${msg}`);

/// A browser without a browser: two cookie jars (Gatehouse, the provider) by cookie name;
/// paths and flags are ignored, a cleared or expired cookie is dropped.
function client() {
  const jars = { gh: new Map(), idp: new Map() };
  async function go(url, init = {}) {
    const jar = url.startsWith(IDP) ? jars.idp : jars.gh;
    const headers = { ...init.headers };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
    const set = res.headers.getSetCookie();
    for (const c of set) {
      const [nv, ...attrs] = c.split(';');
      const i = nv.indexOf('=');
      const name = nv.slice(0, i).trim(), value = nv.slice(i + 1).trim();
      const gone = !value || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)
        || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now()));
      if (gone) jar.delete(name); else jar.set(name, value);
    }
    return { res, set, body: await res.text() };
  }
  return { jars, go };
}

/// A server function: url-encoded in, JSON out (leptos' default); Origin for the CSRF rule.
async function rpc(c, name, fields = {}) {
  const { res, body } = await c.go(`${BASE}/_rpc/${name}`, {
    method: 'POST', headers: { origin: BASE, 'content-type': FORM }, body: new URLSearchParams(fields).toString(),
  });
  if (!res.ok) fail(`${name}: HTTP ${res.status}: ${body.slice(0, 300)}`);
  let out = null;
  try { out = body ? JSON.parse(body) : null; } catch { fail(`${name}: not JSON: ${body.slice(0, 200)}`); }
  if (out?.Refused) fail(`${name} refused: ${JSON.stringify(out.Refused)}`);
  return { res, out };
}

let callbackPath = '';
/// Follows redirects from Gatehouse's start (or test) door through the provider until the
/// provider sends the browser to Gatehouse's callback; returns that URL on BASE_URL (the
/// registered redirect URI names localhost, the server listens on 127.0.0.1). With `login`,
/// fills the provider's login form when it shows; without, a form is a failure.
async function toCallback(c, url, login) {
  for (let hop = 0; hop < 12; hop++) {
    const { res, body } = await c.go(url);
    if (res.status === 200 && login && url.startsWith(IDP) && /^\/interaction\/[^/]+$/.test(new URL(url).pathname)) {
      const r = await c.go(`${url}/login`, { method: 'POST', headers: { 'content-type': FORM }, body: new URLSearchParams(login).toString() });
      if (r.res.status !== 303) throw new Error(`the provider's login for ${login.login} answered ${r.res.status}`);
      url = new URL(r.res.headers.get('location'), url).href;
      continue;
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) throw new Error(`${new URL(url).pathname.split('/')[1]} answered ${res.status}: ${body.slice(0, 120)}`);
    const next = new URL(location, url);
    if (next.pathname === callbackPath) return `${BASE}${next.pathname}${next.search}`;
    if (!next.href.startsWith(IDP)) throw new Error(`sent to ${next.pathname}${next.search}`);
    url = next.href;
  }
  throw new Error('too many redirects before the callback');
}

/// One SSO sign-in: start -> provider -> callback; the milliseconds from start to session.
async function ssoSignIn(c, email, login) {
  const t0 = performance.now();
  const callback = await toCallback(c, `${BASE}/sso/${connection}/start?login_hint=${encodeURIComponent(email)}`, login);
  const { res, set } = await c.go(callback);
  const ms = performance.now() - t0;
  // The next sign-in is a returning person's, not a re-sign-in over a live session.
  c.jars.gh.delete('gatehouse_session');
  const where = res.headers.get('location') ?? '(no Location)';
  if (res.status !== 303 || where !== '/account' || !set.some((s) => /^gatehouse_session=[^;]+/.test(s))) {
    throw new Error(`callback ${res.status} -> ${where}`);
  }
  return ms;
}

const USER_BODY = new URLSearchParams({ email: 'user@acme.test', password: PASSWORD, tenant: '', return_to: '' }).toString();
/// One password sign-in; the server function answers 200 with Location (not a browser form post).
async function passwordSignIn(device) {
  const t0 = performance.now();
  const res = await fetch(`${BASE}/_rpc/sign_in`, {
    method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS),
    headers: { origin: BASE, 'content-type': FORM, ...(device ? { cookie: device } : {}) }, body: USER_BODY,
  });
  await res.text();
  const ms = performance.now() - t0;
  const where = res.headers.get('location') ?? '(no Location)';
  const session = res.headers.getSetCookie().some((s) => /^gatehouse_session=[^;]+/.test(s));
  if (![200, 302, 303].includes(res.status) || where !== '/account' || !session) throw new Error(`sign_in ${res.status} -> ${where}`);
  return { ms, device: res.headers.getSetCookie().find((s) => s.startsWith('gatehouse_device='))?.split(';')[0] };
}

/// utime + stime of the server process (clock ticks), as bench/login.sh's server_ticks.
function ticks() {
  const stat = readFileSync(`/proc/${PID}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return Number(fields[11]) + Number(fields[12]);
}
/// Waits until the server is idle again (under 3 ticks in half a second), at most 30 s.
async function drain() {
  for (let i = 0; i < 60; i++) { const before = ticks(); await sleep(500); if (ticks() - before < 3) return; }
}

/// C clients loop `once(i)` for SECS seconds; in-flight sign-ins finish and count.
async function phase(once) {
  const latencies = [], kinds = {};
  let done = 0, failed = 0;
  const cpu0 = ticks(), t0 = performance.now(), end = t0 + SECS * 1000;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
    while (performance.now() < end) {
      try { latencies.push(await once(i)); done++; } catch (e) {
        failed++;
        const kind = e.name === 'TimeoutError' ? 'timeout' : String(e.message).replace(/[\w-]{16,}/g, '…').slice(0, 100);
        kinds[kind] = (kinds[kind] ?? 0) + 1;
        await sleep(20);
      }
    }
  }));
  const result = { done, failed, kinds, latencies, secs: (performance.now() - t0) / 1000, cpuMs: (ticks() - cpu0) * TICK_MS };
  await drain();
  return result;
}

function summary(runs) {
  const total = (k) => runs.reduce((s, r) => s + r[k], 0);
  const done = total('done');
  const lat = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const pct = (q) => (lat.length ? round(lat[Math.max(0, Math.ceil(q * lat.length) - 1)], 1) : null);
  const kinds = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.kinds)) kinds[k] = (kinds[k] ?? 0) + n;
  return {
    sign_ins_per_sec: round(done / total('secs')),
    per_round: runs.map((r) => round(r.done / r.secs)),
    latency_p50_ms: pct(0.5),
    latency_p99_ms: pct(0.99),
    failures: total('failed'),
    ...(total('failed') ? { failure_kinds: kinds } : {}),
    server_cpu_ms_per_sign_in: done ? round(total('cpuMs') / done, 3) : null,
  };
}

// --- set-up: the owner connects acme to the provider ------------------------------------
const people = Array.from({ length: CLIENTS }, (_, i) => ({ login: `p${i}`, password: `p${i}-pw`, email: `p${i}@acme.test` }));
const tester = { login: 'tester', password: 'tester-pw' };
writeFileSync(ACCOUNTS, JSON.stringify(Object.fromEntries([
  ['tester', { password: tester.password, email: 'tester@acme.test', email_verified: true, name: 'SSO Tester', groups: [], mfa: true }],
  // mfa: the provider proves a second factor (amr otp), which the connection trusts.
  ...people.map((p, i) => [p.login, { password: p.password, email: p.email, email_verified: true, name: `Bench Person ${i}`, groups: [], mfa: true }]),
])));

const owner = client();
const signedIn = await rpc(owner, 'sign_in', { email: 'owner@acme.test', password: PASSWORD, tenant: '', return_to: '' });
if (!owner.jars.gh.get('gatehouse_session') || signedIn.res.headers.get('location') !== '/admin') {
  fail(`the owner's sign-in did not finish (Location ${signedIn.res.headers.get('location')}): acme's MFA policy must let a password sign-in through`);
}
await rpc(owner, 'discover_sso', { issuer: IDP });
const page = (await rpc(owner, 'sso_page')).out;
const connection = page?.connection?.id ?? fail(`sso_page shows no connection: ${JSON.stringify(page)}`);
callbackPath = `/sso/${connection}/callback`;
const reg = await fetch(`${IDP}/reg`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS),
  body: JSON.stringify({ redirect_uris: [page.connection.redirect_uri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }),
});
const registered = await reg.json().catch(() => ({}));
if (reg.status !== 201 || !registered.client_id) fail(`registration at ${IDP}/reg answered ${reg.status}: ${JSON.stringify(registered)}`);
await rpc(owner, 'save_sso_client', { client_id: registered.client_id, client_secret: registered.client_secret });
// The owner's test sign-in (prompt=login at the provider): it creates nobody.
try {
  const tested = await owner.go(await toCallback(owner, `${BASE}/sso/${connection}/test`, tester));
  const where = tested.res.headers.get('location');
  if (where !== '/admin/sso?tested=1') throw new Error(`callback ${tested.res.status} -> ${where}`);
} catch (e) { fail(`the owner's test sign-in failed: ${e.message}`); }
await rpc(owner, 'set_sso_status', { status: 'active' });
await rpc(owner, 'save_sso_people', { jit_enabled: 'on', default_role: 'user', groups_claim: 'groups', group_roles: '', trust_idp_mfa: 'on' });
if (!page.domains?.some((d) => d.domain === 'acme.test' && d.state === 'verified')) {
  await rpc(owner, 'claim_sso_domain', { domain: 'acme.test' });
}
// Benchmark shortcut for the DNS TXT check (no DNS server here): the domain is marked verified
// as an operator would. Everything else in the set-up goes through the owner's own doors.
const updated = execFileSync('psql', [DB, '-qAtc', `UPDATE tenant_email_domains SET verified_at = now(), verified_method = 'operator'
  WHERE email_domain = 'acme.test' AND tenant_id = (SELECT id FROM tenants WHERE domain = 'acme') RETURNING 1`]).toString().trim();
if (updated !== '1') fail(`marking acme.test verified changed ${JSON.stringify(updated)} rows`);

// Warm-up: each person signs in once at the provider's form (JIT creates them, the device
// cookie is set), then once more as a returning person, so the measured phase is the usual case.
const clients = people.map(() => client());
try {
  await Promise.all(people.map((p, i) => ssoSignIn(clients[i], p.email, { login: p.login, password: p.password })));
  await Promise.all(people.map((p, i) => ssoSignIn(clients[i], p.email)));
} catch (e) { fail(`warm-up SSO sign-in failed: ${e.message}`); }
let device;
try { device = (await passwordSignIn()).device; } catch (e) { fail(`warm-up password sign-in failed: ${e.message}`); }
if (!device) fail('no device cookie from the first password sign-in');
log(`connection ${connection} active; ${CLIENTS} people warmed up; measuring ${ROUNDS} x [sso, password] x ${SECS} s`);

// --- measured: interleaved rounds --------------------------------------------------------
const runs = { sso: [], password: [] };
await drain();
for (let r = 0; r < ROUNDS; r++) {
  runs.sso.push(await phase((i) => ssoSignIn(clients[i], people[i].email)));
  runs.password.push(await phase(async () => (await passwordSignIn(device)).ms));
  log(`round ${r + 1}: sso ${runs.sso[r].done} (${runs.sso[r].failed} failed), password ${runs.password[r].done} (${runs.password[r].failed} failed)`);
}
const sso = summary(runs.sso), password = summary(runs.password);
console.log(JSON.stringify({
  tool: `node fetch (bench/sso.mjs), ${CLIENTS} concurrent virtual clients with their own cookie jars; server, PostgreSQL, provider and clients on the same machine; phases interleaved in rounds`,
  rounds: ROUNDS,
  phase_seconds: SECS,
  clients: CLIENTS,
  sso,
  password,
  sso_vs_password: password.sign_ins_per_sec ? round(sso.sign_ins_per_sec / password.sign_ins_per_sec, 3) : null,
  target_rp_cpu_ms: 2,
  meets_target: sso.server_cpu_ms_per_sign_in !== null && sso.server_cpu_ms_per_sign_in < 2,
  idp: 'oidc-provider 9.13.3 on loopback',
  notes: 'An SSO sign-in is /sso/{id}/start (flow row, PKCE, 303 to the provider), the provider answering with a code from its live session, and /sso/{id}/callback (token exchange, ID token checks against cached discovery and JWKS, account, session, audit); a password sign-in is one /_rpc/sign_in (argon2id). Server CPU counts the gatehouse process only, both doors included, not PostgreSQL or the provider.',
}));
