/**
 * The misbehaviours of the local FranceConnect provider (docs/franceconnect.md).
 *
 * A test asks for one with `POST /_control/misbehave {"mode": M}`; it lasts until the next
 * reset (or `{"mode": "none"}`). The id_token of the token endpoint's answer (or the userinfo
 * JWT, for the `userinfo_*` modes) is re-signed with altered claims with the provider's own key,
 * signed with a key whose kid is not in the JWKS, or has its signature bytes altered; the two
 * authorization modes answer the callback with an error. Signing and parsing are `jose`'s.
 */
import * as jose from 'jose';

/** Modes that alter the id_token of the token endpoint's answer. */
export const ID_TOKEN_MODES = [
  'wrong_nonce',
  'wrong_audience',
  'expired',
  'unknown_key',
  'bad_signature',
  'wrong_issuer',
  'wrong_acr',
  'missing_acr',
];
/** Modes that alter the signed userinfo (the same alterations, on the userinfo JWT). */
export const USERINFO_MODES = [
  'userinfo_bad_signature',
  'userinfo_unknown_key',
  'userinfo_wrong_issuer',
  'userinfo_wrong_audience',
];
/** Modes in which the authorization answers the callback with that OAuth error (and the state). */
export const AUTHORIZATION_ERROR_MODES = ['access_denied', 'server_error'];

export const MODES = ['none', ...ID_TOKEN_MODES, ...USERINFO_MODES, ...AUTHORIZATION_ERROR_MODES];

const OTHER_ISSUER = 'https://un-autre-fournisseur.example/api/v2';
const OTHER_AUDIENCE = 'un-autre-service';

async function sign(payload, header, privateJwk) {
  const key = await jose.importJWK(privateJwk, header.alg);
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(key);
}

/** The same JWT whose signature's first byte is inverted: the signature no longer verifies. */
function withAlteredSignature(jwt) {
  const [header, payload, signature] = jwt.split('.');
  const bytes = jose.base64url.decode(signature);
  bytes[0] ^= 0xff;
  return [header, payload, jose.base64url.encode(bytes)].join('.');
}

/**
 * The JWT altered as `alteration` says (a mode without its `userinfo_` prefix).
 * `ownKey(kid)` gives the provider's private JWK of that kid; `unknownKey(alg)` a private JWK
 * of that algorithm whose kid is in no JWKS.
 */
export async function alterJwt(jwt, alteration, { ownKey, unknownKey }) {
  if (alteration === 'bad_signature') {
    return withAlteredSignature(jwt);
  }
  const header = jose.decodeProtectedHeader(jwt);
  const payload = jose.decodeJwt(jwt);
  if (alteration === 'unknown_key') {
    const rogue = unknownKey(header.alg);
    return sign(payload, { ...header, kid: rogue.kid }, rogue);
  }
  const now = Math.floor(Date.now() / 1000);
  switch (alteration) {
    case 'wrong_nonce':
      payload.nonce = jose.base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
      break;
    case 'wrong_audience':
      payload.aud = OTHER_AUDIENCE;
      break;
    case 'expired':
      payload.iat = now - 600;
      payload.exp = now - 300;
      break;
    case 'wrong_issuer':
      payload.iss = OTHER_ISSUER;
      break;
    case 'wrong_acr':
      payload.acr = 'eidas0';
      break;
    case 'missing_acr':
      delete payload.acr;
      break;
    default:
      throw new Error(`unknown alteration ${alteration}`);
  }
  return sign(payload, header, ownKey(header.kid));
}
