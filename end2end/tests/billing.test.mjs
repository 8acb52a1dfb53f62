// Usage in the consoles (issue 19; IF-TENANT-CONSOLE, FR-BILL-003, FR-TENANT-003, API-BILL):
// an application reports usage for acme through the Billing API with a client-credentials
// token (scope bill:write). The operator's page of acme shows this month's exact totals per
// event type beside last month's, and a per-day SVG chart per event type with a slot for
// every day of the month so far, each bar titled with its exact quantity; a tenant without
// usage says so. acme's owner finds the plan, what it gives, the same usage and the plan
// change on /admin/subscription, at desktop and phone width; an admin sees it without the
// plan change; a user gets the 403 page, and the server functions refuse the wrong console.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, SCREENSHOTS, launchBrowser, watchErrors } from './browser.mjs';
import { PASSWORD, gatehouse, psql, signIn } from './support.mjs';
import { signedInOperator } from './operator.mjs';

const path = (page) => new URL(page.url()).pathname;
// Refusals are 4xx answers, which Chromium logs; anything else (a 5xx, a script error) fails.
const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));
const text = async (locator) => (await locator.textContent()).trim();
/// An exact whole quantity as the pages write it: 1,234,567.
const grouped = (exact) => BigInt(exact).toLocaleString('en-US');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
/// Server functions called as a script would: same origin, JSON answers.
const RPC = { origin: BASE_URL, accept: 'application/json' };

const stamp = Date.now();
const CALLS = 'api.call';
const STORAGE = 'storage.gb_hours';

let browser;
/// This month's and today's totals after this run's events, as the Billing API reads them.
let expected;
before(async () => {
  browser = await launchBrowser();
  expected = await reportUsage();
});
after(async () => { await browser?.close(); });

/// An application enabled for acme reports three events, then reads the totals back.
async function reportUsage() {
  const app = JSON.parse(gatehouse('app', 'register', '--name', `Usage reporter ${stamp}`, '--tenant', 'acme'));
  const key = JSON.parse(gatehouse('app', 'key', 'issue', app.id, '--scope', 'bill:write', '--scope', 'bill:read'));
  const tokenRes = await fetch(`${BASE_URL}/auth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${key.client_id}:${key.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'bill:write bill:read' }),
  });
  assert.equal(tokenRes.status, 200, await tokenRes.clone().text());
  const token = (await tokenRes.json()).access_token;
  const now = new Date().toISOString();
  const events = [
    { id: `${stamp}-1`, tenant: 'acme', timestamp: now, event_type: CALLS, quantity: 5 },
    { id: `${stamp}-2`, tenant: 'acme', timestamp: now, event_type: CALLS, quantity: 7 },
    { id: `${stamp}-3`, tenant: 'acme', timestamp: now, event_type: STORAGE, quantity: 1250 },
  ];
  const res = await fetch(`${BASE_URL}/api/v1/billing/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  assert.equal((await res.json()).accepted, 3);

  // The totals the pages must show: this month's, and today's (UTC).
  const today = now.slice(0, 10);
  const month = `${today.slice(0, 8)}01`;
  const total = async (window, from, eventType) => {
    const r = await fetch(`${BASE_URL}/api/v1/billing/usage?${new URLSearchParams({ window, from, event_type: eventType })}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 200, await r.clone().text());
    const row = (await r.json()).data.find((t) => t.period === from);
    assert.ok(row, `a ${window} total of ${eventType} from ${from}`);
    return row;
  };
  return {
    today,
    calls: await total('month', month, CALLS),
    callsToday: await total('day', today, CALLS),
    storage: await total('month', month, STORAGE),
  };
}

/// The chart of `eventType` inside `section`: an image named by a summary, a slot for every
/// day of the month so far, today's bar titled with today's exact quantity. Returns it.
async function checkChart(section, eventType, monthTotal, todayTotal) {
  const chart = section.locator(`svg[data-testid=usage-chart][data-event-type="${eventType}"]`);
  assert.equal(await chart.getAttribute('role'), 'img');
  const label = await chart.getAttribute('aria-label');
  assert.ok(label.startsWith(`${eventType} per day, `), label);
  assert.ok(label.includes(`: ${grouped(monthTotal.quantity)} in all;`), label);
  assert.equal(await chart.locator('[data-testid=usage-bar]').count(), Number(expected.today.slice(8, 10)));
  if (todayTotal) {
    const bar = chart.locator(`[data-testid=usage-bar][data-day="${expected.today}"]`);
    assert.equal(await bar.getAttribute('data-quantity'), todayTotal.quantity);
    assert.ok((await text(bar.locator('title'))).endsWith(`: ${grouped(todayTotal.quantity)}`));
    assert.equal(await bar.locator('rect').count(), 2, 'the day has its slot and a bar');
  }
  return chart;
}

/// At phone width the chart stays inside the screen (it scales, the page does not scroll
/// sideways for it); screenshots at both widths.
async function checkWidths(page, chart, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await chart.scrollIntoViewIfNeeded();
  const box = await chart.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width && box.height > 60, `the chart fits a phone: ${JSON.stringify(box)}`);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}

test("the operator's tenant page shows its usage per event type with a chart per day; a tenant without usage says so", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signedInOperator(page, 'billing');

  // A tenant provisioned just now has reported nothing.
  await page.goto(`${BASE_URL}/operator/tenants`);
  await page.waitForSelector('[data-testid=provision-form]');
  await page.waitForLoadState('networkidle');
  await page.fill('#tenant-name', `Initech ${stamp}`);
  await page.fill('#tenant-domain', `initech-${stamp}`);
  await page.fill('#tenant-owner', `owner-${stamp}@initech.test`);
  await page.click('[data-testid=provision-submit]');
  await page.waitForSelector('[data-testid=provisioned]');
  await Promise.all([page.waitForURL(/\/operator\/tenants\/[0-9a-f-]{36}$/), page.click('[data-testid=open-provisioned]')]);
  const nothing = page.locator('[data-testid=tenant-usage] [data-testid=no-usage]');
  await nothing.waitFor();
  assert.match(await text(nothing), /^No usage reported yet/);
  assert.match(await text(nothing), /Billing API/);
  assert.equal(await page.locator('[data-testid=tenant-usage] [data-testid=usage-chart]').count(), 0);

  // acme: this run's events are in this month's exact totals, beside last month's.
  await page.goto(`${BASE_URL}/operator/tenants?q=acme`);
  await page.waitForSelector('[data-testid=tenant-row][data-domain=acme]');
  await Promise.all([page.waitForURL(/\/operator\/tenants\/[0-9a-f-]{36}$/), page.click('[data-testid=tenant-row][data-domain=acme] a')]);
  const usage = page.locator('[data-testid=tenant-usage]');
  const calls = usage.locator(`[data-testid=usage-row][data-event-type="${CALLS}"]`);
  await calls.waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await text(calls.locator('[data-testid=usage-this-month]')), grouped(expected.calls.quantity));
  assert.equal(await text(calls.locator('[data-testid=usage-events-this-month]')), `${grouped(String(expected.calls.events))} events`);
  assert.equal(await calls.locator('[data-testid=usage-last-month]').count(), 1);
  const storage = usage.locator(`[data-testid=usage-row][data-event-type="${STORAGE}"]`);
  assert.equal(await text(storage.locator('[data-testid=usage-this-month]')), grouped(expected.storage.quantity));

  // A chart per event type used this month.
  const chart = await checkChart(usage, CALLS, expected.calls, expected.callsToday);
  await checkChart(usage, STORAGE, expected.storage);
  await checkWidths(page, chart, 'tenant-usage');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test("the owner finds the plan, what it gives, this month's usage and the plan change on the subscription page", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signIn(page, 'owner@acme.test', PASSWORD);
  assert.equal(path(page), '/admin');
  await Promise.all([page.waitForURL(`${BASE_URL}/admin/subscription`), page.click('[data-testid=admin-subscription]')]);
  await page.waitForSelector('[data-testid=own-plan-form]');
  await page.waitForLoadState('networkidle');

  // The plan and what it gives.
  const plan = psql("SELECT plan FROM tenants WHERE domain = 'acme'");
  assert.equal(await text(page.locator('[data-testid=current-plan]')), plan[0].toUpperCase() + plan.slice(1));
  assert.match(await text(page.locator('[data-testid=plan-flags]')), /new_checkout/);

  // The plan change offers every plan, the current one chosen, and asks before it changes
  // anything (Cancel leaves the plan as it is; users.test.mjs changes it).
  const plans = await page.$$eval('#own-plan option', (options) => options.map((o) => o.value));
  assert.ok(plans.length > 1 && plans.includes(plan), plans.join(','));
  assert.equal(await page.inputValue('#own-plan'), plan);
  await page.click('[data-testid=own-plan]');
  await page.waitForSelector('[data-testid=own-plan-confirm]');
  await page.click('[data-testid=own-plan-form] button:has-text("Cancel")');
  await page.waitForSelector('[data-testid=own-plan]');
  assert.equal(psql("SELECT plan FROM tenants WHERE domain = 'acme'"), plan);

  // This month's usage: the same exact totals and charts the operator sees.
  const usage = page.locator('[data-testid=subscription-usage]');
  const calls = usage.locator(`[data-testid=usage-row][data-event-type="${CALLS}"]`);
  assert.equal(await text(calls.locator('[data-testid=usage-this-month]')), grouped(expected.calls.quantity));
  const storage = usage.locator(`[data-testid=usage-row][data-event-type="${STORAGE}"]`);
  assert.equal(await text(storage.locator('[data-testid=usage-this-month]')), grouped(expected.storage.quantity));
  const chart = await checkChart(usage, CALLS, expected.calls, expected.callsToday);
  await checkWidths(page, chart, 'admin-subscription');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('an admin sees the subscription without the plan change; a user and the wrong console are refused', async () => {
  const acme = psql("SELECT id FROM tenants WHERE domain = 'acme'");
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, 'admin@acme.test', PASSWORD);
  await admin.goto(`${BASE_URL}/admin/subscription`);
  await admin.waitForSelector('[data-testid=owners-only]');
  assert.equal(await admin.locator('[data-testid=own-plan-form]').count(), 0);
  assert.ok(await admin.locator('[data-testid=subscription-usage] [data-testid=usage-chart]').count() >= 1);
  // A tenant's admin cannot read tenants' usage through the Operator Console's function.
  const operatorOnly = await admin.request.post(`${BASE_URL}/_rpc/tenant_usage`, { form: { id: acme }, headers: RPC });
  assert.equal(operatorOnly.status(), 403);
  await adminContext.close();

  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  await signIn(user, 'user@acme.test', PASSWORD);
  const refused = await user.goto(`${BASE_URL}/admin/subscription`);
  assert.equal(refused.status(), 403);
  assert.match(await user.textContent('[data-testid=page-refused]'), /This page is for owner or admin/);
  const plan = psql("SELECT plan FROM tenants WHERE domain = 'acme'");
  for (const [fn, form] of [['tenant_subscription', {}], ['change_own_plan', { plan: plan === 'free' ? 'pro' : 'free' }]]) {
    const res = await user.request.post(`${BASE_URL}/_rpc/${fn}`, { form, headers: RPC });
    assert.equal(res.status(), 403, fn);
  }
  assert.equal(psql("SELECT plan FROM tenants WHERE domain = 'acme'"), plan);
  await userContext.close();
});
