// Chromium's view of a console page (bench/pages.sh): /admin/users loaded cold (a fresh
// profile, empty cache) and warm (the same profile again), each BENCH_PAGE_LOADS times; the
// navigation timings (first byte, DOM ready, load, hydrated) and the bytes each load moved.
// Env: BASE_URL, PAGES_COOKIE (a signed-in session's cookie header), CHROMIUM.
import { launchBrowser } from '../end2end/tests/browser.mjs';

const BASE_URL = process.env.BASE_URL;
const loads = Number(process.env.BENCH_PAGE_LOADS ?? 5);
const cookies = process.env.PAGES_COOKIE.split('; ').map((c) => {
  const [name, value] = c.split('=');
  return { name, value, url: BASE_URL };
}).filter((c) => !c.name.startsWith('__Host-'));

async function load(page) {
  await page.goto(`${BASE_URL}/admin/users`, { waitUntil: 'load' });
  // Hydrated: the wasm has run and taken over the page (Leptos removes nothing visible, so
  // wait for the wasm module's own resource entry to finish and the next frame).
  await page.waitForFunction(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('.wasm') && r.responseEnd > 0));
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const resources = performance.getEntriesByType('resource');
    const wasm = resources.find((r) => r.name.endsWith('.wasm'));
    const sum = (k) => resources.reduce((n, r) => n + (r[k] ?? 0), 0);
    return {
      ttfb_ms: nav.responseStart - nav.startTime,
      dom_content_loaded_ms: nav.domContentLoadedEventEnd - nav.startTime,
      load_ms: nav.loadEventEnd - nav.startTime,
      hydrated_ms: performance.now(),
      wasm_ready_ms: wasm ? wasm.responseEnd : null,
      transferred_bytes: nav.transferSize + sum('transferSize'),
      decoded_bytes: nav.decodedBodySize + sum('decodedBodySize'),
      requests: 1 + resources.length,
      requests_from_cache: resources.filter((r) => r.transferSize === 0).length,
    };
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const summary = (runs) => Object.fromEntries(Object.keys(runs[0]).map((k) => [k, Math.round(median(runs.map((r) => r[k])) * 10) / 10]));

const browser = await launchBrowser();
const cold = [];
const warm = [];
try {
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies(cookies);
    const page = await context.newPage();
    cold.push(await load(page));
    const again = await context.newPage();
    warm.push(await load(again));
    await context.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ loads, cold: summary(cold), warm: summary(warm) }));
