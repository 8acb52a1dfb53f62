import type { Client } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths };
export type Schemas = components['schemas'];
export type GatehouseClient = Client<paths>;

export interface ClientOptions {
  /** Where Gatehouse answers, e.g. `https://gatehouse.example.com`. */
  baseUrl: string;
  /** An access token, or a function that gives one (called for every request). */
  token?: string | (() => string | Promise<string>);
  fetch?: typeof globalThis.fetch;
}

/** A typed client for every operation of the API. */
export function createClient(options: ClientOptions): GatehouseClient;

/** An application's access token by the client credentials grant. */
export function clientCredentials(options: {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes, e.g. `flag:read bill:write`. */
  scope?: string;
  fetch?: typeof globalThis.fetch;
}): Promise<Schemas['TokenResponse']>;

/** Every item of a cursor-paged list. */
export function pages<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ data: T[]; next_cursor?: string | null }>,
): AsyncGenerator<T, void, undefined>;

export class GatehouseError extends Error {
  status: number;
  body: Schemas['Error'] | Schemas['OAuthError'] | undefined;
}

/** The answer's data, or a GatehouseError carrying the error body. */
export function unwrap<T>(answer: { data?: T; error?: unknown; response: Response }): T;
