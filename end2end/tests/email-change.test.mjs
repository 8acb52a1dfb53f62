// The page behind the link mailed to a new email address (SPEC §9: an address changes only
// through verification of the new one). The request itself is made through the REST API
// (`PATCH /api/v1/users/{id}`, covered by server/tests/users.rs); here the pending change
// is written as the domain writes it (the token stored as SHA-256), so the page can be
// opened in a browser: opening changes nothing, the button confirms once, a used or
// unknown link is refused, and the person signs in with the new address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BASE_URL, SCREENSHOTS, launchBrowser, watchErrors } from './browser.mjs';
import { psql, signIn, invitedUser, uniqueEmail } from './support.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));

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
  assert.match(psql(`SELECT action FROM audit_log WHERE action = 'user.email.change' AND metadata::text LIKE '%${newEmail}%'`), /user\.email\.change/);
  await Promise.all([page.waitForURL((u) => u.pathname === '/account'), page.click('text=Continue to your account')]);

  // The link works once.
  await page.goto(`${BASE_URL}/verify-email/${token}`);
  await page.click('[data-testid=confirm-email]');
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
