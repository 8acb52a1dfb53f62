// Universal Login in the browser (UC-LOGIN, UC-LOGOUT): refusals, landing by role, the
// session cookie, signing out, and the form working without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, SCREENSHOTS, launchBrowser, watchErrors } from './browser.mjs';

const PASSWORD = 'Gatehouse-demo-2026';
let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function signIn(page, email, password) {
  await page.goto(`${BASE_URL}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/login') || u.search.includes('error')), page.click('button[type=submit]')]);
}

const sessionCookie = async (context) => (await context.cookies()).find((c) => c.name === 'gatehouse_session' && c.value);

test('a wrong password is refused with a clear message and no session', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signIn(page, 'owner@acme.test', 'not-the-password');
  assert.match(page.url(), /\/login\?error=invalid/);
  assert.equal((await page.textContent('[data-testid=login-error]')).trim(), 'The email address or password is not correct.');
  assert.equal(await sessionCookie(context), undefined);
  await page.screenshot({ path: join(SCREENSHOTS, 'login-error.png') });
  // An unknown address gets exactly the same answer.
  await signIn(page, 'nobody@acme.test', PASSWORD);
  assert.equal((await page.textContent('[data-testid=login-error]')).trim(), 'The email address or password is not correct.');
  assert.deepEqual(errors, []);
  await context.close();
});

test('each role lands where it belongs, with an HttpOnly SameSite session cookie', async () => {
  // Operators and auditors always need MFA: at their first sign-in they enrol it first.
  for (const [email, path] of [['owner@acme.test', '/admin'], ['admin@acme.test', '/admin'], ['user@acme.test', '/account'], ['operator@gatehouse.test', '/login/mfa/setup'], ['auditor@gatehouse.test', '/login/mfa/setup']]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, email, PASSWORD);
    assert.equal(new URL(page.url()).pathname, path, email);
    const cookie = await sessionCookie(context);
    assert.ok(cookie, `${email} has a session cookie`);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session cookie');
    await context.close();
  }
});

test('signing out ends the session and says so', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'admin@acme.test', PASSWORD);
  const before = await sessionCookie(context);
  await page.goto(`${BASE_URL}/logout`);
  await page.screenshot({ path: join(SCREENSHOTS, 'logout.png') });
  await Promise.all([page.waitForURL(/signed_out=1/), page.click('[data-testid=sign-out]')]);
  assert.match(await page.textContent('[role=status]'), /You are signed out/);
  assert.equal(await sessionCookie(context), undefined, 'the cookie is cleared');
  // The old token is dead on the server too: replaying it changes nothing for the caller.
  const res = await fetch(`${BASE_URL}/_rpc/sign_out`, {
    method: 'POST', headers: { cookie: `gatehouse_session=${before.value}`, origin: BASE_URL, 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual',
  });
  assert.ok([200, 302, 303].includes(res.status), `sign_out with a dead token answers ${res.status}`);
  await context.close();
});

test('the sign-in form works without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, 'owner@acme.test', 'wrong-again-1');
  assert.match(page.url(), /error=invalid/);
  assert.ok(await page.isVisible('[data-testid=login-error]'));
  await signIn(page, 'owner@acme.test', PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/admin');
  assert.ok(await sessionCookie(context));
  await context.close();
});

test('a sign-in posted from another site is refused (CSRF)', async () => {
  const body = new URLSearchParams({ email: 'owner@acme.test', password: PASSWORD, tenant: '', return_to: '' });
  const res = await fetch(`${BASE_URL}/_rpc/sign_in`, {
    method: 'POST', body, redirect: 'manual',
    headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('set-cookie'), null);
});
