import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { FieldCryptoError, Keyring, parseKeyList, type FieldBinding } from './field-crypto.ts';

const key = (): string => randomBytes(32).toString('base64');
const K1 = key();
const K2 = key();
const IDX = key();

const ring = (data: string, index = `idx1:${IDX}`): Keyring =>
  Keyring.fromEnvironment({ AMTSBOTE_DATA_KEYS: data, AMTSBOTE_INDEX_KEYS: index })!;
const row: FieldBinding = { tenant: 'emscher-lippe', submissionId: '0192f1c2-7d1e-7a00-8000-000000000001', field: 'content' };
const personal = JSON.stringify({ applicant: { name: 'Erika Mustermann', iban: 'DE89370400440532013000', email: 'erika@example.org' } });

function thrown(f: () => unknown): FieldCryptoError {
  try {
    f();
  } catch (e) {
    if (e instanceof FieldCryptoError) return e;
    throw e;
  }
  throw new Error('expected a FieldCryptoError');
}

describe('field encryption (AES-256-GCM, keyed hashes)', () => {
  it('round-trips a value, and the sealed text shows neither the value nor the key', () => {
    const keys = ring(`k1:${K1}`);
    const sealed = keys.seal(personal, row);
    expect(sealed).to.match(/^v1\.k1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.to.contain('Mustermann');
    expect(Buffer.from(sealed.split('.')[2]!, 'base64url').toString('latin1')).not.to.contain('DE89');
    expect(keys.open(sealed, row)).to.equal(personal);
  });

  it('round-trips bytes (attachments) and any text, the empty one included', () => {
    const keys = ring(`k1:${K1}`);
    const pdf = randomBytes(5000);
    const sealed = keys.sealBytes(pdf, { ...row, field: 'attachment:0' });
    expect(sealed[0]).to.equal(1);
    expect(Keyring.kidOf(sealed)).to.equal('k1');
    expect(keys.openBytes(sealed, { ...row, field: 'attachment:0' }).equals(pdf)).to.equal(true);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(keys.open(keys.seal(text, row), row)).to.equal(text);
      }),
      { numRuns: 200 },
    );
  });

  it('uses a fresh nonce per value: the same value sealed twice gives two ciphertexts', () => {
    const keys = ring(`k1:${K1}`);
    const seen = new Set(Array.from({ length: 1000 }, () => keys.seal('Erika', row).split('.')[2]!.slice(0, 16)));
    expect(seen.size).to.equal(1000);
  });

  it('does not open a value moved to another tenant, submission or field', () => {
    const keys = ring(`k1:${K1}`);
    const sealed = keys.seal(personal, row);
    for (const moved of [
      { ...row, tenant: 'other' },
      { ...row, submissionId: '0192f1c2-7d1e-7a00-8000-000000000002' },
      { ...row, field: 'status_reason' },
    ]) {
      const e = thrown(() => keys.open(sealed, moved));
      expect(e.code).to.equal('not-authentic');
      expect(e.message).to.equal(
        'the value does not open with key k1 for this tenant, submission and field: altered, or copied from another row',
      );
    }
    // The parts are length-prefixed: shifting a character from one to the next is another binding.
    expect(
      thrown(() =>
        keys.open(keys.seal('x', { tenant: 'ab', submissionId: 'c', field: 'f' }), { tenant: 'a', submissionId: 'bc', field: 'f' }),
      ).code,
    ).to.equal('not-authentic');
  });

  it('does not open an altered ciphertext or a key id swapped in the header', () => {
    const keys = ring(`k1:${K1},k2:${K1}`); // the same key under two ids: only the bound id opens
    const sealed = keys.seal(personal, row);
    const body = Buffer.from(sealed.split('.')[2]!, 'base64url');
    body[20]! ^= 1;
    expect(thrown(() => keys.open(`v1.k1.${body.toString('base64url')}`, row)).code).to.equal('not-authentic');
    expect(thrown(() => keys.open(sealed.replace('v1.k1.', 'v1.k2.'), row)).code).to.equal('not-authentic');
  });

  it('refuses a value sealed with a key it does not have, naming the key id and the ones it knows', () => {
    const sealed = ring(`old:${K1}`).seal(personal, row);
    const e = thrown(() => ring(`new:${K2}`).open(sealed, row));
    expect(e.code).to.equal('unknown-key');
    expect(e.message).to.equal('the value was sealed with key old, which is not in the keyring (known: new)');
  });

  it('refuses what is not a sealed value', () => {
    const keys = ring(`k1:${K1}`);
    for (const text of ['{"clear":"json"}', 'v2.k1.AAAA', 'v1.k1.AAAA', 'v1..AAAA', '']) {
      expect(thrown(() => keys.open(text, row)).code, text).to.equal('malformed');
    }
    expect(thrown(() => keys.openBytes(Buffer.from([1, 2, 0x6b, 0x31, 0]), row)).code).to.equal('malformed');
    expect(Keyring.kidOf('{"clear":"json"}')).to.equal(undefined);
  });

  it('rotation: the first key seals, older keys still open, and reseal moves a value to the current key', () => {
    const before = ring(`k1:${K1}`);
    const old = before.seal(personal, row);
    const after = ring(`k2:${K2},k1:${K1}`);
    expect(after.currentKid).to.equal('k2');
    expect(after.open(old, row)).to.equal(personal);
    expect(after.needsReseal(old)).to.equal(true);
    const moved = after.reseal(old, row);
    expect(Keyring.kidOf(moved)).to.equal('k2');
    expect(after.needsReseal(moved)).to.equal(false);
    // Once every value is re-sealed, the old key can go.
    expect(ring(`k2:${K2}`).open(moved, row)).to.equal(personal);
    const blob = before.sealBytes(Buffer.from('pdf'), row);
    expect(Keyring.kidOf(after.resealBytes(blob, row))).to.equal('k2');
  });

  describe('keyed hashes', () => {
    it('match equal values of one purpose without decrypting, and nothing else', () => {
      const keys = ring(`k1:${K1}`);
      const h = keys.keyedHash('idempotency', personal);
      expect(h).to.match(/^idx1\.[A-Za-z0-9_-]{43}$/);
      expect(keys.keyedHash('idempotency', personal)).to.equal(h);
      expect(keys.keyedHashMatches(h, 'idempotency', personal)).to.equal(true);
      expect(keys.keyedHashMatches(h, 'idempotency', personal.replace('Erika', 'Erica'))).to.equal(false);
      expect(keys.keyedHashMatches(h, 'search:iban', personal)).to.equal(false);
      expect(keys.keyedHashMatches('idx1', 'idempotency', personal)).to.equal(false);
      expect(keys.keyedHashMatches('other.' + h.slice(5), 'idempotency', personal)).to.equal(false);
    });

    it('do not change when the data keys rotate, and differ under another index key', () => {
      const h = ring(`k1:${K1}`).keyedHash('idempotency', 'x');
      expect(ring(`k2:${K2},k1:${K1}`).keyedHash('idempotency', 'x')).to.equal(h);
      expect(ring(`k1:${K1}`, `idx1:${key()}`).keyedHash('idempotency', 'x')).not.to.equal(h);
    });

    it('are found during an index key rotation: candidates under every key, stored ones still match', () => {
      const h = ring(`k1:${K1}`).keyedHash('search:iban', 'DE89370400440532013000');
      const rotating = ring(`k1:${K1}`, `idx2:${key()},idx1:${IDX}`);
      const candidates = rotating.keyedHashCandidates('search:iban', 'DE89370400440532013000');
      expect(candidates).to.have.length(2);
      expect(candidates[0]).to.match(/^idx2\./);
      expect(candidates[1]).to.equal(h);
      expect(rotating.keyedHashMatches(h, 'search:iban', 'DE89370400440532013000')).to.equal(true);
    });
  });

  describe('keys from the environment', () => {
    it('is off when no key is set', () => {
      expect(Keyring.fromEnvironment({})).to.equal(undefined);
    });

    it('reads a key file: one key a line, comments allowed, the first current', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'amtsbote-keys-'));
      try {
        writeFileSync(path.join(dir, 'data'), `# rotated 2026-12-01\nk2:${K2}\n\nk1:${K1}\n`, { mode: 0o600 });
        writeFileSync(path.join(dir, 'index'), `idx1:${IDX}\n`, { mode: 0o600 });
        const keys = Keyring.fromEnvironment({
          AMTSBOTE_DATA_KEYS_FILE: path.join(dir, 'data'),
          AMTSBOTE_INDEX_KEYS_FILE: path.join(dir, 'index'),
        })!;
        expect(keys.kids).to.deep.equal(['k2', 'k1']);
        expect(keys.open(ring(`k1:${K1}`).seal('x', row), row)).to.equal('x');
        const missing = thrown(() =>
          Keyring.fromEnvironment({ AMTSBOTE_DATA_KEYS_FILE: path.join(dir, 'nope'), AMTSBOTE_INDEX_KEYS: `idx1:${IDX}` }),
        );
        expect(missing.message).to.equal(`AMTSBOTE_DATA_KEYS_FILE: cannot read ${path.join(dir, 'nope')} (ENOENT)`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses a configuration it cannot use, naming the entry but never the key', () => {
      const short = randomBytes(31).toString('base64');
      const cases: [NodeJS.ProcessEnv, string][] = [
        [
          { AMTSBOTE_DATA_KEYS: `k1:${K1}` },
          'data keys are set but no index key: set AMTSBOTE_INDEX_KEYS or AMTSBOTE_INDEX_KEYS_FILE (a key of its own, for idempotency and search)',
        ],
        [
          { AMTSBOTE_INDEX_KEYS: `idx1:${IDX}` },
          'AMTSBOTE_INDEX_KEYS is set but no data key: set AMTSBOTE_DATA_KEYS or AMTSBOTE_DATA_KEYS_FILE',
        ],
        [
          { AMTSBOTE_DATA_KEYS: `k1:${K1}`, AMTSBOTE_DATA_KEYS_FILE: '/x', AMTSBOTE_INDEX_KEYS: `idx1:${IDX}` },
          'set AMTSBOTE_DATA_KEYS or AMTSBOTE_DATA_KEYS_FILE, not both',
        ],
        [
          { AMTSBOTE_DATA_KEYS: `k1:${K1},k2:${short}`, AMTSBOTE_INDEX_KEYS: `idx1:${IDX}` },
          'AMTSBOTE_DATA_KEYS, entry 2 (key id k2): the key is 31 bytes; it must be 32 (e.g. openssl rand -base64 32)',
        ],
        [
          { AMTSBOTE_DATA_KEYS: `k1:${K1.slice(0, 20)}!${K1.slice(21)}`, AMTSBOTE_INDEX_KEYS: `idx1:${IDX}` },
          'AMTSBOTE_DATA_KEYS, entry 1 (key id k1): the key is not base64',
        ],
        [
          { AMTSBOTE_DATA_KEYS: K1, AMTSBOTE_INDEX_KEYS: `idx1:${IDX}` },
          'AMTSBOTE_DATA_KEYS, entry 1: write kid:base64, the kid of letters, digits, "_" or "-" (at most 32)',
        ],
        [
          { AMTSBOTE_DATA_KEYS: `k1:${K1},k1:${K2}`, AMTSBOTE_INDEX_KEYS: `idx1:${IDX}` },
          'AMTSBOTE_DATA_KEYS, entry 2: the key id k1 is given twice',
        ],
        [{ AMTSBOTE_DATA_KEYS: ' , ', AMTSBOTE_INDEX_KEYS: `idx1:${IDX}` }, 'AMTSBOTE_DATA_KEYS holds no key'],
      ];
      for (const [env, message] of cases) {
        const e = thrown(() => Keyring.fromEnvironment(env));
        expect(e.code).to.equal('config');
        expect(e.message).to.equal(message);
        for (const secret of [K1, K2, IDX, short, K1.slice(0, 20)]) expect(e.message + e.stack).not.to.contain(secret);
      }
    });

    it('prints as its key ids only: inspect, JSON, String and template strings', () => {
      const keys = ring(`k2:${K2},k1:${K1}`);
      const shown = [
        inspect(keys, { showHidden: true, depth: 10 }),
        JSON.stringify({ keys }),
        String(keys),
        `${keys}`,
        inspect(parseKeyList(`k1:${K1}`, 'x'), { depth: 10, showHidden: true }),
      ];
      for (const text of shown) {
        for (const secret of [K1, K2, IDX, Buffer.from(K1, 'base64').toString('hex')]) expect(text).not.to.contain(secret);
      }
      expect(String(keys)).to.equal('Keyring(data keys: k2, k1; index keys: idx1)');
    });
  });
});
