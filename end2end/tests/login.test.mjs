// Universal Login in the browser (UC-LOGIN, UC-LOGOUT, FR-AUTH-004..006, NFR-SEC-003/006):
// refusals, landing by role, the session cookie, signing out, the form without JavaScript,
// invitations, password reset, TOTP enrolment, the account's sessions and password, sign-in
// notices, suspended tenants, the lock after repeated failures, and the demo mailbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, SCREENSHOTS, launchBrowser, watchErrors } from './browser.mjs';
import { PASSWORD, mailFor, linkIn, totp, gatehouse, psql, signIn, invitedUser, uniqueEmail } from './support.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const path = (page) => new URL(page.url()).pathname;
const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));
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

test('an invitation from the real mail is accepted under the password policy (FR-TENANT-001)', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const email = uniqueEmail('invitee');
  const out = gatehouse('invite', '--tenant', 'acme', '--email', email, '--role', 'user');
  assert.match(out, /invited/);
  const mail = await mailFor(email, /invit/i);
  assert.match(mail.subject, /Acme/i);
  assert.ok(mail.html.includes('/invite/'), 'the HTML part links to the invitation too');
  const link = linkIn(mail, '/invite/');
  await page.goto(link);
  assert.match(await page.textContent('h1'), /Join/);
  assert.match(await page.textContent('[data-testid=password-rules]'), /at least 12 characters/, 'the policy is shown before typing');
  await page.screenshot({ path: join(SCREENSHOTS, 'invite.png'), fullPage: true });
  // A common password is refused with a message that says what is wrong.
  await page.fill('#name', 'Ines Invitee');
  await page.fill('#password', 'password1234');
  await page.fill('#confirm', 'password1234');
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-testid=invite-error]');
  assert.match(await page.textContent('[data-testid=invite-error]'), /common|guess/i);
  assert.equal(psql(`SELECT status FROM users WHERE lower(email) = lower('${email}')`), 'invited', 'nothing changed');
  // A good one activates the account and signs in.
  await page.fill('#password', 'Quiet-harbour-7731');
  await page.fill('#confirm', 'Quiet-harbour-7731');
  await Promise.all([page.waitForURL(`${BASE_URL}/account`), page.click('form button[type=submit]')]);
  await page.waitForSelector('[data-testid=account-email]');
  assert.equal((await page.textContent('[data-testid=account-email]')).trim(), email);
  // The link is used up.
  await page.goto(link);
  assert.ok(await page.isVisible('[data-testid=invite-gone]'));
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('password reset by email: policy applies, every session ends, the link works once (FR-AUTH-004)', async () => {
  const a = await browser.newContext();
  const pageA = await a.newPage();
  const { email, password } = await invitedUser(pageA);
  // A second browser holds a session that the reset must end.
  const b = await browser.newContext();
  const pageB = await b.newPage();
  await signIn(pageB, email, password);
  assert.equal(path(pageB), '/account');

  const anon = await browser.newContext();
  const page = await anon.newPage();
  await page.goto(`${BASE_URL}/forgot-password`);
  await page.fill('#email', email);
  await Promise.all([page.waitForURL(/sent=1/), page.click('form button[type=submit]')]);
  assert.match(await page.textContent('[data-testid=flash]'), /If that address has an account/);
  // An unknown address gets exactly the same answer (no enumeration).
  await page.fill('#email', uniqueEmail('nobody'));
  await Promise.all([page.waitForURL(/sent=1/), page.click('form button[type=submit]')]);
  assert.match(await page.textContent('[data-testid=flash]'), /If that address has an account/);

  const mail = await mailFor(email, /reset/i);
  const link = linkIn(mail, '/reset-password/');
  await page.goto(link);
  await page.screenshot({ path: join(SCREENSHOTS, 'reset-password.png'), fullPage: true });
  await page.fill('#password', 'short');
  await page.fill('#confirm', 'short');
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-testid=reset-error]');
  assert.match(await page.textContent('[data-testid=reset-error]'), /at least 12 characters/);
  const fresh = 'Copper-kettle-9051';
  await page.fill('#password', fresh);
  await page.fill('#confirm', fresh);
  await Promise.all([page.waitForURL(/reset=1/), page.click('form button[type=submit]')]);

  // B's session ended at once: its next click goes to sign-in.
  await pageB.goto(`${BASE_URL}/account`);
  // The server's redirect may already have landed there (then no navigation is left to
  // wait for), or the page's guard sends it after hydration: poll the address.
  for (let i = 0; i < 100 && path(pageB) !== '/login'; i++) await pageB.waitForTimeout(100);
  assert.equal(path(pageB), '/login');
  // The old password no longer works, the new one does, the link is used up.
  await signIn(page, email, password);
  assert.match(page.url(), /error=invalid/);
  await signIn(page, email, fresh);
  assert.equal(path(page), '/account');
  await page.goto(link);
  assert.match(await page.textContent('main'), /expired or was already used/);
  await Promise.all([a.close(), b.close(), anon.close()]);
});

test('operators enrol TOTP at first sign-in; codes come from pyotp; replays and reused recovery codes fail (NFR-SEC-003)', async () => {
  const first = await browser.newContext();
  const page = await first.newPage();
  const errors = watchErrors(page);
  await signIn(page, 'operator@gatehouse.test', PASSWORD);
  assert.equal(path(page), '/login/mfa/setup', 'operators must enrol before anything else');
  // The pending session reaches nothing else.
  await page.goto(`${BASE_URL}/operator`);
  assert.equal(path(page), '/login/mfa');
  await page.goto(`${BASE_URL}/login/mfa/setup`);
  await page.waitForSelector('[data-testid=totp-secret]');
  assert.ok(await page.isVisible('[data-testid=totp-qr] svg'), 'the QR code is an inline SVG');
  await page.screenshot({ path: join(SCREENSHOTS, 'mfa-setup.png'), fullPage: true });
  const secret = (await page.textContent('[data-testid=totp-secret]')).trim();
  await page.fill('#totp-code', '000000');
  await page.click('form button[type=submit]');
  await page.waitForSelector('[role=alert]');
  const code = totp(secret);
  await page.fill('#totp-code', code);
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-testid=recovery-codes] li');
  const codes = (await page.$$eval('[data-testid=recovery-codes] li', (lis) => lis.map((l) => l.textContent.trim())));
  assert.equal(codes.length, 10);
  await page.screenshot({ path: join(SCREENSHOTS, 'mfa-recovery-codes.png'), fullPage: true });
  await Promise.all([page.waitForURL(`${BASE_URL}/operator`), page.click('[data-testid=mfa-continue]')]);

  // Enrolling trusts no browser, and operators give their second factor at every sign-in
  // (SPEC §3): signing in again here asks for a code.
  await page.goto(`${BASE_URL}/logout`);
  await Promise.all([page.waitForURL(/signed_out=1/), page.click('[data-testid=sign-out]')]);
  await signIn(page, 'operator@gatehouse.test', PASSWORD);
  assert.equal(path(page), '/login/mfa');

  // A new browser must give a code; the one already used is refused (no replay).
  const second = await browser.newContext();
  const page2 = await second.newPage();
  await signIn(page2, 'operator@gatehouse.test', PASSWORD);
  assert.equal(path(page2), '/login/mfa');
  await page2.screenshot({ path: join(SCREENSHOTS, 'mfa-challenge.png'), fullPage: true });
  await page2.fill('#code', code);
  await Promise.all([page2.waitForURL(/error=code/), page2.click('form button[type=submit]')]);
  await page2.fill('#code', totp(secret, 30));
  await Promise.all([page2.waitForURL(`${BASE_URL}/operator`), page2.click('form button[type=submit]')]);

  // A recovery code works once.
  for (const [i, want] of [[0, '/operator'], [1, '/login/mfa']]) {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await signIn(p, 'operator@gatehouse.test', PASSWORD);
    await p.fill('#code', codes[0]);
    await Promise.all([p.waitForURL((u) => u.pathname !== '/login/mfa' || u.search.includes('error')), p.click('form button[type=submit]')]);
    assert.equal(path(p), want, `recovery code use #${i + 1}`);
    await ctx.close();
  }
  assert.deepEqual(unexpected(errors), []);
  await Promise.all([first.close(), second.close()]);
});

test('the account page lists sessions; one revoked there is refused on its next click (FR-AUTH-005)', async () => {
  const a = await browser.newContext();
  const pageA = await a.newPage();
  const errors = watchErrors(pageA);
  const { email, password } = await invitedUser(pageA);
  const b = await browser.newContext({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' });
  const pageB = await b.newPage();
  await signIn(pageB, email, password);
  assert.equal(path(pageB), '/account');

  await pageA.goto(`${BASE_URL}/account`);
  await pageA.waitForSelector('[data-testid=session-row]');
  assert.equal(await pageA.locator('[data-testid=session-row]').count(), 2);
  await pageA.screenshot({ path: join(SCREENSHOTS, 'account.png'), fullPage: true });
  const other = pageA.locator('[data-testid=session-row]', { hasText: 'Firefox' });
  await other.locator('[data-testid=revoke-session]').click();
  await other.locator('[data-testid=revoke-session-confirm]').click();
  await pageA.waitForSelector('[data-testid=flash]');
  assert.match(await pageA.textContent('[data-testid=flash]'), /signed out/);
  await pageA.waitForFunction(() => document.querySelectorAll('[data-testid=session-row]').length === 1);

  await pageB.reload();
  assert.equal(path(pageB), '/login', 'the revoked session is refused at once');
  // A's own session lives on.
  await pageA.reload();
  assert.equal(path(pageA), '/account');
  assert.deepEqual(errors, []);
  await Promise.all([a.close(), b.close()]);
});

test('changing the password checks the current one and the policy (FR-AUTH-006)', async () => {
  const a = await browser.newContext();
  const page = await a.newPage();
  const { email, password } = await invitedUser(page);
  await page.goto(`${BASE_URL}/account`);
  await page.waitForSelector('#current_password');
  const outcome = () => page.textContent('[data-testid=password-outcome]').then((t) => t.trim());
  const change = async (current, next) => {
    const before = await outcome();
    await page.fill('#current_password', current);
    await page.fill('#new_password', next);
    await page.fill('#confirm_password', next);
    await page.click('#password-h ~ form button[type=submit]');
    await page.waitForFunction((old) => {
      const now = document.querySelector('[data-testid=password-outcome]').textContent.trim();
      return now !== '' && now !== old;
    }, before);
    return outcome();
  };
  assert.match(await change('wrong-current-pw', 'Silver-meadow-2290'), /current password is not correct/);
  assert.match(await change(password, password), /used this password recently/);
  assert.match(await change(password, 'Silver-meadow-2290'), /password is changed/);
  await signIn(page, email, 'Silver-meadow-2290');
  assert.equal(path(page), '/account');
  await a.close();
});

test('a new browser gets a sign-in notice by email; the same browser again does not (NFR-SEC-006)', async () => {
  const a = await browser.newContext();
  const page = await a.newPage();
  const { email, password } = await invitedUser(page);
  const notices = async () => {
    const all = await (await fetch(`${process.env.SMTP_API ?? 'http://127.0.0.1:8026'}/messages`)).json();
    return all.filter((m) => m.to.some((t) => t.toLowerCase() === email) && /New sign-in/.test(m.subject)).length;
  };
  // The invitation's sign-in left a device cookie: signing in again here is no news.
  const device = (await a.cookies()).find((c) => c.name === 'gatehouse_device');
  assert.ok(device?.httpOnly, 'an HttpOnly device cookie');
  await page.goto(`${BASE_URL}/logout`);
  await Promise.all([page.waitForURL(/signed_out=1/), page.click('[data-testid=sign-out]')]);
  await signIn(page, email, password);
  assert.equal(path(page), '/account');
  // Another browser is: its sign-in is mailed to the account's owner, with a link to revoke.
  const b = await browser.newContext();
  const other = await b.newPage();
  await signIn(other, email, password);
  assert.equal(path(other), '/account');
  const mail = await mailFor(email, /New sign-in/);
  assert.ok(mail.text.includes(`${BASE_URL}/account`));
  // Give the outbox worker time to deliver anything else, then count.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await notices(), 1, 'one notice: the second browser, not the first one again');
  await a.close();
  await b.close();
});

test('pages refuse the wrong role, and sign-in is needed first', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${BASE_URL}/admin`);
  assert.equal(path(page), '/login');
  assert.match(page.url(), /return_to=%2Fadmin/);
  await signIn(page, 'user@acme.test', PASSWORD, '/login?return_to=%2Fadmin');
  assert.equal(path(page), '/admin');
  assert.match(await page.textContent('[data-testid=page-refused]'), /This page is for owner or admin/);
  await ctx.close();
});

test("a suspended tenant's users cannot sign in and their open sessions end (FR-OPS-001)", async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, 'admin@acme.test', PASSWORD);
  assert.equal(path(page), '/admin');
  psql("UPDATE tenants SET status = 'suspended', suspended_at = now() WHERE domain = 'acme'");
  try {
    await page.reload();
    assert.equal(path(page), '/login', 'the open session is refused on the next click');
    await signIn(page, 'admin@acme.test', PASSWORD);
    assert.match(await page.textContent('[data-testid=login-error]'), /suspended/);
  } finally {
    psql("UPDATE tenants SET status = 'active', suspended_at = NULL WHERE domain = 'acme'");
  }
  await signIn(page, 'admin@acme.test', PASSWORD);
  assert.equal(path(page), '/admin', 'reactivation restores sign-in');
  await ctx.close();
});

test('repeated failures lock the account for a while, and the page says so (brute force)', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const { email, password } = await invitedUser(page);
  const attempt = async (pw) => {
    const res = await fetch(`${BASE_URL}/_rpc/sign_in`, {
      method: 'POST', redirect: 'manual',
      body: new URLSearchParams({ email, password: pw, tenant: '', return_to: '' }),
      headers: { origin: BASE_URL, 'content-type': 'application/x-www-form-urlencoded' },
    });
    return res.headers.get('location');
  };
  // Growing delays after the third failure, then a lock at the tenth.
  const started = Date.now();
  for (let i = 0; i < 10; i++) assert.match(await attempt(`wrong-${i}`), /error=(invalid|locked)/);
  assert.ok(Date.now() - started > 10000, 'failures were slowed down');
  // Even the right password is refused while locked, with a clear message.
  await signIn(page, email, password);
  assert.match(page.url(), /error=locked/);
  assert.match(await page.textContent('[data-testid=login-error]'), /Too many failed sign-ins/);
  const lockouts = psql("SELECT count(*) FROM audit_log WHERE action = 'auth.lockout' AND resource = 'account:" + email.toLowerCase() + "'");
  assert.equal(lockouts, '1');
  await ctx.close();
});

test('the demo mailbox lists the outbox and opens a mail', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  const email = uniqueEmail('mailbox');
  gatehouse('invite', '--tenant', 'acme', '--email', email, '--role', 'user');
  await mailFor(email, /invit/i);
  await page.goto(`${BASE_URL}/dev/mailbox`);
  const row = page.locator('[data-testid=mailbox-row]', { hasText: email });
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /invitation/);
  await page.screenshot({ path: join(SCREENSHOTS, 'mailbox.png'), fullPage: true });
  await Promise.all([page.waitForURL(/id=/), row.locator('a').first().click()]);
  await page.waitForSelector('[data-testid=mail-text]');
  assert.match(await page.textContent('[data-testid=mail-text]'), /\/invite\//);
  assert.deepEqual(unexpected(errors), []);
  await ctx.close();
});
