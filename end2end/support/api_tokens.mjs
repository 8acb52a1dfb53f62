// Real tokens for the contract fuzzing and the SDK tests, obtained as an integrator would:
// an application registered with the CLI, a person's token through the authorization code
// flow with PKCE (signing in through the Universal Login in Chromium, a second factor
// enrolled for the operator), and the application's own token by client credentials.
// Prints {operator, admin, application} as JSON on stdout.
//   BASE_URL=http://localhost:3100 node end2end/support/api_tokens.mjs
import { createServer } from 'node:http';
import * as client from 'openid-client';
import { BASE_URL, launchBrowser } from '../tests/browser.mjs';
import { PASSWORD, enterEmail, gatehouse } from '../tests/support.mjs';
import { signedInOperator } from '../tests/operator.mjs';

const REDIRECT = 'http://127.0.0.1:4998/callback';

function registerApp(grants, scopes, tenants) {
  const app = JSON.parse(gatehouse('app', 'register', '--name', `Contract ${Date.now()}`, '--environment', 'development',
    '--redirect-uri', REDIRECT, ...tenants, ...grants.flatMap((g) => ['--grant', g])));
  return JSON.parse(gatehouse('app', 'key', 'issue', app.id, ...scopes.flatMap((s) => ['--scope', s])));
}

const discover = (key) => client.discovery(new URL(BASE_URL), key.client_id, { redirect_uris: [REDIRECT] },
  client.ClientSecretBasic(key.client_secret), { execute: [client.allowInsecureRequests] });

/// A person's access token for `key`, `signIn` having signed them in on `page` already (or
/// doing it at the login page).
async function personToken(page, key, scope, signIn, organization) {
  const config = await discover(key);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope, state, ...(organization ? { organization } : {}),
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  await page.goto(url.href);
  await signIn();
  await page.waitForURL((u) => u.href.startsWith(REDIRECT));
  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
    pkceCodeVerifier: verifier, expectedState: state,
  });
  return tokens.access_token;
}

const callback = createServer((_, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); });
await new Promise((resolve) => callback.listen(4998, '127.0.0.1', resolve));
const browser = await launchBrowser();
try {
  const grants = ['authorization_code', 'client_credentials'];
  const platformKey = registerApp(grants, ['openid', 'admin'], ['--all-tenants']);
  const tenantKey = registerApp(grants,
    ['openid', 'users:read', 'users:write', 'tenants:read', 'tenants:write', 'webhooks:read', 'webhooks:write', 'flag:read', 'bill:write', 'bill:read', 'log:write'],
    ['--tenant', 'acme']);

  const operatorPage = await (await browser.newContext()).newPage();
  await signedInOperator(operatorPage, 'contract');
  const operator = await personToken(operatorPage, platformKey, 'openid admin', async () => {});

  const adminPage = await (await browser.newContext()).newPage();
  const admin = await personToken(adminPage, tenantKey, 'openid users:read users:write tenants:read tenants:write webhooks:read webhooks:write', async () => {
    await adminPage.waitForURL(/\/login\?return_to=/);
    await enterEmail(adminPage, 'admin@acme.test');
    await adminPage.fill('#password', PASSWORD);
    await adminPage.click('[data-testid=sign-in]');
  }, 'acme');

  const config = await discover(tenantKey);
  const application = (await client.clientCredentialsGrant(config, {
    scope: 'flag:read bill:write bill:read log:write',
  })).access_token;
  process.stdout.write(`${JSON.stringify({ operator, admin, application })}\n`);
} finally {
  await browser.close();
  callback.close();
}
