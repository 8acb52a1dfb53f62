// What the Universal Login browser tests share: mail from the real SMTP server, TOTP
// codes from pyotp (an independent implementation), the gatehouse CLI and psql against the
// test database, and the sign-in steps.
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_URL } from './browser.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const PASSWORD = 'Gatehouse-demo-2026';
const SMTP_API = process.env.SMTP_API ?? 'http://127.0.0.1:8026';
const PYTHON = process.env.E2E_PYTHON ?? 'python3';
const DATABASE_URL = process.env.E2E_DATABASE_URL ?? process.env.DATABASE_URL;

/// A fresh address for a test.
export const uniqueEmail = (what) => `${what}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@acme.test`;

/// The newest mail to `to` whose subject matches, waiting for the outbox worker to send it.
export async function mailFor(to, subject, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const all = await (await fetch(`${SMTP_API}/messages`)).json();
    const mine = all.filter((m) => m.to.some((t) => t.toLowerCase() === to.toLowerCase()) && subject.test(m.subject));
    if (mine.length) return mine[mine.length - 1];
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no mail to ${to} matching ${subject} within ${timeoutMs} ms`);
}

/// The first link to `path` in a mail's text.
export function linkIn(mail, path) {
  const m = mail.text.match(new RegExp(`${BASE_URL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${path}[A-Za-z0-9_-]+`));
  if (!m) throw new Error(`no ${path} link in: ${mail.text}`);
  return m[0];
}

/// The TOTP code for a base32 secret at now + offset seconds, computed by pyotp.
export function totp(secret, offsetSecs = 0) {
  return execFileSync(PYTHON, [join(HERE, '..', 'support', 'totp.py'), secret, String(offsetSecs)]).toString().trim();
}

/// Runs the gatehouse command line against the test database.
export function gatehouse(...args) {
  return execFileSync(process.env.GATEHOUSE_BIN ?? 'target/debug/gatehouse', args, {
    env: { ...process.env, DATABASE_URL }, stdio: ['pipe', 'pipe', 'pipe'],
  }).toString();
}

/// Runs SQL against the test database (only for what no interface offers yet).
export function psql(sql) {
  return execFileSync('psql', [DATABASE_URL, '-qAtc', sql]).toString().trim();
}

/// The email step of Universal Login (UC-LOGIN: email first) on the page already open:
/// types the address, continues, and waits for the next step (password or SSO).
export async function enterEmail(page, email) {
  await page.fill('#email', email);
  await Promise.all([
    page.waitForURL((u) => u.searchParams.has('email') || u.searchParams.has('error')),
    page.click('[data-testid=continue]'),
  ]);
  await page.waitForSelector('[data-testid=login-email], [data-testid=login-error]');
}

/// The password step on the page already open (after `enterEmail`); resolves once the
/// browser has left /login (or came back with an error).
export async function enterPassword(page, password) {
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith('/login') || u.search.includes('error')),
    page.click('[data-testid=sign-in]'),
  ]);
}

/// Signs in with email and password from `path`; resolves once the browser has left
/// /login (or came back with an error).
export async function signIn(page, email, password, path = '/login') {
  await page.goto(`${BASE_URL}${path}`);
  await enterEmail(page, email);
  await enterPassword(page, password);
}

/// Invites a person into acme with the CLI, accepts from the mail, and returns the address
/// and password of the now active account (signed in on `page`).
export async function invitedUser(page, password = 'Orchard-lantern-4417') {
  const email = uniqueEmail('member');
  gatehouse('invite', '--tenant', 'acme', '--email', email, '--role', 'user');
  const mail = await mailFor(email, /invit/i);
  await page.goto(linkIn(mail, '/invite/'));
  await page.fill('#name', 'Test Member');
  await page.fill('#password', password);
  await page.fill('#confirm', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/invite/')), page.click('form button[type=submit]')]);
  return { email, password };
}
