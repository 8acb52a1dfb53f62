// Tenant Administration (issue 6; SPEC §2; FR-TENANT-001/002/004/006, UC-TENANT-INVITE,
// UC-TENANT-USER-UPDATE, UC-TENANT-USER-STATUS-UPDATE, UC-TENANT-USER-DELETE): an admin
// invites a person (a bad address is refused beside its field), the invitation comes
// through the real SMTP sink and is accepted in the person's own browser; then the admin
// changes their role, disables, enables and deletes them — each confirmed — and the person's
// browser sees each effect at its next click. An admin cannot act on an owner; a `user`
// gets the 403 page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BASE_URL, SCREENSHOTS, clickOnceHydrated, launchBrowser, watchErrors } from './browser.mjs';
import { readFile } from 'node:fs/promises';
import { PASSWORD, gatehouse, invitedUser, linkIn, mailFor, psql, signIn, uniqueEmail } from './support.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const path = (page) => new URL(page.url()).pathname;
const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));
const text = async (locator) => (await locator.textContent()).trim();

/// Clicks a confirming button: the first click asks, the second confirms; waits for the
/// flash line that reports the result.
async function confirm(page, testid, flash) {
  await page.click(`[data-testid=${testid}]`);
  await page.click(`[data-testid=${testid}-confirm]`);
  await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('[data-testid=flash]')?.textContent ?? ''), flash.source);
}

test('an admin invites a person and changes their role, disables, enables and deletes them; the person sees each at once', async () => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  const errors = watchErrors(admin);
  await signIn(admin, 'admin@acme.test', PASSWORD);
  assert.equal(path(admin), '/admin');
  await Promise.all([admin.waitForURL(`${BASE_URL}/admin/users`), admin.click('[data-testid=admin-users]')]);
  await admin.waitForSelector('[data-testid=invite-form]');
  await admin.waitForLoadState('networkidle');
  // An admin cannot grant owner.
  assert.deepEqual(await admin.$$eval('#invite-role option', (os) => os.map((o) => o.value)), ['admin', 'user']);

  // A bad address is refused beside its field.
  await admin.evaluate(() => document.querySelector('#invite-email').setAttribute('type', 'text'));
  await admin.fill('#invite-email', 'not-an-address');
  await admin.click('[data-testid=invite-submit]');
  await admin.waitForFunction(() => (document.querySelector('[data-testid=email-error]')?.textContent ?? '') !== '');
  assert.match(await text(admin.locator('[data-testid=email-error]')), /not a valid email/);

  // Invited, listed as invited; the mail arrives through the SMTP sink.
  const email = uniqueEmail('colleague');
  await admin.fill('#invite-email', email);
  await admin.click('[data-testid=invite-submit]');
  await admin.waitForSelector('[data-testid=invited]');
  const row = admin.locator(`[data-testid=person-row][data-email="${email}"]`);
  await row.waitFor();
  assert.equal(await text(row.locator('[data-testid=person-status]')), 'Invited');
  await admin.screenshot({ path: join(SCREENSHOTS, 'admin-users.png'), fullPage: true });

  const mail = await mailFor(email, /invit/i);
  const personContext = await browser.newContext();
  const person = await personContext.newPage();
  await person.goto(linkIn(mail, '/invite/'));
  await person.fill('#name', 'New Colleague');
  await person.fill('#password', 'Meadow-lantern-6402');
  await person.fill('#confirm', 'Meadow-lantern-6402');
  await Promise.all([person.waitForURL((u) => !u.pathname.startsWith('/invite/')), person.click('form button[type=submit]')]);
  assert.equal(path(person), '/account', 'a user lands on their account page');

  // The person's page: active, one session.
  await admin.goto(`${BASE_URL}/admin/users?q=${encodeURIComponent(email)}`);
  await Promise.all([admin.waitForURL(/\/admin\/users\/[0-9a-f-]{36}$/), admin.click(`[data-testid=person-row][data-email="${email}"] a`)]);
  await admin.waitForSelector('[data-testid=person-actions]');
  await admin.waitForLoadState('networkidle');
  assert.equal(await text(admin.locator('[data-testid=person-status]')), 'Active');
  assert.equal(await admin.locator('[data-testid=session-row]').count(), 1);
  await admin.screenshot({ path: join(SCREENSHOTS, 'admin-user.png'), fullPage: true });

  // Role change: their session ends at once.
  await admin.selectOption('#person-role-select', 'admin');
  await confirm(admin, 'change-role', /is an admin now/);
  await admin.waitForFunction(() => document.querySelector('[data-testid=person-role]')?.textContent.trim() === 'Admin');
  await person.reload();
  assert.equal(path(person), '/login', "the person's session ended with the role change");
  await signIn(person, email, 'Meadow-lantern-6402');
  assert.equal(path(person), '/admin', 'as an admin now');

  // Disable: their session ends and they cannot sign in.
  await confirm(admin, 'disable', /is disabled/);
  await admin.waitForFunction(() => document.querySelector('[data-testid=person-status]')?.textContent.trim() === 'Disabled');
  await person.reload();
  assert.equal(path(person), '/login');
  await signIn(person, email, 'Meadow-lantern-6402');
  assert.ok(await person.isVisible('[data-testid=login-error]'), 'a disabled person cannot sign in');

  // Enable: they can sign in again.
  await confirm(admin, 'enable', /is enabled/);
  await signIn(person, email, 'Meadow-lantern-6402');
  assert.equal(path(person), '/admin');

  // Delete (confirmed): they can never sign in, and the list hides them.
  await confirm(admin, 'delete', /is deleted/);
  await person.reload();
  assert.equal(path(person), '/login');
  await signIn(person, email, 'Meadow-lantern-6402');
  assert.ok(await person.isVisible('[data-testid=login-error]'));
  await admin.goto(`${BASE_URL}/admin/users?q=${encodeURIComponent(email)}`);
  await admin.waitForSelector('[data-testid=no-people]');
  await admin.goto(`${BASE_URL}/admin/users?q=${encodeURIComponent(email)}&status=archived`);
  await admin.waitForSelector(`[data-testid=person-row][data-email="${email}"]`);

  assert.deepEqual(unexpected(errors), []);
  await personContext.close();
  await adminContext.close();
});

test('an admin cannot act on an owner, and a user gets the 403 page', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'admin@acme.test', PASSWORD);
  await page.goto(`${BASE_URL}/admin/users?role=owner`);
  await Promise.all([page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}$/), page.click('[data-testid=person-row][data-email="owner@acme.test"] a')]);
  await page.waitForSelector('[data-testid=owner-note]');
  assert.equal(await page.locator('[data-testid=person-actions]').count(), 0);
  // Nor through the server function directly.
  const owner = page.url().split('/').pop();
  const res = await page.request.post(`${BASE_URL}/_rpc/act_on_person`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    data: `id=${owner}&action=disable&role=`,
  });
  assert.equal(res.status(), 403);
  await context.close();

  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  await signIn(user, 'user@acme.test', PASSWORD);
  const refused = await user.goto(`${BASE_URL}/admin/users`);
  assert.equal(refused.status(), 403);
  assert.match(await user.textContent('[data-testid=page-refused]'), /This page is for owner or admin/);
  await userContext.close();
});

test('an admin sets the security policies (refusals beside their fields); only the owner changes the plan', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signIn(page, 'admin@acme.test', PASSWORD);
  await Promise.all([page.waitForURL(`${BASE_URL}/admin/settings`), page.click('[data-testid=admin-settings]')]);
  await page.waitForSelector('[data-testid=settings-form]');
  await page.waitForLoadState('networkidle');
  const stored = () => psql("SELECT password_policy->>'min_length', session_idle_timeout_secs FROM tenants WHERE domain = 'acme'");
  const before = stored();

  // Out of bounds: refused beside each field, nothing stored.
  await page.fill('#min-length', '4');
  await page.fill('#idle-timeout', '0');
  await page.click('[data-testid=settings-submit]');
  await page.waitForFunction(() => (document.querySelector('[data-testid="password_policy.min_length-error"]')?.textContent ?? '') !== '');
  assert.match(await text(page.locator('[data-testid="password_policy.min_length-error"]')), /between/);
  assert.match(await text(page.locator('[data-testid=session_idle_timeout_secs-error]')), /between 1 and 1440 minutes/);
  assert.equal(stored(), before, 'nothing stored');
  await page.screenshot({ path: join(SCREENSHOTS, 'admin-settings-refused.png'), fullPage: true });

  // Within bounds: saved and audited.
  await page.fill('#min-length', '14');
  await page.fill('#idle-timeout', '45');
  await page.click('[data-testid=settings-submit]');
  await page.waitForFunction(() => /settings are saved/.test(document.querySelector('[data-testid=flash]')?.textContent ?? ''));
  assert.equal(stored(), '14|2700');
  await page.screenshot({ path: join(SCREENSHOTS, 'admin-settings.png'), fullPage: true });
  // The subscription has a page of its own: admins see the plan and what it gives, but not
  // the plan change.
  await Promise.all([page.waitForURL(`${BASE_URL}/admin/subscription`), page.click('[data-testid=settings-subscription]')]);
  await page.waitForSelector('[data-testid=plan-flags]');
  assert.match(await text(page.locator('[data-testid=plan-flags]')), /new_checkout/);
  assert.ok(await page.isVisible('[data-testid=owners-only]'));
  assert.equal(await page.locator('[data-testid=own-plan-form]').count(), 0);
  // Put the policy back for the other tests.
  psql(`UPDATE tenants SET password_policy = password_policy - 'min_length', session_idle_timeout_secs = 1800 WHERE domain = 'acme'`);
  await context.close();

  const ownerContext = await browser.newContext();
  const owner = await ownerContext.newPage();
  await signIn(owner, 'owner@acme.test', PASSWORD);
  await owner.goto(`${BASE_URL}/admin/subscription`);
  await owner.waitForSelector('[data-testid=own-plan-form]');
  await owner.waitForLoadState('networkidle');
  const planBefore = await text(owner.locator('[data-testid=current-plan]'));
  await owner.selectOption('#own-plan', 'pro');
  await owner.click('[data-testid=own-plan]');
  await owner.click('[data-testid=own-plan-confirm]');
  await owner.waitForFunction(() => document.querySelector('[data-testid=current-plan]')?.textContent.trim() === 'Pro');
  // And back, for the other tests.
  await owner.selectOption('#own-plan', planBefore.toLowerCase());
  await owner.click('[data-testid=own-plan]');
  await owner.click('[data-testid=own-plan-confirm]');
  await owner.waitForFunction((p) => document.querySelector('[data-testid=current-plan]')?.textContent.trim() === p, planBefore);
  assert.deepEqual(unexpected(errors), []);
  await ownerContext.close();
});

test("the tenant's audit log filters, pages and downloads only its own entries as CSV", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signIn(page, 'admin@acme.test', PASSWORD);
  await Promise.all([page.waitForURL(`${BASE_URL}/admin/audit`), page.click('[data-testid=admin-audit]')]);
  await page.waitForSelector('[data-testid=audit-entry]');
  await page.screenshot({ path: join(SCREENSHOTS, 'admin-audit.png'), fullPage: true });

  // Filter by action prefix: only auth.* entries.
  await page.fill('#audit-action', 'auth.login');
  await Promise.all([page.waitForURL(/action=auth\.login/), page.click('[data-testid=audit-filters] button[type=submit]')]);
  await page.waitForSelector('[data-testid=audit-entry]');
  const actions = await page.$$eval('[data-testid=audit-entry] td:nth-child(2)', (tds) => tds.map((t) => t.textContent.trim()));
  assert.ok(actions.length > 0 && actions.every((a) => a.startsWith('auth.login')), actions.join(','));

  // The CSV of the same filter, with the session cookie: only acme's rows.
  const href = await page.getAttribute('[data-testid=csv-download]', 'href');
  assert.match(href, /^\/admin\/audit\.csv\?action=auth\.login/);
  const csv = await page.request.get(`${BASE_URL}${href}`);
  assert.equal(csv.status(), 200);
  assert.match(csv.headers()['content-type'], /text\/csv/);
  const body = await csv.text();
  const lines = body.trim().split('\r\n');
  assert.match(lines[0], /^"occurred_at","action"/);
  assert.ok(lines.length > 1);
  assert.ok(lines.slice(1).every((l) => /^"[^"]+","auth\.login/.test(l)), lines.slice(0, 3).join('\n'));
  const acme = psql("SELECT id FROM tenants WHERE domain = 'acme'");
  const foreign = psql(`SELECT count(*) FROM audit_log WHERE tenant_id IS DISTINCT FROM '${acme}' AND action LIKE 'auth.login%'`);
  const own = psql(`SELECT count(*) FROM audit_log WHERE tenant_id = '${acme}' AND action LIKE 'auth.login%'`);
  assert.ok(Number(foreign) > 0, 'other tenants and the platform have sign-ins too');
  assert.ok(lines.length - 1 <= Number(own) + 2, `${lines.length - 1} rows, acme has ${own}`);
  assert.deepEqual(unexpected(errors), []);
  await context.close();

  // Not for users, nor without a session.
  const anonymous = await fetch(`${BASE_URL}/admin/audit.csv`);
  assert.equal(anonymous.status, 401);
  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  await signIn(user, 'user@acme.test', PASSWORD);
  assert.equal((await user.request.get(`${BASE_URL}/admin/audit.csv`)).status(), 403);
  await userContext.close();
});

test('an admin resends a pending invitation (the old link stops working) and revokes another', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signIn(page, 'admin@acme.test', PASSWORD);
  await page.goto(`${BASE_URL}/admin/users`);
  await page.waitForSelector('[data-testid=invite-form]');
  await page.waitForLoadState('networkidle');
  const email = uniqueEmail('pending');
  await page.fill('#invite-email', email);
  await page.click('[data-testid=invite-submit]');
  const row = page.locator(`[data-testid=pending-row][data-email="${email}"]`);
  await row.waitFor();
  const first = linkIn(await mailFor(email, /invit/i), '/invite/');

  await row.locator('[data-testid=resend-invitation]').click();
  await page.waitForFunction(() => /sent again/.test(document.body.textContent));
  // The new mail has a new link; the first one no longer works.
  let second;
  for (let i = 0; i < 40 && !second; i++) {
    const res = await fetch(`${process.env.SMTP_API ?? 'http://127.0.0.1:8026'}/messages`);
    const mine = (await res.json()).filter((m) => m.to.includes(email));
    if (mine.length >= 2) second = linkIn(mine[mine.length - 1], '/invite/');
    else await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(second && second !== first, 'a new link');
  const invitee = await context.newPage();
  await invitee.goto(first);
  await invitee.waitForSelector('[data-testid=invite-gone]');
  await page.screenshot({ path: join(SCREENSHOTS, 'admin-invitations.png'), fullPage: true });

  // Revoke (confirmed): gone from the list, and the new link no longer works either.
  await row.locator('[data-testid=revoke-invitation]').click();
  await row.locator('[data-testid=revoke-invitation-confirm]').click();
  await page.waitForFunction(() => /is revoked/.test(document.body.textContent));
  await page.waitForFunction((e) => !document.querySelector(`[data-testid=pending-row][data-email="${e}"]`), email);
  await invitee.goto(second);
  await invitee.waitForSelector('[data-testid=invite-gone]');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

// A person changes their own email address: the verification link.

/// A pending change of `email` to `newEmail`, as `request_email_change` stores it; returns
/// the token of its link.
function pendingChange(email, newEmail, expires = "now() + interval '24 hours'") {
  const token = randomBytes(32).toString('base64url');
  psql(`INSERT INTO email_changes (user_id, new_email, token_hash, expires_at)
        SELECT id, '${newEmail}', sha256(convert_to('${token}', 'UTF8')), ${expires}
        FROM users WHERE lower(email) = lower('${email}')`);
  return token;
}

test('the verification link confirms the new address once, with a button (SPEC §9)', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const { email, password } = await invitedUser(page);
  const newEmail = uniqueEmail('moved');
  const token = pendingChange(email, newEmail);

  await page.goto(`${BASE_URL}/verify-email/${token}`);
  await page.waitForSelector('[data-testid=confirm-email]');
  await page.screenshot({ path: join(SCREENSHOTS, 'verify-email.png'), fullPage: true });
  assert.equal(psql(`SELECT email FROM users WHERE lower(email) = lower('${email}')`), email, 'opening the link changes nothing');

  await page.click('[data-testid=confirm-email]');
  await page.waitForSelector('[data-testid=email-confirmed]');
  assert.match(await page.textContent('[data-testid=email-confirmed]'), new RegExp(newEmail.replace(/[.+]/g, '\\$&')));
  // The header of the signed-in person follows without a navigation.
  await page.waitForFunction((address) => document.querySelector('[data-testid=signed-in-as]')?.textContent.trim() === address, newEmail);
  await page.screenshot({ path: join(SCREENSHOTS, 'verify-email-done.png'), fullPage: true });
  assert.equal(psql(`SELECT count(*) FROM users WHERE lower(email) = lower('${newEmail}')`), '1');
  // The entry names the person; the addresses in it are sealed (CON-COMP-001).
  assert.match(psql(`SELECT action FROM audit_log WHERE action = 'user.email.change'
    AND resource = (SELECT 'user:' || id FROM users WHERE lower(email) = lower('${newEmail}'))`), /user\.email\.change/);
  await Promise.all([page.waitForURL((u) => u.pathname === '/account'), page.click('text=Continue to your account')]);

  // The link works once. (A click before the page hydrates posts the form without
  // JavaScript and shows nothing: click until the hydrated form answers. The refusal keeps
  // the form on the page, so a second click is harmless.)
  await page.goto(`${BASE_URL}/verify-email/${token}`);
  await clickOnceHydrated(page, '[data-testid=confirm-email]', () => page.locator('[data-testid=email-refused]').count());
  await page.waitForSelector('[data-testid=email-refused]');
  assert.match(await page.textContent('[data-testid=email-refused]'), /no longer valid/);

  // The new address signs in; the old one no longer does.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await signIn(other, email, password);
  assert.match(other.url(), /error=invalid/);
  await signIn(other, newEmail, password);
  assert.equal(new URL(other.url()).pathname, '/account');
  assert.deepEqual(unexpected(errors), []);
  await fresh.close();
  await context.close();
});

test('an expired or unknown verification link is refused and changes nothing', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { email } = await invitedUser(page);
  const newEmail = uniqueEmail('late');
  const expired = pendingChange(email, newEmail, "now() - interval '1 minute'");
  for (const token of [expired, randomBytes(32).toString('base64url')]) {
    await page.goto(`${BASE_URL}/verify-email/${token}`);
    await page.click('[data-testid=confirm-email]');
    await page.waitForSelector('[data-testid=email-refused]');
  }
  assert.equal(psql(`SELECT count(*) FROM users WHERE lower(email) = lower('${newEmail}')`), '0');
  assert.equal(psql(`SELECT email FROM users WHERE lower(email) = lower('${email}')`), email);
  await context.close();
});

// CON-COMP-001: a person downloads everything held about them and asks to be erased; an
// admin approves by erasing them. The person's browser is signed out, the tenant's audit
// log shows their personal values as erased, and the chain still verifies.
test('a person downloads their data and asks to be erased; an admin erases them and the trail still verifies', async () => {
  const personContext = await browser.newContext({ acceptDownloads: true });
  const person = await personContext.newPage();
  const errors = watchErrors(person);
  const { email } = await invitedUser(person);
  await person.goto(`${BASE_URL}/account`);
  await person.waitForSelector('[data-testid=your-data]');
  await person.waitForLoadState('networkidle');
  const [download] = await Promise.all([person.waitForEvent('download'), person.click('[data-testid=download-data]')]);
  const data = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(data.format, 'gatehouse.person-data/1');
  assert.equal(data.profile.email, email);
  assert.ok(data.sessions.length >= 1, 'the signed-in session is there');
  assert.ok(data.audit_entries.some((e) => e.action === 'user.invite' && e.metadata.email === email), 'entries about them, in clear');
  assert.ok(!JSON.stringify(data).includes('password_hash'), 'no secret');
  await person.screenshot({ path: join(SCREENSHOTS, 'account-your-data.png'), fullPage: true });

  await clickOnceHydrated(person, '[data-testid=request-erasure]', () => person.locator('[data-testid=request-erasure-confirm]').count());
  await person.click('[data-testid=request-erasure-confirm]');
  await person.waitForSelector('[data-testid=erasure-pending]');

  const adminContext = await browser.newContext({ acceptDownloads: true });
  const admin = await adminContext.newPage();
  await signIn(admin, 'admin@acme.test', PASSWORD);
  await admin.goto(`${BASE_URL}/admin/users`);
  await admin.waitForSelector('[data-testid=erasure-requests]');
  const row = admin.locator('[data-testid=erasure-row]', { hasText: email });
  await Promise.all([admin.waitForURL(/\/admin\/users\/[0-9a-f-]+$/), row.locator('a').click()]);
  await admin.waitForSelector('[data-testid=erasure-request]');
  await admin.waitForLoadState('networkidle');
  await admin.screenshot({ path: join(SCREENSHOTS, 'admin-erasure-request.png'), fullPage: true });
  await confirm(admin, 'erase', /is erased/);
  await admin.waitForSelector('[data-testid=person-erased]');
  assert.match(await text(admin.locator('[data-testid=person-email]')), /^erased-[0-9a-f-]+@erased\.invalid$/);

  // The person's browser is signed out at its next click.
  await person.goto(`${BASE_URL}/account`);
  await person.waitForURL(/\/login/);

  // The tenant's audit log: the entries about them stay, their personal values erased.
  await admin.goto(`${BASE_URL}/admin/audit`);
  await admin.waitForSelector('table');
  const log = await admin.textContent('main');
  assert.ok(log.includes('[erased]'), 'personal values read as erased');
  assert.ok(!log.includes(email), 'the address is nowhere on the page');
  assert.equal(psql(`SELECT count(*) FROM users WHERE lower(email) = lower('${email}')`), '0');
  assert.match(gatehouse('audit', 'verify'), /intact/);
  assert.deepEqual(unexpected(errors), []);
  await personContext.close();
  await adminContext.close();
});
