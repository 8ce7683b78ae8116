import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { verifyCallback } from '../src/intake/fit-connect/callback.ts';
import { PROBLEM_BASE } from '../src/intake/fit-connect/problems.ts';
import { acceptSubmission, receiveSubmission, rejectSubmission } from '../src/intake/fit-connect/receive.ts';
import { startFitConnect, type FitConnectFixture } from './support/fit-connect-simulator/fixture.ts';

/**
 * The FIT-Connect subscriber's pieces against the simulated platform, as the hub will use them: poll (or be
 * called back), fetch, decrypt, verify, then accept or reject with a signed SET that the platform checks.
 */
describe('FIT-Connect subscriber against the simulated platform', function () {
  // The first test of a run waits for the 4096-bit test keys (about 10 s on a shared CPU).
  this.timeout(120_000);
  let f: FitConnectFixture;
  beforeEach(async () => {
    f = await startFitConnect();
  });
  afterEach(() => f.sim.stop());

  const dogRegistration = JSON.stringify({ halter: { name: 'Erika Mustermann' }, hund: { name: 'Bello', rasse: 'Dackel' } });
  const data = {
    content: dogRegistration,
    mimeType: 'application/json' as const,
    schemaUri: 'https://schema.fitko.de/fim/s00000092_1.0.schema.json',
  };
  const vaccination = { content: Buffer.from('%PDF-1.7 Impfpass'), mimeType: 'application/pdf', filename: 'impfpass.pdf' };

  it('lists, fetches, decrypts and verifies a submission, and accepts it with a SET the platform verifies', async () => {
    const put = await f.sim.submit({ destinationId: f.destinationId, data, attachments: [vaccination] });

    const waiting = await f.api.listSubmissions(f.destinationId);
    if (!waiting.ok) throw new Error(waiting.error);
    expect(waiting.value).to.deep.equal([{ destinationId: f.destinationId, submissionId: put.submissionId, caseId: put.caseId }]);

    const outcome = await receiveSubmission(f.api, put.submissionId, f.decryptionKey);
    if (outcome.kind !== 'valid') throw new Error(`not valid: ${JSON.stringify(outcome)}`);
    expect(new TextDecoder().decode(outcome.submission.data)).to.equal(dogRegistration);
    expect(outcome.submission.metadata.contentStructure.data?.submissionSchema.mimeType).to.equal('application/json');
    expect(outcome.submission.attachments.map((a) => [a.filename, Buffer.from(a.content).toString()])).to.deep.equal([
      ['impfpass.pdf', '%PDF-1.7 Impfpass'],
    ]);

    expect(await acceptSubmission(f.api, f.signer, outcome.submission)).to.deep.equal({ ok: true, value: undefined });
    expect(f.sim.refusedEvents).to.deep.equal([]);
    expect(f.sim.submissions.get(put.submissionId)!.state).to.equal('accepted');
    const log = await f.api.getEvents(put.caseId);
    expect(log.ok && log.value.length).to.equal(2);
    const waitingAfter = await f.api.listSubmissions(f.destinationId);
    expect(waitingAfter.ok && waitingAfter.value).to.deep.equal([]);
  });

  it('rejects a submission whose data JWE was changed on the way with encryption-issue on the data', async () => {
    const put = await f.sim.submit({ destinationId: f.destinationId, data, tamper: { dataCiphertext: true } });
    const outcome = await receiveSubmission(f.api, put.submissionId, f.decryptionKey);
    if (outcome.kind !== 'invalid') throw new Error(`not invalid: ${outcome.kind}`);
    expect(outcome.problems.map((p) => [p.type, p.instance])).to.deep.equal([[`${PROBLEM_BASE}encryption-issue`, 'data']]);

    expect((await rejectSubmission(f.api, f.signer, outcome.pickup, outcome.problems)).ok).to.equal(true);
    const recorded = f.sim.submissions.get(put.submissionId)!;
    expect(recorded.state).to.equal('rejected');
    expect(recorded.problems).to.deep.equal(outcome.problems);
  });

  it('rejects a submission whose metadata names a wrong hash for an attachment with hash-mismatch on that attachment', async () => {
    const put = await f.sim.submit({ destinationId: f.destinationId, data, attachments: [vaccination], tamper: { attachmentHash: 0 } });
    const attachmentId = [...put.attachments.keys()][0]!;
    const outcome = await receiveSubmission(f.api, put.submissionId, f.decryptionKey);
    if (outcome.kind !== 'invalid') throw new Error(`not invalid: ${outcome.kind}`);
    expect(outcome.problems).to.deep.equal([
      {
        type: `${PROBLEM_BASE}hash-mismatch`,
        title: 'Prüfsumme stimmt nicht',
        detail: `Der Hashwert der Anlage ${attachmentId} stimmt nicht.`,
        instance: `attachment:${attachmentId}`,
      },
    ]);
    await rejectSubmission(f.api, f.signer, outcome.pickup, outcome.problems);
    expect(f.sim.submissions.get(put.submissionId)!.state).to.equal('rejected');
  });

  it('the platform refuses an accept whose authentication tags are not those of the submission', async () => {
    const first = await f.sim.submit({ destinationId: f.destinationId, data });
    const second = await f.sim.submit({ destinationId: f.destinationId, data });
    const a = await receiveSubmission(f.api, first.submissionId, f.decryptionKey);
    const b = await receiveSubmission(f.api, second.submissionId, f.decryptionKey);
    if (a.kind !== 'valid' || b.kind !== 'valid') throw new Error('not valid');
    const mixed = { ...a.submission, authenticationTags: b.submission.authenticationTags };
    expect(await acceptSubmission(f.api, f.signer, mixed)).to.include({ ok: false, retryable: false, errorKind: 'http-422' });
    expect(f.sim.refusedEvents.map((e) => e.reason)).to.deep.equal(['authenticationTags.metadata does not match the submitted metadata']);
    expect(f.sim.submissions.get(first.submissionId)!.state).to.equal('submitted');
  });

  it('keeps polling across token expiry: after 31 minutes of the clock a new token is fetched', async () => {
    await f.sim.submit({ destinationId: f.destinationId, data });
    expect((await f.api.listSubmissions(f.destinationId)).ok).to.equal(true);
    f.clock.advance(31 * 60_000);
    const again = await f.api.listSubmissions(f.destinationId);
    expect(again.ok && again.value.length).to.equal(1);
    expect(f.sim.tokensIssued).to.equal(2);
    expect(f.sim.requests.filter((r) => r.status === 401)).to.deep.equal([]);
  });

  describe('callbacks', () => {
    const secret = 'callback-secret-from-the-environment';
    let receiver: Server;
    let url: string;
    const heard: string[][] = [];
    beforeEach(async () => {
      heard.length = 0;
      const app = express();
      app.post('/callbacks/fit-connect', express.raw({ type: () => true }), (req, res) => {
        const result = verifyCallback({
          authentication: req.get('callback-authentication'),
          timestamp: req.get('callback-timestamp'),
          rawBody: req.body as Buffer,
          secret,
          now: f.clock.now,
        });
        if (!result.ok) return void res.status(401).json({ title: result.error });
        heard.push(result.callback.submissions.map((s) => s.submissionId));
        res.status(204).end();
      });
      await new Promise<void>((resolve) => {
        receiver = app.listen(0, '127.0.0.1', () => resolve());
      });
      url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callbacks/fit-connect`;
    });
    afterEach(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

    it('a callback with the right HMAC names the new submission', async () => {
      const put = await f.sim.submit({ destinationId: f.destinationId, data });
      expect(await f.sim.fireCallback({ url, secret, submissions: [put] })).to.equal(204);
      expect(heard).to.deep.equal([[put.submissionId]]);
    });

    it('a forged and a stale callback are refused and heard by no one', async () => {
      const put = await f.sim.submit({ destinationId: f.destinationId, data });
      expect(await f.sim.fireCallback({ url, secret, submissions: [put], forge: true })).to.equal(401);
      expect(await f.sim.fireCallback({ url, secret, submissions: [put], ageSeconds: 6 * 60 })).to.equal(401);
      expect(heard).to.deep.equal([]);
      expect(f.sim.submissions.get(put.submissionId)!.state).to.equal('submitted');
    });
  });
});
