// Proof for idp.mjs: starts it (twice: once plain, once with a static client from env), then as
// a relying party with openid-client 6 (which checks state, PKCE, nonce, the ID token signature and
// the RFC 9207 `iss` parameter) and a plain fetch "browser" with a cookie jar, it checks discovery,
// dynamic registration, PKCE enforcement, a wrong password (401), a full sign-in whose ID token
// carries email, email_verified, name, groups, amr, nonce, a groups change between sign-ins, a
// non-MFA account, access_denied from the deny button, and the static client.
// Usage: node end2end/support/idp-check.mjs [PORT=4090]   (uses PORT and PORT+1)
import { spawn } from 'node:child_process';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';

const PORT = Number(process.argv[2] ?? 4090);
const RP = 'http://127.0.0.1:4099/sso/callback'; // nothing listens there: the jar stops at it
const dir = mkdtempSync(join(tmpdir(), 'idp-check-'));
const accountsFile = join(dir, 'accounts.json');
const accounts = {
  alice: { password: 'alice-pw', email: 'alice@acme.test', email_verified: true, name: 'Alice Acme', groups: ['admins'], mfa: true },
  bob: { password: 'bob-pw', email: 'bob@acme.test', email_verified: false, name: 'Bob Acme', groups: [], mfa: false },
};
writeFileSync(accountsFile, JSON.stringify(accounts));
const procs = [];

function startIdp(port, env = {}) {
  const idp = spawn(process.execPath, [fileURLToPath(new URL('./idp.mjs', import.meta.url)), '--port', String(port), '--accounts', accountsFile],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(idp);
  return new Promise((resolve, reject) => {
    idp.once('exit', (code) => reject(new Error(`idp exited ${code}`)));
    idp.stdout.on('data', (d) => { const l = String(d); process.stdout.write(`  [idp:${port}] ${l}`); if (l.includes('idp ready')) resolve(l.trim().split(' ')[2]); });
  });
}

// A minimal browser: follows redirects by hand, keeps cookies by name, stops at the RP.
function browser() {
  const jar = new Map();
  const go = async (url, init = {}) => {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of res.headers.getSetCookie()) {
      const [nv, ...attrs] = c.split(';'); const i = nv.indexOf('=');
      const name = nv.slice(0, i).trim(); const value = nv.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now());
      if (!value || expired) jar.delete(name); else jar.set(name, value);
    }
    return res;
  };
  // follow redirects until the RP callback or a non-redirect page
  const follow = async (url, init, trail = []) => {
    let res = await go(url, init);
    for (;;) {
      trail.push(`${res.status} ${init?.method ?? 'GET'} ${new URL(url).pathname}`);
      if (res.status < 300 || res.status >= 400) return { res, url, trail };
      url = new URL(res.headers.get('location'), url).href; init = undefined;
      if (url.startsWith(RP)) return { callback: new URL(url), trail };
      res = await go(url);
    }
  };
  return { follow };
}

async function signIn(config, { login, password, deny = false, wrongFirst = false, scope = 'openid email profile' }) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState(); const nonce = oidc.randomNonce();
  const authUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP, scope, state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const b = browser();
  const form = await b.follow(authUrl.href);
  assert.equal(form.res.status, 200); assert.match(await form.res.text(), /id="idp-submit"/);
  const post = (body) => b.follow(new URL(`${form.url}/login`).href, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  if (wrongFirst) {
    const bad = await post(new URLSearchParams({ login, password: 'wrong' }));
    assert.equal(bad.res.status, 401); assert.match(await bad.res.text(), /id="idp-error"[^>]*>Invalid username or password/);
    console.log('  wrong password: 401 + form with error; retrying in the same interaction');
  }
  const body = new URLSearchParams(deny ? { deny: '1' } : { login, password });
  const done = await post(body);
  if (!done.callback) return { status: done.res.status, html: await done.res.text() };
  console.log(`  ${done.trail.join(' -> ')} -> RP ${[...done.callback.searchParams.keys()].join(',')}`);
  return { callback: done.callback, verifier, state, nonce };
}

async function tokens(config, r) {
  const t = await oidc.authorizationCodeGrant(config, r.callback, { pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce });
  return JSON.parse(Buffer.from(t.id_token.split('.')[1], 'base64url'));
}

try {
  const issuer = await startIdp(PORT);
  const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  assert.equal(meta.issuer, issuer);
  assert.equal(meta.authorization_response_iss_parameter_supported, true);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  assert.ok(meta.claims_supported.includes('groups'));
  console.log(`discovery ok: iss param supported, PKCE ${meta.code_challenge_methods_supported}, registration ${meta.registration_endpoint}, scopes ${meta.scopes_supported}`);

  const reg = await fetch(meta.registration_endpoint, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [RP], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }),
  });
  assert.equal(reg.status, 201);
  const client = await reg.json();
  console.log(`registration ok: 201 client_id=${client.client_id} (secret ${client.client_secret.length} chars)`);
  const config = await oidc.discovery(new URL(issuer), client.client_id, client.client_secret,
    oidc.ClientSecretBasic(client.client_secret), { execute: [oidc.allowInsecureRequests] });

  const noPkce = await fetch(`${issuer}/auth?client_id=${client.client_id}&redirect_uri=${encodeURIComponent(RP)}&response_type=code&scope=openid&state=s1`, { redirect: 'manual' });
  const noPkceLoc = new URL(noPkce.headers.get('location'));
  assert.equal(noPkceLoc.searchParams.get('error'), 'invalid_request');
  console.log(`PKCE enforced: no code_challenge -> ${noPkceLoc.searchParams.get('error')} (${noPkceLoc.searchParams.get('error_description')})`);

  const bad = await signIn(config, { login: 'mallory', password: 'x' });
  assert.equal(bad.status, 401); assert.match(bad.html, /Invalid username or password/);
  console.log('unknown account ok: 401 + form with error');

  const ok = await signIn(config, { login: 'alice', password: 'alice-pw', wrongFirst: true });
  assert.equal(ok.callback.searchParams.get('iss'), issuer);
  const idt = await tokens(config, ok);
  console.log('alice ID token payload:', JSON.stringify(idt));
  assert.equal(idt.sub, 'alice'); assert.equal(idt.email, 'alice@acme.test'); assert.equal(idt.email_verified, true);
  assert.equal(idt.name, 'Alice Acme'); assert.deepEqual(idt.groups, ['admins']);
  assert.deepEqual(idt.amr, ['pwd', 'otp']); assert.equal(idt.nonce, ok.nonce); assert.equal(idt.acr, 'urn:idp:acr:mfa');

  writeFileSync(accountsFile, JSON.stringify({ ...accounts, alice: { ...accounts.alice, groups: ['staff', 'billing'] } }));
  const again = await tokens(config, await signIn(config, { login: 'alice', password: 'alice-pw' }));
  assert.deepEqual(again.groups, ['staff', 'billing']);
  console.log(`groups re-read from file: ${JSON.stringify(again.groups)}`);

  const denied = await signIn(config, { deny: true });
  assert.equal(denied.callback.searchParams.get('error'), 'access_denied');
  assert.equal(denied.callback.searchParams.get('iss'), issuer);
  assert.equal(denied.callback.searchParams.get('state'), denied.state);
  console.log(`deny ok: RP gets ${denied.callback.search}`);

  const issuer2 = await startIdp(PORT + 1, { IDP_CLIENT_ID: 'bench-client', IDP_CLIENT_SECRET: 'bench-secret', IDP_REDIRECT_URI: RP });
  const config2 = await oidc.discovery(new URL(issuer2), 'bench-client', 'bench-secret',
    oidc.ClientSecretBasic('bench-secret'), { execute: [oidc.allowInsecureRequests] });
  const bob = await tokens(config2, await signIn(config2, { login: 'bob', password: 'bob-pw' }));
  console.log('bob (static client) ID token payload:', JSON.stringify(bob));
  assert.deepEqual(bob.amr, ['pwd']); assert.equal(bob.email_verified, false); assert.deepEqual(bob.groups, []);

  console.log('idp peer ok: 9 passed, 0 failed');
} finally {
  for (const p of procs) p.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
