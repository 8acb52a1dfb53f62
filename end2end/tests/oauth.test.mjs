// The token service against a real, independently written OpenID Connect client library
// (panva's openid-client, ../shared/test-peers/oidc), with the person signing in through
// the Universal Login in Chromium (issue 4; SPEC §4; FR-AUTH-001, FR-SYS-001..003):
// discovery, authorization code + PKCE, ID token validation, userinfo, refresh rotation,
// reuse of an old refresh token revoking the family, introspection, revocation,
// RP-initiated logout, client credentials.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer } from 'node:http';
import * as client from 'openid-client';
import { BASE_URL, SCREENSHOTS, launchBrowser, watchErrors } from './browser.mjs';
import { PASSWORD, enterEmail, gatehouse } from './support.mjs';

const REDIRECT = 'http://127.0.0.1:4999/callback';
let browser;
let callbackServer;
before(async () => {
  browser = await launchBrowser();
  // The application's callback: a real endpoint that just answers.
  callbackServer = createServer((_, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('callback'); });
  await new Promise((resolve) => callbackServer.listen(4999, '127.0.0.1', resolve));
});
after(async () => { await browser?.close(); callbackServer?.close(); });

/// Registers an application and issues a key with the CLI (UC-DEV-REGISTER).
function registerApp(grants, scopes) {
  const app = JSON.parse(gatehouse('app', 'register', '--name', `RP ${Date.now()}`, '--environment', 'development',
    '--redirect-uri', REDIRECT, '--post-logout-redirect-uri', REDIRECT, '--tenant', 'acme',
    ...grants.flatMap((g) => ['--grant', g])));
  const key = JSON.parse(gatehouse('app', 'key', 'issue', app.id, ...scopes.flatMap((s) => ['--scope', s])));
  return { app, key };
}

const discover = (key) => client.discovery(new URL(BASE_URL), key.client_id, { redirect_uris: [REDIRECT] },
  client.ClientSecretBasic(key.client_secret), { execute: [client.allowInsecureRequests] });

/// Opens `url` in the page and resolves with the URL the browser is sent to at REDIRECT.
async function landAtCallback(page, url, act = async () => {}) {
  await page.goto(url);
  await act();
  await page.waitForURL((u) => u.href.startsWith(REDIRECT));
  return new URL(page.url());
}

test('openid-client signs a person in through the Universal Login and uses every token endpoint', async () => {
  const { key } = registerApp(['authorization_code', 'refresh_token'], ['openid', 'email', 'profile', 'offline_access']);
  const config = await discover(key);
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, BASE_URL);
  assert.equal(meta.token_endpoint, `${BASE_URL}/auth/token`);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  assert.equal(meta.authorization_response_iss_parameter_supported, true);

  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid email profile offline_access', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    organization: 'acme',
  });

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const callback = await landAtCallback(page, authUrl.href, async () => {
    await page.waitForURL(/\/login\?return_to=/);
    await page.screenshot({ path: join(SCREENSHOTS, 'oidc-login.png') });
    await enterEmail(page, 'user@acme.test');
    await page.fill('#password', PASSWORD);
    await page.click('[data-testid=sign-in]');
  });
  assert.equal(callback.searchParams.get('iss'), BASE_URL);

  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.email, 'user@acme.test');
  assert.equal(claims.aud, key.client_id);
  assert.ok(claims.tenant_id, 'the tenant is in the ID token');
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.equal(tokens.expires_in, 3600);

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, 'user@acme.test');
  assert.deepEqual(info.roles, ['user']);

  // Refresh rotation: a new refresh token each time; the old one is spent.
  const second = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(second.refresh_token, tokens.refresh_token);
  assert.ok(second.claims(), 'an ID token again');
  const live = await client.tokenIntrospection(config, second.access_token);
  assert.equal(live.active, true);
  assert.equal(live.client_id, key.client_id);
  // Reuse of the old refresh token: refused, and the whole family is revoked.
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
  await assert.rejects(client.refreshTokenGrant(config, second.refresh_token), (e) => e.error === 'invalid_grant');
  assert.equal((await client.tokenIntrospection(config, second.access_token)).active, false);

  // A fresh authorization (already signed in: straight back), then revocation (RFC 7009).
  const v2 = client.randomPKCECodeVerifier();
  const again = await landAtCallback(page, client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid email', state,
    code_challenge: await client.calculatePKCECodeChallenge(v2), code_challenge_method: 'S256',
  }).href);
  const third = await client.authorizationCodeGrant(config, again, { pkceCodeVerifier: v2, expectedState: state });
  assert.equal((await client.tokenIntrospection(config, third.access_token)).active, true);
  await client.tokenRevocation(config, third.access_token);
  assert.equal((await client.tokenIntrospection(config, third.access_token)).active, false);
  await client.tokenRevocation(config, third.refresh_token, { token_type_hint: 'refresh_token' });
  assert.equal((await client.tokenIntrospection(config, third.refresh_token)).active, false);

  // RP-initiated logout ends the browser's session and returns to the application.
  const logoutUrl = client.buildEndSessionUrl(config, {
    id_token_hint: third.id_token, post_logout_redirect_uri: REDIRECT, state: 'bye',
  });
  const back = await landAtCallback(page, logoutUrl.href);
  assert.equal(back.searchParams.get('state'), 'bye');
  assert.equal((await context.cookies()).find((c) => c.name === 'gatehouse_session' && c.value), undefined);
  assert.deepEqual(errors.filter((e) => !/status of 4\d\d/.test(e)), []);
  await context.close();
});

test('a refused sign-in request never reaches the application, and codes are bound to PKCE', async () => {
  const { key } = registerApp(['authorization_code'], ['openid']);
  const config = await discover(key);
  // PKCE "plain" is refused back to the client with an OAuth error.
  const page = await (await browser.newContext()).newPage();
  const refused = await landAtCallback(page, client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid', state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain',
  }).href);
  assert.equal(refused.searchParams.get('error'), 'invalid_request');
  assert.equal(refused.searchParams.get('state'), 's');
  // An unregistered redirect URI: an error page at Gatehouse, no redirect.
  const res = await fetch(client.buildAuthorizationUrl(config, {
    redirect_uri: 'https://evil.example/cb', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
  }), { redirect: 'manual' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /not registered for this application/);
  await page.goto(`${BASE_URL}/authorize?client_id=${key.client_id}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code`);
  await page.screenshot({ path: join(SCREENSHOTS, 'oidc-refused.png') });
  assert.match(await page.textContent('[role=alert]'), /not registered/);
  await page.context().close();
});

test('client credentials: an application token for the API, refused once the key is revoked', async () => {
  const { key } = registerApp(['client_credentials'], ['flag:read']);
  const config = await discover(key);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'flag:read' });
  const me = await fetch(`${BASE_URL}/api/v1/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(me.status, 200);
  const body = await me.json();
  assert.equal(body.type, 'application');
  assert.deepEqual(body.scopes, ['flag:read']);
  gatehouse('app', 'key', 'revoke', key.client_id);
  // The revocation reaches the running server through LISTEN/NOTIFY.
  let status = 200;
  for (let i = 0; i < 30 && status === 200; i++) {
    status = (await fetch(`${BASE_URL}/api/v1/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status;
    if (status === 200) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 401);
  await assert.rejects(client.clientCredentialsGrant(config), (e) => e.status === 401 || e.cause?.status === 401 || e.error === 'invalid_client');
});
