import { expect } from 'chai';
import { CompactEncrypt, compactVerify, decodeProtectedHeader, generateKeyPair, exportJWK, importJWK } from 'jose';
import { testKeys, type TestKeys } from '../../../test/support/fit-connect-simulator/index.ts';
import {
  EVENT_ACCEPT,
  EVENT_REJECT,
  authenticationTag,
  buildAcceptSet,
  buildRejectSet,
  checkHash,
  decryptJwe,
  importDecryptionKey,
  importSigningKey,
  sha512Hex,
} from './crypto.ts';
import { PROBLEM_BASE, problems } from './problems.ts';

describe('FIT-Connect crypto', function () {
  // 4096-bit keys: generated once for the whole run (see test/support/fit-connect-simulator/keys.ts).
  this.timeout(120_000);
  let keys: TestKeys;
  before(async () => {
    keys = await testKeys();
  });

  async function encryptFor(plaintext: string, alg = 'RSA-OAEP-256', enc = 'A256GCM'): Promise<string> {
    const { key_ops: _o, ...pub } = keys.destination.encryption.publicJwk;
    return new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader({ alg, enc }).encrypt(await importJWK(pub, alg));
  }

  it('decrypts RSA-OAEP-256 + A256GCM with the private key that has key_ops ["unwrapKey"]', async () => {
    const key = await importDecryptionKey(keys.destination.encryption.privateJwk);
    if (!key.ok) throw new Error(key.error);
    const result = await decryptJwe(await encryptFor('{"hund":"Bello"}'), key.key, 'data');
    expect(result.ok && new TextDecoder().decode(result.plaintext)).to.equal('{"hund":"Bello"}');
  });

  it('refuses other algorithms before using the key, with encryption-issue on the part concerned', async () => {
    const key = await importDecryptionKey(keys.destination.encryption.privateJwk);
    if (!key.ok) throw new Error(key.error);
    for (const [alg, enc] of [
      ['RSA-OAEP', 'A256GCM'],
      ['RSA-OAEP-256', 'A128GCM'],
      ['RSA-OAEP-256', 'A256CBC-HS512'],
    ] as const) {
      const result = await decryptJwe(await encryptFor('x', alg, enc), key.key, 'attachment:0b799252-deb9-42b0-98d3-c50d24bbafe0');
      expect(result.ok ? undefined : result.problem).to.include({
        type: `${PROBLEM_BASE}encryption-issue`,
        instance: 'attachment:0b799252-deb9-42b0-98d3-c50d24bbafe0',
      });
    }
    const garbage = await decryptJwe('not-a-jwe', key.key, 'metadata');
    expect(garbage.ok ? undefined : garbage.problem.instance).to.equal('metadata');
  });

  it('refuses keys FIT-Connect does not allow: public only, without unwrapKey, under 4096 bits', async () => {
    expect(await importDecryptionKey(keys.destination.encryption.publicJwk)).to.include({ ok: false });
    expect(await importDecryptionKey({ ...keys.destination.encryption.privateJwk, key_ops: ['decrypt'] })).to.deep.include({
      ok: false,
      error: 'the decryption key must have key_ops ["unwrapKey"]',
    });
    const small = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true });
    const weak = await importDecryptionKey({ ...(await exportJWK(small.privateKey)), kid: 'k', key_ops: ['unwrapKey'] });
    expect(weak.ok ? '' : weak.error).to.contain('2048 bits');
  });

  it('checks SHA-512 hashes of the decrypted bytes', () => {
    const bytes = new TextEncoder().encode('<Gewerbeanzeige/>');
    expect(checkHash(bytes, { type: 'sha512', content: sha512Hex(bytes) }, 'data')).to.equal(undefined);
    expect(checkHash(bytes, { type: 'sha512', content: sha512Hex(new TextEncoder().encode('other')) }, 'data')).to.include({
      type: `${PROBLEM_BASE}hash-mismatch`,
      instance: 'data',
    });
  });

  it('signs an accept SET with PS512, typ secevent+jwt and kid, carrying the documented claims and tags', async () => {
    const signing = await importSigningKey(keys.destination.signing.privateJwk);
    if (!signing.ok) throw new Error(signing.error);
    const jwe = await encryptFor('x');
    const set = await buildAcceptSet(
      { destinationId: 'dest-1', submissionId: 'sub-1', caseId: 'case-1', issuedAt: 1_800_000_000, key: signing.key, kid: signing.kid },
      { metadata: authenticationTag(jwe), data: 'dataTag', attachments: { 'att-1': 'attTag' } },
    );
    expect(decodeProtectedHeader(set)).to.deep.equal({ alg: 'PS512', typ: 'secevent+jwt', kid: keys.destination.signing.privateJwk.kid });
    const { payload } = await compactVerify(set, await importJWK(keys.destination.signing.publicJwk, 'PS512'));
    const claims = JSON.parse(new TextDecoder().decode(payload));
    expect(claims).to.include({ iss: 'dest-1', iat: 1_800_000_000, sub: 'submission:sub-1', txn: 'case:case-1' });
    expect(claims.jti).to.match(/^[0-9a-f-]{36}$/);
    expect(claims.events).to.deep.equal({
      [EVENT_ACCEPT]: { authenticationTags: { metadata: jwe.split('.')[4], data: 'dataTag', attachments: { 'att-1': 'attTag' } } },
    });
  });

  it('signs a reject SET with its problems', async () => {
    const signing = await importSigningKey(keys.destination.signing.privateJwk);
    if (!signing.ok) throw new Error(signing.error);
    const found = [problems.hashMismatch('data', 'Der Hashwert der Fachdaten stimmt nicht.')];
    const set = await buildRejectSet(
      { destinationId: 'd', submissionId: 's', caseId: 'c', issuedAt: 1, key: signing.key, kid: signing.kid },
      found,
    );
    const claims = JSON.parse(Buffer.from(set.split('.')[1]!, 'base64url').toString('utf8'));
    expect(claims.events).to.deep.equal({ [EVENT_REJECT]: { problems: found } });
  });
});
