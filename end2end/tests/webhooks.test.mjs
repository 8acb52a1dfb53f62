// Webhooks (SPEC §9; Standard Webhooks 1.0) against receivers written with the standard's
// own libraries: the npm `standardwebhooks` package in this process and the official
// Python one in a process of its own (end2end/support/webhook_receiver.mjs). Through the
// API, with people's tokens from the authorization code flow: an owner registers an
// endpoint (its secret shown once); a person invited through the API arrives as a verified
// `user.invited` whose webhook-id is the one in the delivery history, and as the same bytes
// on the events stream; a 500 is retried 5 s later; a 410 disables the endpoint; a rotated
// secret signs beside the old one during the overlap; another tenant's owner gets 404 for
// every operation on the endpoint and never sees its events. In the consoles: an owner adds
// an endpoint, sees the secret once, sends a test event and redelivers it; rotates, turns
// off and on, and deletes; an operator's platform endpoint receives acme's events; a `user`
// and a tenant admin get the 403 pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { BASE_URL, SCREENSHOTS, clickOnceHydrated, launchBrowser, watchErrors } from './browser.mjs';
import { PASSWORD, enterEmail, gatehouse, linkIn, mailFor, psql, signIn, uniqueEmail } from './support.mjs';
import { signedInOperator } from './operator.mjs';
import { openEventStream, startPythonReceiver, startReceiver, until, verifies } from '../support/webhook_receiver.mjs';

// The applications' callback (api_tokens.mjs uses 4998, oauth.test.mjs 4999).
const REDIRECT = 'http://127.0.0.1:4997/callback';
const SCOPES = 'openid users:read users:write webhooks:read webhooks:write';
const path = (page) => new URL(page.url()).pathname;
// Refusals are 4xx answers, which Chromium logs; anything else (a 5xx, a script error) fails.
const unexpected = (errors) => errors.filter((e) => !/status of 4\d\d/.test(e));
const randomSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
/// An RFC 3339 time with up to nanoseconds (the server's), in ms since 1970.
const ms = (rfc3339) => Date.parse(rfc3339.replace(/(\.\d{3})\d+/, '$1'));

let browser;
let callbackServer;
let acmeApp;
let owner;
let acmeId;
/// Endpoints made here, deleted at the end: [caller, id].
const made = [];

/// Registers an application with the CLI (authorization code, our callback) and issues a
/// key with `scopes`.
function registerApp(what, tenants, scopes) {
  const app = JSON.parse(gatehouse('app', 'register', '--name', `Webhooks ${what} ${Date.now()}`, '--environment', 'development',
    '--redirect-uri', REDIRECT, '--grant', 'authorization_code', ...tenants));
  const key = JSON.parse(gatehouse('app', 'key', 'issue', app.id, ...scopes.split(' ').flatMap((s) => ['--scope', s])));
  return { app, key };
}

const discover = (key) => client.discovery(new URL(BASE_URL), key.client_id, { redirect_uris: [REDIRECT] },
  client.ClientSecretBasic(key.client_secret), { execute: [client.allowInsecureRequests] });

/// A person's access token for `key` through the authorization code flow with PKCE in
/// Chromium (as end2end/support/api_tokens.mjs gets one); `signInStep` signs them in when
/// the flow shows the login page (nothing to do when `page` is signed in already).
async function personToken(page, key, scope, signInStep, organization) {
  const config = await discover(key);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope, state, ...(organization ? { organization } : {}),
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  await page.goto(url.href);
  await signInStep();
  await page.waitForURL((u) => u.href.startsWith(REDIRECT));
  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
  return tokens.access_token;
}

/// The token of a person who signs in with email and password, in a browser of their own.
async function tokenOf(email, key, organization) {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    return await personToken(page, key, SCOPES, async () => {
      await page.waitForURL(/\/login\?return_to=/);
      await enterEmail(page, email);
      await page.fill('#password', PASSWORD);
      await page.click('[data-testid=sign-in]');
    }, organization);
  } finally {
    await context.close();
  }
}

/// `/api/v1` with a bearer token: call(method, path, body?) -> { status, body, text }.
function api(token) {
  const call = async (method, route, body) => {
    const res = await fetch(`${BASE_URL}/api/v1${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: kept as text */ }
    return { status: res.status, body: json, text };
  };
  call.token = token;
  return call;
}

/// Registers an endpoint as `who`; it is deleted at the end of the file.
async function createEndpoint(who, fields) {
  const res = await who('POST', '/webhooks', fields);
  assert.equal(res.status, 201, res.text);
  made.push([who, res.body.id]);
  return res.body;
}

/// The delivery (full) once `ready(detail)` holds.
const deliveryWhen = (who, endpointId, deliveryId, ready, what, timeoutMs = 20000) => until(async () => {
  const res = await who('GET', `/webhooks/${endpointId}/deliveries/${deliveryId}`);
  return res.status === 200 && ready(res.body) ? res.body : null;
}, { timeoutMs, intervalMs: 250, what });

before(async () => {
  browser = await launchBrowser();
  callbackServer = createServer((_, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('callback'); });
  await new Promise((resolve) => callbackServer.listen(4997, '127.0.0.1', resolve));
  acmeApp = registerApp('acme', ['--tenant', 'acme'], SCOPES);
  owner = api(await tokenOf('owner@acme.test', acmeApp.key, 'acme'));
  acmeId = psql("SELECT id FROM tenants WHERE domain = 'acme'");
});

after(async () => {
  // Endpoints left behind would go on retrying at receivers that are gone (for a day).
  for (const [who, id] of made) await who('DELETE', `/webhooks/${id}`).catch(() => {});
  await browser?.close();
  callbackServer?.close();
});

test('API: a person invited through the API reaches the endpoint as a user.invited the standardwebhooks library verifies, with the webhook-id of the history', async () => {
  const receiver = await startReceiver();
  try {
    // Refusals name their fields; nothing is registered.
    const refused = await owner('POST', '/webhooks', { url: receiver.url, event_types: ['user.invited'], rate_limit_per_second: 5000 });
    assert.equal(refused.status, 422, refused.text);
    assert.ok(refused.body.details.some((d) => d.field === 'rate_limit_per_second'), refused.text);

    const endpoint = await createEndpoint(owner, { url: receiver.url, description: 'CRM sync', event_types: ['user.invited'] });
    assert.match(endpoint.secret, /^whsec_[A-Za-z0-9+/]{40,}={0,2}$/);
    assert.equal(endpoint.status, 'active');
    assert.equal(endpoint.tenant_id, acmeId);
    assert.equal(endpoint.url, receiver.url);
    assert.deepEqual(endpoint.event_types, ['user.invited']);
    assert.equal(endpoint.rate_limit_per_second, 20, 'the default throttle');
    receiver.setSecrets(endpoint.secret);
    // The secret is shown once: neither the endpoint nor the list carries it again.
    const shown = await owner('GET', `/webhooks/${endpoint.id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.secret, undefined);
    assert.ok(!shown.text.includes(endpoint.secret));
    const listed = await owner('GET', '/webhooks?limit=100');
    assert.equal(listed.status, 200);
    assert.ok(listed.body.data.some((e) => e.id === endpoint.id));
    assert.ok(!listed.text.includes(endpoint.secret));
    assert.equal(psql(`SELECT count(*) FROM audit_log WHERE action = 'webhook.create' AND resource = 'webhook:${endpoint.id}'`), '1', 'audited');

    // The events stream, opened first (it starts with the next event).
    const stream = await openEventStream(`${BASE_URL}/api/v1/events/stream`, owner.token);
    assert.equal(stream.status, 200, stream.text);
    try {
      const email = uniqueEmail('hooked');
      const invited = await owner('POST', '/users', { email, name: 'Hooked Person' });
      assert.equal(invited.status, 201, invited.text);

      const d = await receiver.next((x) => x.event?.type === 'user.invited' && x.event.data?.email === email, 20000, `user.invited for ${email}`);
      assert.equal(d.method, 'POST');
      assert.equal(d.path, '/hook');
      assert.match(d.headers['content-type'], /^application\/json/);
      assert.ok(d.verified, 'the standardwebhooks library verifies the delivery with the endpoint secret');
      assert.equal(d.signatures.length, 1, 'one signature outside a rotation');
      assert.match(d.signatures[0], /^v1,[A-Za-z0-9+/]{43}=$/);
      assert.ok(Math.abs(Number(d.timestamp) - Date.now() / 1000) < 60, 'webhook-timestamp is the time of sending');
      // The library really checks: another secret, a changed body or a changed id fail.
      assert.equal(verifies(randomSecret(), d.body, d.headers), false);
      assert.equal(verifies(endpoint.secret, d.body.replace(email, uniqueEmail('forged')), d.headers), false);
      assert.equal(verifies(endpoint.secret, d.body, { ...d.headers, 'webhook-id': `${d.id}0` }), false);
      // The body: type, timestamp, data with the person, their tenant and who invited them.
      assert.equal(d.event.data.id, invited.body.id);
      assert.equal(d.event.data.tenant_id, acmeId);
      assert.equal(d.event.data.role, 'user');
      assert.deepEqual(d.event.data.actor, { type: 'user', id: psql(`SELECT id FROM users WHERE lower(email) = 'owner@acme.test' AND tenant_id = '${acmeId}'`) });
      assert.ok(Math.abs(ms(d.event.timestamp) - Date.now()) < 60000, d.event.timestamp);
      // Only what it subscribes to: the invitation's user.created did not come.
      assert.ok(receiver.deliveries.every((x) => x.event?.type === 'user.invited'), JSON.stringify(receiver.deliveries.map((x) => x.event?.type)));

      // The stream carries the same event, byte for byte.
      const streamed = await stream.next((e) => e.event === 'user.invited' && JSON.parse(e.data).data.email === email, 20000, 'the event on the stream');
      assert.equal(streamed.data, d.body);
      assert.match(streamed.id, /^\d+$/);

      // The history: the delivery's event_id is the webhook-id the receiver got.
      const delivery = await until(async () => {
        const page = await owner('GET', `/webhooks/${endpoint.id}/deliveries?status=delivered`);
        return page.body?.data?.find((x) => x.event_id === d.id);
      }, { what: 'the delivery listed as delivered' });
      assert.equal(delivery.endpoint_id, endpoint.id);
      assert.equal(delivery.event_type, 'user.invited');
      assert.equal(delivery.status, 'delivered');
      assert.equal(delivery.attempts, 1);
      assert.equal(delivery.last_status, 200);
      assert.ok(delivery.delivered_at);
      const detail = await owner('GET', `/webhooks/${endpoint.id}/deliveries/${delivery.id}`);
      assert.equal(detail.status, 200, detail.text);
      assert.deepEqual(detail.body.body, d.event, 'the history keeps the body sent');
      assert.equal(detail.body.attempts_made.length, 1);
      assert.equal(detail.body.attempts_made[0].status_code, 200);
      assert.match(detail.body.attempts_made[0].response_excerpt ?? '', /received/);
      assert.equal(receiver.deliveries.filter((x) => x.id === d.id).length, 1, 'delivered once');
    } finally {
      stream.close();
    }
  } finally {
    await receiver.close();
  }
});

test('API: a delivery answered 500 is retried 5 s later and delivered; the history shows both attempts', async () => {
  const receiver = await startReceiver({ answer: (n) => (n === 1 ? 500 : 200) });
  try {
    const endpoint = await createEndpoint(owner, { url: receiver.url, event_types: ['tenant.suspended'] });
    receiver.setSecrets(endpoint.secret);
    const sent = await owner('POST', `/webhooks/${endpoint.id}/test`);
    assert.equal(sent.status, 202, sent.text);
    assert.equal(sent.body.status, 'pending');
    assert.equal(sent.body.event_type, 'webhook.test');

    // The first attempt fails; the retry is due 5 s after it (Standard Webhooks' schedule).
    await receiver.next((x) => x.n === 1, 20000, 'the first attempt');
    const waiting = await deliveryWhen(owner, endpoint.id, sent.body.id, (x) => x.attempts_made.length === 1, 'the failed attempt recorded');
    assert.equal(waiting.status, 'pending');
    assert.equal(waiting.last_status, 500);
    assert.match(waiting.last_error ?? '', /500/);
    const due = ms(waiting.next_attempt_at) - ms(waiting.attempts_made[0].attempted_at);
    assert.ok(due >= 4000 && due <= 7000, `the retry is due 5 s after the first attempt (${due} ms)`);

    const done = await deliveryWhen(owner, endpoint.id, sent.body.id, (x) => x.status === 'delivered', 'the retried delivery', 60000);
    assert.equal(done.attempts, 2);
    assert.deepEqual(done.attempts_made.map((a) => a.status_code), [500, 200]);
    assert.equal(done.last_status, 200);
    assert.equal(done.last_error, null);
    const [first, second] = receiver.deliveries;
    assert.equal(receiver.deliveries.length, 2);
    assert.equal(first.id, sent.body.event_id);
    assert.equal(second.id, first.id, 'the same webhook-id on every attempt');
    assert.equal(second.body, first.body, 'the same bytes on every attempt');
    assert.ok(first.verified && second.verified);
    assert.ok(second.at - first.at >= 4500, `retried ${second.at - first.at} ms after the failure`);
    assert.equal(second.event.type, 'webhook.test');
    assert.equal(second.event.data.endpoint_id, endpoint.id);
  } finally {
    await receiver.close();
  }
});

test('API: a receiver answering 410 Gone disables its endpoint; turned on again it receives, and a person can turn it off', async () => {
  const receiver = await startReceiver({ answer: () => 410 });
  try {
    const endpoint = await createEndpoint(owner, { url: receiver.url, event_types: ['tenant.suspended'] });
    receiver.setSecrets(endpoint.secret);
    const sent = await owner('POST', `/webhooks/${endpoint.id}/test`);
    assert.equal(sent.status, 202, sent.text);
    await receiver.next(() => true, 20000, 'the attempt answered 410');

    const disabled = await until(async () => {
      const res = await owner('GET', `/webhooks/${endpoint.id}`);
      return res.body?.status === 'disabled' ? res.body : null;
    }, { what: 'the endpoint disabled after 410' });
    assert.match(disabled.disabled_reason, /410/);
    const failed = await deliveryWhen(owner, endpoint.id, sent.body.id, (x) => x.status !== 'pending', 'the delivery settled');
    assert.equal(failed.status, 'failed', 'a 410 is not retried');
    assert.equal(failed.attempts, 1);
    assert.equal(failed.last_status, 410);
    assert.equal(psql(`SELECT count(*) FROM audit_log WHERE action = 'webhook.disabled' AND resource = 'webhook:${endpoint.id}'`), '1');
    // A disabled endpoint is neither tested nor redelivered to.
    assert.equal((await owner('POST', `/webhooks/${endpoint.id}/test`)).status, 409);
    assert.equal((await owner('POST', `/webhooks/${endpoint.id}/deliveries/${sent.body.id}/redeliver`)).status, 409);
    assert.equal(receiver.deliveries.length, 1);

    // Turned on again (the receiver is back), it receives.
    receiver.answerWith(() => 200);
    const on = await owner('PATCH', `/webhooks/${endpoint.id}`, { enabled: true });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.body.status, 'active');
    assert.equal(on.body.disabled_reason, null);
    const again = await owner('POST', `/webhooks/${endpoint.id}/test`);
    assert.equal(again.status, 202, again.text);
    const arrived = await receiver.next((x) => x.id === again.body.event_id, 20000, 'the test after turning it on');
    assert.ok(arrived.verified);
    await deliveryWhen(owner, endpoint.id, again.body.id, (x) => x.status === 'delivered', 'the delivery after turning it on');

    // A person turns it off: it says so, and takes no test.
    const off = await owner('PATCH', `/webhooks/${endpoint.id}`, { enabled: false });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.body.status, 'disabled');
    assert.match(off.body.disabled_reason, /turned off/);
    assert.equal((await owner('POST', `/webhooks/${endpoint.id}/test`)).status, 409);
  } finally {
    await receiver.close();
  }
});

test('API: after a rotation with 24 h of overlap a delivery carries two signatures, each verifying with one secret; without overlap only the new one signs', async () => {
  const receiver = await startReceiver();
  try {
    const endpoint = await createEndpoint(owner, { url: receiver.url, event_types: ['tenant.suspended'] });
    const oldSecret = endpoint.secret;
    receiver.setSecrets(oldSecret);
    assert.equal((await owner('POST', `/webhooks/${endpoint.id}/rotate-secret?overlap_hours=169`)).status, 422, 'at most a week of overlap');

    const rotated = await owner('POST', `/webhooks/${endpoint.id}/rotate-secret?overlap_hours=24`);
    assert.equal(rotated.status, 200, rotated.text);
    const newSecret = rotated.body.secret;
    assert.match(newSecret, /^whsec_/);
    assert.notEqual(newSecret, oldSecret);
    const overlapEnds = ms(rotated.body.previous_secret_expires_at) - Date.now();
    assert.ok(Math.abs(overlapEnds - 24 * 3600e3) < 120e3, `the old secret signs for 24 h more (${overlapEnds} ms)`);
    assert.ok(!(await owner('GET', `/webhooks/${endpoint.id}`)).text.includes(newSecret), 'the new secret is shown once too');

    const sent = await owner('POST', `/webhooks/${endpoint.id}/test`);
    assert.equal(sent.status, 202, sent.text);
    const d = await receiver.next((x) => x.id === sent.body.event_id, 20000, 'the test during the overlap');
    assert.equal(d.signatures.length, 2, `two signatures: ${d.headers['webhook-signature']}`);
    assert.ok(d.signatures.every((s) => /^v1,[A-Za-z0-9+/]{43}=$/.test(s)));
    // Each secret verifies the message on its own (a receiver that has either is fine) ...
    assert.ok(verifies(oldSecret, d.body, d.headers), 'the old secret verifies');
    assert.ok(verifies(newSecret, d.body, d.headers), 'the new secret verifies');
    assert.equal(verifies(randomSecret(), d.body, d.headers), false);
    // ... and each signature is one secret's: one verifies with the old, the other with the new.
    const alone = (i) => ({ ...d.headers, 'webhook-signature': d.signatures[i] });
    const byOld = [0, 1].filter((i) => verifies(oldSecret, d.body, alone(i)));
    const byNew = [0, 1].filter((i) => verifies(newSecret, d.body, alone(i)));
    assert.equal(byOld.length, 1);
    assert.equal(byNew.length, 1);
    assert.notEqual(byOld[0], byNew[0]);

    // Rotated without overlap: one signature, the newest secret's only.
    const cut = await owner('POST', `/webhooks/${endpoint.id}/rotate-secret?overlap_hours=0`);
    assert.equal(cut.status, 200, cut.text);
    assert.equal(cut.body.previous_secret_expires_at, null);
    const newest = cut.body.secret;
    const next = await owner('POST', `/webhooks/${endpoint.id}/test`);
    const e = await receiver.next((x) => x.id === next.body.event_id, 20000, 'the test after a rotation without overlap');
    assert.equal(e.signatures.length, 1);
    assert.ok(verifies(newest, e.body, e.headers));
    assert.equal(verifies(newSecret, e.body, e.headers), false);
    assert.equal(verifies(oldSecret, e.body, e.headers), false);
    assert.equal(psql(`SELECT count(*) FROM audit_log WHERE action = 'webhook.secret.rotate' AND resource = 'webhook:${endpoint.id}'`), '2');
    assert.ok(!psql(`SELECT coalesce(string_agg(metadata::text, ' '), '') FROM audit_log WHERE resource = 'webhook:${endpoint.id}'`).includes('whsec_'), 'no secret in the audit trail');
  } finally {
    await receiver.close();
  }
});

test('the official Python standardwebhooks library verifies a test event, and keeps verifying with the old secret during a rotation', async () => {
  // The receiver needs the secret at start, so the endpoint comes first with a placeholder
  // URL (nothing is sent to it: it subscribes to an event nothing here triggers).
  const endpoint = await createEndpoint(owner, { url: 'http://127.0.0.1:9/not-yet', event_types: ['tenant.suspended'] });
  const python = await startPythonReceiver(endpoint.secret);
  try {
    const moved = await owner('PATCH', `/webhooks/${endpoint.id}`, { url: python.url, description: 'Python receiver' });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.url, python.url);
    assert.equal(moved.body.description, 'Python receiver');

    const sent = await owner('POST', `/webhooks/${endpoint.id}/test`);
    assert.equal(sent.status, 202, sent.text);
    const got = await until(async () => (await python.received()).find((r) => r.id === sent.body.event_id), { what: 'the test event at the Python receiver' });
    assert.equal(got.verified, true, `the Python library refused it: ${got.error}`);
    assert.equal(got.error, null);
    const body = JSON.parse(got.body);
    assert.equal(body.type, 'webhook.test');
    assert.equal(body.data.endpoint_id, endpoint.id);
    // It answered 200 only because it verified: the history says delivered.
    await deliveryWhen(owner, endpoint.id, sent.body.id, (x) => x.status === 'delivered', 'the delivery to the Python receiver');

    // Rotated with overlap: the receiver still holds only the old secret, and still verifies.
    const rotated = await owner('POST', `/webhooks/${endpoint.id}/rotate-secret?overlap_hours=24`);
    assert.equal(rotated.status, 200, rotated.text);
    const during = await owner('POST', `/webhooks/${endpoint.id}/test`);
    const overlap = await until(async () => (await python.received()).find((r) => r.id === during.body.event_id), { what: 'the test during the overlap at the Python receiver' });
    assert.equal(overlap.signature.split(' ').length, 2);
    assert.equal(overlap.verified, true, `the Python library refused it: ${overlap.error}`);

    // Without overlap the old secret no longer signs: the Python library refuses it.
    assert.equal((await owner('POST', `/webhooks/${endpoint.id}/rotate-secret?overlap_hours=0`)).status, 200);
    const cutOff = await owner('POST', `/webhooks/${endpoint.id}/test`);
    const refused = await until(async () => (await python.received()).find((r) => r.id === cutOff.body.event_id), { what: 'the test after the overlap at the Python receiver' });
    assert.equal(refused.verified, false);
    assert.match(refused.error, /signature/i);
  } finally {
    // Its retries would go nowhere.
    await owner('DELETE', `/webhooks/${endpoint.id}`);
    await python.stop();
  }
});

test("isolation: another tenant's owner gets 404 for every operation on the endpoint and never sees its events; a user gets 403", async () => {
  // A second organisation, provisioned through the API by an operator; its owner accepts
  // the invitation from the real mail and takes a token through an application of its own.
  const operatorContext = await browser.newContext();
  const operatorPage = await operatorContext.newPage();
  await signedInOperator(operatorPage, 'webhooks');
  const platform = registerApp('platform', ['--all-tenants'], 'openid tenants:write');
  const operator = api(await personToken(operatorPage, platform.key, 'openid tenants:write', async () => {}));
  const stamp = Date.now();
  const domain = `hooks-${stamp}`;
  const otherOwner = `owner@${domain}.test`;
  const provisioned = await operator('POST', '/tenants', { name: `Hooks ${stamp}`, domain, owner_email: otherOwner });
  assert.equal(provisioned.status, 201, provisioned.text);
  await operatorContext.close();
  const mail = await mailFor(otherOwner, /invit/i);
  const otherContext = await browser.newContext();
  const otherPage = await otherContext.newPage();
  await otherPage.goto(linkIn(mail, '/invite/'));
  await otherPage.fill('#name', 'Hooks Owner');
  await otherPage.fill('#password', 'Beacon-harbour-5521');
  await otherPage.fill('#confirm', 'Beacon-harbour-5521');
  await Promise.all([otherPage.waitForURL((u) => !u.pathname.startsWith('/invite/')), otherPage.click('form button[type=submit]')]);
  assert.equal(path(otherPage), '/admin');
  const otherApp = registerApp('other', ['--tenant', domain], SCOPES);
  const other = api(await personToken(otherPage, otherApp.key, SCOPES, async () => {}, domain));
  await otherContext.close();
  const otherId = provisioned.body.id;

  const receiver = await startReceiver();
  try {
    const endpoint = await createEndpoint(owner, { url: receiver.url, event_types: ['user.invited'] });
    receiver.setSecrets(endpoint.secret);
    const sent = await owner('POST', `/webhooks/${endpoint.id}/test`);
    await receiver.next((x) => x.id === sent.body.event_id, 20000, 'the test event');
    await deliveryWhen(owner, endpoint.id, sent.body.id, (x) => x.status === 'delivered', 'the test delivery');
    const delivery = `/webhooks/${endpoint.id}/deliveries/${sent.body.id}`;

    // Every operation on acme's endpoint is a 404 for the other owner, as if it did not exist.
    for (const [method, route, body] of [
      ['GET', `/webhooks/${endpoint.id}`],
      ['PATCH', `/webhooks/${endpoint.id}`, { url: 'http://127.0.0.1:9/stolen', enabled: false }],
      ['DELETE', `/webhooks/${endpoint.id}`],
      ['POST', `/webhooks/${endpoint.id}/test`],
      ['POST', `/webhooks/${endpoint.id}/rotate-secret?overlap_hours=0`],
      ['GET', `/webhooks/${endpoint.id}/deliveries`],
      ['GET', delivery],
      ['POST', `${delivery}/redeliver`],
      ['GET', `/webhooks/${endpoint.id}?tenant=acme`],
      ['GET', '/webhooks?tenant=acme'],
    ]) {
      const res = await other(method, route, body);
      assert.equal(res.status, 404, `${method} ${route}: ${res.status} ${res.text}`);
      assert.ok(!res.text.includes(receiver.url), `${method} ${route} tells nothing about it`);
    }
    const theirs = await other('GET', '/webhooks');
    assert.equal(theirs.status, 200, theirs.text);
    assert.ok(theirs.body.data.every((e) => e.id !== endpoint.id));

    // Nothing changed for acme: same URL, still active, no second delivery, same secret.
    const still = await owner('GET', `/webhooks/${endpoint.id}`);
    assert.equal(still.body.url, receiver.url);
    assert.equal(still.body.status, 'active');
    assert.equal((await owner('GET', `/webhooks/${endpoint.id}/deliveries`)).body.data.length, 1);
    assert.equal(receiver.deliveries.length, 1, 'the refused test and redelivery sent nothing');
    const check = await owner('POST', `/webhooks/${endpoint.id}/test`);
    assert.ok((await receiver.next((x) => x.id === check.body.event_id, 20000, 'a test after the refusals')).verified, 'the secret did not change');

    // Their events stream replays the log from before both invitations below: theirs comes,
    // acme's (logged between) never does; nor does acme's endpoint get theirs.
    const from = Number(psql('SELECT coalesce(max(seq), 0) FROM webhook_events'));
    const acmeEmail = uniqueEmail('isolated');
    assert.equal((await owner('POST', '/users', { email: acmeEmail })).status, 201);
    await receiver.next((x) => x.event?.data?.email === acmeEmail, 20000, "acme's invitation at acme's endpoint");
    const theirEmail = `colleague-${stamp}@${domain}.test`;
    const invitedThere = await other('POST', '/users', { email: theirEmail });
    assert.equal(invitedThere.status, 201, invitedThere.text);
    const stream = await openEventStream(`${BASE_URL}/api/v1/events/stream`, other.token, { lastEventId: from });
    assert.equal(stream.status, 200, stream.text);
    try {
      await stream.next((e) => e.event === 'user.invited' && JSON.parse(e.data).data.email === theirEmail, 20000, 'their own invitation on their stream');
      for (const e of stream.events) {
        const data = JSON.parse(e.data).data;
        assert.equal(data.tenant_id, otherId, `only their tenant's events: ${e.data}`);
        assert.ok(!e.data.includes(acmeEmail));
      }
    } finally {
      stream.close();
    }
    // Deliveries are written with the event, so by now a wrong fan-out would be listed.
    const acmeDeliveries = (await owner('GET', `/webhooks/${endpoint.id}/deliveries?limit=100`)).body.data;
    assert.equal(acmeDeliveries.filter((x) => x.event_type === 'user.invited').length, 1, "acme's endpoint gets acme's invitation only");
    assert.ok(!receiver.deliveries.some((x) => x.body.includes(theirEmail)), "acme's endpoint never gets their events");

    // A person with the `user` role may not manage webhooks at all.
    const user = api(await tokenOf('user@acme.test', acmeApp.key, 'acme'));
    assert.equal((await user('GET', '/webhooks')).status, 403);
    assert.equal((await user('GET', `/webhooks/${endpoint.id}`)).status, 403);
    assert.equal((await user('POST', '/webhooks', { url: receiver.url, event_types: ['user.invited'] })).status, 403);
    const userStream = await openEventStream(`${BASE_URL}/api/v1/events/stream`, user.token);
    assert.equal(userStream.status, 403);
  } finally {
    await receiver.close();
  }
});

// The consoles' pages (app/src/webhooks). A click before the page has hydrated would post
// an ActionForm without JavaScript, or do nothing on a confirming button: each page waits
// for the network to settle first, and confirming buttons are clicked until they ask.

/// A confirming button: the first click asks (once the page has hydrated), the second
/// confirms.
async function confirmSubmit(page, testid) {
  await clickOnceHydrated(page, `[data-testid=${testid}]`, () => page.locator(`[data-testid=${testid}-confirm]`).count());
  await page.click(`[data-testid=${testid}-confirm]`);
}

/// Waits for the flash line that reports an action.
const flash = (page, re) => page.waitForFunction((source) => new RegExp(source).test(document.querySelector('[data-testid=flash]')?.textContent ?? ''), re.source);

/// Reloads until `probe()` holds: the history shows what the worker did since the page loaded.
async function reloadUntil(page, probe, what, timeoutMs = 30000) {
  await until(async () => {
    if (await probe()) return true;
    await page.reload();
    await page.waitForLoadState('networkidle');
    return probe();
  }, { timeoutMs, intervalMs: 500, what });
}

test('console: an owner adds an endpoint, sees its secret once, sends a test event, sees it delivered, opens it and redelivers it', async () => {
  const receiver = await startReceiver({ path: '/console' });
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  try {
    await signIn(page, 'owner@acme.test', PASSWORD);
    assert.equal(path(page), '/admin');
    await Promise.all([page.waitForURL(`${BASE_URL}/admin/webhooks`), page.click('[data-testid=admin-webhooks]')]);
    await page.waitForSelector('[data-testid=add-endpoint-form]');
    await page.waitForLoadState('networkidle');

    // Added through the form: the secret shows once, in its box, with the warning.
    await page.fill('#add-url', receiver.url);
    await page.fill('#add-description', 'Console receiver');
    await page.check('[data-testid="event-type-user.invited"]');
    await page.click('[data-testid=add-endpoint]');
    await page.waitForSelector('[data-testid=endpoint-added]');
    assert.match(await page.textContent('[data-testid=endpoint-added] [data-testid=secret-warning]'), /will not be shown again/);
    const secret = await page.inputValue('[data-testid=endpoint-added] [data-testid=signing-secret]');
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{40,}={0,2}$/);
    receiver.setSecrets(secret);
    const id = (await page.getAttribute('[data-testid=open-added]', 'href')).split('/').pop();
    made.push([owner, id]);
    const row = page.locator(`[data-testid=endpoint-row][data-url="${receiver.url}"]`);
    await row.waitFor();
    assert.equal((await row.locator('[data-testid=endpoint-status]').textContent()).trim(), 'Active');
    await page.screenshot({ path: join(SCREENSHOTS, 'webhooks-added.png'), fullPage: true });
    const endpoint = (await owner('GET', `/webhooks/${id}`)).body;
    assert.equal(endpoint.url, receiver.url);
    assert.equal(endpoint.description, 'Console receiver');
    assert.deepEqual(endpoint.event_types, ['user.invited']);

    // Shown once: after a reload it is nowhere on the page.
    await page.reload();
    await row.waitFor();
    assert.equal(await page.locator('[data-testid=endpoint-added]').count(), 0);
    assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');

    // Its page: a test event, signed with the secret the console showed.
    await Promise.all([page.waitForURL(`${BASE_URL}/admin/webhooks/${id}`), row.locator('a').first().click()]);
    await page.waitForSelector('[data-testid=send-test-event]');
    await page.waitForLoadState('networkidle');
    assert.equal((await page.textContent('[data-testid=endpoint-id]')).trim(), id);
    assert.ok(!(await page.content()).includes(secret));
    await page.click('[data-testid=send-test-event]');
    await flash(page, /test event is on its way/);
    const first = await receiver.next((x) => x.event?.type === 'webhook.test', 20000, 'the test event sent from the console');
    assert.ok(first.verified, 'the standardwebhooks library verifies it with the secret the console showed');
    assert.equal(first.event.data.endpoint_id, id);

    // The history shows it delivered.
    const delivery = (await owner('GET', `/webhooks/${id}/deliveries`)).body.data.find((d) => d.event_id === first.id);
    const listed = page.locator(`[data-testid=delivery-row][data-delivery-id="${delivery.id}"]`);
    await reloadUntil(page, async () => (await listed.count()) > 0
      && (await listed.locator('[data-testid=delivery-status]').textContent()).trim() === 'Delivered', 'the test delivery shown as delivered');
    assert.equal((await listed.locator('[data-testid=delivery-last-status]').textContent()).trim(), '200');
    assert.match(await listed.textContent(), /webhook\.test/);
    await page.screenshot({ path: join(SCREENSHOTS, 'webhooks-history.png'), fullPage: true });

    // Opened: its attempt, the message id the receiver saw, the body sent.
    await Promise.all([page.waitForURL((u) => u.searchParams.get('delivery') === delivery.id), listed.locator('[data-testid=delivery-details]').click()]);
    await page.waitForSelector('[data-testid=delivery-detail]');
    await page.waitForLoadState('networkidle');
    assert.equal(await page.locator('[data-testid=attempt-row]').count(), 1);
    assert.equal((await page.textContent('[data-testid=attempt-row] [data-testid=attempt-status]')).trim(), '200');
    assert.match(await page.textContent('[data-testid=delivery-detail]'), new RegExp(first.id));
    assert.deepEqual(JSON.parse(await page.textContent('[data-testid=delivery-body]')), first.event, 'the body sent, as sent');

    // Redelivered: the same message again, and a second attempt in the history.
    await page.click('[data-testid=redeliver]');
    await flash(page, /queued again/);
    const both = await receiver.atLeast(2, (x) => x.id === first.id, 20000, 'the redelivery');
    assert.ok(both[1].verified);
    assert.equal(both[1].body, first.body, 'the same bytes again');
    await reloadUntil(page, async () => (await page.locator('[data-testid=attempt-row]').count()) === 2, 'the second attempt on the page');
    assert.deepEqual((await page.locator('[data-testid=attempt-status]').allTextContents()).map((s) => s.trim()), ['200', '200']);
    await page.screenshot({ path: join(SCREENSHOTS, 'webhooks-delivery.png'), fullPage: true });
    assert.deepEqual(unexpected(errors), []);
  } finally {
    await context.close();
    await receiver.close();
  }
});

test('console: an owner rotates the secret (shown once, both sign for a day), turns the endpoint off and on, and deletes it; a user gets the 403 page', async () => {
  const receiver = await startReceiver({ path: '/console-actions' });
  const endpoint = await createEndpoint(owner, { url: receiver.url, event_types: ['user.invited'] });
  const status = async () => (await owner('GET', `/webhooks/${endpoint.id}`)).body?.status;
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const text = async (selector) => (await page.textContent(selector)).trim();
  try {
    await signIn(page, 'owner@acme.test', PASSWORD);
    await page.goto(`${BASE_URL}/admin/webhooks/${endpoint.id}`);
    await page.waitForSelector('[data-testid=secret-card]');
    await page.waitForLoadState('networkidle');

    // Rotated: the new secret once, and both sign what is sent next.
    await confirmSubmit(page, 'rotate-secret');
    await page.waitForSelector('[data-testid=secret-rotated]');
    const rotated = await page.inputValue('[data-testid=secret-rotated] [data-testid=signing-secret]');
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, endpoint.secret);
    assert.match(await text('[data-testid=secret-rotated] [data-testid=secret-warning]'), /will not be shown again/);
    await page.waitForSelector('[data-testid=secret-overlap]');
    await page.screenshot({ path: join(SCREENSHOTS, 'webhooks-rotated.png'), fullPage: true });
    receiver.setSecrets(rotated);
    await page.reload();
    await page.waitForSelector('[data-testid=secret-overlap]');
    await page.waitForLoadState('networkidle');
    assert.equal(await page.locator('[data-testid=secret-rotated]').count(), 0);
    assert.ok(!(await page.content()).includes(rotated), 'the new secret is not shown again');
    await page.click('[data-testid=send-test-event]');
    const signed = await receiver.next((x) => x.event?.type === 'webhook.test', 20000, 'the test after rotating');
    assert.equal(signed.signatures.length, 2, 'signed with both secrets during the overlap');
    assert.ok(verifies(rotated, signed.body, signed.headers), 'the new secret verifies');
    assert.ok(verifies(endpoint.secret, signed.body, signed.headers), 'and the old one, for a day');

    // Off: it says so and offers no test; on again.
    await confirmSubmit(page, 'turn-off');
    await flash(page, /turned off/);
    await page.waitForFunction(() => document.querySelector('[data-testid=endpoint-status]')?.textContent.trim() === 'Disabled');
    assert.match(await text('[data-testid=disabled-note]'), /turned off by a person/);
    assert.equal(await page.locator('[data-testid=send-test-event]').count(), 0);
    assert.equal(await status(), 'disabled');
    await page.waitForSelector('[data-testid=turn-on]');
    await page.waitForLoadState('networkidle');
    await page.click('[data-testid=turn-on]');
    await flash(page, /on again/);
    await page.waitForFunction(() => document.querySelector('[data-testid=endpoint-status]')?.textContent.trim() === 'Active');
    assert.equal(await status(), 'active');

    // Deleted, after confirming: the list says so and no longer has it.
    await page.waitForLoadState('networkidle');
    await confirmSubmit(page, 'delete-endpoint');
    await page.waitForURL((u) => u.pathname === '/admin/webhooks' && u.searchParams.has('deleted'));
    await page.waitForSelector('[data-testid=endpoint-deleted]');
    assert.equal(await page.locator(`[data-testid=endpoint-row][data-url="${receiver.url}"]`).count(), 0);
    assert.equal((await owner('GET', `/webhooks/${endpoint.id}`)).status, 404);
    assert.deepEqual(unexpected(errors), []);
  } finally {
    await context.close();
    await receiver.close();
  }

  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  await signIn(user, 'user@acme.test', PASSWORD);
  for (const where of ['/admin/webhooks', `/admin/webhooks/${endpoint.id}`]) {
    const refused = await user.goto(`${BASE_URL}${where}`);
    assert.equal(refused.status(), 403, where);
    assert.match(await user.textContent('[data-testid=page-refused]'), /This page is for owner or admin/);
  }
  await userContext.close();
});

test("console: an operator's platform endpoint receives every tenant's events; a tenant admin gets the 403 page there", async () => {
  const receiver = await startReceiver({ path: '/platform' });
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  try {
    await signedInOperator(page, 'webhooks-console');
    await Promise.all([page.waitForURL(`${BASE_URL}/operator/webhooks`), page.click('[data-testid=operator-webhooks]')]);
    await page.waitForSelector('[data-testid=add-endpoint-form]');
    await page.waitForLoadState('networkidle');
    await page.fill('#add-url', receiver.url);
    await page.check('[data-testid="event-type-user.invited"]');
    await page.click('[data-testid=add-endpoint]');
    await page.waitForSelector('[data-testid=endpoint-added]');
    receiver.setSecrets(await page.inputValue('[data-testid=endpoint-added] [data-testid=signing-secret]'));
    const id = (await page.getAttribute('[data-testid=open-added]', 'href')).split('/').pop();
    assert.equal(psql(`SELECT coalesce(tenant_id::text, 'platform') FROM webhook_endpoints WHERE id = '${id}'`), 'platform');

    // A person invited into acme reaches the platform endpoint, signed, with acme's id.
    const email = uniqueEmail('platform-hooked');
    assert.equal((await owner('POST', '/users', { email })).status, 201);
    const got = await receiver.next((x) => x.event?.data?.email === email, 20000, "acme's invitation at the platform endpoint");
    assert.ok(got.verified);
    assert.equal(got.event.type, 'user.invited');
    assert.equal(got.event.data.tenant_id, acmeId);
    // Acme's owner cannot see the platform endpoint.
    assert.equal((await owner('GET', `/webhooks/${id}`)).status, 404);

    // Deleted from its page.
    await page.goto(`${BASE_URL}/operator/webhooks/${id}`);
    await page.waitForSelector('[data-testid=delete-endpoint]');
    await page.waitForLoadState('networkidle');
    await confirmSubmit(page, 'delete-endpoint');
    await page.waitForURL((u) => u.pathname === '/operator/webhooks' && u.searchParams.has('deleted'));
    assert.equal(psql(`SELECT count(*) FROM webhook_endpoints WHERE id = '${id}'`), '0');
    assert.deepEqual(unexpected(errors), []);
  } finally {
    await context.close();
    await receiver.close();
    // A platform endpoint left by a failure would receive every later test's events.
    psql(`DELETE FROM webhook_endpoints WHERE url = '${receiver.url}'`);
  }

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, 'admin@acme.test', PASSWORD);
  const refused = await admin.goto(`${BASE_URL}/operator/webhooks`);
  assert.equal(refused.status(), 403);
  assert.match(await admin.textContent('[data-testid=page-refused]'), /This page is for operator/);
  await adminContext.close();
});
