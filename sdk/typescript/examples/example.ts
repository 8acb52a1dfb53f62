// The README's example, type-checked against the generated types (`tsc -p sdk/typescript`).
import { clientCredentials, createClient, pages, unwrap, type Schemas } from '../src/index.js';

export async function example(baseUrl: string, clientId: string, clientSecret: string, adminToken: string) {
  // An application signs in with its key and reads its tenant's flags.
  const { access_token } = await clientCredentials({ baseUrl, clientId, clientSecret, scope: 'flag:read bill:write' });
  const app = createClient({ baseUrl, token: access_token });
  const flags = unwrap(await app.GET('/api/v1/flags', { params: { query: { tenant: 'acme' } } }));
  const checkout: boolean | undefined = flags.flags['new_checkout'];

  // It reports usage; the same id sent again is a duplicate, stored once.
  const event: Schemas['UsageEvent'] = {
    id: 'order-1042', timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    event_type: 'api.call', quantity: 3,
  };
  const sent = unwrap(await app.POST('/api/v1/billing/events', { body: event }));

  // A tenant admin's token manages people: invite one, then walk every page.
  const admin = createClient({ baseUrl, token: adminToken });
  const invited = unwrap(await admin.POST('/api/v1/users', { body: { email: 'ada@acme.test', name: 'Ada' } }));
  const everyone: Schemas['UserView'][] = [];
  for await (const person of pages((cursor) =>
    admin.GET('/api/v1/users', { params: { query: { limit: 50, cursor } } }).then(unwrap))) {
    everyone.push(person);
  }
  return { checkout, accepted: sent.accepted, invited: invited.id, people: everyone.length };
}
