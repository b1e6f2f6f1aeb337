/**
 * A local FranceConnect v2 provider: panva's oidc-provider configured like FranceConnect, for
 * the tests (tests/support/franceconnect_provider.py) and `make run` (docs/franceconnect.md).
 *
 *   node tools/franceconnect/provider.mjs --port 8092 --client-id moncompte-demo --client-secret S
 *
 * (or FRANCECONNECT_PORT, FRANCECONNECT_CLIENT_ID, FRANCECONNECT_CLIENT_SECRET). It listens on
 * 127.0.0.1 only; the issuer is http://127.0.0.1:PORT/api/v2 with FranceConnect v2's paths
 * (authorize, token, userinfo, session/end, jwks). Like FranceConnect: ES256 id_tokens (RS256 for
 * the client `<id>-rs256`), a signed userinfo (`application/jwt`), `acr` eidas1, the pivot
 * identity's scopes, codes living 30 s and tokens 60 s, `iss` in the callback (RFC 9207), a
 * session end without confirmation. No password: a test sets the next identity through the
 * control API, a person chooses one of identities.json on a French page.
 *
 * A test double, on loopback only: the redirect URIs accepted are any http://testserver/,
 * http://127.0.0.1:<port>/ or http://localhost:<port>/ URI whose path is our callback (see
 * `loopbackUriAllowed`), and the control API (`/_control/...`, JSON) drives it:
 *   POST /_control/reset            back to normal: no misbehaviour, no next identity, calls cleared
 *   POST /_control/next-identity    {"sub": "...", "claims": {...}} or {"identity": "claire"}:
 *                                   every sign-in signs in that person, until the reset
 *   POST /_control/misbehave        {"mode": M}, M in misbehaviour.mjs's MODES
 *   GET  /_control/calls            what was asked: authorize, token, userinfo, session_end, jwks, sign_ins
 *   POST /_control/rotate-keys      new signing keys (new kids)
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider, { interactionPolicy } from 'oidc-provider';

import {
  alterJwt,
  AUTHORIZATION_ERROR_MODES,
  ID_TOKEN_MODES,
  MODES,
  USERINFO_MODES,
} from './misbehaviour.mjs';
import { identityChoicePage, messagePage } from './pages.mjs';

const { values: options } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.FRANCECONNECT_PORT || '8092' },
    'client-id': { type: 'string', default: process.env.FRANCECONNECT_CLIENT_ID || 'moncompte-demo' },
    'client-secret': {
      type: 'string',
      default: process.env.FRANCECONNECT_CLIENT_SECRET || 'moncompte-demo-secret-public-de-developpement',
    },
  },
});

const HOST = '127.0.0.1';
const PORT = Number(options.port);
const MOUNT = '/api/v2';
const ISSUER = `http://${HOST}:${PORT}${MOUNT}`;
const CLIENT_ID = options['client-id'];
const CLIENT_SECRET = options['client-secret'];
const CALLBACK_PATH = '/franceconnect/retour/';
const LOGOUT_CALLBACK_PATH = '/franceconnect/deconnexion/retour/';
const ACR = 'eidas1';

// FranceConnect's scopes are named after the claim they give; identite_pivot gives them all.
const PIVOT_CLAIMS = ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry'];
const CLAIM_SCOPES = [...PIVOT_CLAIMS, 'email', 'preferred_username'];

const IDENTITIES = JSON.parse(readFileSync(new URL('./identities.json', import.meta.url), 'utf8'));

// --- State: what the control API sets, what was asked ------------------------------------------

function noCalls() {
  return { authorize: [], token: [], userinfo: [], session_end: [], jwks: [], sign_ins: [] };
}

const state = { mode: 'none', nextIdentity: null, calls: noCalls() };

// Every person signed in since the start (sub -> claims): findAccount answers from it.
const accounts = new Map(Object.values(IDENTITIES).map(({ sub, claims }) => [sub, claims]));

function canonical(claims) {
  return JSON.stringify(Object.fromEntries(Object.entries(claims).sort(([a], [b]) => a.localeCompare(b))));
}

/** identities.json's sub for those claims, else one derived from them: stable per identity. */
function subFor(claims) {
  const known = Object.values(IDENTITIES).find((identity) => canonical(identity.claims) === canonical(claims));
  if (known) {
    return known.sub;
  }
  return `${createHash('sha256').update(canonical(claims)).digest('hex')}v1`;
}

// --- Keys ----------------------------------------------------------------------------------------

async function generateSigningKeys(prefix) {
  const keys = [];
  for (const alg of ['ES256', 'RS256']) {
    const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    const jwk = await jose.exportJWK(privateKey);
    keys.push({ ...jwk, alg, use: 'sig', kid: `${prefix}-${alg.toLowerCase()}-${randomBytes(8).toString('hex')}` });
  }
  return keys;
}

function publicJwk({ d, p, q, dp, dq, qi, ...rest }) {
  return rest;
}

let signingKeys = await generateSigningKeys('fc');
// Every key this provider ever signed with (a session end may carry an id_token of before a rotation).
const everySigningKey = [...signingKeys];
// Keys whose kid is in no JWKS (the misbehaviour `unknown_key`).
const unknownKeys = await generateSigningKeys('inconnue');

const jwtKeys = {
  ownKey: (kid) => everySigningKey.find((key) => key.kid === kid),
  unknownKey: (alg) => unknownKeys.find((key) => key.alg === alg),
};

// --- Redirect URIs -------------------------------------------------------------------------------

/**
 * The redirect URI check of this test double: our callback's path on http://testserver (the
 * Django test client) or on a loopback host with any port (runserver, the live-server tests).
 * It replaces oidc-provider's exact match (Client.prototype.redirectUriAllowed and
 * postLogoutRedirectUriAllowed, below).
 */
function loopbackUriAllowed(value, path) {
  let url;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  const loopback = ['127.0.0.1', 'localhost'].includes(url.hostname) && url.port !== '';
  return (
    url.protocol === 'http:' &&
    (url.hostname === 'testserver' || loopback) &&
    url.pathname === path &&
    !url.search &&
    !url.hash &&
    !url.username &&
    !url.password
  );
}

// --- The provider --------------------------------------------------------------------------------

function client(clientId, alg) {
  return {
    client_id: clientId,
    client_secret: CLIENT_SECRET,
    client_name: 'Mon Compte (démonstration)',
    redirect_uris: [`http://testserver${CALLBACK_PATH}`],
    post_logout_redirect_uris: [`http://testserver${LOGOUT_CALLBACK_PATH}`],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    // client_secret_basic is accepted too: oidc-provider takes either for a secret-based client.
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: alg,
    userinfo_signed_response_alg: alg,
  };
}

const CLIENTS = [client(CLIENT_ID, 'ES256'), client(`${CLIENT_ID}-rs256`, 'RS256')];
const COOKIE_KEYS = [randomBytes(32).toString('hex')];

function interactions() {
  const policy = interactionPolicy.base();
  // A test that set the next identity (or an authorization error) gets it at every sign-in,
  // even when the browser still holds a session of this provider.
  policy.get('login').checks.add(
    new interactionPolicy.Check('control_api_sign_in', 'the control API asks for a new sign-in', (ctx) => {
      if (ctx.oidc.result?.login) {
        return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      }
      const asked = state.nextIdentity !== null || AUTHORIZATION_ERROR_MODES.includes(state.mode);
      return asked ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  return { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` };
}

function configuration(keys) {
  return {
    clients: CLIENTS,
    jwks: { keys },
    // Its own cookie names: a browser sends the cookies of 127.0.0.1 to every port (runserver's too).
    cookies: {
      keys: COOKIE_KEYS,
      names: { session: 'fc_session', interaction: 'fc_interaction', resume: 'fc_interaction_resume' },
    },
    routes: {
      authorization: '/authorize',
      token: '/token',
      userinfo: '/userinfo',
      end_session: '/session/end',
      jwks: '/jwks',
    },
    scopes: ['openid', ...CLAIM_SCOPES, 'identite_pivot'],
    claims: {
      openid: ['sub'],
      ...Object.fromEntries(CLAIM_SCOPES.map((claim) => [claim, [claim]])),
      identite_pivot: PIVOT_CLAIMS,
      amr: null,
    },
    acrValues: [ACR],
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_post', 'client_secret_basic'],
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
    },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true }, // for discovery; GET session/end is ours (sessionEnd)
    },
    pkce: { required: () => false }, // FranceConnect v2 does not require PKCE
    ttl: { AuthorizationCode: 30, AccessToken: 60, IdToken: 60, Interaction: 600, Session: 3600, Grant: 3600 },
    issueRefreshToken: () => false,
    allowOmittingSingleRegisteredRedirectUri: false,
    clientBasedCORS: () => false,
    interactions: interactions(),
    async findAccount(ctx, sub) {
      const claims = accounts.get(sub);
      if (!claims) {
        return undefined;
      }
      return { accountId: sub, claims: async () => ({ sub, ...claims }) };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = messagePage('Une erreur est survenue', `${out.error} : ${out.error_description ?? ''}`);
    },
  };
}

async function alter(jwt, mode) {
  return alterJwt(jwt, mode.replace(/^userinfo_/, ''), jwtKeys);
}

/** Koa middleware inside the provider: records the calls, alters the answers when asked. */
async function recordAndMisbehave(ctx, next) {
  if (ctx.method === 'GET' && ctx.path === '/authorize') {
    state.calls.authorize.push({ ...ctx.query });
  }
  await next();
  const route = ctx._matchedRouteName;
  if (route === 'token') {
    const body = ctx.oidc.body ?? {};
    state.calls.token.push({
      grant_type: body.grant_type ?? null,
      client_id: ctx.oidc.client?.clientId ?? null,
      auth_method: ctx.headers.authorization ? 'client_secret_basic' : body.client_secret ? 'client_secret_post' : 'none',
      redirect_uri: body.redirect_uri ?? null,
      code_verifier: body.code_verifier !== undefined,
      status: ctx.status,
    });
    if (ctx.status === 200 && ctx.body?.id_token && ID_TOKEN_MODES.includes(state.mode)) {
      ctx.body = { ...ctx.body, id_token: await alter(ctx.body.id_token, state.mode) };
    }
  } else if (route === 'userinfo') {
    state.calls.userinfo.push({
      method: ctx.method,
      bearer: /^Bearer /i.test(ctx.headers.authorization ?? ''),
      status: ctx.status,
      content_type: ctx.response.type,
    });
    if (ctx.status === 200 && typeof ctx.body === 'string' && USERINFO_MODES.includes(state.mode)) {
      ctx.body = await alter(ctx.body, state.mode);
    }
  }
}

function makeProvider(keys) {
  const provider = new Provider(ISSUER, configuration(keys));
  provider.Client.prototype.redirectUriAllowed = (value) => loopbackUriAllowed(value, CALLBACK_PATH);
  provider.Client.prototype.postLogoutRedirectUriAllowed = (value) => loopbackUriAllowed(value, LOGOUT_CALLBACK_PATH);
  provider.use(recordAndMisbehave);
  provider.on('server_error', (ctx, error) => console.error('oidc-provider server_error', error));
  return { provider, handle: provider.callback() };
}

// The provider in use; rotating the keys builds a new one (oidc-provider's in-memory storage,
// holding sessions, codes and tokens, is shared by every instance of the process).
let current = makeProvider(signingKeys);

// --- Small HTTP helpers --------------------------------------------------------------------------

function send(res, status, body, type = 'text/html; charset=utf-8', headers = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function sendJson(res, status, value) {
  send(res, status, JSON.stringify(value), 'application/json');
}

function redirect(res, location) {
  res.writeHead(302, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': '0' });
  res.end();
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) {
      throw new RangeError('body too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req) {
  const text = await readBody(req);
  return text ? JSON.parse(text) : {};
}

// --- Interactions: the sign-in without a password --------------------------------------------

async function signIn(req, res, details, identity, via) {
  const { provider } = current;
  accounts.set(identity.sub, identity.claims);
  state.calls.sign_ins.push({ sub: identity.sub, via });
  const grant = new provider.Grant({ accountId: identity.sub, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope); // consent given at once, for every scope asked
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: identity.sub, acr: ACR, amr: ['pwd'] }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

async function refuse(req, res, error) {
  const description = error === 'access_denied' ? 'connexion annulée' : 'erreur du fournisseur';
  await current.provider.interactionFinished(req, res, { error, error_description: description });
}

async function interaction(req, res, url) {
  const [, , uid, action] = url.pathname.split('/');
  const { provider } = current;
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    return send(res, 400, messagePage('Connexion expirée', 'Revenez sur le service et cliquez à nouveau sur le bouton FranceConnect.'));
  }
  if (details.uid !== uid) {
    return send(res, 400, messagePage('Connexion expirée', 'Revenez sur le service et cliquez à nouveau sur le bouton FranceConnect.'));
  }
  if (req.method === 'GET' && action === undefined) {
    if (AUTHORIZATION_ERROR_MODES.includes(state.mode)) {
      return refuse(req, res, state.mode);
    }
    if (details.prompt.name === 'consent') {
      // Already signed in at the provider: the consent is given at once (FranceConnect asks once).
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } });
    }
    if (state.nextIdentity) {
      return signIn(req, res, details, state.nextIdentity, 'control');
    }
    return send(res, 200, identityChoicePage(`/interaction/${uid}/login`, IDENTITIES));
  }
  if (req.method === 'POST' && action === 'login') {
    const key = new URLSearchParams(await readBody(req)).get('identity') ?? '';
    if (key === '') {
      return refuse(req, res, 'access_denied');
    }
    if (!Object.hasOwn(IDENTITIES, key)) {
      return send(res, 400, messagePage('Identité inconnue', 'Choisissez une des identités de démonstration proposées.'));
    }
    return signIn(req, res, details, IDENTITIES[key], 'page');
  }
  return send(res, 405, messagePage('Action impossible', "Cette adresse n'accepte pas cette action."));
}

// --- Session end: FranceConnect's, without confirmation --------------------------------------

/** The id_token_hint's claims if this provider issued it to one of its clients, else null. */
async function verifiedIdTokenHint(hint) {
  if (!hint) {
    return null;
  }
  let header;
  let payload;
  try {
    header = jose.decodeProtectedHeader(hint);
    payload = jose.decodeJwt(hint);
  } catch {
    return null;
  }
  const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const owner = CLIENTS.find((entry) => audience.length === 1 && entry.client_id === audience[0]);
  const jwk = everySigningKey.find((key) => key.kid === header.kid);
  if (!owner || !jwk || header.alg !== owner.id_token_signed_response_alg || payload.iss !== ISSUER) {
    return null;
  }
  try {
    // An expired id_token is still a valid hint (OpenID Connect RP-Initiated Logout).
    await jose.compactVerify(hint, await jose.importJWK(publicJwk(jwk), header.alg), { algorithms: [header.alg] });
  } catch {
    return null;
  }
  return payload;
}

/** Destroys the provider session of the browser's cookie, if any; true when one ended. */
async function endProviderSession(req, res) {
  const { provider } = current;
  const ctx = provider.createContext(req, res);
  const name = provider.cookieName('session');
  const id = ctx.cookies.get(name);
  if (!id) {
    return false;
  }
  const session = await provider.Session.find(id);
  await session?.destroy();
  ctx.cookies.set(name, null, { httpOnly: true, sameSite: 'lax', path: '/' });
  return Boolean(session);
}

async function sessionEnd(req, res, url) {
  const params = url.searchParams;
  const call = {
    state: params.get('state'),
    post_logout_redirect_uri: params.get('post_logout_redirect_uri'),
    id_token_hint_given: params.has('id_token_hint'),
    id_token_hint_valid: false,
    client_id: null,
    sub: null,
    session_ended: false,
  };
  state.calls.session_end.push(call);
  const hint = await verifiedIdTokenHint(params.get('id_token_hint'));
  if (!hint) {
    return send(res, 400, messagePage('Déconnexion impossible', "La demande de déconnexion n'est pas valide (id_token_hint absent ou invalide)."));
  }
  Object.assign(call, { id_token_hint_valid: true, client_id: hint.aud, sub: hint.sub });
  const target = call.post_logout_redirect_uri;
  if (target !== null && !loopbackUriAllowed(target, LOGOUT_CALLBACK_PATH)) {
    return send(res, 400, messagePage('Déconnexion impossible', "L'adresse de retour après la déconnexion n'est pas enregistrée."));
  }
  call.session_ended = await endProviderSession(req, res);
  if (target === null) {
    return send(res, 200, messagePage('Vous êtes déconnecté', 'Vous êtes déconnecté de FranceConnect.'));
  }
  const back = new URL(target);
  if (call.state !== null) {
    back.searchParams.set('state', call.state);
  }
  return redirect(res, back.href);
}

// --- Control API -----------------------------------------------------------------------------

async function rotateKeys() {
  signingKeys = await generateSigningKeys('fc');
  everySigningKey.push(...signingKeys);
  current = makeProvider(signingKeys);
  return signingKeys.map((key) => key.kid);
}

async function control(req, res, url) {
  if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress)) {
    return sendJson(res, 403, { error: 'loopback only' });
  }
  const what = `${req.method} ${url.pathname.slice('/_control/'.length)}`;
  if (what === 'GET calls') {
    return sendJson(res, 200, state.calls);
  }
  const body = req.method === 'POST' ? await readJson(req) : {};
  switch (what) {
    case 'POST reset':
      Object.assign(state, { mode: 'none', nextIdentity: null, calls: noCalls() });
      return sendJson(res, 200, { ok: true });
    case 'POST next-identity': {
      if (body.identity !== undefined) {
        if (!Object.hasOwn(IDENTITIES, body.identity)) {
          return sendJson(res, 400, { error: `unknown identity ${body.identity}` });
        }
        state.nextIdentity = IDENTITIES[body.identity];
      } else if (body.claims === null) {
        state.nextIdentity = null;
      } else if (typeof body.claims === 'object' && !Array.isArray(body.claims)) {
        state.nextIdentity = { sub: body.sub ?? subFor(body.claims), claims: body.claims };
      } else {
        return sendJson(res, 400, { error: 'claims must be an object (or null)' });
      }
      return sendJson(res, 200, { sub: state.nextIdentity?.sub ?? null });
    }
    case 'POST misbehave':
      if (!MODES.includes(body.mode)) {
        return sendJson(res, 400, { error: `mode must be one of ${MODES.join(', ')}` });
      }
      state.mode = body.mode;
      return sendJson(res, 200, { mode: state.mode });
    case 'POST rotate-keys':
      return sendJson(res, 200, { kids: await rotateKeys() });
    default:
      return sendJson(res, 404, { error: `no control ${what}` });
  }
}

// --- The server ------------------------------------------------------------------------------

async function handle(req, res) {
  const url = new URL(req.url, `http://${HOST}:${PORT}`);
  if (url.pathname.startsWith('/_control/')) {
    return control(req, res, url);
  }
  if (url.pathname.startsWith('/interaction/')) {
    return interaction(req, res, url);
  }
  if (url.pathname === `${MOUNT}/session/end` && req.method === 'GET') {
    return sessionEnd(req, res, url);
  }
  if (url.pathname.startsWith(`${MOUNT}/`)) {
    if (url.pathname === `${MOUNT}/jwks`) {
      state.calls.jwks.push({ kids: signingKeys.map((key) => key.kid) });
    }
    // oidc-provider mounted under /api/v2: it sees the rest of the path, and the mount in originalUrl.
    req.originalUrl = req.url;
    req.url = req.url.slice(MOUNT.length);
    return current.handle(req, res);
  }
  return send(res, 404, messagePage('Page introuvable', "Cette adresse n'existe pas sur ce fournisseur."));
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error(error);
    if (!res.headersSent) {
      send(res, error instanceof SyntaxError || error instanceof RangeError ? 400 : 500, messagePage('Erreur', 'Erreur du fournisseur de démonstration.'));
    } else {
      res.end();
    }
  });
});

server.listen(PORT, HOST, () => {
  console.log(`FranceConnect de démonstration : ${ISSUER} (client ${CLIENT_ID}, et ${CLIENT_ID}-rs256)`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
