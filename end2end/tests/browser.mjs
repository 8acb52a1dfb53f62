// Shared browser set-up: Debian's Chromium driven by playwright-core (BUILD.md).
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE_URL = process.env.BASE_URL ?? 'http://localhost:3100';
export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const EXECUTABLE = process.env.CHROMIUM ?? '/usr/bin/chromium';

/// A browser context with a fresh profile directory.
export async function launch() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: EXECUTABLE, headless: true, args: ARGS, viewport: { width: 1280, height: 800 },
  });
}

/// A browser to open several independent contexts in (e.g. one without JavaScript).
export async function launchBrowser() {
  return chromium.launch({ executablePath: EXECUTABLE, headless: true, args: ARGS });
}

/// Collects console errors and failed requests (a CSP violation shows up here).
export function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  // A load cut short because the page navigated on (net::ERR_ABORTED) is not a failure.
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return errors;
}

/// Waits until the wasm has hydrated the page: clicking `selector` changes `probe()`.
export async function clickOnceHydrated(page, selector, probe, timeoutMs = 20000) {
  const before = await probe();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await page.click(selector);
    if ((await probe()) !== before) return;
    await page.waitForTimeout(250);
  }
  throw new Error(`clicking ${selector} never changed the page: hydration did not happen`);
}
