// The console shell: the login page renders, hydration makes it interactive, the layout
// works on desktop and phone widths, unknown pages answer 404. Screenshots land in
// end2end/screenshots/ to be looked at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE_URL, SCREENSHOTS, launch, watchErrors, clickOnceHydrated } from './browser.mjs';
import { enterEmail } from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the login page renders its form', async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  const res = await page.goto(`${BASE_URL}/login`);
  assert.equal(res.status(), 200);
  assert.equal(await page.title(), 'Sign in · Gatehouse');
  // Email first (UC-LOGIN): the address, then the password or the organisation's SSO.
  assert.ok(await page.isVisible('input[name=email]'));
  assert.equal(await page.locator('input[name=password]').count(), 0);
  assert.ok(await page.isVisible('button[type=submit]'));
  // The stylesheet is applied (Tailwind built and served under the CSP).
  const bg = await page.$eval('button[type=submit]', (b) => getComputedStyle(b).backgroundColor);
  assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'the submit button is styled');
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(SCREENSHOTS, 'login-desktop.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no console errors, CSP violations or failed requests');
  await page.close();
});

test('hydration makes the page interactive: show and hide the password', async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${BASE_URL}/login?email=someone%40example.test`);
  await page.fill('input[name=password]', 'secret-value');
  const type = () => page.getAttribute('#password', 'type');
  assert.equal(await type(), 'password');
  await clickOnceHydrated(page, '[data-testid=toggle-password]', type);
  assert.equal(await type(), 'text');
  assert.equal((await page.textContent('[data-testid=toggle-password]')).trim(), 'Hide');
  await page.click('[data-testid=toggle-password]');
  assert.equal(await type(), 'password');
  assert.equal(await page.inputValue('#password'), 'secret-value', 'typed input survives hydration');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the tenant hint shows on /t/{domain}/login', async () => {
  const page = await browser.newPage();
  await page.goto(`${BASE_URL}/t/acme/login`);
  assert.match(await page.textContent('main'), /to acme on Gatehouse/);
  await page.close();
});

test('on a phone the navigation folds into a keyboard-usable menu', async () => {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  const errors = watchErrors(page);
  await page.goto(`${BASE_URL}/`);
  assert.equal(await page.isVisible('#mobile-nav'), false);
  const expanded = () => page.getAttribute('[data-testid=menu-toggle]', 'aria-expanded');
  await clickOnceHydrated(page, '[data-testid=menu-toggle]', expanded);
  assert.equal(await expanded(), 'true');
  assert.ok(await page.isVisible('#mobile-nav a[href="/login"]'), 'signed out, the menu offers sign-in');
  await page.screenshot({ path: join(SCREENSHOTS, 'home-phone-menu.png'), fullPage: true });
  // Keyboard: the toggle is a real button reachable with Tab and closed with Enter.
  await page.focus('[data-testid=menu-toggle]');
  await page.keyboard.press('Enter');
  assert.equal(await expanded(), 'false');
  assert.deepEqual(errors, []);
  await page.close();
});

test('console pages need a sign-in, then show in the shared layout for the right roles', async () => {
  const page = await browser.newPage();
  for (const path of ['/operator', '/admin', '/audit', '/account']) {
    await page.goto(`${BASE_URL}${path}`);
    assert.equal(new URL(page.url()).pathname, '/login', `${path} sends a signed-out visitor to sign in`);
    assert.equal(new URL(page.url()).searchParams.get('return_to'), path);
  }
  await enterEmail(page, 'admin@acme.test');
  assert.equal(new URL(page.url()).searchParams.get('return_to'), '/account', 'the email step keeps where the person was going');
  await page.fill('#password', 'Gatehouse-demo-2026');
  await Promise.all([page.waitForURL(`${BASE_URL}/account`), page.click('[data-testid=sign-in]')]);
  for (const [path, heading] of [['/admin', 'Tenant Administration'], ['/account', 'Your account']]) {
    const res = await page.goto(`${BASE_URL}${path}`);
    assert.equal(res.status(), 200, path);
    assert.equal((await page.textContent('main h1')).trim(), heading);
    assert.ok(await page.isVisible('header >> text=Gatehouse'));
    assert.equal((await page.textContent('[data-testid=signed-in-as]')).trim(), 'admin@acme.test');
  }
  await page.screenshot({ path: join(SCREENSHOTS, 'admin-desktop.png'), fullPage: true });
  // The header offers only the consoles this role may open; another console says whose it is.
  assert.equal(await page.isVisible('header a[href="/operator"]'), false);
  const res = await page.goto(`${BASE_URL}/operator`);
  assert.equal(res.status(), 403);
  assert.match(await page.textContent('[data-testid=page-refused]'), /This page is for operator/);
  await page.goto(`${BASE_URL}/logout`);
  await Promise.all([page.waitForURL(/signed_out=1/), page.click('[data-testid=sign-out]')]);
  await page.close();
});

test('an unknown page answers 404 with a way back', async () => {
  const page = await browser.newPage();
  const res = await page.goto(`${BASE_URL}/no/such/page`);
  assert.equal(res.status(), 404);
  assert.equal((await page.textContent('main h1')).trim(), 'Page not found');
  assert.ok(await page.isVisible('a[href="/"]'));
  await page.screenshot({ path: join(SCREENSHOTS, 'not-found.png') });
  await page.close();
});
