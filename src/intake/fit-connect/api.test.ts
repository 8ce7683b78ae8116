import { expect } from 'chai';
import { startFitConnect, type FitConnectFixture } from '../../../test/support/fit-connect-simulator/fixture.ts';
import { SubmissionApi } from './api.ts';

describe('FIT-Connect Submission API client', function () {
  this.timeout(120_000);
  let f: FitConnectFixture;
  beforeEach(async () => {
    f = await startFitConnect({ pageSize: 2 });
  });
  afterEach(() => f.sim.stop());

  const submitOne = () =>
    f.sim.submit({
      destinationId: f.destinationId,
      data: { content: '{"hund":"Bello"}', mimeType: 'application/json', schemaUri: 'https://schema.example.org/hund.json' },
    });

  it('pages through every waiting submission with offset and limit', async () => {
    const put = [];
    for (let i = 0; i < 5; i++) put.push(await submitOne());
    const listed = await f.api.listSubmissions(f.destinationId);
    expect(listed.ok && listed.value.map((s) => s.submissionId)).to.deep.equal(put.map((s) => s.submissionId));
    expect(f.sim.requests.filter((r) => r.path === '/v1/submissions').length).to.equal(3);
  });

  it('fetches a submission, its attachment as JWE and its event log', async () => {
    const s = await f.sim.submit({
      destinationId: f.destinationId,
      data: { content: '<hund/>', mimeType: 'application/xml', schemaUri: 'urn:xoev-de:example:hund' },
      attachments: [{ content: Buffer.from('%PDF-1.7'), mimeType: 'application/pdf', filename: 'impfpass.pdf' }],
    });
    const got = await f.api.getSubmission(s.submissionId);
    if (!got.ok) throw new Error(got.error);
    expect(got.value).to.include({ caseId: s.caseId, encryptedMetadata: s.encryptedMetadata, encryptedData: s.encryptedData });
    const attachmentId = got.value.attachments[0]!;
    expect(await f.api.getAttachment(s.submissionId, attachmentId)).to.deep.equal({ ok: true, value: s.attachments.get(attachmentId) });
    const log = await f.api.getEvents(s.caseId);
    expect(log.ok && log.value.length).to.equal(1);
  });

  it('classifies failures: 5xx retryable, unknown submission permanent, unreachable platform retryable with host and port', async () => {
    await f.tokens.get();
    f.sim.failNext(1, 503);
    expect(await f.api.listSubmissions(f.destinationId)).to.include({ ok: false, retryable: true, errorKind: 'http-503' });
    expect(await f.api.getSubmission('00000000-0000-4000-8000-000000000000')).to.include({
      ok: false,
      retryable: false,
      errorKind: 'http-404',
    });
    const elsewhere = new SubmissionApi({ baseUrl: 'http://127.0.0.1:9', tokens: f.tokens });
    const down = await elsewhere.getSubmission('x');
    expect(down).to.include({ ok: false, retryable: true, errorKind: 'network' });
    expect(down.ok ? '' : down.error).to.contain('127.0.0.1:9');
  });

  it('replaces a token the platform refuses (revoked before its expiry) once, and sends the request again', async () => {
    await submitOne();
    await f.tokens.get();
    f.sim.revokeTokens();
    const listed = await f.api.listSubmissions(f.destinationId);
    expect(listed.ok && listed.value.length).to.equal(1);
    expect(f.sim.tokensIssued).to.equal(2);
  });
});
