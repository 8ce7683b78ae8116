import { expect } from 'chai';
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { BearerVerifier, bearerChallenge, bearerToken } from './bearer.ts';

const request = (authorization?: string) =>
  ({ get: (h: string) => (h.toLowerCase() === 'authorization' ? authorization : undefined) }) as unknown as Request;
const hash = (t: string) => 'sha256:' + createHash('sha256').update(t, 'utf8').digest('hex');

describe('BearerVerifier', () => {
  const verifier = new BearerVerifier([
    { tokenHash: hash('one-system'), principal: 'waste' },
    { tokenHash: hash('one-system'), principal: 'dogtax' },
    { tokenHash: hash('other'), principal: 'archive' },
  ]);

  it('answers every principal whose token was sent: targets of one system share it', () => {
    expect(verifier.verify(request('Bearer one-system'))).to.deep.equal({ ok: true, principals: ['waste', 'dogtax'] });
    expect(verifier.verify(request('bearer   other  '))).to.deep.equal({ ok: true, principals: ['archive'] });
  });

  it('tells a missing token from a wrong one, for the challenge', () => {
    expect(verifier.verify(request())).to.deep.equal({ ok: false, reason: 'missing' });
    expect(verifier.verify(request('Basic dXNlcjpwdw=='))).to.deep.equal({ ok: false, reason: 'missing' });
    expect(verifier.verify(request('Bearer nope'))).to.deep.equal({ ok: false, reason: 'invalid' });
    expect(bearerChallenge('amtsbote', 'invalid')).to.deep.equal({ 'WWW-Authenticate': 'Bearer realm="amtsbote", error="invalid_token"' });
  });

  it('made of one plain token, holds only its hash; none given, it is disabled', () => {
    expect(BearerVerifier.ofToken('s3cret', 'operator').verify(request('Bearer s3cret'))).to.deep.equal({
      ok: true,
      principals: ['operator'],
    });
    expect(BearerVerifier.ofToken('', 'operator').enabled).to.equal(false);
    expect(bearerToken(request('Bearer a b'))).to.equal(undefined);
  });
});
