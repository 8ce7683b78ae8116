import { expect } from 'chai';
import fc from 'fast-check';
import { TestBackOffice } from './support/backoffice.ts';
import { PORTAL_A_TOKEN, startTestHub, submission, type TestHub } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';

// Property-based fuzzing of the intake through a real hub: hostile and malformed JSON, XML and headers. Every
// answer is below 500, carries no stack trace, is problem+json when it is a 4xx, and a 202 stores exactly one
// submission while anything else stores none. `npm test` runs a few hundred per database; `npm run fuzz` many
// (FUZZ_RUNS, per database).
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', '\u0000', '$ref', 'a.b', '../x'];
const key = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 8 }));
const leaf = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(key, tie('v'), { maxKeys: 4 })),
})).v;

/** A JSON body: a valid envelope bent one way or another, as bytes. */
const jsonBody = fc.oneof(
  // Valid shape, hostile content in the free-form parts and possibly in the fields.
  fc
    .record({ applicant: fc.dictionary(key, value, { maxKeys: 4 }), data: fc.dictionary(key, value, { maxKeys: 4 }) })
    .map((p) => Buffer.from(JSON.stringify(submission(p)))),
  fc
    .record({ k: fc.constantFrom('tenant', 'service', 'externalId', 'submittedAt', 'attachments', 'applicant'), v: value })
    .map(({ k, v }) => Buffer.from(JSON.stringify(submission({ [k]: v })))),
  // A key twice, a __proto__ key written out (JSON.stringify never writes one), deep nesting, broken tails.
  fc.constantFrom('tenant', 'data', 'externalId').map((k) => Buffer.from(JSON.stringify(submission()).replace('{', `{"${k}":"05512000",`))),
  fc
    .constantFrom('__proto__', 'constructor', 'prototype')
    .map((k) => Buffer.from(JSON.stringify(submission()).replace('"data":{', `"data":{"${k}":{"polluted":true},`))),
  fc.integer({ min: 60, max: 20_000 }).map((d) => Buffer.from(`{"data":${'['.repeat(d)}${']'.repeat(d % 3 ? 0 : d)}}`)),
  fc
    .constantFrom('0x10', '+1', '01', '.5', 'NaN', 'Infinity', '1e400', '12345678901234567891', '-0', '1.0e+2')
    .map((n) => Buffer.from(JSON.stringify(submission()).replace('"data":{', `"data":{"n":${n},`))),
  fc.tuple(fc.nat(400), fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([at, bytes]) => {
    const b = Buffer.from(JSON.stringify(submission()));
    const i = at % b.length;
    return Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)]);
  }),
  fc.nat(400).map((cut) => Buffer.from(JSON.stringify(submission())).subarray(0, cut)),
  fc.constant(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(submission()))])),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.json().map((s) => Buffer.from(s)),
);

const xmlName = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'a', 'x:y', 'item', 'xmlns', '1bad', 'ä'),
  fc.stringMatching(/^[a-z]{1,6}$/),
);
const xmlInner = fc.oneof(
  fc.tuple(xmlName, fc.string({ maxLength: 20 })).map(([n, t]) => `<${n}>${t.replace(/[<&]/g, '')}</${n}>`),
  fc.constantFrom('&#0;', '&#xD800;', '&#x1B;', '&#65;', '&amp;', '&lt;', '&nbsp;', '&xxe;', '<![CDATA[x]]>', '<!-- c -->', '<?pi x?>'),
  fc.constantFrom('<n type="number">0x10</n>', '<n type="number">1e400</n>', '<n type="boolean">yes</n>', '<n type="number">12</n>'),
  fc.integer({ min: 60, max: 5000 }).map((d) => '<a>'.repeat(d) + '</a>'.repeat(d)),
  fc.string({ maxLength: 40 }),
);
const envelopeXml = (inner: string) =>
  `<submission><externalId>fz-${Math.random().toString(36).slice(2)}</externalId><tenant>05513000</tenant><service>sperrmuell</service><submittedAt>2026-11-24T09:30:00Z</submittedAt><applicant><familyName>M</familyName></applicant><data>${inner}</data></submission>`;
const xmlBody = fc.oneof(
  fc.array(xmlInner, { maxLength: 4 }).map((parts) => Buffer.from(envelopeXml(parts.join('')))),
  fc
    .constantFrom(
      '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x "y">]><submission/>',
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><submission>&lol2;</submission>',
      '<!DOCTYPE s SYSTEM "file:///etc/passwd"><submission/>',
      '<submission xmlns="urn:other"/>',
      '<submission><externalId>a</externalId><externalId>b</externalId></submission>',
    )
    .map((s) => Buffer.from(s)),
  fc.nat(600).map((cut) => Buffer.from(envelopeXml('<x>1</x>')).subarray(0, cut)),
  fc.tuple(fc.nat(400), fc.uint8Array({ minLength: 1, maxLength: 3 })).map(([at, bytes]) => {
    const b = Buffer.from(envelopeXml('<x>1</x>'));
    const i = at % b.length;
    return Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)]);
  }),
);

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json; charset="utf-8"', 'APPLICATION/JSON'];
const XML_TYPES = ['application/xml', 'text/xml; charset=UTF-8', 'application/xml; charset="utf-8"'];
const oddType = fc.oneof(
  fc.constantFrom(
    'application/json; charset=latin1',
    'application/json; charset=utf-8; charset=latin1',
    'application/json; x="; charset=latin1"',
    'application/json;;;',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    '*/*',
    '',
    'application/json\u0000',
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
);
const token = fc.oneof(
  fc.constant(`Bearer ${PORTAL_A_TOKEN}`),
  fc.constant(`Bearer ${PORTAL_A_TOKEN}`),
  fc.constant(`bearer   ${PORTAL_A_TOKEN} `),
  fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic dXNlcjpwdw==', `Bearer ${PORTAL_A_TOKEN}x`, `Bearer ${PORTAL_A_TOKEN} extra`),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
);

/** One request: method, headers and body, JSON or XML or neither. */
const request = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constantFrom(...JSON_TYPES), body: jsonBody, auth: fc.constant(`Bearer ${PORTAL_A_TOKEN}`) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constantFrom(...XML_TYPES), body: xmlBody, auth: fc.constant(`Bearer ${PORTAL_A_TOKEN}`) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.oneof(fc.constantFrom(...JSON_TYPES), oddType),
      body: fc.oneof(jsonBody, xmlBody),
      auth: token,
      encoding: fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip'), { nil: undefined }),
      accept: fc.option(fc.constantFrom('application/xml', '*/*', 'text/html', '\u00ff'), { nil: undefined }),
    }),
  },
);

const STACK = /at .*\.(ts|js):\d+|node_modules|SyntaxError|TypeError|RangeError|Maximum call stack/;

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`fuzzing the intake [${kind}]`, function () {
    this.timeout(Math.max(60_000, RUNS * 60));
    let bo: TestBackOffice;
    let t: TestHub;
    const seen: Record<string, number> = {};

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new TestBackOffice().start();
      t = await startTestHub({ kind, backOfficeUrl: bo.url, worker: { enabled: false } });
    });
    after(async () => {
      if (process.env.FUZZ_RUNS) console.log(`      ${kind}: ${RUNS} requests, answers by status: ${JSON.stringify(seen)}`);
      await t?.stop(true);
      await bo?.stop();
    });

    const stored = async () =>
      Number(
        (
          await t.hub.store.db
            .selectFrom('submissions')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it(`answers ${RUNS} hostile requests below 500, problem+json on every 4xx, one row per 202`, async () => {
      const errorsBefore = t.logLines.filter((l) => l.includes('"level":"error"')).length;
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const before = await stored();
          const headers: Record<string, string> = {};
          // fetch refuses header values it cannot send (NUL, CR, LF): those are the parser tests' part.
          if (!/[\0\r\n]/.test(r.type)) headers['content-type'] = r.type;
          if (r.auth && !/[\0\r\n]/.test(r.auth)) headers.authorization = r.auth;
          if ('encoding' in r && r.encoding) headers['content-encoding'] = r.encoding;
          if ('accept' in r && r.accept) headers.accept = r.accept;
          const res = await t.fetch('/api/v1/submissions', { method: 'POST', headers, body: r.body, token: null });
          const text = await res.text();
          seen[res.status] = (seen[res.status] ?? 0) + 1;
          expect(res.status, text).to.be.below(500);
          expect(text).not.to.match(STACK);
          const after = await stored();
          if (res.status === 202) {
            expect(after, 'one stored submission per 202').to.equal(before + 1);
            const { id } = JSON.parse(text) as { id: string };
            expect(await t.hub.store.getSubmission(id)).not.to.equal(undefined);
          } else {
            expect(after, `nothing stored for ${res.status}`).to.equal(before);
          }
          if (res.status >= 400) {
            expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
            const p = JSON.parse(text) as { type: string; status: number; title: string };
            expect(p.status).to.equal(res.status);
            expect(p.type).to.match(/^urn:amtsbote:problem:[a-z-]+$/);
            expect(p.title).to.be.a('string');
          }
        }),
        { numRuns: RUNS },
      );
      expect(t.logLines.filter((l) => l.includes('"level":"error"')).length, 'no error-log line per refused request').to.equal(
        errorsBefore,
      );
      // The process lives: it still takes a valid submission.
      expect(
        (
          await t.fetch('/api/v1/submissions', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(submission()),
          })
        ).status,
      ).to.equal(202);
    });
  });
}
