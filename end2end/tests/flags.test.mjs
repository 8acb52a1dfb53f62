// A real OpenFeature SDK reads Gatehouse flags through OFREP (issue 5; SPEC §6; API-FLAG,
// FR-FLAG-002): @openfeature/server-sdk with @openfeature/ofrep-provider from npm, an
// application token from the token service, the demo flags of tenant acme (enterprise:
// new_checkout on by plan; beta_reports a 50 % rollout).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { BASE_URL } from './browser.mjs';
import { gatehouse } from './support.mjs';

async function flagToken() {
  const app = JSON.parse(gatehouse('app', 'register', '--name', `Flags reader ${Date.now()}`, '--tenant', 'acme'));
  const key = JSON.parse(gatehouse('app', 'key', 'issue', app.id, '--scope', 'flag:read'));
  const res = await fetch(`${BASE_URL}/auth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${key.client_id}:${key.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

test('the OpenFeature SDK evaluates Gatehouse flags through OFREP', async () => {
  const token = await flagToken();
  await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: BASE_URL, headers: { Authorization: `Bearer ${token}` } }));
  const client = OpenFeature.getClient();

  const checkout = await client.getBooleanDetails('new_checkout', false, { targetingKey: 'user-1' });
  assert.equal(checkout.value, true, 'on for the enterprise plan');
  assert.equal(checkout.variant, 'on');
  assert.equal(checkout.errorCode, undefined);
  assert.equal(await client.getBooleanValue('dark_mode', true, { targetingKey: 'user-1' }), false);

  // Sticky rollout: the same user always gets the same answer.
  const first = await client.getBooleanDetails('beta_reports', false, { targetingKey: 'user-42' });
  assert.equal(first.reason, 'SPLIT');
  for (let i = 0; i < 3; i++) {
    assert.equal((await client.getBooleanDetails('beta_reports', false, { targetingKey: 'user-42' })).value, first.value);
  }
  // Errors come back as OpenFeature error codes, with the caller's default.
  const missing = await client.getBooleanDetails('no_such_flag', true, { targetingKey: 'user-1' });
  assert.equal(missing.value, true);
  assert.equal(missing.errorCode, 'FLAG_NOT_FOUND');
  const untargeted = await client.getBooleanDetails('beta_reports', false, {});
  assert.equal(untargeted.errorCode, 'TARGETING_KEY_MISSING');
  await OpenFeature.close();
});

test('OFREP refuses a missing or wrong token', async () => {
  const res = await fetch(`${BASE_URL}/ofrep/v1/evaluate/flags/new_checkout`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 401);
  const bad = await fetch(`${BASE_URL}/ofrep/v1/evaluate/flags`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' } });
  assert.equal(bad.status, 401);
});
