import { expect } from 'chai';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { openApiDocument } from '../src/api-description.ts';
import type { Header, Operation, Reference, ResponseObject } from '../src/http/openapi/types.ts';
import { TestBackOffice } from './support/backoffice.ts';
import { validateEnvelope } from '../src/intake/envelope.ts';
import { problemTypes, type ProblemType } from '../src/problems.ts';
import { eventually, PORTAL_B_TOKEN, startTestHub, submission, type TestHub } from './support/hub.ts';

/** Bytes that start as a JPEG does (intake checks an attachment's bytes against its declared type), base64. */
const jpeg = (rest: string) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(rest)]).toString('base64');

/** Every operation the express app serves (src/hub.ts, src/intake/http.ts, src/operator/health.ts), by hand. */
const SERVED = [
  'POST /api/v1/submissions',
  'GET /api/v1/submissions/{id}',
  'POST /api/v1/inbound/{channel}',
  'POST /api/v1/fit-connect/{destination}/callback',
  'GET /api/v1/openapi.json',
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'POST /api/v1/deliveries/{id}/replay',
  'POST /api/v1/deliveries/replay',
  'POST /api/v1/backoffice-events',
  'GET /api/v1/targets',
  'GET /api/v1/targets/{id}',
  'GET /api/v1/reconcile/runs',
  'POST /api/v1/reconcile/runs',
  'GET /api/v1/reconcile/runs/{id}',
  'POST /api/v1/reconcile/runs/{id}/redeliver',
  'POST /api/v1/reconcile/discrepancies/{id}/redeliver',
  'GET /api/v1/console/overview',
  'GET /api/v1/console/submissions',
  'GET /api/v1/console/submissions/counts',
  'GET /api/v1/console/submissions/{id}',
  'GET /api/v1/console/submissions/{id}/form-data',
  'GET /api/v1/console/log',
  'GET /api/v1/session',
];

const DOC_ID = 'https://amtsbote.invalid/openapi.json';
type Method = 'get' | 'post';

// ajv and ajv-formats are CommonJS: under NodeNext the default import is module.exports.
const AjvClass = (Ajv2020 as unknown as { default: typeof Ajv2020.default }).default;
const addFormatsFn = (addFormats as unknown as { default: typeof addFormats.default }).default;

/** `/api/v1/submissions/{id}` → `~1api~1v1~1submissions~1%7Bid%7D` */
const seg = (s: string) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'));

const isRef = (x: unknown): x is Reference => typeof x === 'object' && x !== null && '$ref' in x;

function deref<T>(x: T | Reference): T {
  if (!isRef(x)) return x;
  const parts = x.$ref
    .replace(/^#\//, '')
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let at: unknown = openApiDocument;
  for (const p of parts) at = (at as Record<string, unknown> | undefined)?.[p];
  if (at === undefined) throw new Error(`unresolved $ref ${x.$ref}`);
  return at as T;
}

describe('OpenAPI description', function () {
  this.timeout(60_000);
  let bo: TestBackOffice;
  let t: TestHub;
  const ajv = new AjvClass({ strict: false, allErrors: true });
  addFormatsFn(ajv);
  ajv.addSchema({ ...openApiDocument, $id: DOC_ID });
  const validators = new Map<string, ValidateFunction>();
  const validator = (pointer: string): ValidateFunction => {
    let v = validators.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
      validators.set(pointer, v);
    }
    return v;
  };
  const check = (pointer: string, value: unknown, what: string) => {
    const v = validator(pointer);
    if (!v(value))
      expect.fail(`${what} does not match ${pointer}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value, null, 1).slice(0, 2000)}`);
  };

  function operation(path: string, method: Method): Operation {
    const op = openApiDocument.paths[path]?.[method];
    if (!op) expect.fail(`${method.toUpperCase()} ${path} is not documented`);
    return op;
  }

  /**
   * Checks a real response against the document: the status and content type must be documented for the
   * operation, the body must match the schema, the documented required headers must be present and match.
   * Returns the parsed body.
   */
  async function conforms(res: Response, path: string, method: Method): Promise<any> {
    const op = operation(path, method);
    const status = String(res.status);
    const documented = op.responses[status];
    const text = await res.text();
    if (!documented) expect.fail(`${method.toUpperCase()} ${path} answered ${status}, which is not documented: ${text.slice(0, 300)}`);
    const response = deref<ResponseObject>(documented);
    const contentType = res.headers.get('content-type') ?? '';
    const essence = contentType.split(';')[0]!.trim().toLowerCase();
    const base = `/paths/${seg(path)}/${method}/responses/${status}`;
    if (!response.content) {
      expect(text, `${method.toUpperCase()} ${path} ${status} is documented without a body`).to.equal('');
    } else {
      if (!response.content[essence])
        expect.fail(
          `${method.toUpperCase()} ${path} ${status} answered ${contentType || 'no content type'}; documented: ${Object.keys(response.content).join(', ')}`,
        );
    }
    for (const [name, h] of Object.entries(response.headers ?? {})) {
      const header = deref<Header>(h);
      const value = res.headers.get(name);
      if (header.required) expect(value, `header ${name} on ${method.toUpperCase()} ${path} ${status}`).to.be.a('string');
      if (value !== null) {
        const pointer = isRef(h) ? h.$ref.replace(/^#/, '') + '/schema' : `${base}/headers/${seg(name)}/schema`;
        check(pointer, value, `header ${name}`);
      }
    }
    if (!response.content) return undefined;
    const body: unknown = /[/+]json$/.test(essence) ? JSON.parse(text) : text;
    check(`${base}/content/${seg(essence)}/schema`, body, `${method.toUpperCase()} ${path} ${status} (${essence})`);
    return body;
  }

  const post = (body: string, init: { contentType?: string; token?: string | null } = {}) =>
    t.fetch('/api/v1/submissions', {
      method: 'POST',
      headers: init.contentType === undefined ? { 'content-type': 'application/json' } : { 'content-type': init.contentType },
      body,
      ...(init.token !== undefined ? { token: init.token } : {}),
    });
  const postJson = (envelope: Record<string, unknown>, token?: string | null) =>
    post(JSON.stringify(envelope), token === undefined ? {} : { token });
  const getSubmission = (id: string, token?: string | null) => t.fetch(`/api/v1/submissions/${id}`, token === undefined ? {} : { token });

  async function delivered(id: string, status: 'delivered' | 'failed' = 'delivered'): Promise<any> {
    return eventually(
      async () => {
        const res = await getSubmission(id);
        const body = (await res.clone().json()) as { status?: string };
        return body.status === status && conforms(res, '/api/v1/submissions/{id}', 'get');
      },
      10_000,
      `submission ${id} ${status}`,
    );
  }

  before(async () => {
    bo = await new TestBackOffice().start();
    t = await startTestHub({ kind: 'sqlite', backOfficeUrl: bo.url });
  });

  after(async () => {
    await t?.stop(true);
    await bo?.stop();
  });

  describe('the document', () => {
    it('is OpenAPI 3.1.0 with every schema and $ref resolvable', () => {
      expect(openApiDocument.openapi).to.equal('3.1.0');
      expect(openApiDocument.components.securitySchemes?.portalToken).to.include({ type: 'http', scheme: 'bearer' });
      for (const name of Object.keys(openApiDocument.components.schemas)) validator(`/components/schemas/${seg(name)}`);
      for (const [path, item] of Object.entries(openApiDocument.paths)) {
        for (const method of ['get', 'post'] as const) {
          const op = item[method];
          if (!op) continue;
          for (const [ct, mt] of Object.entries(op.requestBody?.content ?? {})) {
            const pointer = `/paths/${seg(path)}/${method}/requestBody/content/${seg(ct)}/schema`;
            validator(pointer);
            if (mt.example !== undefined) check(pointer, mt.example, `request example ${method} ${path} ${ct}`);
          }
          for (const [status, r] of Object.entries(op.responses)) {
            for (const [ct, mt] of Object.entries(deref<ResponseObject>(r).content ?? {})) {
              const pointer = `/paths/${seg(path)}/${method}/responses/${status}/content/${seg(ct)}/schema`;
              validator(pointer);
              if (mt.example !== undefined) check(pointer, mt.example, `example ${method} ${path} ${status} ${ct}`);
            }
          }
        }
      }
    });

    it('is strict enough to catch a drift (the checker rejects what the document rules out)', () => {
      const submissionGet = `/paths/${seg('/api/v1/submissions/{id}')}/get/responses/200/content/${seg('application/json')}/schema`;
      const example = openApiDocument.paths['/api/v1/submissions/{id}']!.get!.responses['200'] as ResponseObject;
      const good = example.content!['application/json']!.example as Record<string, any>;
      expect(validator(submissionGet)(good)).to.equal(true);
      expect(validator(submissionGet)({ ...good, portalId: 'portal-a' }), 'an extra property').to.equal(false);
      expect(validator(submissionGet)({ ...good, status: 'done' }), 'a status outside the enum').to.equal(false);
      expect(
        validator(submissionGet)({ ...good, deliveries: [{ ...good.deliveries[0], reference: undefined }] }),
        'a missing property',
      ).to.equal(false);
      const conflict = `/paths/${seg('/api/v1/submissions')}/post/responses/409/content/${seg('application/problem+json')}/schema`;
      expect(validator(conflict)({ type: 'urn:amtsbote:problem:external-id-conflict', title: 'x', status: 409 })).to.equal(true);
      expect(validator(conflict)({ type: 'urn:amtsbote:problem:not-found', title: 'x', status: 409 }), 'another problem type').to.equal(
        false,
      );
    });

    it('describes request bodies as the zod schemas that validate them', () => {
      const envelope = `/paths/${seg('/api/v1/submissions')}/post/requestBody/content/${seg('application/json')}/schema`;
      const good = submission({ attachments: [{ filename: 'a.pdf', mediaType: 'application/pdf', content: 'QUJD\nRA==' }] });
      const cases: [string, Record<string, unknown>][] = [
        ['the example', good],
        ['a tenant of 6 digits', { ...good, tenant: '055130' }],
        ['an externalId with a space', { ...good, externalId: 'a b' }],
        ['a time without zone', { ...good, submittedAt: '2026-11-24T09:30:00' }],
        ['a filename with a slash', { ...good, attachments: [{ filename: 'x/y', mediaType: 'application/pdf', content: 'QUJD' }] }],
        ['the filename ..', { ...good, attachments: [{ filename: '..', mediaType: 'application/pdf', content: 'QUJD' }] }],
        ['base64 without padding', { ...good, attachments: [{ filename: 'a', mediaType: 'application/pdf', content: 'QUJDRA' }] }],
        ['an unknown field', { ...good, priority: 1 }],
      ];
      for (const [what, body] of cases) {
        expect(validator(envelope)(body), what).to.equal(validateEnvelope(body).ok);
      }
      const events = `/paths/${seg('/api/v1/backoffice-events')}/post/requestBody/content/${seg('application/json')}/schema`;
      expect(validator(events)({ events: [] }), 'an empty batch').to.equal(false);
      expect(validator(events)({ reference: 'AZ-1', status: 'x'.repeat(101) }), 'a status word over 100 characters').to.equal(false);
    });

    it('takes every problem title from the problem registry', () => {
      for (const [path, item] of Object.entries(openApiDocument.paths)) {
        for (const op of [item.get, item.post]) {
          for (const [status, r] of Object.entries(op?.responses ?? {})) {
            const example = deref<ResponseObject>(r).content?.['application/problem+json']?.example as
              | { type: string; title: string; status: number }
              | undefined;
            if (!example) continue;
            const type = example.type.replace('urn:amtsbote:problem:', '') as ProblemType;
            expect(example, `${path} ${status}`).to.include({ title: problemTypes[type].title, status: Number(status) });
          }
        }
      }
    });

    it('documents every operation the hub serves, and no other', async () => {
      const documented = Object.entries(openApiDocument.paths).flatMap(([path, item]) =>
        (['get', 'post'] as const).filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(documented).to.have.members(SERVED);
      // And each is really served: the app's fallback answers "no route for …" otherwise.
      for (const op of SERVED) {
        const [method, path] = op.split(' ') as [string, string];
        const res = await t.fetch(path.replace('{id}', '00000000-0000-7000-8000-000000000000'), {
          method,
          ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
        });
        const text = await res.text();
        expect(text, op).not.to.include('no route for');
      }
    });

    it('is served at /api/v1/openapi.json as it is in the code', async () => {
      const res = await t.fetch('/api/v1/openapi.json', { token: null });
      const body = await conforms(res, '/api/v1/openapi.json', 'get');
      expect(body).to.deep.equal(JSON.parse(JSON.stringify(openApiDocument)));
      expect(body).to.deep.equal(openApiDocument);
    });

    it('describes /healthz, /readyz and /metrics', async () => {
      expect(await conforms(await t.fetch('/healthz', { token: null }), '/healthz', 'get')).to.deep.equal({ status: 'ok' });
      expect(await conforms(await t.fetch('/readyz', { token: null }), '/readyz', 'get')).to.deep.equal({
        status: 'ready',
        database: 'sqlite',
        worker: 'running',
      });
      const metrics = await t.fetch('/metrics', { token: null });
      expect(metrics.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
      expect(await conforms(metrics, '/metrics', 'get')).to.include('# TYPE');
    });
  });

  describe('POST /api/v1/submissions', () => {
    it('202 for JSON, with Location; GET 200 once delivered; 200 for a repeat', async () => {
      const envelope = submission({
        attachments: [{ filename: 'foto.jpg', mediaType: 'image/jpeg', content: jpeg('ein Foto vom Sperrmüll') }],
      });
      const res = await postJson(envelope);
      expect(res.status).to.equal(202);
      const accepted = await conforms(res, '/api/v1/submissions', 'post');
      expect(accepted.status).to.equal('received');
      expect(res.headers.get('location')).to.equal(`/api/v1/submissions/${accepted.id}`);

      const view = await delivered(accepted.id);
      expect(view).to.include({
        id: accepted.id,
        externalId: envelope.externalId,
        tenant: '05513000',
        service: 'sperrmuell',
        status: 'delivered',
      });
      expect(view.deliveries).to.have.length(1);
      expect(view.deliveries[0]).to.include({ target: 'backoffice', route: 'waste', state: 'delivered', nextAttemptAt: null });
      expect(view.deliveries[0].reference).to.match(/^AZ-/);

      const again = await postJson(envelope);
      expect(again.status).to.equal(200);
      expect(await conforms(again, '/api/v1/submissions', 'post')).to.deep.equal({ id: accepted.id, status: 'delivered' });
      expect(again.headers.get('location')).to.equal(`/api/v1/submissions/${accepted.id}`);
    });

    it('202 for XML (district municipality, LeiKa key); GET 200 once delivered', async () => {
      const externalId = `xml-${Date.now()}`;
      const xml = `<?xml version="1.0" encoding="UTF-8"?>
<submission xmlns="urn:amtsbote:submission:1">
  <externalId>${externalId}</externalId>
  <tenant>05562014</tenant>
  <service>99050012104000</service>
  <submittedAt>2026-11-24T09:30:00+01:00</submittedAt>
  <applicant><givenName>Erika</givenName><familyName>Mustermann</familyName><postalCode>45964</postalCode></applicant>
  <data>
    <preferredDate>2026-12-07</preferredDate>
    <express type="boolean">false</express>
    <items><item><kind>furniture</kind><quantity type="number">2</quantity></item></items>
  </data>
  <attachments><item><filename>foto.jpg</filename><mediaType>image/jpeg</mediaType><content>${jpeg('Foto')}</content></item></attachments>
</submission>`;
      const res = await post(xml, { contentType: 'application/xml; charset=utf-8' });
      expect(res.status).to.equal(202);
      const accepted = await conforms(res, '/api/v1/submissions', 'post');
      const view = await delivered(accepted.id);
      expect(view).to.include({ externalId, tenant: '05562014', service: 'sperrmuell' });
    });

    it('GET 200 for a delivery that was retried and one that failed for good', async () => {
      const flaky = await conforms(
        await postJson(submission({ data: { preferredDate: '2026-12-07', items: [], scenario: 'flaky-1' } })),
        '/api/v1/submissions',
        'post',
      );
      const rejected = await conforms(
        await postJson(submission({ data: { preferredDate: '2026-12-07', items: [], scenario: 'reject' } })),
        '/api/v1/submissions',
        'post',
      );
      const retried = await delivered(flaky.id);
      expect(retried.deliveries[0].attemptLog.map((a: { outcome: string }) => a.outcome)).to.deep.equal(['retry', 'delivered']);
      expect(retried.deliveries[0].attemptLog[0]).to.include({ httpStatus: 503, errorKind: 'http-503' });
      const failed = await delivered(rejected.id, 'failed');
      expect(failed.deliveries[0]).to.include({ state: 'failed', lastErrorKind: 'http-400', deliveredAt: null, reference: null });
    });

    it('400 for malformed JSON', async () => {
      const res = await post('{"externalId": "x",');
      expect(res.status).to.equal(400);
      const p = await conforms(res, '/api/v1/submissions', 'post');
      expect(p.detail).to.match(/not valid JSON/);
      expect(p.instance).to.equal('/api/v1/submissions');
    });

    it('400 for malformed XML and for a DOCTYPE', async () => {
      const res = await post('<submission><externalId>x</submission>', { contentType: 'application/xml' });
      expect(res.status).to.equal(400);
      expect((await conforms(res, '/api/v1/submissions', 'post')).detail).to.match(/not well-formed XML/);
      const doctype = await post('<!DOCTYPE submission [<!ENTITY x "y">]><submission/>', { contentType: 'text/xml' });
      expect(doctype.status).to.equal(400);
      expect((await conforms(doctype, '/api/v1/submissions', 'post')).detail).to.match(/DOCTYPE/);
    });

    it('401 without a token and with an unknown one, with WWW-Authenticate', async () => {
      const none = await postJson(submission(), null);
      expect(none.status).to.equal(401);
      expect(none.headers.get('www-authenticate')).to.equal('Bearer realm="amtsbote"');
      await conforms(none, '/api/v1/submissions', 'post');
      const wrong = await postJson(submission(), 'not-a-token');
      expect(wrong.status).to.equal(401);
      expect(wrong.headers.get('www-authenticate')).to.include('error="invalid_token"');
      await conforms(wrong, '/api/v1/submissions', 'post');
    });

    it("202 inside the portal's tenants and districts, 403 outside them", async () => {
      for (const tenant of ['05513000', '05562014']) {
        const res = await postJson(submission({ tenant }));
        expect(res.status, tenant).to.equal(202);
        await conforms(res, '/api/v1/submissions', 'post');
      }
      const res = await postJson(submission({ tenant: '05512000' }));
      expect(res.status).to.equal(403);
      expect((await conforms(res, '/api/v1/submissions', 'post')).detail).to.include('05512000');
    });

    it('409 for the same external id with a different body', async () => {
      const envelope = submission();
      expect((await postJson(envelope)).status).to.equal(202);
      const res = await postJson({ ...envelope, data: { preferredDate: '2026-12-08', items: [] } });
      expect(res.status).to.equal(409);
      expect((await conforms(res, '/api/v1/submissions', 'post')).detail).to.include(String(envelope.externalId));
    });

    it('413 for a body over the 25 MB default limit', async () => {
      const envelope = submission({ data: { preferredDate: '2026-12-07', items: [], note: '' } });
      const text = JSON.stringify(envelope).replace('"note":""', `"note":"${'x'.repeat(26 * 1024 * 1024)}"`);
      expect(Buffer.byteLength(text)).to.be.greaterThan(26 * 1024 * 1024);
      const res = await post(text);
      expect(res.status).to.equal(413);
      expect((await conforms(res, '/api/v1/submissions', 'post')).detail).to.equal('the limit is 26214400 bytes');
    });

    it('415 for text/plain and for a charset other than UTF-8', async () => {
      const res = await post(JSON.stringify(submission()), { contentType: 'text/plain' });
      expect(res.status).to.equal(415);
      expect((await conforms(res, '/api/v1/submissions', 'post')).detail).to.equal('text/plain is not accepted');
      const latin1 = await post(JSON.stringify(submission()), { contentType: 'application/json; charset=iso-8859-1' });
      expect(latin1.status).to.equal(415);
      await conforms(latin1, '/api/v1/submissions', 'post');
    });

    it('422 for missing and invalid fields, with a pointer each', async () => {
      const res = await postJson({
        externalId: 'has space',
        tenant: '5513',
        attachments: [{ filename: '../x', mediaType: 'pdf', content: 'abc' }],
      });
      expect(res.status).to.equal(422);
      const p = await conforms(res, '/api/v1/submissions', 'post');
      expect(p.errors.map((e: { pointer: string }) => e.pointer)).to.include.members([
        '#/externalId',
        '#/tenant',
        '#/service',
        '#/submittedAt',
        '#/applicant',
        '#/data',
        '#/attachments/0/filename',
        '#/attachments/0/mediaType',
        '#/attachments/0/content',
      ]);
      const unknownService = await postJson(submission({ service: 'baumfaellung' }));
      expect(unknownService.status).to.equal(422);
      expect((await conforms(unknownService, '/api/v1/submissions', 'post')).errors).to.deep.equal([
        { pointer: '#/service', detail: 'unknown service baumfaellung' },
      ]);
    });
  });

  describe('GET /api/v1/submissions/{id}', () => {
    it('401 without a token', async () => {
      const res = await getSubmission('00000000-0000-7000-8000-000000000000', null);
      expect(res.status).to.equal(401);
      await conforms(res, '/api/v1/submissions/{id}', 'get');
    });

    it("404 for an unknown id, a malformed one, and another portal's submission", async () => {
      for (const id of ['00000000-0000-7000-8000-000000000000', 'nope']) {
        const res = await getSubmission(id);
        expect(res.status, id).to.equal(404);
        expect((await conforms(res, '/api/v1/submissions/{id}', 'get')).instance).to.equal(`/api/v1/submissions/${id}`);
      }
      const theirs = await postJson(submission({ tenant: '05512000' }), PORTAL_B_TOKEN);
      expect(theirs.status).to.equal(202);
      const { id } = await conforms(theirs, '/api/v1/submissions', 'post');
      expect((await getSubmission(id, PORTAL_B_TOKEN)).status).to.equal(200);
      const res = await getSubmission(id);
      expect(res.status).to.equal(404);
      await conforms(res, '/api/v1/submissions/{id}', 'get');
    });
  });

  describe('GET /readyz when the database is gone', () => {
    it('503 problem', async () => {
      await t.hub.store.close();
      const res = await t.fetch('/readyz', { token: null });
      expect(res.status).to.equal(503);
      expect(await conforms(res, '/readyz', 'get')).to.include({ type: 'urn:amtsbote:problem:unavailable', status: 503 });
    });
  });
});
