import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { PORTAL_B_TOKEN, startTestHub, submission, type TestHub } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const xml = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/xml' }, body });

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`intake: POST /api/v1/submissions [${kind}]`, () => {
    let bo: TestBackOffice;
    let t: TestHub;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new TestBackOffice().start();
      // No worker: these tests look at what intake stored, not at delivery.
      t = await startTestHub({ kind, backOfficeUrl: bo.url, worker: { enabled: false } });
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
    });

    async function rowCounts() {
      const db = t.hub.store.db;
      const count = async (table: 'submissions' | 'deliveries' | 'events' | 'attachments') =>
        Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      return {
        submissions: await count('submissions'),
        deliveries: await count('deliveries'),
        events: await count('events'),
        attachments: await count('attachments'),
      };
    }

    /** Sends a request that must be refused, checks the problem document, and that nothing was written. */
    async function refused(init: Parameters<TestHub['fetch']>[1], status: number, type: string, path = '/api/v1/submissions') {
      const before = await rowCounts();
      const res = await t.fetch(path, init);
      expect(res.status, await res.clone().text()).to.equal(status);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      const problem = (await res.json()) as {
        type: string;
        title: string;
        status: number;
        detail?: string;
        errors?: { pointer: string; detail: string }[];
      };
      expect(problem.type).to.equal(`urn:amtsbote:problem:${type}`);
      expect(problem.status).to.equal(status);
      expect(problem.title).to.be.a('string');
      expect(JSON.stringify(problem)).not.to.match(/at .*\.ts:\d+|node_modules|SyntaxError|Error:/);
      expect(await rowCounts()).to.deep.equal(before);
      return problem;
    }

    it('stores a JSON submission with one delivery per route target and answers 202 with its location', async () => {
      const before = await rowCounts();
      const res = await t.fetch('/api/v1/submissions', json(submission({ service: 'hundeanmeldung', data: { dog: { name: 'Bello' } } })));
      expect(res.status).to.equal(202);
      const body = (await res.json()) as { id: string; status: string };
      expect(body.status).to.equal('received');
      expect(res.headers.get('location')).to.equal(`/api/v1/submissions/${body.id}`);
      const after = await rowCounts();
      expect(after.submissions - before.submissions).to.equal(1);
      expect(after.deliveries - before.deliveries).to.equal(2); // backoffice and archive
      const view = (await (await t.fetch(`/api/v1/submissions/${body.id}`)).json()) as {
        deliveries: { target: string; state: string }[];
        status: string;
      };
      expect(view.status).to.equal('received');
      expect(view.deliveries.map((d) => [d.target, d.state]).sort()).to.deep.equal([
        ['archive', 'queued'],
        ['backoffice', 'queued'],
      ]);
      expect(JSON.stringify(view)).not.to.include('Mustermann');
    });

    it('accepts the service by LeiKa key and a municipality through its district', async () => {
      const res = await t.fetch('/api/v1/submissions', json(submission({ tenant: '05562014', service: '99050012104000' })));
      expect(res.status).to.equal(202);
    });

    it('accepts the XML form, keeping leading zeros and typing marked values', async () => {
      const externalId = `xml-${Date.now()}`;
      const res = await t.fetch(
        '/api/v1/submissions',
        xml(`<?xml version="1.0" encoding="UTF-8"?>
<submission xmlns="urn:amtsbote:submission:1">
  <externalId>${externalId}</externalId><tenant>05513000</tenant><service>sperrmuell</service>
  <submittedAt>2026-11-24T09:30:00+01:00</submittedAt>
  <applicant><familyName>Mustermann &amp; Söhne</familyName><postalCode>04567</postalCode></applicant>
  <data><preferredDate>2026-12-07</preferredDate><items><item><kind>furniture</kind><quantity type="number">2</quantity></item></items></data>
  <attachments><item><filename>foto.txt</filename><mediaType>text/plain</mediaType><content>aGFsbG8=</content></item></attachments>
</submission>`),
      );
      expect(res.status, await res.clone().text()).to.equal(202);
      const { id } = (await res.json()) as { id: string };
      const src = await t.hub.store.messageSource(id);
      expect(JSON.parse(src!.content)).to.deep.equal({
        applicant: { familyName: 'Mustermann & Söhne', postalCode: '04567' },
        data: { preferredDate: '2026-12-07', items: [{ kind: 'furniture', quantity: 2 }] },
      });
      expect(src!.attachments[0]).to.include({ filename: 'foto.txt', size: 5 });
      expect(src!.attachments[0]!.content.toString()).to.equal('hallo');
    });

    it('answers a repeat of the same submission with the first id and creates no new delivery', async () => {
      const s = submission();
      const first = (await (await t.fetch('/api/v1/submissions', json(s))).json()) as { id: string };
      const before = await rowCounts();
      // Same content, other key order: still the same submission.
      const reordered = Object.fromEntries(Object.entries(s).reverse());
      const res = await t.fetch('/api/v1/submissions', json(reordered));
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { id: string }).id).to.equal(first.id);
      expect(res.headers.get('location')).to.equal(`/api/v1/submissions/${first.id}`);
      expect(await rowCounts()).to.deep.equal(before);
    });

    it('answers 409 for the same external id with a different body', async () => {
      const s = submission();
      expect((await t.fetch('/api/v1/submissions', json(s))).status).to.equal(202);
      await refused(json({ ...s, data: { preferredDate: '2026-12-08', items: [] } }), 409, 'external-id-conflict');
    });

    it('keeps external ids apart per portal', async () => {
      const s = submission({ tenant: '05512000' });
      const a = await t.fetch('/api/v1/submissions', { ...json(s), token: PORTAL_B_TOKEN });
      expect(a.status).to.equal(202);
      const b = await t.fetch('/api/v1/submissions', json({ ...s, tenant: '05513000' }));
      expect(b.status).to.equal(202);
    });

    it('answers 400 to malformed JSON and XML', async () => {
      const p = await refused(json('{"externalId": "x",'), 400, 'malformed-body');
      expect(p.detail).to.match(/not valid JSON/);
      await refused(xml('<submission><externalId>x</submission>'), 400, 'malformed-body');
    });

    // Issue 13: an intake no hostile input can bend. Each of these was accepted, altered or a 500 before.
    describe('hostile input', () => {
      const envelopeXml = (inner: string) =>
        `<submission><externalId>h-${Math.random()}</externalId><tenant>05513000</tenant><service>sperrmuell</service><submittedAt>2026-11-24T09:30:00Z</submittedAt><applicant><familyName>M</familyName></applicant><data>${inner}</data></submission>`;

      it('answers deep nesting 400 without an error-log line, JSON and XML, even 150,000 levels', async () => {
        const errorsBefore = t.logLines.filter((l) => l.includes('"level":"error"')).length;
        for (const depth of [5_000, 150_000]) {
          const p = await refused(json(`{"data":${'['.repeat(depth)}`), 400, 'malformed-body');
          expect(p.detail).to.equal('the body is nested deeper than 64 levels');
          const x = await refused(xml(envelopeXml('<a>'.repeat(depth) + '</a>'.repeat(depth))), 400, 'malformed-body');
          expect(x.detail).to.match(/^elements are nested deeper than 64 levels/);
        }
        expect(t.logLines.filter((l) => l.includes('"level":"error"')).length).to.equal(errorsBefore);
      });

      it('refuses __proto__ with 422 on a first send and on a resend that adds one, storing nothing', async () => {
        const s = submission();
        const withProto = JSON.stringify(s).replace('"data":{', '"data":{"__proto__":{"amount":1},');
        const p = await refused(json(withProto), 422, 'invalid-submission');
        expect(p.errors).to.deep.equal([{ pointer: '#/data/__proto__', detail: 'the key "__proto__" is not accepted' }]);
        // The same external id, sent clean, is new; a resend that changes a value under __proto__ is not "the same".
        expect((await t.fetch('/api/v1/submissions', json(s))).status).to.equal(202);
        await refused(json(withProto), 422, 'invalid-submission');
        await refused(json(JSON.stringify(s).replace('"applicant":{', '"applicant":{"constructor":"x",')), 422, 'invalid-submission');
      });

      it('refuses XML elements named __proto__ or constructor with 400, not a 500 and an error-log line', async () => {
        const errorsBefore = t.logLines.filter((l) => l.includes('"level":"error"')).length;
        for (const name of ['__proto__', 'constructor']) {
          const p = await refused(xml(envelopeXml(`<${name}><amount>1</amount></${name}>`)), 400, 'malformed-body');
          expect(p.detail).to.equal('element and attribute names __proto__, constructor and prototype are not accepted');
        }
        expect(t.logLines.filter((l) => l.includes('"level":"error"')).length).to.equal(errorsBefore);
      });

      it('refuses duplicate keys with 422 and their path', async () => {
        const body = JSON.stringify(submission()).replace('{', '{"tenant":"05512000",');
        const p = await refused(json(body), 422, 'invalid-submission');
        expect(p.errors).to.deep.equal([{ pointer: '#/tenant', detail: 'the key "tenant" appears twice in one object' }]);
      });

      it('refuses bytes that are not UTF-8 with 400 instead of storing U+FFFD, JSON and XML', async () => {
        const [head, tail] = JSON.stringify(submission({ applicant: { familyName: 'MXller' } })).split('X') as [string, string];
        const p = await refused(
          { ...json(''), body: Buffer.concat([Buffer.from(head), Buffer.from([0xfc]), Buffer.from(tail)]) },
          400,
          'malformed-body',
        );
        expect(p.detail).to.match(/^the body is not valid UTF-8 \(at byte \d+\)$/);
        const [xh, xt] = envelopeXml('<n>X</n>').split('X') as [string, string];
        await refused(
          { ...xml(''), body: Buffer.concat([Buffer.from(xh), Buffer.from([0xc0, 0xaf]), Buffer.from(xt)]) },
          400,
          'malformed-body',
        );
      });

      it('refuses XML character references XML forbids, instead of storing an empty string', async () => {
        for (const ref of ['&#0;', '&#xD800;', '&#x1B;']) {
          const p = await refused(xml(envelopeXml(`<n>${ref}</n>`)), 400, 'malformed-body');
          expect(p.detail, ref).to.match(/names a character XML does not allow/);
        }
      });

      it('reads type="number" by JSON’s grammar: 0x10 is not 16', async () => {
        await refused(xml(envelopeXml('<n type="number">0x10</n>')), 400, 'malformed-body');
        await refused(xml(envelopeXml('<n type="number">Infinity</n>')), 400, 'malformed-body');
        await refused(
          json(JSON.stringify(submission()).replace('"data":{', '"data":{"n":12345678901234567891,')),
          422,
          'invalid-submission',
        );
      });

      it('takes a quoted charset and a leading BOM', async () => {
        const quoted = await t.fetch('/api/v1/submissions', {
          ...json(submission()),
          headers: { 'content-type': 'application/json; charset="utf-8"' },
        });
        expect(quoted.status, await quoted.clone().text()).to.equal(202);
        const bom = await t.fetch('/api/v1/submissions', {
          ...json(''),
          body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(submission()))]),
        });
        expect(bom.status, await bom.clone().text()).to.equal(202);
        await refused(
          { ...json(submission()), headers: { 'content-type': 'application/json; x="; charset=latin1"; charset=latin1' } },
          415,
          'unsupported-media-type',
        );
        await refused(
          { ...json(submission()), headers: { 'content-type': 'application/json; charset=utf-8; charset=latin1' } },
          415,
          'unsupported-media-type',
        );
      });

      it('puts security headers on every answer, no-store on submission reads, and answers OPTIONS 405 problem+json', async () => {
        const res = await t.fetch('/api/v1/submissions', json(submission()));
        const { id } = (await res.json()) as { id: string };
        const read = await t.fetch(`/api/v1/submissions/${id}`);
        for (const r of [res, read]) {
          expect(r.headers.get('x-content-type-options')).to.equal('nosniff');
          expect(r.headers.get('x-frame-options')).to.equal('DENY');
          expect(r.headers.get('content-security-policy')).to.match(/^default-src 'none'/);
          expect(r.headers.get('cache-control')).to.equal('no-store');
        }
        const options = await refused({ method: 'OPTIONS' }, 405, 'method-not-allowed');
        expect(options.detail).to.equal('/api/v1/submissions allows POST');
        expect((await t.fetch(`/api/v1/submissions/${id}`, { method: 'OPTIONS' })).headers.get('allow')).to.equal('GET, HEAD');
      });
    });

    it('decodes character references and refuses entities XML does not define', async () => {
      const envelope = (name: string) =>
        `<submission><externalId>cr-${Math.random()}</externalId><tenant>05513000</tenant><service>sperrmuell</service><submittedAt>2026-11-24T09:30:00Z</submittedAt><applicant><familyName>${name}</familyName></applicant><data/></submission>`;
      const res = await t.fetch('/api/v1/submissions', xml(envelope('M&#252;ller-&#xDF;')));
      expect(res.status, await res.clone().text()).to.equal(202);
      const src = await t.hub.store.messageSource(((await res.json()) as { id: string }).id);
      expect(JSON.parse(src!.content).applicant.familyName).to.equal('Müller-ß');
      const p = await refused(xml(envelope('M&uuml;ller')), 400, 'malformed-body');
      expect(p.detail).to.match(/undefined entity &uuml;/);
    });

    it('refuses XML with a DOCTYPE or entity declarations (no entity expansion)', async () => {
      const p = await refused(
        xml(
          '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><submission><externalId>&b;</externalId></submission>',
        ),
        400,
        'malformed-body',
      );
      expect(p.detail).to.match(/DOCTYPE/);
    });

    it('refuses XML in another namespace, and takes an empty <attachments/> as none', async () => {
      const p = await refused(xml('<submission xmlns="urn:example:other"><externalId>x</externalId></submission>'), 400, 'malformed-body');
      expect(p.detail).to.match(/unknown namespace urn:example:other/);
      const res = await t.fetch(
        '/api/v1/submissions',
        xml(
          `<s:submission xmlns:s="urn:amtsbote:submission:1"><s:externalId>ns-${Date.now()}</s:externalId><s:tenant>05513000</s:tenant><s:service>sperrmuell</s:service><s:submittedAt>2026-11-24T09:30:00Z</s:submittedAt><s:applicant><s:familyName>M</s:familyName></s:applicant><s:data><s:preferredDate>2026-12-07</s:preferredDate></s:data><s:attachments/></s:submission>`,
        ),
      );
      expect(res.status, await res.clone().text()).to.equal(202);
    });

    it('answers 422 with the path of every offending field', async () => {
      const p = await refused(
        json({
          externalId: 'has space',
          tenant: '123',
          service: 'sperrmuell',
          submittedAt: 'yesterday',
          applicant: 'me',
          data: {},
          attachments: [{ filename: '../etc/passwd', mediaType: 'text', content: '***' }],
          extra: 1,
        }),
        422,
        'invalid-submission',
      );
      const pointers = p.errors!.map((e) => e.pointer).sort();
      expect(pointers).to.deep.equal([
        '#/applicant',
        '#/attachments/0/content',
        '#/attachments/0/filename',
        '#/attachments/0/mediaType',
        '#/externalId',
        '#/extra',
        '#/submittedAt',
        '#/tenant',
      ]);
      expect(p.errors).to.deep.include({ pointer: '#/applicant', detail: 'expected object' });
      expect(JSON.stringify(p)).not.to.include('"me"'); // the value is not echoed
      const missing = await refused(json({ tenant: '05513000' }), 422, 'invalid-submission');
      expect(missing.errors).to.deep.include({ pointer: '#/externalId', detail: 'required' });
    });

    it('answers 422 for an unknown tenant, an unknown service and a pair without a route', async () => {
      const p = await refused(json(submission({ tenant: '09162000', service: 'baugenehmigung' })), 422, 'invalid-submission');
      expect(p.errors!.map((e) => e.pointer)).to.deep.equal(['#/tenant', '#/service']);
      const noRoute = await refused(json(submission({ tenant: '05562', service: 'sperrmuell' })), 422, 'invalid-submission');
      expect(noRoute.detail).to.match(/no route/);
    });

    it('answers 403 to a portal submitting for a tenant it is not allowed', async () => {
      await refused(json(submission({ tenant: '05512000' })), 403, 'tenant-not-allowed');
    });

    it('answers 401 without a token or with a wrong one', async () => {
      await refused({ ...json(submission()), token: null }, 401, 'unauthorized');
      const res = await t.fetch('/api/v1/submissions', { ...json(submission()), token: 'not-a-token-of-anyone' });
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
    });

    it('answers 415 to other media types and 413 to bodies over the limit', async () => {
      await refused({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }, 415, 'unsupported-media-type');
      await refused({ method: 'POST', body: 'hello' }, 415, 'unsupported-media-type');
      const big = JSON.stringify(
        submission({
          attachments: [{ filename: 'big.bin', mediaType: 'application/octet-stream', content: 'A'.repeat(26 * 1024 * 1024) }],
        }),
      );
      await refused(json(big), 413, 'body-too-large');
    });

    it('shows a submission only to the portal that sent it', async () => {
      const { id } = (await (await t.fetch('/api/v1/submissions', json(submission()))).json()) as { id: string };
      expect((await t.fetch(`/api/v1/submissions/${id}`)).status).to.equal(200);
      expect((await t.fetch(`/api/v1/submissions/${id}`, { token: PORTAL_B_TOKEN })).status).to.equal(404);
      expect((await t.fetch(`/api/v1/submissions/${id}`, { token: null })).status).to.equal(401);
      expect((await t.fetch('/api/v1/submissions/not-an-id')).status).to.equal(404);
    });

    it('never writes form data into the log', async () => {
      await t.fetch('/api/v1/submissions', json(submission({ applicant: { familyName: 'Geheimname' } })));
      const log = t.logLines.join('');
      expect(log).to.include('submission received');
      expect(log).not.to.include('Geheimname');
    });
  });
}
