// Passkeys in a real browser (NFR-SEC-003, CON-SEC-005): Chromium's virtual authenticator
// (CTAP2, internal, resident keys, user verification) answers navigator.credentials for
// public/passkeys.js. A person adds a passkey on /account, signs out, signs in with the
// passkey alone on /login, and later uses it as the second factor on /login/mfa. The
// endpoints refuse other sites. BASE_URL must be http://localhost:PORT: WebAuthn needs a
// host name in a secure context, and the server's public URL must be the same origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, SCREENSHOTS, launchBrowser } from './browser.mjs';
import { invitedUser, psql, signIn } from './support.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const path = (page) => new URL(page.url()).pathname;

/// Console errors, page errors and failed requests — except requests a navigation cut
/// short: the passkey buttons work before the wasm has loaded, and leave the page at once.
function watchProblems(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()}`);
  });
  return problems;
}

/// A fresh account of acme, signed in on `page` (and where its first sign-in needs no
/// second factor). A fresh one rather than the demo user: a passkey changes how its
/// password sign-ins go (a new device then asks for the second factor), which other
/// tests of the demo users rely on not happening.
async function signedInAccount(page) {
  const account = await invitedUser(page);
  assert.equal(path(page), '/account', 'signed in without a second step');
  await page.waitForLoadState('load');
  return account;
}

/// A virtual platform authenticator for this page's tab, like a phone or laptop passkey.
async function virtualAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  return { credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials };
}

/// Clicks a passkey button and waits for the page to go where `url` says; a message in
/// `[data-passkey-error]` instead fails the test with that message.
async function clickPasskey(page, which, url) {
  const failed = page.waitForFunction(() => {
    const box = [...document.querySelectorAll('[data-passkey-error]')].find((e) => e.textContent.trim());
    return box && box.textContent.trim();
  }, null, { timeout: 30000 }).then(async (h) => { throw new Error(`passkey ${which}: ${await h.jsonValue()}`); });
  failed.catch(() => {}); // settled below, or abandoned once the page has navigated
  await Promise.race([
    Promise.all([page.waitForURL(url, { timeout: 30000 }), page.click(`[data-passkey="${which}"]`)]),
    failed,
  ]);
}

async function signOut(page) {
  await page.goto(`${BASE_URL}/logout`);
  await Promise.all([page.waitForURL(/signed_out=1/), page.click('[data-testid=sign-out]')]);
}

const sessionCookie = async (context) => (await context.cookies()).find((c) => c.name === 'gatehouse_session' && c.value);

const lastSignIn = (email) => psql(
  `SELECT metadata->>'methods' FROM audit_log WHERE action = 'auth.login.success'
     AND actor_id = (SELECT id FROM users WHERE lower(email) = lower('${email}')) ORDER BY seq DESC LIMIT 1`);

test('a passkey added on /account signs in alone, and is a second factor after a password', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchProblems(page);
  const authenticator = await virtualAuthenticator(context, page);
  const { email, password } = await signedInAccount(page);

  // Add a passkey: the page comes back saying so, and the authenticator holds a
  // discoverable credential for this site.
  await clickPasskey(page, 'register', /passkey=added/);
  assert.equal(path(page), '/account');
  assert.match(await page.textContent('body'), /Your passkey is added/);
  await page.screenshot({ path: join(SCREENSHOTS, 'passkey-added.png'), fullPage: true });
  const held = await authenticator.credentials();
  assert.equal(held.length, 1);
  assert.equal(held[0].isResidentCredential, true);
  assert.equal(held[0].rpId, 'localhost');
  assert.equal(psql(`SELECT count(*) FROM webauthn_credentials w JOIN users u ON u.id = w.user_id
                     WHERE lower(u.email) = lower('${email}')`), '1');
  assert.equal(psql(`SELECT metadata->>'factor' FROM audit_log WHERE action = 'auth.mfa.enrolled'
                     AND actor_id = (SELECT id FROM users WHERE lower(email) = lower('${email}'))`), 'passkey');

  // Sign out, then sign in with the passkey alone: no email, no password.
  await signOut(page);
  assert.equal(await sessionCookie(context), undefined);
  await page.goto(`${BASE_URL}/login`);
  await clickPasskey(page, 'login', `${BASE_URL}/account`);
  await page.waitForSelector('[data-testid=account-email]');
  assert.equal((await page.textContent('[data-testid=account-email]')).trim(), email);
  const cookie = await sessionCookie(context);
  assert.ok(cookie, 'a session cookie was set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(lastSignIn(email), 'hwk');
  assert.ok((await authenticator.credentials())[0].signCount > 1, 'the signature counter moved');

  // A password sign-in from this browser (no trusted-device cookie) now asks for the second
  // factor, and the passkey gives it.
  await signOut(page);
  await signIn(page, email, password);
  assert.equal(path(page), '/login/mfa');
  await page.screenshot({ path: join(SCREENSHOTS, 'passkey-mfa.png'), fullPage: true });
  await clickPasskey(page, 'mfa', `${BASE_URL}/account`);
  await page.waitForSelector('[data-testid=account-email]');
  assert.equal(lastSignIn(email), 'pwd,hwk');

  assert.deepEqual(errors, []);
  await context.close();
});

test('a sign-in with a passkey this site does not know says so', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await virtualAuthenticator(context, page); // empty: holds no credential for this site
  await page.goto(`${BASE_URL}/login`);
  await page.click('[data-passkey="login"]');
  const box = await page.waitForFunction(() => {
    const e = document.querySelector('[data-passkey-error]');
    return e && e.textContent.trim();
  }, null, { timeout: 30000 });
  assert.match(await box.jsonValue(), /cancelled|timed out|could not/i);
  assert.equal(path(page), '/login');
  assert.equal(await sessionCookie(context), undefined);
  await context.close();
});

test('the passkey endpoints answer only this site, in JSON', async () => {
  const post = (route, { origin = BASE_URL, body = '{}', cookie } = {}) => fetch(`${BASE_URL}/passkeys/${route}`, {
    method: 'POST', body, redirect: 'manual',
    headers: { origin, 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
  });

  // Another site is refused before anything happens.
  let res = await post('login/start', { origin: 'http://evil.example' });
  assert.equal(res.status, 403);
  assert.match((await res.json()).error, /another site/);
  // This site gets the options for navigator.credentials.get, never cached.
  res = await post('login/start');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const started = await res.json();
  assert.equal(started.options.publicKey.rpId, 'localhost');
  assert.equal(started.options.publicKey.userVerification, 'required');
  assert.match(started.challenge_id, /^[0-9a-f-]{36}$/);
  // An answer that is not a credential is refused with a sentence, not internals.
  res = await post('login/finish', { body: JSON.stringify({ challenge_id: started.challenge_id, credential: {} }) });
  assert.equal(res.status, 422);
  assert.match((await res.json()).error, /could not be read/);
  // Registering needs a signed-in session; the second factor a pending one.
  res = await post('register/start');
  assert.equal(res.status, 401);
  assert.match((await res.json()).error, /sign in/i);
  res = await post('mfa/start', { cookie: 'gatehouse_session=not-a-session' });
  assert.equal(res.status, 401);
  assert.match((await res.json()).error, /expired/);
});
