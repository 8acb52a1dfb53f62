// A tenant's identity provider for the SSO tests and the benchmark (oidc-provider 9.13.3).
//
//   node end2end/support/idp.mjs --port 4010 --accounts /path/accounts.json
//   (or env IDP_PORT, IDP_ACCOUNTS). Issuer http://127.0.0.1:<port>; prints `idp ready <issuer>`.
//
// Accounts file, re-read at every login and every claims lookup (the key is the `sub`):
//   {"alice": {"password": "alice-pw", "email": "alice@acme.test", "email_verified": true,
//              "name": "Alice Acme", "groups": ["admins"], "mfa": true}}
//   mfa true -> amr ["pwd","otp"], acr urn:idp:acr:mfa; else amr ["pwd"], acr urn:idp:acr:pwd.
//
// Clients: dynamic registration without an initial access token:
//   POST <issuer>/reg {"redirect_uris":[...],"grant_types":["authorization_code"],
//        "response_types":["code"],"token_endpoint_auth_method":"client_secret_basic"}
//   -> 201 {client_id, client_secret, ...}. Optional static client from env IDP_CLIENT_ID,
//   IDP_CLIENT_SECRET, IDP_REDIRECT_URI. PKCE is required (S256 is the only method in v9).
//
// Scopes openid email profile groups; email -> email, email_verified; profile -> name, groups;
// groups -> groups; openid -> sub, amr, acr, auth_time (oidc-provider leaves amr/acr out unless a
// scope or the claims parameter asks for them). conformIdTokenClaims is off, so the ID token
// carries the scope claims (email, email_verified, name, groups) and not just `sub`.
// The authorization response (success or error) always carries `iss` (RFC 9207).
//
// Sign-in without a browser (keep a cookie jar; cookie names are enough, paths can be ignored):
//   1. GET  <issuer>/auth?client_id&redirect_uri&response_type=code&scope=openid email profile
//           &state&nonce&code_challenge&code_challenge_method=S256
//        -> 303 Location /interaction/<uid>, Set-Cookie _interaction, _interaction_resume (+ .sig)
//   2. (optional) GET /interaction/<uid> -> 200 the login form
//   3. POST /interaction/<uid>/login  form login=alice&password=alice-pw
//        (deny=1 instead finishes with error=access_denied; a wrong password -> 401 + form)
//        -> 303 Location <issuer>/auth/<uid>
//   4. GET  <issuer>/auth/<uid> -> 303 Location /interaction/<uid2>  (consent prompt, sets _session)
//   5. GET  /interaction/<uid2> -> 303 Location <issuer>/auth/<uid2>  (consent auto-granted)
//   6. GET  <issuer>/auth/<uid2> -> 303 Location <redirect_uri>?code=...&state=...&iss=<issuer>
//   A later /auth in the same jar skips the form while the IdP session lasts (send prompt=login
//   or use a fresh jar/browser context to sign in again).
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({ options: { port: { type: 'string' }, accounts: { type: 'string' } } });
const PORT = Number(args.port ?? process.env.IDP_PORT ?? 4010);
const ACCOUNTS = args.accounts ?? process.env.IDP_ACCOUNTS;
if (!ACCOUNTS) { console.error('idp: --accounts FILE (or IDP_ACCOUNTS) is required'); process.exit(2); }
const ISSUER = `http://127.0.0.1:${PORT}`;

const readAccounts = () => JSON.parse(readFileSync(ACCOUNTS, 'utf8'));
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const clients = [];
if (process.env.IDP_CLIENT_ID) {
  clients.push({
    client_id: process.env.IDP_CLIENT_ID,
    client_secret: process.env.IDP_CLIENT_SECRET,
    redirect_uris: [process.env.IDP_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  });
}

const provider = new Provider(ISSUER, {
  clients,
  jwks: { keys: [{ ...key, kid: `idp-${randomUUID()}`, use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub', 'amr', 'acr', 'auth_time'], // amr/acr come from the login result, not the account
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
    groups: ['groups'],
  },
  acrValues: ['urn:idp:acr:pwd', 'urn:idp:acr:mfa'],
  // explicit lifetimes (seconds) so oidc-provider does not print a NOTICE for each default
  ttl: { Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
  conformIdTokenClaims: false, // put scope claims in the ID token even though userinfo exists
  features: {
    devInteractions: { enabled: false }, // our own /interaction routes below
    registration: { enabled: true }, // RFC 7591, no initial access token
    userinfo: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(readAccounts(), id)) return undefined;
    return {
      accountId: id,
      async claims() {
        const a = readAccounts()[id] ?? {};
        return { sub: id, email: a.email, email_verified: a.email_verified, name: a.name, groups: a.groups ?? [] };
      },
    };
  },
});

function page(uid, { error, login = '' } = {}) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>IdP sign-in</title></head><body>
<h1>Tenant IdP</h1>${error ? `<p id="idp-error" role="alert" style="color:#b00">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label>Username <input name="login" id="login" value="${esc(login)}" autocomplete="username"></label>
<label>Password <input name="password" id="password" type="password" autocomplete="current-password"></label>
<button type="submit" id="idp-submit">Sign in</button>
<button type="submit" name="deny" value="1" id="idp-deny">Deny access</button>
</form></body></html>`;
}

async function readForm(req) {
  let raw = '';
  for await (const chunk of req) { raw += chunk; if (raw.length > 64 * 1024) break; }
  return new URLSearchParams(raw);
}

async function autoConsent(ctx, details) {
  const { prompt: { details: missing }, grantId, session, params } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const result = { consent: { grantId: await grant.save() } };
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
}

// provider.use() puts this before oidc-provider's own routes.
provider.use(async (ctx, next) => {
  const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
  if (!m) return next();
  ctx.set('cache-control', 'no-store');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    ctx.status = 400; ctx.type = 'text'; ctx.body = `interaction not found: ${err.message}`;
    return undefined;
  }
  if (details.uid !== m[1]) { ctx.status = 400; ctx.type = 'text'; ctx.body = 'interaction mismatch'; return undefined; }
  const prompt = details.prompt.name;

  if (ctx.method === 'GET' && !m[2]) {
    if (prompt === 'consent') { ctx.respond = false; return autoConsent(ctx, details); }
    ctx.type = 'html'; ctx.body = page(details.uid);
    return undefined;
  }
  if (ctx.method === 'POST' && m[2]) {
    const form = await readForm(ctx.req);
    if (form.get('deny')) {
      ctx.respond = false;
      return provider.interactionFinished(ctx.req, ctx.res, {
        error: 'access_denied', error_description: 'the user denied access at the IdP',
      }, { mergeWithLastSubmission: false });
    }
    if (prompt === 'consent') { ctx.respond = false; return autoConsent(ctx, details); }
    const login = form.get('login') ?? '';
    const accounts = readAccounts();
    const account = Object.hasOwn(accounts, login) ? accounts[login] : undefined;
    if (!account || account.password !== form.get('password')) {
      ctx.status = 401; ctx.type = 'html';
      ctx.body = page(details.uid, { error: 'Invalid username or password.', login });
      return undefined;
    }
    const mfa = account.mfa === true;
    ctx.respond = false;
    return provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: login, amr: mfa ? ['pwd', 'otp'] : ['pwd'], acr: mfa ? 'urn:idp:acr:mfa' : 'urn:idp:acr:pwd' },
    }, { mergeWithLastSubmission: false });
  }
  ctx.status = 405; ctx.type = 'text'; ctx.body = 'method not allowed';
  return undefined;
});

provider.on('server_error', (ctx, err) => console.error('idp server_error', err));
const server = provider.listen(PORT, '127.0.0.1', () => console.log(`idp ready ${ISSUER}`));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
}
