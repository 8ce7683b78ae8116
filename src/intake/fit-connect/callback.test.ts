import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { CALLBACK_NEW_SUBMISSIONS, verifyCallback } from './callback.ts';

const secret = 'callback-secret-of-the-destination';
const now = Date.UTC(2026, 10, 24, 9, 0, 0);
const clock = () => now;
const seconds = (offset: number) => String(Math.floor(now / 1000) + offset);
const body = JSON.stringify({
  type: CALLBACK_NEW_SUBMISSIONS,
  submissions: [
    {
      destinationId: 'd12caea8-f372-4eb1-b102-b0a228253a11',
      submissionId: 'f39ab143-d91a-474a-b69f-b00f1a1873c2',
      caseId: '9eec7d3e-dc66-4f82-9f52-1520bf96a32e',
    },
  ],
});
const sign = (timestamp: string, raw: string, key = secret) => createHmac('sha512', key).update(`${timestamp}.${raw}`).digest('hex');

describe('FIT-Connect callback verification', () => {
  it('takes a callback with the right HMAC and a fresh timestamp, and lists its submissions', () => {
    const timestamp = seconds(-10);
    const result = verifyCallback({ authentication: sign(timestamp, body), timestamp, rawBody: body, secret, now: clock });
    expect(result.ok).to.equal(true);
    if (result.ok) expect(result.callback.submissions.map((s) => s.submissionId)).to.deep.equal(['f39ab143-d91a-474a-b69f-b00f1a1873c2']);
  });

  it('computes the HMAC over the raw bytes: the same JSON serialised differently does not pass', () => {
    const timestamp = seconds(0);
    const reformatted = JSON.stringify(JSON.parse(body), null, 2);
    const result = verifyCallback({ authentication: sign(timestamp, body), timestamp, rawBody: reformatted, secret, now: clock });
    expect(result).to.include({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a forged HMAC, one of another length, and one that is not hex', () => {
    const timestamp = seconds(0);
    for (const authentication of [sign(timestamp, body, 'another secret'), sign(timestamp, body).slice(0, 64), 'zz'.repeat(64)]) {
      expect(verifyCallback({ authentication, timestamp, rawBody: body, secret, now: clock })).to.include({
        ok: false,
        reason: 'bad-signature',
      });
    }
  });

  it('refuses a callback older than 5 minutes, even with a valid HMAC, and one dated ahead beyond the skew', () => {
    const stale = seconds(-301);
    expect(verifyCallback({ authentication: sign(stale, body), timestamp: stale, rawBody: body, secret, now: clock })).to.include({
      ok: false,
      reason: 'stale',
    });
    const edge = seconds(-300);
    expect(verifyCallback({ authentication: sign(edge, body), timestamp: edge, rawBody: body, secret, now: clock }).ok).to.equal(true);
    const ahead = seconds(120);
    expect(verifyCallback({ authentication: sign(ahead, body), timestamp: ahead, rawBody: body, secret, now: clock })).to.include({
      ok: false,
      reason: 'future',
    });
  });

  it('refuses missing headers, a timestamp that is no number, and a signed body of another type', () => {
    const timestamp = seconds(0);
    expect(verifyCallback({ authentication: undefined, timestamp, rawBody: body, secret, now: clock })).to.include({
      reason: 'missing-header',
    });
    expect(verifyCallback({ authentication: sign('soon', body), timestamp: 'soon', rawBody: body, secret, now: clock })).to.include({
      reason: 'stale',
    });
    const other = JSON.stringify({ type: 'https://example.org/other', submissions: [] });
    expect(verifyCallback({ authentication: sign(timestamp, other), timestamp, rawBody: other, secret, now: clock })).to.include({
      reason: 'bad-body',
    });
  });
});
