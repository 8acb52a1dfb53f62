// Tenant single sign-on in the browser (FR-AUTH-001, FR-AUTH-003, UC-TENANT-SSO, UC-LOGIN;
// SPEC §3). Two organisations, each with its own real OpenID provider (oidc-provider, started
// by scripts/test.sh) and a real DNS server for domain ownership. An owner connects the
// provider with the wizard and a test sign-in; people sign in by email-first routing and
// through a managed application's /authorize (openid-client as the application); groups at
// the provider set the role at every sign-in; "require SSO" refuses a password and admits a
// break-glass owner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import * as client from 'openid-client';
import { BASE_URL, SCREENSHOTS, launchBrowser, watchErrors } from './browser.mjs';
import { enterEmail, enterPassword, gatehouse, linkIn, mailFor, psql, totp } from './support.mjs';
import { signedInOperator } from './operator.mjs';

const IDP_A = process.env.IDP_A_URL ?? 'http://127.0.0.1:4010';
const IDP_B = process.env.IDP_B_URL ?? 'http://127.0.0.1:4011';
const REDIRECT = 'http://127.0.0.1:4998/callback';
const OWNER_PASSWORD = 'Harbour-signal-3382';
const path = (page) => new URL(page.url()).pathname;
const text = async (locator) => (await locator.textContent()).trim();
// Refusals answer 4xx on purpose; anything else in the console is a fault.
const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));

let browser;
let callbackServer;
const stamp = Date.now();
// Two organisations, each with its own email domain and provider.
const orgs = {
  a: { name: `Initech ${stamp}`, domain: `initech-${stamp}`, mail: `initech-${stamp}.test`, idp: IDP_A, accounts: process.env.IDP_A_ACCOUNTS },
  b: { name: `Umbrella ${stamp}`, domain: `umbrella-${stamp}`, mail: `umbrella-${stamp}.test`, idp: IDP_B, accounts: process.env.IDP_B_ACCOUNTS },
};

/// People at a provider: written to the file it re-reads at every sign-in.
function idpAccounts(org, accounts) {
  const current = JSON.parse(readFileSync(org.accounts, 'utf8'));
  writeFileSync(org.accounts, JSON.stringify({ ...current, ...accounts }));
}

/// A TXT record on the test DNS server (it re-reads its file at every query).
function dnsRecord(name, value) {
  const records = JSON.parse(readFileSync(process.env.DNS_RECORDS, 'utf8'));
  records[name] = [value];
  writeFileSync(process.env.DNS_RECORDS, JSON.stringify(records));
}

/// The operator provisions the organisation; its owner accepts the invitation and lands in
/// Tenant Administration (a page of their own).
async function provision(operator, org) {
  await operator.goto(`${BASE_URL}/operator/tenants`);
  await operator.waitForSelector('[data-testid=provision-form]');
  await operator.waitForLoadState('networkidle');
  org.owner = `owner@${org.mail}`;
  await operator.fill('#tenant-name', org.name);
  await operator.fill('#tenant-domain', org.domain);
  await operator.fill('#tenant-owner', org.owner);
  await operator.click('[data-testid=provision-submit]');
  await operator.waitForSelector('[data-testid=provisioned]');
  const mail = await mailFor(org.owner, /invit/i);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(linkIn(mail, '/invite/'));
  await page.fill('#name', `${org.name} Owner`);
  await page.fill('#password', OWNER_PASSWORD);
  await page.fill('#confirm', OWNER_PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/invite/')), page.click('form button[type=submit]')]);
  assert.equal(path(page), '/admin');
  org.ownerPage = page;
  org.ownerContext = context;
}

/// Signs in at the provider's own login form (the page is at the provider).
async function atProvider(page, idp, login, password) {
  await page.waitForURL((u) => u.href.startsWith(idp));
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('#idp-submit');
}

/// Submits an `ActionForm` and waits for the page's flash line to change.
async function submitAndWait(page, selector) {
  await page.waitForLoadState('networkidle');
  await page.click(selector);
  await page.waitForLoadState('networkidle');
}

/// The owner's wizard, from the issuer to an active connection with a verified domain.
async function connect(org, { groupsToAdmin = false } = {}) {
  const page = org.ownerPage;
  const errors = watchErrors(page);
  await page.goto(`${BASE_URL}/admin/sso`);
  await page.waitForSelector('[data-testid=discover-form]');
  await page.waitForLoadState('networkidle');

  // Discovery through the hardened client: the issuer must match exactly.
  const mismatched = org.idp.replace('127.0.0.1', 'localhost');
  await page.fill('#issuer', mismatched);
  await page.click('[data-testid=discover]');
  await page.waitForSelector('[data-testid=issuer-error]');
  assert.match(await text(page.locator('[data-testid=issuer-error]')), /does not match|issuer/i);
  assert.equal(psql(`SELECT count(*) FROM sso_connections c JOIN tenants t ON t.id = c.tenant_id WHERE t.domain = '${org.domain}'`), '0', 'nothing saved');
  await page.fill('#issuer', org.idp);
  await page.click('[data-testid=discover]');
  await page.waitForSelector('[data-testid=discovery]');
  assert.match(await text(page.locator('[data-testid=discovery]')), /S256/);

  // Register Gatehouse at the provider with the redirect URI the wizard shows.
  const redirectUri = await text(page.locator('[data-testid=redirect-uri]'));
  assert.match(redirectUri, /^http:\/\/localhost:\d+\/sso\/[0-9a-f-]{36}\/callback$/);
  const registered = await (await fetch(`${org.idp}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }),
  })).json();
  org.clientSecret = registered.client_secret;
  await page.fill('#client-id', registered.client_id);
  await page.fill('#client-secret', registered.client_secret);
  await page.click('[data-testid=save-client]');
  await page.waitForSelector('[data-testid=test-sign-in]');
  assert.ok(await page.isVisible('[data-testid=activate-hint]'), 'an untested connection cannot be activated');
  assert.equal(await page.inputValue('#client-secret'), '', 'the secret is never shown again');
  assert.ok(!(await page.content()).includes(registered.client_secret));

  // Test sign-in: a real round trip that creates nobody.
  const people = Number(psql(`SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.domain = '${org.domain}'`));
  await page.click('[data-testid=test-sign-in]');
  await atProvider(page, org.idp, 'tester', 'tester-pw');
  await page.waitForURL((u) => u.pathname === '/admin/sso' && u.searchParams.has('tested'));
  await page.waitForSelector('[data-testid=test-result]');
  assert.match(await text(page.locator('[data-testid=test-groups]')), /admins/);
  assert.equal(await text(page.locator('[data-testid=test-role]')), 'User', 'no mapping yet: the default role');
  assert.equal(Number(psql(`SELECT count(*) FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE t.domain = '${org.domain}'`)), people, 'the test created nobody');

  // People and roles: just-in-time accounts, admins from the provider's group.
  await page.check('[data-testid=jit]');
  if (groupsToAdmin) await page.fill('#group-roles', 'admins = admin');
  await page.click('[data-testid=save-people]');
  await page.waitForFunction(() => /Saved/.test(document.querySelector('[data-testid=flash]')?.textContent ?? ''));

  // The email domain, proven by a TXT record on the (real) DNS server.
  await page.fill('#claim-domain', org.mail);
  await page.click('[data-testid=claim-domain-submit]');
  await page.waitForSelector('[data-testid=txt-value]');
  const value = await text(page.locator('[data-testid=txt-value]'));
  await page.click('[data-testid=verify-domain]');
  // The claim's flash line is still up: wait for the check's own answer.
  await page.waitForFunction(() => /not verified yet/.test(document.querySelector('[data-testid=flash]')?.textContent ?? ''));
  assert.match(await text(page.locator('[data-testid=flash]')), /no TXT record/, 'no record yet, and the page says which');
  dnsRecord(`_gatehouse-challenge.${org.mail}`, value);
  await page.click('[data-testid=verify-domain]');
  await page.waitForFunction((d) => document.querySelector(`[data-testid="domain-${d}"] [data-testid=domain-state]`)?.textContent.trim() === 'Verified', org.mail);

  await page.click('[data-testid=activate]');
  await page.waitForFunction(() => document.querySelector('[data-testid=connection-status]')?.textContent.trim() === 'Active');
  assert.deepEqual(unexpected(errors), []);
  org.connection = redirectUri.split('/')[4];
}

before(async () => {
  browser = await launchBrowser();
  callbackServer = createServer((_, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('callback'); });
  await new Promise((resolve) => callbackServer.listen(4998, '127.0.0.1', resolve));
  const tester = { tester: { password: 'tester-pw', email: `tester@${orgs.a.mail}`, email_verified: true, name: 'Test Person', groups: ['admins'] } };
  idpAccounts(orgs.a, tester);
  idpAccounts(orgs.b, { ...tester, tester: { ...tester.tester, email: `tester@${orgs.b.mail}` } });
  const context = await browser.newContext();
  const operator = await context.newPage();
  await signedInOperator(operator, 'sso');
  await provision(operator, orgs.a);
  await provision(operator, orgs.b);
  orgs.operator = operator;
});
after(async () => { await browser?.close(); callbackServer?.close(); });

test('an owner connects the provider with the wizard, including a test sign-in and a DNS-verified domain', async () => {
  await connect(orgs.a, { groupsToAdmin: true });
  await orgs.a.ownerPage.screenshot({ path: join(SCREENSHOTS, 'sso-wizard.png'), fullPage: true });
  await orgs.a.ownerPage.setViewportSize({ width: 390, height: 844 });
  await orgs.a.ownerPage.screenshot({ path: join(SCREENSHOTS, 'sso-wizard-phone.png'), fullPage: true });
  await orgs.a.ownerPage.setViewportSize({ width: 1280, height: 800 });
  // The second organisation connects its own provider at the same time.
  await connect(orgs.b);
  const audit = psql(`SELECT string_agg(DISTINCT action, ',' ORDER BY action) FROM audit_log WHERE action LIKE 'sso.%'`);
  for (const action of ['sso.connection.created', 'sso.connection.updated', 'sso.connection.tested', 'sso.connection.activated', 'sso.domain.claimed', 'sso.domain.verified', 'sso.domain.verification_failed']) {
    assert.ok(audit.includes(action), `audited: ${action}`);
  }
  assert.ok(!psql(`SELECT string_agg(metadata::text, ' ') FROM audit_log WHERE action LIKE 'sso.%'`).includes(orgs.a.clientSecret), 'the secret never reaches the audit trail');
});

test('email-first routing: JIT creates the person with the role from groups; a group change at the provider changes it at the next sign-in', async () => {
  const alice = `alice@${orgs.a.mail}`;
  idpAccounts(orgs.a, { alice: { password: 'alice-pw', email: alice, email_verified: true, name: 'Alice Initech', groups: ['admins'] } });
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${BASE_URL}/login`);
  await enterEmail(page, alice);
  assert.equal(await text(page.locator('[data-testid=sso-continue]')), `Continue with ${orgs.a.name} SSO`);
  await page.screenshot({ path: join(SCREENSHOTS, 'sso-login.png'), fullPage: true });
  await page.click('[data-testid=sso-continue]');
  await atProvider(page, IDP_A, 'alice', 'alice-pw');
  await page.waitForURL(`${BASE_URL}/admin`);
  assert.equal(psql(`SELECT role FROM users WHERE email = '${alice}'`), 'admin', 'JIT with the mapped role');
  assert.equal(psql(`SELECT count(*) FROM sso_identities i JOIN users u ON u.id = i.user_id WHERE u.email = '${alice}' AND i.subject = 'alice'`), '1', 'keyed by the provider subject');
  assert.match(psql(`SELECT auth_methods::text FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = '${alice}' AND s.revoked_at IS NULL`), /sso/);
  assert.deepEqual(errors, []);
  await context.close();

  // The operator's tenant page shows the connection and its last SSO sign-in.
  const tenantId = psql(`SELECT id FROM tenants WHERE domain = '${orgs.a.domain}'`);
  await orgs.operator.goto(`${BASE_URL}/operator/tenants/${tenantId}`);
  await orgs.operator.waitForSelector('[data-testid=tenant-sso-status]');
  assert.equal(await text(orgs.operator.locator('[data-testid=tenant-sso-status]')), 'Active');
  assert.notEqual(await text(orgs.operator.locator('[data-testid=tenant-sso-last]')), 'never');

  // The provider removes Alice from the admins: her next sign-in makes her a user.
  idpAccounts(orgs.a, { alice: { password: 'alice-pw', email: alice, email_verified: true, name: 'Alice Initech', groups: [] } });
  const again = await browser.newContext();
  const page2 = await again.newPage();
  await page2.goto(`${BASE_URL}/t/${orgs.a.domain}/login`);
  await page2.click('[data-testid=sso-continue]');
  await atProvider(page2, IDP_A, 'alice', 'alice-pw');
  await page2.waitForURL(`${BASE_URL}/account`);
  // Her session says how it was proven: her organisation's provider, and its second factor.
  await page2.waitForSelector('text=Single sign-on (127.0.0.1)');
  assert.equal(psql(`SELECT role FROM users WHERE email = '${alice}'`), 'user');
  assert.equal(psql(`SELECT metadata->>'source' FROM audit_log WHERE action = 'user.role.change' ORDER BY seq DESC LIMIT 1`), 'sso_groups');
  await again.close();
});

test('refusals come back to a clear page: access denied at the provider, and another organisation\'s domain', async () => {
  // The person cancels at the provider.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/t/${orgs.a.domain}/login`);
  await page.click('[data-testid=sso-continue]');
  await page.waitForURL((u) => u.href.startsWith(IDP_A));
  await page.click('#idp-deny');
  await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('error') === 'sso_idp_error');
  assert.match(await text(page.locator('[data-testid=login-error]')), /did not sign you in/);
  await context.close();

  // Umbrella's provider vouches for an Initech address: Umbrella has not verified that domain.
  idpAccounts(orgs.b, { mallory: { password: 'mallory-pw', email: `ceo@${orgs.a.mail}`, email_verified: true, name: 'Mallory', groups: ['admins'] } });
  const other = await browser.newContext();
  const page2 = await other.newPage();
  await page2.goto(`${BASE_URL}/t/${orgs.b.domain}/login`);
  await page2.click('[data-testid=sso-continue]');
  await atProvider(page2, IDP_B, 'mallory', 'mallory-pw');
  await page2.waitForURL((u) => u.searchParams.get('error') === 'sso_domain_unverified');
  assert.equal(psql(`SELECT count(*) FROM users WHERE email = 'ceo@${orgs.a.mail}'`), '0', 'nobody was created');
  await page2.screenshot({ path: join(SCREENSHOTS, 'sso-refused.png'), fullPage: true });
  await other.close();
});

test('a managed application signs a person in through /authorize → the organisation\'s provider → back (openid-client)', async () => {
  const app = JSON.parse(gatehouse('app', 'register', '--name', `SSO RP ${stamp}`, '--environment', 'development',
    '--redirect-uri', REDIRECT, '--tenant', orgs.a.domain, '--grant', 'authorization_code'));
  const key = JSON.parse(gatehouse('app', 'key', 'issue', app.id, '--scope', 'openid', '--scope', 'email'));
  const config = await client.discovery(new URL(BASE_URL), key.client_id, { redirect_uris: [REDIRECT] },
    client.ClientSecretBasic(key.client_secret), { execute: [client.allowInsecureRequests] });
  const bob = `bob@${orgs.a.mail}`;
  idpAccounts(orgs.a, { bob: { password: 'bob-pw', email: bob, email_verified: true, name: 'Bob Initech', groups: [] } });
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid email', state, nonce, login_hint: bob,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(authUrl.href);
  // The application's login_hint fills the email step and routes to the provider.
  await page.waitForSelector('[data-testid=sso-continue]');
  assert.equal(await text(page.locator('[data-testid=login-email]')), bob);
  await page.click('[data-testid=sso-continue]');
  await page.waitForURL((u) => u.href.startsWith(IDP_A));
  assert.equal(new URL(page.url()).pathname.startsWith('/interaction/'), true);
  await atProvider(page, IDP_A, 'bob', 'bob-pw');
  await page.waitForURL((u) => u.href.startsWith(REDIRECT));
  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
    pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  assert.equal(tokens.claims().email, bob, 'the application gets Gatehouse tokens for the SSO person');
  await context.close();
});

test('"require SSO" refuses a password and admits a break-glass owner with a second factor', async () => {
  const org = orgs.b;
  const page = org.ownerPage;
  // An invited colleague with a password, before SSO is required.
  const carol = `carol@${org.mail}`;
  gatehouse('invite', '--tenant', org.domain, '--email', carol, '--role', 'user');
  const invite = await mailFor(carol, /invit/i);
  const carolContext = await browser.newContext();
  const carolPage = await carolContext.newPage();
  await carolPage.goto(linkIn(invite, '/invite/'));
  await carolPage.fill('#name', 'Carol');
  await carolPage.fill('#password', 'Meadow-compass-6610');
  await carolPage.fill('#confirm', 'Meadow-compass-6610');
  await Promise.all([carolPage.waitForURL((u) => !u.pathname.startsWith('/invite/')), carolPage.click('form button[type=submit]')]);

  // Requiring SSO needs a break-glass owner: a password and a second factor.
  await page.goto(`${BASE_URL}/admin/sso`);
  await page.waitForSelector('[data-testid=require-card]');
  await page.waitForLoadState('networkidle');
  await page.click('[data-testid=require-sso]');
  await page.click('[data-testid=require-sso-confirm]');
  await page.waitForFunction(() => /second factor/.test(document.querySelector('[data-testid=flash]')?.textContent ?? ''));
  await page.goto(`${BASE_URL}/account/mfa/totp`);
  await page.waitForSelector('[data-testid=totp-secret]');
  const secret = (await text(page.locator('[data-testid=totp-secret]')));
  await page.fill('#totp-code', totp(secret));
  await page.click('form button[type=submit]');
  await page.waitForSelector('[data-testid=recovery-codes] li');
  await page.goto(`${BASE_URL}/admin/sso`);
  await page.waitForSelector('[data-testid=require-card]');
  await page.waitForLoadState('networkidle');
  await page.click('[data-testid=require-sso]');
  await page.click('[data-testid=require-sso-confirm]');
  await page.waitForFunction(() => document.querySelector('[data-testid=sso-required]')?.textContent.trim() === 'Required');

  // Carol's password is refused: only her organisation's provider signs her in.
  const fresh = await browser.newContext();
  const login = await fresh.newPage();
  await login.goto(`${BASE_URL}/login`);
  await enterEmail(login, carol);
  assert.ok(await login.isVisible('[data-testid=sso-continue]'));
  assert.equal(await login.locator('#password').count(), 0, 'no password step when SSO is required');
  await login.goto(`${BASE_URL}/login?email=${encodeURIComponent(carol)}&break_glass=1`);
  await enterPassword(login, 'Meadow-compass-6610');
  assert.equal(new URL(login.url()).searchParams.get('error'), 'sso_enforced');
  assert.match(await text(login.locator('[data-testid=login-error]')), /single sign-on/);
  // A password reset points her to her organisation's provider; no link is mailed to her.
  await login.goto(`${BASE_URL}/forgot-password`);
  await login.fill('#email', carol);
  await Promise.all([login.waitForURL(/sent=1/), login.click('form button[type=submit]')]);
  assert.match(await text(login.locator('[data-testid=sso-reset-note]')), /identity provider/);
  await fresh.close();

  // The owner breaks glass: password, then the second factor; audited.
  const glass = await browser.newContext();
  const owner = await glass.newPage();
  await owner.goto(`${BASE_URL}/login`);
  await enterEmail(owner, org.owner);
  await owner.click('[data-testid=break-glass]');
  await owner.waitForSelector('#password');
  await enterPassword(owner, OWNER_PASSWORD);
  assert.equal(path(owner), '/login/mfa', 'break-glass always asks for the second factor');
  // The enrolment used this window's code; a code is accepted once (replay), so the next one.
  await owner.fill('#code', totp(secret, 30));
  await Promise.all([owner.waitForURL(`${BASE_URL}/admin`), owner.click('form button[type=submit]')]);
  assert.equal(psql(`SELECT count(*) FROM audit_log WHERE action = 'auth.sso.break_glass' AND actor_id = (SELECT id FROM users WHERE email = '${org.owner}')`), '1');
  await glass.close();
  await carolContext.close();
});
