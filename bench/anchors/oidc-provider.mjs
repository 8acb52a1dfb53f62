// The anchor of bench/tokens: node oidc-provider (panva) as one would run it for machine
// clients: a client-credentials client, access tokens as ES256-signed JWTs for one resource
// (resource indicators), and introspection (of opaque tokens: it does not introspect JWTs). One node process, the in-memory adapter.
// Usage: OP_PORT=3297 CLIENT_ID=… CLIENT_SECRET=… node oidc-provider.mjs
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';

// Installed outside the clone (bench/anchors/install.sh): resolved from OIDC_PROVIDER_DIR.
const require = createRequire(`${process.env.OIDC_PROVIDER_DIR}/package.json`);
const { default: Provider } = await import(require.resolve('oidc-provider'));

const port = Number(process.env.OP_PORT ?? 3297);
const issuer = `http://127.0.0.1:${port}`;
const resource = 'https://api.bench.test';
const opaque = 'urn:bench:opaque';
const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID ?? 'bench-client',
    client_secret: process.env.CLIENT_SECRET ?? 'bench-secret',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256', // the one key is an EC key
    scope: 'flag:read',
  }],
  jwks: { keys: [{ ...jwk, kid: 'bench-es256', use: 'sig', alg: 'ES256' }] },
  scopes: ['flag:read'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      // oidc-provider does not introspect JWTs: the introspection phase asks for an opaque
      // token (resource=urn:bench:opaque), which it stores and introspects.
      getResourceServerInfo: (ctx, indicator) => (indicator === opaque
        ? { scope: 'flag:read', audience: opaque, accessTokenTTL: 3600, accessTokenFormat: 'opaque' }
        : {
          scope: 'flag:read',
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider on ${issuer}`));
