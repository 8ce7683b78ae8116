import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { CALLBACK_NEW_SUBMISSIONS, verifyCallback } from './callback.ts';
import { parseMetadata } from './metadata.ts';

// FIT-Connect's JSON (callbacks, decrypted metadata, the platform's answers) goes through the strict reader
// (src/http/strict-json.ts) like the portal API's: what JSON.parse let through is refused here.
describe('FIT-Connect JSON through the strict reader', () => {
  const secret = 'callback-secret-0123456789';
  const now = () => 1_800_000_000_000;
  const callback = (body: string) => {
    const timestamp = String(Math.floor(now() / 1000));
    const authentication = createHmac('sha512', secret).update(`${timestamp}.`).update(body).digest('hex');
    return verifyCallback({ secret, timestamp, authentication, rawBody: body, now });
  };
  const good = JSON.stringify({ type: CALLBACK_NEW_SUBMISSIONS, submissions: [] });

  it('a signed callback nested 100,000 deep, with a duplicate key or a __proto__ key is a bad body, not a crash', () => {
    expect(callback(good)).to.deep.include({ ok: true });
    for (const body of [
      `{"type":${'['.repeat(100_000)}`,
      good.replace('{', '{"type":"x",'),
      good.replace('{', '{"__proto__":{"polluted":1},'),
    ]) {
      expect(callback(body)).to.deep.equal({ ok: false, reason: 'bad-body', error: 'the callback body is not JSON' });
    }
  });

  it('decrypted metadata with a duplicate key or invalid UTF-8 is a syntax violation', () => {
    for (const bytes of [Buffer.from('{"$schema":"a","$schema":"b"}'), Buffer.from([0x7b, 0xff, 0x7d])]) {
      const r = parseMetadata(bytes);
      expect(r.ok).to.equal(false);
    }
  });
});
