// The Auditor Console (SPEC §8; FR-LOG-001, FR-LOG-002, CON-SEC-002, UC-AUDIT-EXPORT,
// API-LOG): an application ships three events through the API with a client-credentials
// token (scope log:write); an auditor, signed in with a second factor, finds exactly those
// by their action prefix, opens one (metadata, before/after), saves the view, downloads the
// selection as CSV (header, the three rows oldest first, the closing signed checkpoint) and
// verifies the chain: intact. Reading the trail is itself on record. Operators search
// read-only (no export), a tenant admin is refused, bad filters are named. Last, a row is
// rewritten behind the application's back (as the database superuser): Verify now reports
// the trail broken at that entry; the row is then put back, so the chain is whole again for
// the test files that run after this one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE_URL, SCREENSHOTS, launchBrowser, watchErrors } from './browser.mjs';
import { PASSWORD, gatehouse, psql, signIn, totp } from './support.mjs';
import { signedInOperator } from './operator.mjs';

const path = (page) => new URL(page.url()).pathname;
const text = async (locator) => (await locator.textContent()).trim();
// Refusals answer 4xx on purpose; anything else in the console is a fault.
const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));

const stamp = Date.now();
/// The action prefix of this run's shipped events (actions are lower case, start with a letter).
const PREFIX = `e2e.s${stamp}.`;
const SHIPPED = [`${PREFIX}subscription.created`, `${PREFIX}subscription.plan_changed`, `${PREFIX}invoice.failed`];
const APP_NAME = `Audit shipper ${stamp}`;

let browser;
before(async () => {
  browser = await launchBrowser();
  await shipEvents();
});
after(async () => { await browser?.close(); });

/// An application enabled for acme ships three events with a client-credentials token.
async function shipEvents() {
  const app = JSON.parse(gatehouse('app', 'register', '--name', APP_NAME, '--tenant', 'acme'));
  const key = JSON.parse(gatehouse('app', 'key', 'issue', app.id, '--scope', 'log:write'));
  const tokenRes = await fetch(`${BASE_URL}/auth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${key.client_id}:${key.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'log:write' }),
  });
  assert.equal(tokenRes.status, 200, await tokenRes.clone().text());
  const token = (await tokenRes.json()).access_token;
  const ago = (secs) => new Date(Date.now() - secs * 1000).toISOString();
  const base = {
    actor: { id: 'cust-4711', type: 'user', name: 'Dana Customer' },
    resource: { type: 'subscription', id: `sub-${stamp}` },
    ip_address: '203.0.113.7',
    user_agent: 'e2e-shipper/1.0',
  };
  const events = [
    { ...base, id: `${stamp}-1`, occurred_at: ago(90), action: SHIPPED[0], outcome: 'success', metadata: { plan: 'basic' } },
    { ...base, id: `${stamp}-2`, occurred_at: ago(60), action: SHIPPED[1], outcome: 'success', metadata: { old: 'basic', new: 'pro' } },
    { ...base, id: `${stamp}-3`, occurred_at: ago(30), action: SHIPPED[2], outcome: 'failure', metadata: { amount: 4900, reason: 'card_declined' } },
  ];
  const res = await fetch(`${BASE_URL}/api/v1/audit-logs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  assert.ok([200, 201, 202].includes(res.status), `${res.status} ${await res.clone().text()}`);
}

/// A fresh auditor made with the CLI, signed in on `page` with a TOTP enrolled there (not
/// the demo auditor: the login tests expect it to enrol at its first sign-in). Lands on the
/// Auditor Console.
async function signedInAuditor(page) {
  const email = `auditor-${stamp}-${Math.floor(Math.random() * 1e6)}@gatehouse.test`;
  const password = 'Ledger-lantern-7731';
  execFileSync(process.env.GATEHOUSE_BIN ?? 'target/debug/gatehouse',
    ['auditor', 'create', '--email', email, '--name', 'E2E Auditor', '--password-stdin'], {
      input: `${password}\n`,
      env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL ?? process.env.DATABASE_URL },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  await signIn(page, email, password);
  assert.equal(path(page), '/login/mfa/setup', 'auditors enrol a second factor first');
  await page.waitForSelector('[data-testid=totp-secret]');
  const secret = (await page.textContent('[data-testid=totp-secret]')).trim();
  await page.fill('#totp-code', totp(secret));
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-testid=recovery-codes] li');
  await Promise.all([page.waitForURL(`${BASE_URL}/audit`), page.click('[data-testid=mfa-continue]')]);
  return email;
}

/// Clicks "Verify now" and waits for that verification's verdict (a new one, no longer
/// running); answers its status.
async function verifyNow(page) {
  const before = await page.evaluate(() => document.querySelector('[data-testid=verification]')?.dataset.verification ?? null);
  await page.click('[data-testid=verify-now]');
  await page.waitForFunction((old) => {
    const v = document.querySelector('[data-testid=verification]');
    const status = v?.querySelector('[data-testid=verification-status]')?.dataset.status;
    return v && v.dataset.verification !== old && status && status !== 'running';
  }, before, { timeout: 60000 });
  return page.evaluate(() => document.querySelector('[data-testid=verification-status]').dataset.status);
}

/// RFC 4180 records (quoted cells may hold commas, quotes and line breaks: the checkpoint
/// note does).
function parseCsv(raw) {
  const src = raw.replace(/^\uFEFF/, '');
  const records = [];
  let record = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      record.push(cell); cell = '';
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      record.push(cell); records.push(record); record = []; cell = '';
    } else {
      cell += c;
    }
  }
  if (cell !== '' || record.length) { record.push(cell); records.push(record); }
  return records;
}

const userId = (email) => psql(`SELECT id FROM users WHERE email = '${email}'`);

test('an auditor finds what an application shipped, opens it, saves the view, downloads it and verifies the chain', async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const email = await signedInAuditor(page);
  assert.equal((await page.textContent('main h1')).trim(), 'Auditor Console');
  await page.waitForSelector('[data-testid=audit-filters]');
  await page.waitForLoadState('networkidle');

  // The shipped events by their action prefix: exactly those three, newest first.
  await page.fill('#audit-action', PREFIX);
  await Promise.all([
    page.waitForURL((u) => u.searchParams.get('action') === PREFIX),
    page.click('[data-testid=filter-submit]'),
  ]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=audit-entry]').length === 3);
  const actions = await page.$$eval('[data-testid=audit-entry] td:nth-child(2)', (tds) => tds.map((t) => t.textContent.trim()));
  assert.deepEqual(actions, [...SHIPPED].reverse());
  const newest = page.locator('[data-testid=audit-entry]').first();
  assert.match(await text(newest), /Dana Customer/);
  assert.match(await text(newest), /acme/);
  assert.match(await text(newest), /Failure/);
  // UTC from the server, with the reader's own zone added under it.
  assert.match(await newest.locator('time[data-local]').getAttribute('datetime'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  await page.waitForFunction(() => document.querySelector('[data-testid=audit-entry] time[data-local] [data-local-out]')?.textContent.trim());
  assert.equal(await page.getAttribute('[data-testid=export-csv]', 'href'), `/audit/export.csv?action=${PREFIX}`);
  assert.equal(await page.getAttribute('[data-testid=export-jsonl]', 'href'), `/audit/export.jsonl?action=${PREFIX}`);
  await page.screenshot({ path: join(SCREENSHOTS, 'audit-search.png'), fullPage: true });
  const desktop = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SCREENSHOTS, 'audit-search-phone.png'), fullPage: true });
  await page.setViewportSize(desktop);
  // CON-SEC-002: the search itself is on record, with its filter and what it found.
  const searched = psql(`SELECT (metadata->'filter'->>'action') || ' ' || (metadata->>'count') FROM audit_log
     WHERE action = 'audit.search' AND actor_id = '${userId(email)}' ORDER BY seq DESC LIMIT 1`);
  assert.equal(searched, `${PREFIX} 3`);

  // One entry: every field, the metadata, and what changed.
  const changed = page.locator('[data-testid=audit-entry]', { hasText: 'plan_changed' });
  await Promise.all([page.waitForURL(/\/audit\/entries\//), changed.locator('[data-testid=view-entry]').click()]);
  await page.waitForSelector('[data-testid=entry-metadata]');
  assert.equal(await text(page.locator('[data-testid=entry-action]')), SHIPPED[1]);
  const metadata = await text(page.locator('[data-testid=entry-metadata]'));
  assert.match(metadata, /"name": "Dana Customer"/);
  assert.match(metadata, /"ip": "203\.0\.113\.7"/);
  const diff = await page.$$eval('[data-testid=diff-row] td', (tds) => tds.map((t) => t.textContent.trim()));
  assert.deepEqual(diff, ['value', 'basic', 'pro']);
  assert.match(await text(page.locator('[data-testid=entry-application]')), new RegExp(APP_NAME));
  assert.match(await text(page.locator('[data-testid=entry-tenant]')), /^acme \([0-9a-f-]{36}\)$/);
  assert.match(await text(page.locator('[data-testid=chain-hash]')), /^[0-9a-f]{64}$/);
  assert.match(await text(page.locator('[data-testid=chain-prev-hash]')), /^[0-9a-f]{64}$/);
  await page.screenshot({ path: join(SCREENSHOTS, 'audit-entry.png'), fullPage: true });
  const entryId = path(page).split('/').pop();
  assert.equal(psql(`SELECT count(*) FROM audit_log WHERE action = 'audit.read' AND resource = 'audit_entry:${entryId}'
     AND actor_id = '${userId(email)}'`), '1', 'opening an entry is on record');

  // The view is saved under a name and listed as a link to the same filter.
  await page.goto(`${BASE_URL}/audit?action=${encodeURIComponent(PREFIX)}`);
  await page.waitForSelector('[data-testid=save-view-name]');
  await page.waitForLoadState('networkidle');
  const viewName = `Shipped by e2e ${stamp}`;
  await page.fill('[data-testid=save-view-name]', viewName);
  await page.click('[data-testid=save-view]');
  const saved = page.locator('[data-testid=saved-view]', { hasText: viewName });
  await saved.waitFor();
  assert.equal(await saved.getAttribute('href'), `/audit?action=${PREFIX}`);
  assert.match(await text(page.locator('[data-testid=flash]')), /is saved/);

  // The CSV of the same selection: the header, the three rows oldest first, then the
  // checkpoint signed for the export.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-csv]')]);
  const records = parseCsv(readFileSync(await download.path(), 'utf8'));
  const [header, ...rest] = records;
  assert.equal(header.slice(0, 3).join(','), 'seq,id,recorded_at');
  const trailer = rest.pop();
  assert.equal(trailer[0], 'checkpoint', `the last row closes the export: ${trailer.join(',').slice(0, 120)}`);
  assert.equal(rest.length, 3);
  const action = header.indexOf('action');
  assert.deepEqual(rest.map((r) => r[action]), SHIPPED);

  // Anyone can check a download offline with the README's standalone script and the
  // published key: the filtered one row by row, a time range as a whole stretch of the
  // chain; an edited row fails.
  const key = (await (await fetch(`${BASE_URL}/api/v1/audit-logs/checkpoints/key`)).json()).verifier_key;
  const offline = (file) => spawnSync(process.env.E2E_PYTHON ?? 'python3',
    ['end2end/support/verify_export.py', file, key], { encoding: 'utf8' });
  const filtered = offline(await download.path());
  assert.equal(filtered.status, 0, filtered.stderr);
  assert.match(filtered.stdout, /every one of the 3 rows matches its hash/);
  const hour = await page.request.get(`${BASE_URL}/audit/export.csv?range=1h`);
  assert.equal(hour.status(), 200);
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
  const whole = join(dir, 'hour.csv');
  const csvText = await hour.text();
  writeFileSync(whole, csvText);
  const intact = offline(whole);
  assert.equal(intact.status, 0, intact.stderr);
  assert.match(intact.stdout, /^intact: entries \d+ to \d+/);
  writeFileSync(whole, csvText.replace(SHIPPED[1], `${PREFIX}subscription.plan_cancelled`));
  const edited = offline(whole);
  assert.equal(edited.status, 1);
  assert.match(edited.stderr, /NOT intact: entry \d+ was changed/);
  rmSync(dir, { recursive: true });

  // Integrity: a fresh verification of the whole chain, followed until its verdict.
  await Promise.all([page.waitForURL(`${BASE_URL}/audit/integrity`), page.click('[data-testid=audit-nav-integrity]')]);
  await page.waitForSelector('[data-testid=verify-now]');
  await page.waitForLoadState('networkidle');
  assert.equal(await verifyNow(page), 'intact');
  assert.ok(Number(await text(page.locator('[data-testid=verification-checked]'))) > 3);
  assert.equal(await page.locator('[data-testid=verification-problem]').count(), 0);
  await page.click('[data-testid=sign-checkpoint]');
  await page.waitForFunction(() => /is signed/.test(document.querySelector('[data-testid=flash]')?.textContent ?? ''));
  await page.waitForSelector('[data-testid=checkpoint]');
  assert.match(await text(page.locator('[data-testid=verifier-key]')), /^\S+\+[0-9a-f]{8}\+\S+$/);
  assert.match(await text(page.locator('[data-testid=verify-export-command]')), /^gatehouse audit verify-export FILE --key '\S+\+[0-9a-f]{8}\+\S+'$/);
  await page.screenshot({ path: join(SCREENSHOTS, 'audit-integrity.png'), fullPage: true });
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('operators search read-only, bad filters are named, and a tenant admin is refused', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signedInOperator(page, 'audit');
  // The console is in the operator's navigation.
  await page.waitForSelector('header nav a[href="/audit"]');
  await page.goto(`${BASE_URL}/audit?action=${encodeURIComponent(PREFIX)}`);
  await page.waitForSelector('[data-testid=audit-entry]');
  assert.equal(await page.locator('[data-testid=audit-entry]').count(), 3);
  assert.equal(await page.locator('[data-testid=export-csv]').count(), 0, 'only auditors export');
  assert.ok(await page.isVisible('[data-testid=export-note]'));
  assert.equal((await page.request.get(`${BASE_URL}/audit/export.csv?action=${PREFIX}`)).status(), 403);

  // Filters that cannot be used are named, beside their fields and above the table.
  await page.goto(`${BASE_URL}/audit?range=custom&from=yesterday&ip=1.2.3`);
  await page.waitForSelector('[data-testid=filter-problems]');
  const problems = await text(page.locator('[data-testid=filter-problems]'));
  assert.match(problems, /From: must be a time/);
  assert.match(problems, /IP address: must be an IPv4 or IPv6 address/);
  assert.equal(await page.getAttribute('#audit-ip', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('#audit-actor', 'aria-invalid'), 'false');
  assert.equal(await page.locator('[data-testid=audit-entry]').count(), 0);
  assert.ok(await page.isVisible('[data-testid=no-entries]'));
  assert.deepEqual(unexpected(errors), []);
  await context.close();

  // Not for a tenant's admin: the 403 page, and the server function refuses too.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, 'admin@acme.test', PASSWORD);
  const res = await admin.goto(`${BASE_URL}/audit`);
  assert.equal(res.status(), 403);
  assert.match(await admin.textContent('[data-testid=page-refused]'), /This page is for auditor or operator/);
  const direct = await admin.request.post(`${BASE_URL}/_rpc/audit_search`, {
    form: { query: `action=${PREFIX}` },
    headers: { origin: BASE_URL, accept: 'application/json' },
  });
  assert.equal(direct.status(), 403);
  await adminContext.close();
});

// Last in this file: it breaks the chain for a moment, and puts it back.
test('a row changed in the database is found by Verify now, which names its position', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signedInAuditor(page);
  const [seq, original] = psql(`SELECT seq || ' ' || action FROM audit_log
     WHERE seq = (SELECT max(seq) FROM audit_log WHERE action LIKE 'e2e.%')`).split(' ');
  assert.match(original, /^e2e\.[a-z0-9_.]+$/);
  // As the database's owner, past the triggers that keep the table append-only.
  const rewrite = (actionName) => psql(`ALTER TABLE audit_log DISABLE TRIGGER USER;
    UPDATE audit_log SET action = '${actionName}' WHERE seq = ${seq};
    ALTER TABLE audit_log ENABLE TRIGGER USER;`);
  rewrite('forged.action');
  try {
    await page.goto(`${BASE_URL}/audit/integrity`);
    await page.waitForSelector('[data-testid=verify-now]');
    await page.waitForLoadState('networkidle');
    assert.equal(await verifyNow(page), 'broken');
    assert.match(await text(page.locator('[data-testid=verification-problem]')), new RegExp(`^Entry ${seq} was changed after it was written`));
    assert.equal(await text(page.locator('[data-testid=verification-broken-seq]')), seq);
    await page.screenshot({ path: join(SCREENSHOTS, 'audit-integrity-broken.png'), fullPage: true });
  } finally {
    rewrite(original);
  }
  // Put back, the chain is whole again.
  await page.reload();
  await page.waitForSelector('[data-testid=verify-now]');
  await page.waitForLoadState('networkidle');
  assert.equal(await verifyNow(page), 'intact');
  await context.close();
});
