// The cryptography of a FIT-Connect subscriber: decrypting what a sender encrypted for the destination
// (JWE, RSA-OAEP-256 + A256GCM and nothing else), checking the SHA-512 hashes the metadata names, and
// signing the Security Event Tokens that accept or reject a submission (PS512).

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { CompactSign, compactDecrypt, decodeProtectedHeader, importJWK, type CryptoKey, type JWK } from 'jose';
import { problems, type ProblemInstance, type RejectProblem } from './problems.ts';

export const KEY_ALG = 'RSA-OAEP-256';
export const CONTENT_ALG = 'A256GCM';
export const SET_ALG = 'PS512';
export const EVENT_ACCEPT = 'https://schema.fitko.de/fit-connect/events/accept-submission';
export const EVENT_REJECT = 'https://schema.fitko.de/fit-connect/events/reject-submission';
export const SET_PAYLOAD_SCHEMA = 'https://schema.fitko.de/fit-connect/set-payload/1.0.0/set-payload.schema.json';

/** 4096 bits: FIT-Connect requires it for destination keys. */
const MIN_MODULUS_BITS = 4096;

export type KeyResult<K> = { ok: true; key: K; kid: string } | { ok: false; error: string };

/** The destination's private decryption key: an RSA JWK with `key_ops: ["unwrapKey"]`, 4096 bits. */
export async function importDecryptionKey(jwk: JWK): Promise<KeyResult<CryptoKey>> {
  const checked = checkRsaJwk(jwk, 'unwrapKey', KEY_ALG, 'decryption');
  if (!checked.ok) return checked;
  // WebCrypto names RSA-OAEP's use for a content key "decrypt", JOSE's key_ops "unwrapKey": having checked
  // the JOSE meaning, the key is imported for WebCrypto's.
  const { key_ops: _ops, use: _use, ...rest } = jwk;
  return { ok: true, key: (await importJWK({ ...rest, alg: KEY_ALG }, KEY_ALG)) as CryptoKey, kid: checked.kid };
}

/** The destination's private signing key for SETs: an RSA JWK with `key_ops: ["sign"]`, PS512, 4096 bits. */
export async function importSigningKey(jwk: JWK): Promise<KeyResult<CryptoKey>> {
  const checked = checkRsaJwk(jwk, 'sign', SET_ALG, 'signing');
  if (!checked.ok) return checked;
  const { use: _use, ...rest } = jwk;
  return { ok: true, key: (await importJWK({ ...rest, alg: SET_ALG }, SET_ALG)) as CryptoKey, kid: checked.kid };
}

function checkRsaJwk(jwk: JWK, op: string, alg: string, what: string): { ok: true; kid: string } | { ok: false; error: string } {
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.d !== 'string')
    return { ok: false, error: `the ${what} key must be a private RSA JWK` };
  if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes(op)) return { ok: false, error: `the ${what} key must have key_ops ["${op}"]` };
  if (jwk.alg !== undefined && jwk.alg !== alg) return { ok: false, error: `the ${what} key is for ${jwk.alg}, not ${alg}` };
  if (typeof jwk.kid !== 'string' || jwk.kid === '') return { ok: false, error: `the ${what} key needs a kid` };
  const bits = Buffer.from(jwk.n, 'base64url').length * 8;
  if (bits < MIN_MODULUS_BITS) return { ok: false, error: `the ${what} key has ${bits} bits; FIT-Connect requires ${MIN_MODULUS_BITS}` };
  return { ok: true, kid: jwk.kid };
}

export type Decrypted = { ok: true; plaintext: Uint8Array } | { ok: false; problem: RejectProblem };

/** Decrypts one JWE compact; anything but RSA-OAEP-256 with A256GCM is refused before the key is used. */
export async function decryptJwe(jwe: string, key: CryptoKey, instance: ProblemInstance): Promise<Decrypted> {
  const what =
    instance === 'metadata'
      ? 'der Metadaten'
      : instance === 'data'
        ? 'der Fachdaten'
        : `der Anlage ${instance.slice('attachment:'.length)}`;
  let header: Record<string, unknown>;
  try {
    if (jwe.split('.').length !== 5) throw new Error('not compact');
    header = decodeProtectedHeader(jwe) as Record<string, unknown>;
  } catch {
    return {
      ok: false,
      problem: problems.encryptionIssue(instance, `Die Entschlüsselung ${what} ist fehlgeschlagen: kein JWE in Compact Serialization.`),
    };
  }
  if (header.alg !== KEY_ALG || header.enc !== CONTENT_ALG) {
    return {
      ok: false,
      problem: problems.encryptionIssue(
        instance,
        `Die Entschlüsselung ${what} ist fehlgeschlagen: nur alg ${KEY_ALG} mit enc ${CONTENT_ALG} wird unterstützt.`,
      ),
    };
  }
  try {
    const { plaintext } = await compactDecrypt(jwe, key, {
      keyManagementAlgorithms: [KEY_ALG],
      contentEncryptionAlgorithms: [CONTENT_ALG],
    });
    return { ok: true, plaintext };
  } catch {
    // Wrong key and changed ciphertext look alike on purpose (no padding oracle); the detail says no more.
    return { ok: false, problem: problems.encryptionIssue(instance, `Die Entschlüsselung ${what} ist fehlgeschlagen.`) };
  }
}

/** The JWE's authentication tag: the last of its five segments, as FIT-Connect's accept event lists it. */
export function authenticationTag(jwe: string): string {
  return jwe.slice(jwe.lastIndexOf('.') + 1);
}

export function sha512Hex(bytes: Uint8Array): string {
  return createHash('sha512').update(bytes).digest('hex');
}

/** Compares the SHA-512 of `bytes` with the metadata's hash entry; a problem when they differ. */
export function checkHash(
  bytes: Uint8Array,
  expected: { type: string; content: string },
  instance: ProblemInstance,
): RejectProblem | undefined {
  const what = instance === 'data' ? 'der Fachdaten' : `der Anlage ${instance.slice('attachment:'.length)}`;
  if (expected.type !== 'sha512')
    return problems.hashMismatch(instance, `Der Hashwert ${what} hat den Typ ${expected.type}; nur sha512 wird unterstützt.`);
  const actual = Buffer.from(sha512Hex(bytes), 'utf8');
  const wanted = Buffer.from(expected.content.toLowerCase(), 'utf8');
  if (actual.length === wanted.length && timingSafeEqual(actual, wanted)) return undefined;
  return problems.hashMismatch(instance, `Der Hashwert ${what} stimmt nicht.`);
}

export interface AuthenticationTags {
  metadata: string;
  data?: string | undefined;
  attachments: Record<string, string>;
}

export interface SetContext {
  destinationId: string;
  submissionId: string;
  caseId: string;
  /** Unix seconds, from the hub's clock. */
  issuedAt: number;
  key: CryptoKey;
  kid: string;
  /** Given in tests; a fresh UUID otherwise. */
  jti?: string;
}

/** The `accept-submission` SET: the destination confirms it holds exactly what these tags authenticate. */
export function buildAcceptSet(c: SetContext, tags: AuthenticationTags): Promise<string> {
  const authenticationTags: Record<string, unknown> = { metadata: tags.metadata };
  if (tags.data !== undefined) authenticationTags.data = tags.data;
  if (Object.keys(tags.attachments).length > 0) authenticationTags.attachments = tags.attachments;
  return signSet(c, EVENT_ACCEPT, { authenticationTags });
}

/** The `reject-submission` SET with the problems found. */
export function buildRejectSet(c: SetContext, found: RejectProblem[]): Promise<string> {
  if (found.length === 0) throw new Error('a rejection needs at least one problem');
  return signSet(c, EVENT_REJECT, { problems: found });
}

function signSet(c: SetContext, event: string, payload: Record<string, unknown>): Promise<string> {
  const claims = {
    $schema: SET_PAYLOAD_SCHEMA,
    jti: c.jti ?? randomUUID(),
    iss: c.destinationId,
    iat: c.issuedAt,
    sub: `submission:${c.submissionId}`,
    txn: `case:${c.caseId}`,
    events: { [event]: payload },
  };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: SET_ALG, typ: 'secevent+jwt', kid: c.kid })
    .sign(c.key);
}
