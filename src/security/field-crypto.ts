// Encryption at rest for personal values (form data, attachments, status reasons): the library part of
// issue 13. A stolen database file, WAL or dump then holds ciphertext, key ids and keyed hashes, nothing else.
//
// - AES-256-GCM with a fresh random 12-byte nonce per value. With random nonces one key should seal fewer
//   than 2^32 values (NIST SP 800-38D §8.3); rotate long before that.
// - Each sealed value names its key (`kid`), so several keys can be in use at once: the first of the keyring
//   seals, every one of them opens. Rotation is "put the new key first, re-seal, then drop the old one".
// - Associated data binds a ciphertext to its row and column: (tenant, submission id, field). A value copied
//   into another submission, tenant or field does not open. The version and key id are bound as well.
// - Equality without decrypting (idempotency, search) goes through keyed hashes: HMAC-SHA256 under a key of
//   its own, so a data key rotation does not change them and knowing one does not give the other.
//
// Keys never leave this module: they are KeyObjects in private fields, error messages name key ids and
// positions only, and a Keyring prints as its key ids.
//
// Formats (version 1):
//   text  `v1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>`   for TEXT columns
//   bytes `0x01 ‖ len(kid) ‖ kid ‖ nonce ‖ ciphertext ‖ tag`  for BLOB / BYTEA columns
//   hash  `<kid>.<base64url(HMAC-SHA256)>`

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomFillSync,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';

export type FieldCryptoErrorCode = 'config' | 'unknown-key' | 'malformed' | 'not-authentic';

export class FieldCryptoError extends Error {
  constructor(
    readonly code: FieldCryptoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FieldCryptoError';
  }
}

/** What a ciphertext is bound to: the row and column it belongs in. */
export interface FieldBinding {
  tenant: string;
  submissionId: string;
  /** The column or part, e.g. `content`, `attachment:2`, `status_reason`. */
  field: string;
}

export const DATA_KEYS_ENV = 'AMTSBOTE_DATA_KEYS';
export const DATA_KEYS_FILE_ENV = 'AMTSBOTE_DATA_KEYS_FILE';
export const INDEX_KEYS_ENV = 'AMTSBOTE_INDEX_KEYS';
export const INDEX_KEYS_FILE_ENV = 'AMTSBOTE_INDEX_KEYS_FILE';

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KID = /^[A-Za-z0-9_-]{1,32}$/;
const TEXT_FORMAT = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/;

// Nonces come from a pool of random bytes filled 512 at a time: one call into the system's random source per
// nonce costs more than the encryption of a form (npm run bench, the *-sealed rows). Each nonce is copied out, and
// no byte of the pool is handed out twice.
const NONCE_POOL = Buffer.alloc(NONCE_BYTES * 512);
let noncePos = NONCE_POOL.length;

function freshNonce(): Buffer {
  if (noncePos + NONCE_BYTES > NONCE_POOL.length) {
    randomFillSync(NONCE_POOL);
    noncePos = 0;
  }
  const nonce = Buffer.from(NONCE_POOL.subarray(noncePos, noncePos + NONCE_BYTES));
  noncePos += NONCE_BYTES;
  return nonce;
}

interface NamedKey {
  kid: string;
  key: KeyObject;
}

/**
 * Keys as an operator writes them: `kid:base64` entries separated by commas or new lines, `#` starting a
 * comment line; the first entry is the current key. `source` names where they came from, for messages.
 */
export function parseKeyList(text: string, source: string): NamedKey[] {
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e !== '' && !e.startsWith('#'));
  if (entries.length === 0) throw new FieldCryptoError('config', `${source} holds no key`);
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const kid = colon === -1 ? '' : entry.slice(0, colon).trim();
    const where = `${source}, entry ${index + 1}`;
    if (!KID.test(kid))
      throw new FieldCryptoError('config', `${where}: write kid:base64, the kid of letters, digits, "_" or "-" (at most 32)`);
    if (seen.has(kid)) throw new FieldCryptoError('config', `${where}: the key id ${kid} is given twice`);
    seen.add(kid);
    const b64 = entry.slice(colon + 1).trim();
    const bytes = Buffer.from(b64, 'base64');
    // Buffer.from skips what is not base64; a key that does not read back the same was mistyped.
    if (bytes.toString('base64').replace(/=+$/, '') !== b64.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')) {
      bytes.fill(0);
      throw new FieldCryptoError('config', `${where} (key id ${kid}): the key is not base64`);
    }
    if (bytes.length !== KEY_BYTES) {
      const n = bytes.length;
      bytes.fill(0);
      throw new FieldCryptoError(
        'config',
        `${where} (key id ${kid}): the key is ${n} bytes; it must be ${KEY_BYTES} (e.g. openssl rand -base64 32)`,
      );
    }
    const key = createSecretKey(bytes);
    bytes.fill(0);
    return { kid, key };
  });
}

/** Keys from `NAME` or from the file named by `NAME_FILE` (one of the two, not both); undefined when neither is set. */
function keysFromEnvironment(env: NodeJS.ProcessEnv, name: string, fileName: string): NamedKey[] | undefined {
  const inline = env[name];
  const file = env[fileName];
  if (inline && file) throw new FieldCryptoError('config', `set ${name} or ${fileName}, not both`);
  if (inline) return parseKeyList(inline, name);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new FieldCryptoError('config', `${fileName}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return parseKeyList(text, `${fileName} (${file})`);
  }
  return undefined;
}

/** The data keys (seal and open) and the index keys (keyed hashes) of a hub. */
export class Keyring {
  readonly #data: readonly NamedKey[];
  readonly #index: readonly NamedKey[];

  constructor(data: readonly NamedKey[], index: readonly NamedKey[]) {
    if (data.length === 0 || index.length === 0)
      throw new FieldCryptoError('config', 'a keyring needs at least one data key and one index key');
    this.#data = data;
    this.#index = index;
  }

  /**
   * From AMTSBOTE_DATA_KEYS / AMTSBOTE_DATA_KEYS_FILE and AMTSBOTE_INDEX_KEYS / AMTSBOTE_INDEX_KEYS_FILE.
   * Undefined when no data key is configured (encryption off); data keys without index keys are refused.
   */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): Keyring | undefined {
    const data = keysFromEnvironment(env, DATA_KEYS_ENV, DATA_KEYS_FILE_ENV);
    const index = keysFromEnvironment(env, INDEX_KEYS_ENV, INDEX_KEYS_FILE_ENV);
    if (!data && !index) return undefined;
    if (!data)
      throw new FieldCryptoError('config', `${INDEX_KEYS_ENV} is set but no data key: set ${DATA_KEYS_ENV} or ${DATA_KEYS_FILE_ENV}`);
    if (!index)
      throw new FieldCryptoError(
        'config',
        `data keys are set but no index key: set ${INDEX_KEYS_ENV} or ${INDEX_KEYS_FILE_ENV} (a key of its own, for idempotency and search)`,
      );
    return new Keyring(data, index);
  }

  /** The key id new values are sealed with. */
  get currentKid(): string {
    return this.#data[0]!.kid;
  }

  get kids(): string[] {
    return this.#data.map((k) => k.kid);
  }

  get indexKids(): string[] {
    return this.#index.map((k) => k.kid);
  }

  /** Seals bytes for a BLOB/BYTEA column. */
  sealBytes(plain: Uint8Array, binding: FieldBinding): Buffer {
    const { kid, key } = this.#data[0]!;
    const nonce = freshNonce();
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(kid, binding));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const kidBytes = Buffer.from(kid, 'ascii');
    return Buffer.concat([Buffer.from([VERSION, kidBytes.length]), kidBytes, nonce, body, cipher.getAuthTag()]);
  }

  openBytes(sealed: Uint8Array, binding: FieldBinding): Buffer {
    const b = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (b.length < 2 || b[0] !== VERSION) throw new FieldCryptoError('malformed', `not a sealed value of version ${VERSION}`);
    const kidEnd = 2 + b[1]!;
    const kid = b.toString('ascii', 2, kidEnd);
    if (!KID.test(kid) || b.length < kidEnd + NONCE_BYTES + TAG_BYTES)
      throw new FieldCryptoError('malformed', 'the sealed value is cut short or damaged');
    return this.#open(kid, b.subarray(kidEnd), binding);
  }

  /** Seals text for a TEXT column: `v1.<kid>.<base64url>`. */
  seal(plain: string, binding: FieldBinding): string {
    const bytes = this.sealBytes(Buffer.from(plain, 'utf8'), binding);
    const kidEnd = 2 + bytes[1]!;
    return `v1.${this.currentKid}.${bytes.subarray(kidEnd).toString('base64url')}`;
  }

  open(sealed: string, binding: FieldBinding): string {
    const m = TEXT_FORMAT.exec(sealed);
    if (!m) throw new FieldCryptoError('malformed', 'not a sealed value of version 1 (v1.<kid>.<base64url>)');
    const payload = Buffer.from(m[2]!, 'base64url');
    if (payload.length < NONCE_BYTES + TAG_BYTES) throw new FieldCryptoError('malformed', 'the sealed value is cut short or damaged');
    return this.#open(m[1]!, payload, binding).toString('utf8');
  }

  /** The key id a sealed value (text or bytes) was sealed with, without opening it; undefined when it is not one. */
  static kidOf(sealed: string | Uint8Array): string | undefined {
    if (typeof sealed === 'string') return TEXT_FORMAT.exec(sealed)?.[1];
    if (sealed.length < 2 || sealed[0] !== VERSION) return undefined;
    const kid = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength).toString('ascii', 2, 2 + sealed[1]!);
    return KID.test(kid) ? kid : undefined;
  }

  /** True when a value was sealed with another key than the current one: what a rotation re-seals. */
  needsReseal(sealed: string | Uint8Array): boolean {
    return Keyring.kidOf(sealed) !== this.currentKid;
  }

  /** Opens with whichever key sealed it and seals again with the current key (rotation). */
  reseal(sealed: string, binding: FieldBinding): string {
    return this.seal(this.open(sealed, binding), binding);
  }

  resealBytes(sealed: Uint8Array, binding: FieldBinding): Buffer {
    return this.sealBytes(this.openBytes(sealed, binding), binding);
  }

  #open(kid: string, payload: Buffer, binding: FieldBinding): Buffer {
    const entry = this.#data.find((k) => k.kid === kid);
    if (!entry)
      throw new FieldCryptoError(
        'unknown-key',
        `the value was sealed with key ${kid}, which is not in the keyring (known: ${this.kids.join(', ')})`,
      );
    const nonce = payload.subarray(0, NONCE_BYTES);
    const tag = payload.subarray(payload.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', entry.key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(kid, binding));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(payload.subarray(NONCE_BYTES, payload.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new FieldCryptoError(
        'not-authentic',
        `the value does not open with key ${kid} for this tenant, submission and field: altered, or copied from another row`,
      );
    }
  }

  /**
   * A keyed hash for equality without decrypting: `<kid>.<base64url>` under the current index key. `purpose`
   * separates uses (e.g. `idempotency`, `search:iban`), so equal values of different purposes do not match.
   */
  keyedHash(purpose: string, value: string | Uint8Array): string {
    return this.#hashWith(this.#index[0]!, purpose, value);
  }

  /** The hash under every index key, current first: what to look up while index keys are being rotated. */
  keyedHashCandidates(purpose: string, value: string | Uint8Array): string[] {
    return this.#index.map((k) => this.#hashWith(k, purpose, value));
  }

  /** Compares a stored keyed hash with a value, in constant time, under the index key the hash names. */
  keyedHashMatches(stored: string, purpose: string, value: string | Uint8Array): boolean {
    const dot = stored.indexOf('.');
    const entry = dot === -1 ? undefined : this.#index.find((k) => k.kid === stored.slice(0, dot));
    if (!entry) return false;
    const expected = Buffer.from(this.#hashWith(entry, purpose, value));
    const given = Buffer.from(stored);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #hashWith({ kid, key }: NamedKey, purpose: string, value: string | Uint8Array): string {
    const mac = createHmac('sha256', key);
    mac.update(
      lengthPrefixed([
        Buffer.from('amtsbote-keyed-hash-v1'),
        Buffer.from(purpose, 'utf8'),
        typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
      ]),
    );
    return `${kid}.${mac.digest('base64url')}`;
  }

  toJSON(): string {
    return this.toString();
  }

  toString(): string {
    return `Keyring(data keys: ${this.kids.join(', ')}; index keys: ${this.indexKids.join(', ')})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Version, key id and binding, each length-prefixed, so no two different tuples give the same bytes. */
function associatedData(kid: string, b: FieldBinding): Buffer {
  return lengthPrefixed([
    Buffer.from([VERSION]),
    Buffer.from(kid, 'ascii'),
    Buffer.from(b.tenant, 'utf8'),
    Buffer.from(b.submissionId, 'utf8'),
    Buffer.from(b.field, 'utf8'),
  ]);
}

function lengthPrefixed(parts: Uint8Array[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(p.length);
    out.push(len, Buffer.from(p));
  }
  return Buffer.concat(out);
}
