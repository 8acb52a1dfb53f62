// The API reference at /api/docs (issue 20: Scalar vendored into public/, no CDN): it renders
// the generated document at desktop and phone width, every request stays on our own origin,
// and the page's CSP lets nothing inline run.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, SCREENSHOTS, launchBrowser, watchErrors } from './browser.mjs';

const browser = await launchBrowser();
after(() => browser.close());

for (const [name, viewport] of [['desktop', { width: 1366, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
  test(`the API reference renders offline at ${name} width`, async () => {
    const page = await browser.newPage({ viewport });
    const errors = watchErrors(page);
    const elsewhere = [];
    page.on('request', (r) => { if (!r.url().startsWith(BASE_URL) && !r.url().startsWith('data:')) elsewhere.push(r.url()); });
    await page.goto(`${BASE_URL}/api/docs`);
    await page.getByRole('heading', { name: 'Gatehouse API' }).waitFor();
    // The document's own operations are listed (generated from the code).
    await page.getByText('/api/v1/me').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, `api-docs-${name}.png`) });
    assert.deepEqual(elsewhere, [], 'nothing is fetched from another origin');
    assert.deepEqual(errors.filter((e) => !/status of 404/.test(e)), []);
    await page.close();
  });
}
