// What the high-availability scenario's scripts share (scenario.mjs, faults.mjs): the
// environment, the checks and their report, one HTTP call, the keys and tokens of the
// secrets directory. Node's fetch only, no dependencies.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const env = (k, d) => process.env[k] ?? (d !== undefined ? d : die(`${k} is not set (run through scripts/ha_test.sh)`));
export const log = (msg) => console.error(`ha: ${msg}`);
export function die(msg) { log(`FAILED: ${msg}`); process.exit(1); }
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const round = (x, d = 1) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
export const pct = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : null);
export const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
export const writePrivate = (path, value) => writeFileSync(path, JSON.stringify(value), { mode: 0o600 });

export const ASSERT = env('HA_ASSERT', '1') !== '0';
export const POLL_MS = Number(env('HA_POLL_MS', '50'));
export const TARGET_MS = 1000;

// --- checks ---------------------------------------------------------------------------------
export const checks = [];
/// Records a check; with HA_ASSERT, a failed one ends the command (after printing `out`).
export function check(ok, what, detail) {
  checks.push({ what, ok: Boolean(ok), ...(detail === undefined ? {} : { detail }) });
  if (!ok) log(`${ASSERT ? 'FAILED' : 'not met'}: ${what}${detail === undefined ? '' : ` (${JSON.stringify(detail)})`}`);
}
export function finish(out) {
  const failed = checks.filter((c) => !c.ok);
  console.log(JSON.stringify({ ...out, checks }));
  if (ASSERT && failed.length) process.exit(1);
}

// --- HTTP -----------------------------------------------------------------------------------
export const INSTANCES = () => ({ A: env('HA_A_URL'), B: env('HA_B_URL'), LB: env('HA_LB_URL') });
export const PUBLIC = () => new URL(env('HA_PUBLIC_URL')).origin;

export function basic(key) {
  return `Basic ${Buffer.from(`${encodeURIComponent(key.client_id)}:${encodeURIComponent(key.client_secret)}`).toString('base64')}`;
}

/// One request to an instance; never follows redirects; the body read whole.
export async function call(base, method, path, { headers = {}, form, json, token, key, cookie, timeout = 10000 } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (key) h.authorization = basic(key);
  if (cookie) h.cookie = cookie;
  let body;
  if (form) { body = new URLSearchParams(form).toString(); h['content-type'] = 'application/x-www-form-urlencoded'; }
  if (json !== undefined) { body = JSON.stringify(json); h['content-type'] = 'application/json'; }
  let res;
  try {
    res = await fetch(base + path, { method, headers: h, body, redirect: 'manual', signal: AbortSignal.timeout(timeout) });
  } catch (e) {
    return { status: 0, error: e.cause?.code || e.name || String(e), headers: new Headers(), text: '', json: null };
  }
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json: parsed, instance: res.headers.get('x-gatehouse-instance') };
}
/// What a refusal said, short, for a failure message (error bodies carry no secrets).
export const said = (r) => (r.error ? r.error : `${r.status} ${r.text.slice(0, 200)}`);

export function keys() {
  const dir = env('HA_SECRETS');
  return {
    acme: readJson(`${dir}/key-acme.json`),
    platform: readJson(`${dir}/key-platform.json`),
    suspend: readJson(`${dir}/key-suspend.json`),
    operatorSession: readFileSync(`${dir}/operator-session`, 'utf8').trim(),
  };
}
export const tokens = () => readJson(`${env('HA_SECRETS')}/tokens.json`);


// --- command line -----------------------------------------------------------------------------
/// `COMMAND --key value --flag POSITIONAL...` as { command, argv, positional, need }, where
/// need(n) dies unless n positional arguments name existing files.
export function parseArgs(args) {
  const [command, ...rest] = args;
  const argv = {};
  const positional = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i].startsWith('--')) {
      const next = rest[i + 1];
      if (next === undefined || next.startsWith('--')) argv[rest[i].slice(2)] = true;
      else { argv[rest[i].slice(2)] = next; i++; }
    } else positional.push(rest[i]);
  }
  const need = (n) => { if (positional.length < n || positional.some((p) => !existsSync(p))) die(`${command}: needs ${n} existing files`); };
  return { command, argv, positional, need };
}
