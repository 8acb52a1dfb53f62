// The Operator Console's dashboard, tenants and flags (issue 5; SPEC §2, §6; UC-PROV-001,
// UC-TENANT-SUSPEND, FR-OPS-001, FR-FLAG-001, API-FLAG): an operator provisions a tenant
// (refusals shown beside their fields, nothing half-created), the owner's invitation comes
// through the real SMTP sink and is accepted in a second browser; an override set on the
// tenant's page changes the Flag API's value and ETag; suspending ends the owner's open
// session at the next click and refuses sign-in, reactivating restores it; the plan
// changes; flags are defined, given plan defaults and show their history. Tenant admins get
// the 403 page and their direct server-function calls are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, SCREENSHOTS, launchBrowser, watchErrors } from './browser.mjs';
import { PASSWORD, gatehouse, linkIn, mailFor, psql, signIn } from './support.mjs';
import { signedInOperator } from './operator.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const path = (page) => new URL(page.url()).pathname;
// Refusals are 4xx answers, which Chromium logs; anything else (a 5xx, a script error) fails.
const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));
const text = async (locator) => (await locator.textContent()).trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// A Flag API reader for one tenant: an application enabled for it, a key with flag:read,
/// and a client-credentials token.
async function flagReader(domain) {
  const app = JSON.parse(gatehouse('app', 'register', '--name', `Flags of ${domain}`, '--tenant', domain));
  const key = JSON.parse(gatehouse('app', 'key', 'issue', app.id, '--scope', 'flag:read', '--tenant', domain));
  const res = await fetch(`${BASE_URL}/auth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${key.client_id}:${key.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  assert.equal(res.status, 200, await res.clone().text());
  const token = (await res.json()).access_token;
  return async () => {
    const r = await fetch(`${BASE_URL}/api/v1/flags`, { headers: { authorization: `Bearer ${token}` } });
    return { status: r.status, etag: r.headers.get('etag'), body: r.status === 200 ? await r.json() : await r.text() };
  };
}

const flagValue = (answer, key) => {
  const flags = answer.body.flags ?? answer.body.data ?? answer.body;
  const f = Array.isArray(flags) ? flags.find((x) => x.key === key) : flags[key];
  return typeof f === 'object' ? f.value : f;
};

/// Clicks a confirming button: the first click asks, the second confirms.
async function confirm(page, testid) {
  await page.click(`[data-testid=${testid}]`);
  await page.click(`[data-testid=${testid}-confirm]`);
}

test('an operator provisions a tenant, flips a flag for it, suspends and reactivates it, and changes its plan', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signedInOperator(page, 'tenants');

  // The dashboard: tenants by status and plan, health, recent events.
  await page.waitForSelector('[data-testid=tenants-total]');
  assert.ok(Number(await text(page.locator('[data-testid=tenants-total]'))) >= 1);
  assert.match(await text(page.locator('[data-testid=tenants-by-plan]')), /Enterprise/);
  assert.match(await text(page.locator('[data-testid=health-database]')), /answering/);
  assert.match(await text(page.locator('[data-testid=health-errors]')), /% of \d+ requests/);
  assert.ok(await page.locator('[data-testid=audit-row]').count() > 0, 'recent control-plane events');
  await page.screenshot({ path: join(SCREENSHOTS, 'operator-dashboard.png'), fullPage: true });

  await Promise.all([page.waitForURL(`${BASE_URL}/operator/tenants`), page.click('[data-testid=operator-tenants]')]);
  await page.waitForSelector('[data-testid=provision-form]');
  await page.waitForLoadState('networkidle');

  // A taken domain and a bad email are refused beside their fields; nothing is created.
  const stamp = Date.now();
  const name = `Globex ${stamp}`;
  const domain = `globex-${stamp}`;
  const owner = `owner-${stamp}@globex.test`;
  await page.fill('#tenant-name', name);
  await page.fill('#tenant-domain', 'acme');
  await page.fill('#tenant-owner', 'not-an-email');
  await page.evaluate(() => document.querySelector('#tenant-owner').setAttribute('type', 'text'));
  await page.click('[data-testid=provision-submit]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=owner_email-error]')?.textContent ?? '') !== '');
  assert.match(await text(page.locator('[data-testid=owner_email-error]')), /not a valid email/);
  await page.fill('#tenant-owner', owner);
  await page.click('[data-testid=provision-submit]');
  await page.waitForFunction(() => /already/.test(document.querySelector('[data-testid=domain-error]')?.textContent ?? ''));
  assert.equal(await page.getAttribute('#tenant-domain', 'aria-invalid'), 'true');
  assert.equal(psql(`SELECT count(*) FROM tenants WHERE name = '${name}'`), '0', 'nothing half-created');
  assert.equal(psql(`SELECT count(*) FROM users WHERE email = '${owner}'`), '0');
  await page.screenshot({ path: join(SCREENSHOTS, 'tenants-refused.png'), fullPage: true });

  // Fixed, it is provisioned on the pro plan with the demo application enabled.
  await page.fill('#tenant-domain', domain);
  await page.selectOption('#tenant-plan-new', 'pro');
  await page.locator('input[name="applications[]"]').first().check();
  await page.click('[data-testid=provision-submit]');
  await page.waitForSelector('[data-testid=provisioned]');
  assert.match(await text(page.locator('[data-testid=provisioned]')), new RegExp(`invitation went to ${owner}`));
  assert.equal(await page.inputValue('#tenant-name'), '', 'the form is empty for the next one');

  // Search finds it by domain; a status filter that does not match shows the empty state.
  await page.goto(`${BASE_URL}/operator/tenants?q=${domain}`);
  await page.waitForSelector(`[data-testid=tenant-row][data-domain="${domain}"]`);
  assert.equal(await page.locator('[data-testid=tenant-row]').count(), 1);
  await page.goto(`${BASE_URL}/operator/tenants?q=${domain}&status=suspended`);
  await page.waitForSelector('[data-testid=no-tenants]');
  await page.goto(`${BASE_URL}/operator/tenants?q=${domain}`);
  await page.screenshot({ path: join(SCREENSHOTS, 'tenants-list.png'), fullPage: true });

  // The owner accepts the invitation from the real SMTP sink in a browser of their own.
  const mail = await mailFor(owner, /invit/i);
  const ownerContext = await browser.newContext();
  const ownerPage = await ownerContext.newPage();
  await ownerPage.goto(linkIn(mail, '/invite/'));
  await ownerPage.fill('#name', 'Globex Owner');
  await ownerPage.fill('#password', 'Harbour-compass-7731');
  await ownerPage.fill('#confirm', 'Harbour-compass-7731');
  await Promise.all([ownerPage.waitForURL((u) => !u.pathname.startsWith('/invite/')), ownerPage.click('form button[type=submit]')]);
  assert.equal(path(ownerPage), '/admin', 'the owner lands in Tenant Administration');

  // The tenant's page: owner, people, plan, applications, flags with their sources.
  await Promise.all([page.waitForURL(/\/operator\/tenants\/[0-9a-f-]{36}$/), page.click(`[data-testid=tenant-row][data-domain="${domain}"] a`)]);
  await page.waitForSelector('[data-testid=tenant-name]');
  await page.waitForLoadState('networkidle');
  assert.equal(await text(page.locator('[data-testid=tenant-name]')), name);
  assert.equal(await text(page.locator('[data-testid=tenant-plan]')), 'Pro');
  assert.match(await text(page.locator('[data-testid=owners]')), new RegExp(owner));
  assert.equal(await text(page.locator('[data-testid=users-active]')), '1');
  const darkMode = page.locator('[data-testid=flag-row][data-key=dark_mode]');
  assert.equal(await text(darkMode.locator('[data-testid=flag-source]')), 'Default');
  assert.equal(await text(darkMode.locator('[data-testid=flag-value]')), 'Off');

  // An override changes what the Flag API serves, with a new ETag, within a second.
  const read = await flagReader(domain);
  const before = await read();
  assert.equal(before.status, 200);
  assert.equal(flagValue(before, 'dark_mode'), false);
  await page.click('[data-testid=override-on-dark_mode]');
  await page.waitForFunction(() => /overridden to on/.test(document.querySelector('[data-testid=flash]')?.textContent ?? ''));
  await page.waitForFunction(() => document.querySelector('[data-testid=flag-row][data-key=dark_mode] [data-testid=flag-source]')?.textContent.trim() === 'Override');
  let after;
  for (let i = 0; i < 20; i++) {
    after = await read();
    if (flagValue(after, 'dark_mode') === true) break;
    await sleep(50);
  }
  assert.equal(flagValue(after, 'dark_mode'), true);
  assert.notEqual(after.etag, before.etag, 'a new ETag');
  await page.screenshot({ path: join(SCREENSHOTS, 'tenant-page.png'), fullPage: true });
  // Cleared, the default decides again.
  await page.click('[data-testid=override-clear-dark_mode]');
  await page.waitForFunction(() => document.querySelector('[data-testid=flag-row][data-key=dark_mode] [data-testid=flag-source]')?.textContent.trim() === 'Default');

  // Suspension with a reason, after confirming: the owner's open session ends at their next
  // click, sign-in is refused, the Flag API refuses the tenant.
  await page.fill('#suspend-reason', 'Unpaid invoice');
  await confirm(page, 'suspend-tenant');
  await page.waitForSelector('[data-testid=suspended-note]');
  assert.equal(await text(page.locator('[data-testid=tenant-status]')), 'Suspended');
  assert.match(await text(page.locator('[data-testid=flash]')), /is suspended/);
  assert.equal(psql(`SELECT metadata->>'reason' FROM audit_log WHERE action = 'tenant.suspend' AND resource = 'tenant:' || (SELECT id FROM tenants WHERE domain = '${domain}')`), 'Unpaid invoice');
  await ownerPage.reload();
  assert.equal(path(ownerPage), '/login', "the owner's open session is refused on the next click");
  await signIn(ownerPage, owner, 'Harbour-compass-7731');
  assert.match(await ownerPage.textContent('[data-testid=login-error]'), /suspended/);
  assert.notEqual((await read()).status, 200, 'flag requests for a suspended tenant are refused');
  await page.screenshot({ path: join(SCREENSHOTS, 'tenant-suspended.png'), fullPage: true });

  // Reactivation restores sign-in.
  await confirm(page, 'reactivate-tenant');
  await page.waitForFunction(() => document.querySelector('[data-testid=tenant-status]')?.textContent.trim() === 'Active');
  await signIn(ownerPage, owner, 'Harbour-compass-7731');
  assert.equal(path(ownerPage), '/admin');

  // The plan changes; the plan's defaults apply (new_checkout is on for enterprise).
  await page.selectOption('#tenant-plan-change', 'enterprise');
  await page.click('[data-testid=plan-submit]');
  await page.waitForFunction(() => document.querySelector('[data-testid=tenant-plan]')?.textContent.trim() === 'Enterprise');
  const checkout = page.locator('[data-testid=flag-row][data-key=new_checkout]');
  assert.equal(await text(checkout.locator('[data-testid=flag-source]')), 'Plan');
  assert.equal(await text(checkout.locator('[data-testid=flag-value]')), 'On');
  assert.ok(await page.locator('[data-testid=audit-row]', { hasText: 'tenant.plan.change' }).count() >= 1);

  assert.deepEqual(unexpected(errors), []);
  await ownerContext.close();
  await context.close();
});

test('an operator defines a flag, sets a plan default and reads its history', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signedInOperator(page, 'flags');
  await Promise.all([page.waitForURL(`${BASE_URL}/operator/flags`), page.click('[data-testid=operator-flags]')]);
  await page.waitForSelector('[data-testid=define-form]');
  await page.waitForLoadState('networkidle');

  // A bad key and a bad rollout are refused beside their fields.
  const key = `reports_v${Date.now()}`;
  await page.fill('#flag-key', 'Not A Key!');
  await page.fill('#flag-rollout', '150');
  await page.click('[data-testid=define-submit]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=key-error]')?.textContent ?? '') !== '');
  assert.match(await text(page.locator('[data-testid=rollout_percentage-error]')), /between 0 and 100/);
  assert.equal(psql("SELECT count(*) FROM flag_definitions WHERE key = 'Not A Key!'"), '0');

  // Fixed, it is defined, listed and — never evaluated — among the stale flags.
  await page.fill('#flag-key', key);
  await page.fill('#flag-description', 'The new reports page');
  await page.fill('#flag-rollout', '25');
  await page.click('[data-testid=define-submit]');
  await page.waitForSelector('[data-testid=defined]');
  await page.waitForSelector(`[data-testid=flag-def-row][data-key=${key}]`);
  assert.match(await text(page.locator(`[data-testid=flag-def-row][data-key=${key}]`)), /25%/);
  assert.match(await text(page.locator('[data-testid=stale-flags]')), new RegExp(key));
  await page.screenshot({ path: join(SCREENSHOTS, 'flags-list.png'), fullPage: true });

  // Its page: the pro plan turns it on; the history shows who changed what.
  await Promise.all([page.waitForURL(`${BASE_URL}/operator/flags/${key}`), page.click(`[data-testid=flag-def-row][data-key=${key}] a`)]);
  await page.waitForSelector('[data-testid=plan-default-form-pro]');
  await page.waitForLoadState('networkidle');
  await page.selectOption('#plan-default-pro', 'on');
  await page.click('[data-testid=plan-default-save-pro]');
  await page.waitForFunction(() => /on by default on the pro plan/.test(document.querySelector('[data-testid=flash]')?.textContent ?? ''));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=history-row]').length >= 2);
  const newest = page.locator('[data-testid=history-row]').first();
  assert.match(await text(newest), /Plan default/);
  assert.match(await text(newest.locator('[data-testid=history-change]')), /— → on/);
  assert.match(await text(newest), /ops-flags-/);
  // A bad rollout on the edit form is refused and nothing changes.
  await page.fill('#flag-rollout', '-5');
  await page.click('[data-testid=edit-submit]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=rollout_percentage-error]')?.textContent ?? '') !== '');
  assert.equal(psql(`SELECT rollout_percentage FROM flag_definitions WHERE key = '${key}'`), '25');
  await page.screenshot({ path: join(SCREENSHOTS, 'flag-page.png'), fullPage: true });

  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('a tenant admin gets the 403 page and cannot call the console functions directly', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, 'admin@acme.test', PASSWORD);
  for (const where of ['/operator', '/operator/tenants', '/operator/flags']) {
    const res = await page.goto(`${BASE_URL}${where}`);
    assert.equal(res.status(), 403, where);
    assert.match(await page.textContent('[data-testid=page-refused]'), /This page is for operator/);
  }
  const acme = psql("SELECT id FROM tenants WHERE domain = 'acme'");
  for (const [fn, body] of [
    ['tenants_overview', ''],
    ['set_tenant_status', `id=${acme}&status=suspended`],
    ['set_tenant_flag_override', `tenant_id=${acme}&key=dark_mode&value=on`],
    ['define_flag', 'key=sneaky&description=&default_value=on'],
  ]) {
    const res = await page.request.post(`${BASE_URL}/_rpc/${fn}`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      data: body,
    });
    assert.equal(res.status(), 403, fn);
  }
  assert.equal(psql("SELECT status FROM tenants WHERE domain = 'acme'"), 'active');
  assert.equal(psql("SELECT count(*) FROM flag_definitions WHERE key = 'sneaky'"), '0');
  await context.close();
});
