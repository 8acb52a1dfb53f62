// Maintenance windows (NFR-OPS-002): an operator schedules a window in the Operator Console
// (start and end typed as UTC, refusals shown beside their fields, nothing written); it is
// audited and published as `maintenance.scheduled`; `GET /api/v1/status` announces it
// without a token; acme's owner sees the banner on Tenant Administration and the account
// page (the operator's own pages show none); the operator cancels it after a confirmation
// and it is gone from the banner and the status, with `maintenance.cancelled` published.
// A tenant owner gets the 403 page and their direct server-function calls are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, SCREENSHOTS, clickOnceHydrated, launchBrowser, watchErrors } from './browser.mjs';
import { PASSWORD, psql, signIn } from './support.mjs';
import { signedInOperator } from './operator.mjs';

const stamp = Date.now();
const MESSAGE = `E2E maintenance ${stamp}: database upgrade, sign-in pauses for up to 20 minutes`;
const ROW = `[data-testid=window-row][data-message="${MESSAGE}"]`;

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => {
  // A window left behind would put its banner on every later test's tenant pages.
  psql(`UPDATE maintenance_windows SET cancelled_at = now()
        WHERE cancelled_at IS NULL AND message LIKE 'E2E maintenance ${stamp}%'`);
  await browser?.close();
});

const path = (page) => new URL(page.url()).pathname;
// Refusals are 4xx answers, which Chromium logs; anything else (a 5xx, a script error) fails.
const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));
const text = async (page, selector) => (await page.textContent(selector)).trim();
/// A moment as a datetime-local field takes it, in UTC: `2026-12-08T09:00`.
const utcField = (date) => date.toISOString().slice(0, 16);
/// The same moment as the pages write it: `2026-12-08 09:00`.
const shown = (date) => utcField(date).replace('T', ' ');
/// Waits for the flash line that reports an action.
const flash = (page, re) => page.waitForFunction(
  (source) => new RegExp(source).test(document.querySelector('[data-testid=flash]')?.textContent ?? ''), re.source);

/// `GET /api/v1/status`, without a token.
async function status() {
  const res = await fetch(`${BASE_URL}/api/v1/status`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/);
  return res.json();
}

const count = (sql) => Number(psql(sql));

test('an operator schedules a window, acme\'s owner sees the banner and the status API announces it; cancelled, it is gone', async () => {
  // Two days ahead, to the minute, two hours long.
  const start = new Date(Date.now() + 2 * 24 * 3600e3);
  start.setUTCSeconds(0, 0);
  const end = new Date(start.getTime() + 2 * 3600e3);

  const opsContext = await browser.newContext();
  const page = await opsContext.newPage();
  const errors = watchErrors(page);
  const ownerContext = await browser.newContext();
  const owner = await ownerContext.newPage();
  const ownerErrors = watchErrors(owner);
  try {
    await signedInOperator(page, 'maintenance');
    await Promise.all([page.waitForURL(`${BASE_URL}/operator/maintenance`), page.click('[data-testid=operator-maintenance]')]);
    await page.waitForSelector('[data-testid=schedule-form]');
    await page.waitForLoadState('networkidle');
    assert.match(await text(page, '[data-testid=utc-note]'), /in UTC, not your browser's time zone/);

    // An end before the start and a blank message: both named beside their fields, nothing written.
    await page.fill('#maintenance-starts', utcField(start));
    await page.fill('#maintenance-ends', utcField(new Date(start.getTime() - 3600e3)));
    await page.fill('#maintenance-message', '   ');
    await page.click('[data-testid=schedule-submit]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=ends_at-error]')?.textContent ?? '') !== '');
    assert.match(await text(page, '[data-testid=ends_at-error]'), /after the start/);
    assert.match(await text(page, '[data-testid=message-error]'), /required/);
    assert.equal(await page.getAttribute('#maintenance-ends', 'aria-invalid'), 'true');
    assert.equal(await text(page, '[data-testid=starts_at-error]'), '');
    assert.equal(count(`SELECT count(*) FROM maintenance_windows WHERE created_at >= to_timestamp(${stamp / 1000})`), 0);

    // Fixed, it is scheduled and listed among the upcoming windows.
    await page.fill('#maintenance-ends', utcField(end));
    await page.fill('#maintenance-message', MESSAGE);
    await page.click('[data-testid=schedule-submit]');
    await flash(page, /is scheduled/);
    const row = page.locator(ROW);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-state'), 'scheduled');
    const cells = await row.textContent();
    assert.ok(cells.includes(shown(start)) && cells.includes(shown(end)), cells);
    assert.equal(await page.inputValue('#maintenance-message'), '', 'the form is empty for the next one');
    await page.screenshot({ path: join(SCREENSHOTS, 'maintenance-scheduled.png'), fullPage: true });

    // Audited, and published for the webhooks in the same transaction.
    assert.equal(count(`SELECT count(*) FROM audit_log WHERE action = 'maintenance.schedule'
                          AND actor_type = 'operator' AND metadata->>'message' = '${MESSAGE}'`), 1);
    assert.equal(count(`SELECT count(*) FROM webhook_events WHERE event_type = 'maintenance.scheduled'
                          AND tenant_id IS NULL AND body->'data'->>'message' = '${MESSAGE}'`), 1);

    // The public status announces it: its times (UTC, with Z) and its message, nothing else.
    const announced = (await status()).maintenance.find((m) => m.message === MESSAGE);
    assert.deepEqual(announced, {
      starts_at: `${utcField(start)}:00Z`,
      ends_at: `${utcField(end)}:00Z`,
      message: MESSAGE,
    });

    // The operator's own pages carry no banner.
    await page.goto(`${BASE_URL}/operator`);
    await page.waitForSelector('[data-testid=operator-maintenance]');
    assert.equal(await page.locator('[data-testid=maintenance-banner]').count(), 0);

    // acme's owner sees it on Tenant Administration, and on the account page.
    await signIn(owner, 'owner@acme.test', PASSWORD);
    assert.equal(path(owner), '/admin');
    const line = owner.locator('[data-testid=maintenance-line]', { hasText: MESSAGE });
    await line.waitFor();
    assert.equal((await line.textContent()).trim(),
      `Scheduled maintenance: ${MESSAGE} — from ${shown(start)} to ${shown(end)} UTC`);
    await owner.screenshot({ path: join(SCREENSHOTS, 'maintenance-banner.png'), fullPage: true });
    await Promise.all([owner.waitForURL(`${BASE_URL}/admin/webhooks`), owner.click('[data-testid=admin-webhooks]')]);
    await line.waitFor();
    await owner.goto(`${BASE_URL}/account`);
    await line.waitFor();

    // Not theirs to schedule or cancel: the 403 page, and their direct calls refused.
    const refused = await owner.goto(`${BASE_URL}/operator/maintenance`);
    assert.equal(refused.status(), 403);
    assert.match(await text(owner, '[data-testid=page-refused]'), /This page is for operator/);
    const id = psql(`SELECT id FROM maintenance_windows WHERE message = '${MESSAGE}'`);
    for (const [fn, body] of [
      ['maintenance_windows', ''],
      ['schedule_maintenance_window', new URLSearchParams({ starts_at: utcField(start), ends_at: utcField(end), message: 'Sneaky' }).toString()],
      ['cancel_maintenance_window', `id=${id}`],
    ]) {
      const res = await owner.request.post(`${BASE_URL}/_rpc/${fn}`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        data: body,
      });
      assert.equal(res.status(), 403, fn);
    }
    assert.equal(count("SELECT count(*) FROM maintenance_windows WHERE message = 'Sneaky'"), 0);
    assert.equal(psql(`SELECT cancelled_at IS NULL FROM maintenance_windows WHERE id = '${id}'`), 't');

    // The operator cancels it, after a confirmation; it moves to the past windows.
    await page.goto(`${BASE_URL}/operator/maintenance`);
    await row.waitFor();
    await page.waitForLoadState('networkidle');
    await clickOnceHydrated(page, `${ROW} [data-testid=cancel-window]`,
      () => page.locator(`${ROW} [data-testid=cancel-window-confirm]`).count());
    await page.click(`${ROW} [data-testid=cancel-window-confirm]`);
    await flash(page, /is cancelled/);
    await page.locator(`[data-testid=past-window-row][data-message="${MESSAGE}"][data-state=cancelled]`).waitFor();
    assert.equal(await row.count(), 0);
    assert.equal(count(`SELECT count(*) FROM audit_log WHERE action = 'maintenance.cancel' AND metadata->>'message' = '${MESSAGE}'`), 1);
    assert.equal(count(`SELECT count(*) FROM webhook_events WHERE event_type = 'maintenance.cancelled'
                          AND body->'data'->>'message' = '${MESSAGE}'`), 1);

    // Gone from the status and from the owner's pages.
    assert.equal((await status()).maintenance.some((m) => m.message === MESSAGE), false);
    await owner.goto(`${BASE_URL}/admin`);
    await owner.waitForSelector('[data-testid=admin-webhooks]');
    assert.equal(await line.count(), 0);

    assert.deepEqual(unexpected(errors), []);
    assert.deepEqual(unexpected(ownerErrors), []);
  } finally {
    await opsContext.close();
    await ownerContext.close();
  }
});
