// The Operator Console's applications pages (issue 4; SPEC §5; FR-SYS-001..003,
// UC-DEV-REGISTER): an operator registers an application (a plain-http redirect URI is
// refused beside its field), issues a key whose secret is shown once and works at the token
// endpoint, revokes the key and disables the application after confirming — by mouse and by
// keyboard. Tenant admins get the 403 page and their direct server-function calls are
// refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, SCREENSHOTS, launchBrowser, watchErrors } from './browser.mjs';
import { PASSWORD, psql, signIn } from './support.mjs';
import { signedInOperator } from './operator.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const path = (page) => new URL(page.url()).pathname;
// Refusals are 4xx answers, which Chromium logs; anything else (a 5xx, a script error) fails.
const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));
const text = async (locator) => (await locator.textContent()).trim();

/// A client-credentials token request with the key's secret (HTTP Basic), as an
/// application would make it.
async function tokenStatus(clientId, secret) {
  const res = await fetch(`${BASE_URL}/auth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'flag:read' }),
  });
  return res.status;
}

/// Waits until the token endpoint answers `want` (changes reach the server's client cache
/// through LISTEN/NOTIFY).
async function tokenStatusBecomes(clientId, secret, want) {
  let status;
  for (let i = 0; i < 40; i++) {
    status = await tokenStatus(clientId, secret);
    if (status === want) return status;
    await new Promise((r) => setTimeout(r, 100));
  }
  return status;
}

test('an operator registers an application, issues a key shown once, revokes it and disables the application', async () => {
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const operator = await signedInOperator(page);

  // The Operator Console links to the applications page.
  await Promise.all([page.waitForURL(`${BASE_URL}/operator/applications`), page.click('[data-testid=operator-applications]')]);
  assert.equal((await text(page.locator('main h1'))), 'Applications');
  await page.waitForSelector('[data-testid=register-form]');
  await page.waitForLoadState('networkidle');

  // A plain-http redirect URI to a public host is refused beside its field; nothing is saved
  // and the form keeps what was typed.
  const name = `Billing worker ${Date.now()}`;
  await page.fill('#app-name', name);
  await page.selectOption('#app-environment', 'staging');
  await page.fill('#app-redirect-uris', 'http://example.com/cb\nhttps://billing.example.com/cb');
  await page.check('input[name="grant_types[]"][value=authorization_code]');
  await page.fill('#app-tenants', 'acme');
  await page.click('[data-testid=register-submit]');
  await page.waitForFunction(() => /must use https/.test(document.querySelector('[data-testid=redirect_uris-error]')?.textContent ?? ''));
  assert.match(await text(page.locator('[data-testid=redirect_uris-error]')), /'http:\/\/example\.com\/cb' must use https \(http only for loopback\)/);
  assert.equal(await page.getAttribute('#app-redirect-uris', 'aria-invalid'), 'true');
  assert.equal(await page.inputValue('#app-name'), name, 'the form keeps what was typed');
  assert.equal(await page.locator('[data-testid=app-row]', { hasText: name }).count(), 0);
  assert.equal(psql(`SELECT count(*) FROM applications WHERE name = '${name}'`), '0');
  await page.screenshot({ path: join(SCREENSHOTS, 'applications-refused.png'), fullPage: true });

  // Fixed (https, and plain http to loopback), it is registered and listed.
  await page.fill('#app-redirect-uris', 'https://billing.example.com/cb\nhttp://127.0.0.1:4001/cb');
  await page.click('[data-testid=register-submit]');
  await page.waitForSelector('[data-testid=registered]');
  assert.match(await text(page.locator('[data-testid=registered]')), new RegExp(`${name} is registered`));
  const row = page.locator('[data-testid=app-row]', { hasText: name });
  await row.waitFor();
  assert.match(await text(row), /Staging/);
  assert.match(await text(row), /Active/);
  assert.match(await text(row), /authorization_code, client_credentials/);
  assert.match(await text(row), /acme/);
  assert.equal(await page.locator('[data-testid=redirect_uris-error] p').count(), 0, 'the field error is gone');
  assert.equal(await page.inputValue('#app-name'), '', 'the form is empty for the next one');
  await page.screenshot({ path: '/tmp/apps-list.png', fullPage: true });

  // The application's page: issue a key bound to acme with two scopes and an expiry.
  await Promise.all([page.waitForURL(/\/operator\/applications\/[0-9a-f-]{36}$/), page.click('[data-testid=open-registered]')]);
  assert.equal(await text(page.locator('[data-testid=app-name]')), name);
  assert.ok(await page.isVisible('[data-testid=no-keys]'));
  await page.waitForLoadState('networkidle');
  await page.fill('#key-name', 'billing sync');
  await page.check('input[name="scopes[]"][value="flag:read"]');
  await page.check('input[name="scopes[]"][value="bill:write"]');
  const nextYear = `${new Date().getUTCFullYear() + 1}-06-30`;
  await page.fill('#key-expires', nextYear);
  await page.selectOption('#key-tenant', 'acme');
  await page.click('[data-testid=issue-submit]');
  await page.waitForSelector('[data-testid=issued-key]');
  assert.match(await text(page.locator('[data-testid=secret-warning]')), /will not be shown again/);
  const clientId = await page.inputValue('[data-testid=issued-client-id]');
  const secret = await page.inputValue('[data-testid=issued-secret]');
  assert.match(clientId, /^gk_/);
  assert.equal(await page.inputValue('#key-name'), '', 'the form is empty for the next key');
  assert.match(secret, /^[A-Za-z0-9_-]{40,}$/);
  // The copy button puts the secret on the clipboard.
  await page.click('[data-testid=copy-issued-secret]');
  await page.waitForFunction(() => document.querySelector('[data-testid=copy-issued-secret]').textContent.trim() === 'Copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  // The key is listed (without its secret) and the secret really works.
  const keyRow = page.locator(`[data-testid=key-row][data-client-id="${clientId}"]`);
  await keyRow.waitFor();
  assert.match(await text(keyRow), /billing sync/);
  assert.match(await text(keyRow), /flag:read/);
  assert.match(await text(keyRow), /acme/);
  assert.match(await text(keyRow), new RegExp(`${nextYear.slice(0, 4)}-07-01 00:00 UTC`), 'it expires at the end of the chosen day');
  assert.equal(await text(keyRow.locator('[data-testid=key-status]')), 'Active');
  assert.equal(await tokenStatus(clientId, secret), 200);
  await page.screenshot({ path: '/tmp/app-detail.png', fullPage: true });

  // Shown once: after a reload the secret is nowhere on the page.
  await page.reload();
  await keyRow.waitFor();
  assert.equal(await page.locator('[data-testid=issued-key]').count(), 0);
  assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');
  await page.waitForLoadState('networkidle');

  // Revoke, by keyboard: the question takes the focus, Escape backs out, Enter confirms.
  await keyRow.locator('[data-testid=revoke-key]').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.dataset.testid === 'revoke-key-confirm');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.activeElement?.dataset.testid === 'revoke-key');
  assert.equal(await page.locator('[data-testid=revoke-key-confirm]').count(), 0);
  assert.equal(await tokenStatus(clientId, secret), 200, 'backing out revoked nothing');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.dataset.testid === 'revoke-key-confirm');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /is revoked/.test(document.querySelector('[data-testid=flash]')?.textContent ?? ''));
  await page.waitForFunction((id) => document.querySelector(`[data-testid=key-row][data-client-id="${id}"] [data-testid=key-status]`)?.textContent.trim() === 'Revoked', clientId);
  assert.equal(await tokenStatusBecomes(clientId, secret, 401), 401, 'a revoked key is refused');

  // Disable, by mouse, after confirming; a second key stops working with it.
  await page.check('input[name="scopes[]"][value="flag:read"]');
  await page.click('[data-testid=issue-submit]');
  await page.waitForFunction((old) => {
    const v = document.querySelector('[data-testid=issued-client-id]')?.value;
    return v && v !== old;
  }, clientId);
  const second = { id: await page.inputValue('[data-testid=issued-client-id]'), secret: await page.inputValue('[data-testid=issued-secret]') };
  assert.equal(await tokenStatus(second.id, second.secret), 200);
  await page.click('[data-testid=disable-app]');
  assert.match(await text(page.locator('[role=group][aria-label=Disable]')), /Its keys stop working/);
  await page.click('[data-testid=disable-app-confirm]');
  await page.waitForFunction(() => /is disabled/.test(document.querySelector('[data-testid=flash]')?.textContent ?? ''));
  await page.waitForSelector('[data-testid=disabled-note]');
  assert.equal(await text(page.locator('[data-testid=app-status]')), 'Disabled');
  assert.ok(await page.isVisible('[data-testid=enable-app]'));
  assert.equal(await tokenStatusBecomes(second.id, second.secret, 401), 401, "a disabled application's keys are refused");
  await page.screenshot({ path: join(SCREENSHOTS, 'application-disabled.png'), fullPage: true });

  // Every change is in the audit trail, by this operator.
  const appId = path(page).split('/').pop();
  const audited = psql(`SELECT string_agg(a.action || ' by ' || coalesce(u.email, a.actor_type), ',' ORDER BY a.seq)
      FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
     WHERE a.resource IN ('application:${appId}', 'api_key:${clientId}', 'api_key:${second.id}')`);
  assert.equal(audited, ['application.register', 'api_key.issue', 'api_key.revoke', 'api_key.issue', 'application.disable']
    .map((a) => `${a} by ${operator}`).join(','));
  // The list shows it disabled.
  await page.goto(`${BASE_URL}/operator/applications`);
  assert.match(await text(page.locator('[data-testid=app-row]', { hasText: name }).locator('[data-testid=app-status]')), /Disabled/);
  // An unknown application is a 404 that says so.
  const missing = await page.goto(`${BASE_URL}/operator/applications/not-an-application`);
  assert.equal(missing.status(), 404);
  assert.match(await text(page.locator('[data-testid=page-refused]')), /no application with this ID/);
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('tenant admins get the 403 page, and their server-function calls are refused', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Signed out: sign in first, then come back.
  await page.goto(`${BASE_URL}/operator/applications`);
  assert.equal(path(page), '/login');
  assert.equal(new URL(page.url()).searchParams.get('return_to'), '/operator/applications');

  await signIn(page, 'admin@acme.test', PASSWORD);
  for (const target of ['/operator/applications', `/operator/applications/${psql("SELECT id FROM applications ORDER BY created_at LIMIT 1")}`]) {
    const res = await page.goto(`${BASE_URL}${target}`);
    assert.equal(res.status(), 403, target);
    assert.match(await text(page.locator('[data-testid=page-refused]')), /This page is for operator\. You are signed in as admin@acme\.test \(admin\)/);
    assert.equal(await page.locator('[data-testid=register-form], [data-testid=issue-form]').count(), 0);
  }
  await page.screenshot({ path: join(SCREENSHOTS, 'applications-refused-admin.png'), fullPage: true });
  // The server function is a public endpoint: it refuses the admin too.
  const name = `Sneaky ${Date.now()}`;
  const res = await page.request.post(`${BASE_URL}/_rpc/register_application`, {
    headers: { origin: BASE_URL, accept: 'application/json' },
    form: { name, environment: 'production', redirect_uris: '', post_logout_redirect_uris: '', 'grant_types[]': 'client_credentials', tenants: '' },
  });
  assert.equal(res.status(), 403);
  assert.equal(psql(`SELECT count(*) FROM applications WHERE name = '${name}'`), '0');
  await context.close();
});
