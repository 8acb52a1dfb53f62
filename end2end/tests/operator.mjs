// The Operator Console tests' shared step: a fresh operator, signed in with a TOTP enrolled.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BASE_URL } from './browser.mjs';
import { totp, signIn } from './support.mjs';

const path = (page) => new URL(page.url()).pathname;

/// A fresh operator made with the CLI, signed in on `page` with a TOTP enrolled there.
/// (Not the demo operator: the other browser tests expect it to enrol at its first sign-in.)
export async function signedInOperator(page, what = 'apps') {
  const email = `ops-${what}-${Date.now()}@gatehouse.test`;
  const password = 'Lighthouse-ledger-5824';
  execFileSync(process.env.GATEHOUSE_BIN ?? 'target/debug/gatehouse',
    ['operator', 'create', '--email', email, '--name', 'Apps Operator', '--password-stdin'], {
      input: `${password}\n`,
      env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL ?? process.env.DATABASE_URL },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  await signIn(page, email, password);
  assert.equal(path(page), '/login/mfa/setup', 'operators enrol a second factor first');
  await page.waitForSelector('[data-testid=totp-secret]');
  const secret = (await page.textContent('[data-testid=totp-secret]')).trim();
  await page.fill('#totp-code', totp(secret));
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-testid=recovery-codes] li');
  await Promise.all([page.waitForURL(`${BASE_URL}/operator`), page.click('[data-testid=mfa-continue]')]);
  return email;
}

