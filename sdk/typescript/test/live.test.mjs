// The TypeScript SDK against the running server (the test command's browser-test server):
// an application signs in with client credentials, reads flags and sends usage events; a
// tenant admin creates people and lists them page by page; refusals arrive as GatehouseError
// with the API's error body.
//   BASE_URL=http://localhost:3100 GATEHOUSE_BIN=target/debug/gatehouse node --test sdk/typescript/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { clientCredentials, createClient, pages, unwrap, GatehouseError } from '../src/index.js';

const BASE_URL = process.env.BASE_URL ?? 'http://localhost:3100';
const cli = (...args) => JSON.parse(execFileSync(process.env.GATEHOUSE_BIN ?? 'target/debug/gatehouse', args, {
  env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL ?? process.env.DATABASE_URL },
}).toString());
const tokens = JSON.parse(execFileSync('node', [new URL('../../../end2end/support/api_tokens.mjs', import.meta.url).pathname]).toString());
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

test('an application signs in, reads flags and reports usage once', async () => {
  const app = cli('app', 'register', '--name', `SDK ${Date.now()}`, '--tenant', 'acme', '--grant', 'client_credentials');
  const key = cli('app', 'key', 'issue', app.id, '--scope', 'flag:read', '--scope', 'bill:write');
  const token = await clientCredentials({
    baseUrl: BASE_URL, clientId: key.client_id, clientSecret: key.client_secret, scope: 'flag:read bill:write',
  });
  assert.equal(token.token_type, 'Bearer');
  const client = createClient({ baseUrl: BASE_URL, token: token.access_token });
  const flags = unwrap(await client.GET('/api/v1/flags'));
  assert.equal(typeof flags.flags, 'object');
  assert.ok(Object.keys(flags.flags).length > 0, 'the demo flags');
  const event = { id: `sdk-${Date.now()}`, timestamp: stamp(), event_type: 'api.call', quantity: 2 };
  const first = unwrap(await client.POST('/api/v1/billing/events', { body: event }));
  assert.equal(first.accepted, 1);
  const again = unwrap(await client.POST('/api/v1/billing/events', { body: event }));
  assert.equal(again.duplicates, 1);
  // A bad secret is refused with the OAuth error body.
  await assert.rejects(clientCredentials({ baseUrl: BASE_URL, clientId: key.client_id, clientSecret: 'wrong' }),
    (e) => e instanceof GatehouseError && e.status === 401 && e.body.error === 'invalid_client');
});

test('a tenant admin creates people and lists them with cursors', async () => {
  const admin = createClient({ baseUrl: BASE_URL, token: tokens.admin });
  const run = Date.now();
  const made = [];
  for (const n of [1, 2, 3]) {
    const person = unwrap(await admin.POST('/api/v1/users', { body: { email: `sdk-${run}-${n}@acme.test`, name: `SDK ${n}` } }));
    assert.equal(person.status, 'invited');
    made.push(person.id);
  }
  let pagesSeen = 0;
  const seen = [];
  for await (const person of pages(async (cursor) => {
    pagesSeen += 1;
    return unwrap(await admin.GET('/api/v1/users', { params: { query: { search: `sdk-${run}`, limit: 2, cursor } } }));
  })) {
    seen.push(person.id);
  }
  assert.deepEqual(seen.sort(), made.sort());
  assert.equal(pagesSeen, 2, 'two pages of at most 2');
  // Every violation named, as the API's error body.
  const { error, response } = await admin.POST('/api/v1/users', { body: { email: 'nope', role: 'operator' } });
  assert.equal(response.status, 422);
  assert.deepEqual(error.details.map((d) => d.field), ['email', 'role']);
});
