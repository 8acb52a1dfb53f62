// The Gatehouse API client: openapi-fetch over the types openapi-typescript generates from
// the API's OpenAPI document (src/schema.d.ts). Every path, parameter, body and answer is
// typed; `createClient` adds the bearer token, `clientCredentials` signs an application in,
// and `pages` walks a cursor-paged list.
import createFetchClient from 'openapi-fetch';

/** A client for `baseUrl` that sends `token` (a string, or a function giving one) as a bearer token. */
export function createClient({ baseUrl, token, fetch } = {}) {
  const client = createFetchClient({ baseUrl, ...(fetch ? { fetch } : {}) });
  if (token) {
    client.use({
      async onRequest({ request }) {
        const value = typeof token === 'function' ? await token() : token;
        request.headers.set('Authorization', `Bearer ${value}`);
        return request;
      },
    });
  }
  return client;
}

/** An application's access token by the client credentials grant (client_secret_basic). */
export async function clientCredentials({ baseUrl, clientId, clientSecret, scope, fetch }) {
  const client = createFetchClient({ baseUrl, ...(fetch ? { fetch } : {}) });
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  const { data, error, response } = await client.POST('/auth/token', {
    body: { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
    bodySerializer: (body) => new URLSearchParams(body).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${basic}` },
  });
  if (error || !data) {
    throw new GatehouseError(response.status, error);
  }
  return data;
}

/** Every item of a cursor-paged list: `fetchPage(cursor)` answers `{ data, next_cursor }`. */
export async function* pages(fetchPage) {
  let cursor;
  do {
    const page = await fetchPage(cursor);
    yield* page.data;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
}

/** An answer that was not a success, with the API's error body (`code`, `message`, `details`). */
export class GatehouseError extends Error {
  constructor(status, body) {
    super(`${status}: ${body?.message ?? body?.error_description ?? body?.error ?? 'request failed'}`);
    this.status = status;
    this.body = body;
  }
}

/** The answer's data, or a GatehouseError carrying the error body. */
export function unwrap({ data, error, response }) {
  if (error !== undefined || !response.ok) {
    throw new GatehouseError(response.status, error);
  }
  return data;
}
