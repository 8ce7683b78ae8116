import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { FIXTURE_CONFIG, startTestHub, submission, type TestHub } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';
import { signBody } from '../src/intake/portal-signature.ts';

const LIMITED = 'portal-limited-token-0123456789';
const SIGNED = 'portal-signed-token-0123456789';
const SECRET = 'signing-secret-of-the-portal-0123456789';
const PDF = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

/** The fixture configuration with small attachment limits and two more portals: one rate-limited, one signing. */
function config(): { dir: string; drop(): void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-limits-'));
  const dir = path.join(root, 'config');
  cpSync(FIXTURE_CONFIG, dir, { recursive: true });
  cpSync(path.join(FIXTURE_CONFIG, '../mappings'), path.join(root, 'mappings'), { recursive: true });
  const registry = path.join(dir, 'registry.yaml');
  writeFileSync(
    registry,
    readFileSync(registry, 'utf8').replace(
      'portals:\n',
      [
        'portals:',
        '  - { id: limited, name: Limited, token: "${env:LIMITED_TOKEN}", tenants: ["05513000"], rateLimit: { perMinute: 6, burst: 2 } }',
        '  - { id: signed, name: Signed, token: "${env:SIGNED_TOKEN}", tenants: ["05513000"], signing: { secret: "${env:SIGNED_SECRET}", windowSeconds: 60 } }',
        '',
      ].join('\n'),
    ),
  );
  writeFileSync(path.join(dir, 'intake.yaml'), 'intake:\n  attachments: { maxCount: 2, maxBytes: 64, maxTotalBytes: 100 }\n');
  return { dir, drop: () => rmSync(root, { recursive: true, force: true }) };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`intake limits: attachments, rate limit, request signing [${kind}]`, () => {
    let bo: TestBackOffice;
    let t: TestHub;
    let cfg: ReturnType<typeof config>;
    let now = 0;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new TestBackOffice().start();
      cfg = config();
      now = Date.now();
      t = await startTestHub({
        kind,
        backOfficeUrl: bo.url,
        configDir: cfg.dir,
        worker: { enabled: false },
        clock: () => now,
        env: { LIMITED_TOKEN: LIMITED, SIGNED_TOKEN: SIGNED, SIGNED_SECRET: SECRET },
      });
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
      cfg?.drop();
    });

    const count = async () =>
      Number(
        (
          await t.hub.store.db
            .selectFrom('submissions')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const send = (body: unknown, o: { token?: string; headers?: Record<string, string> } = {}) =>
      t.fetch('/api/v1/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...o.headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...(o.token ? { token: o.token } : {}),
      });
    const problem = async (res: Response, status: number, type: string) => {
      expect(res.status, await res.clone().text()).to.equal(status);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      const p = (await res.json()) as { type: string; detail: string; errors?: { pointer: string; detail: string }[] };
      expect(p.type).to.equal(`urn:amtsbote:problem:${type}`);
      return p;
    };
    const file = (content: Buffer, mediaType = 'application/pdf', filename = 'a.pdf') => ({
      filename,
      mediaType,
      content: content.toString('base64'),
    });

    it('refuses too many, too large and too much together with 422 and the field, storing nothing', async () => {
      const before = await count();
      const many = await problem(await send(submission({ attachments: [file(PDF), file(PDF), file(PDF)] })), 422, 'invalid-submission');
      expect(many.errors).to.deep.equal([{ pointer: '#/attachments', detail: 'at most 2 attachments are accepted, not 3' }]);
      const big = Buffer.concat([PDF, Buffer.alloc(65 - PDF.length)]);
      const large = await problem(await send(submission({ attachments: [file(PDF), file(big)] })), 422, 'invalid-submission');
      expect(large.errors).to.deep.equal([{ pointer: '#/attachments/1/content', detail: 'the attachment is larger than 64 bytes' }]);
      const half = Buffer.concat([PDF, Buffer.alloc(60 - PDF.length)]);
      const total = await problem(await send(submission({ attachments: [file(half), file(half)] })), 422, 'invalid-submission');
      expect(total.errors).to.deep.equal([{ pointer: '#/attachments', detail: 'the attachments together are larger than 100 bytes' }]);
      expect(await count()).to.equal(before);
      expect((await send(submission({ attachments: [file(PDF), file(PNG, 'image/png', 'b.png')] }))).status).to.equal(202);
    });

    it('checks each attachment’s bytes against its declared media type', async () => {
      const before = await count();
      const cases: [Buffer, string, string][] = [
        [PNG, 'application/pdf', 'the content is PNG, not application/pdf'],
        [Buffer.from('MZ\x90\x00 this is a program'), 'application/pdf', 'the content is an executable, not application/pdf'],
        [Buffer.from('<html><script>alert(1)</script>'), 'text/plain', 'the content is HTML, not text/plain'],
        [Buffer.from('just some text'), 'image/jpeg', 'the content does not look like image/jpeg'],
      ];
      for (const [bytes, type, detail] of cases) {
        const p = await problem(await send(submission({ attachments: [file(bytes, type)] })), 422, 'invalid-submission');
        expect(p.errors, type).to.deep.equal([{ pointer: '#/attachments/0/mediaType', detail }]);
      }
      expect(await count()).to.equal(before);
      expect((await send(submission({ attachments: [file(Buffer.from('Notiz'), 'text/plain', 'n.txt')] }))).status).to.equal(202);
    });

    it('limits a portal token to its rate: 429 problem+json with Retry-After, on the hub clock', async () => {
      for (let i = 0; i < 2; i++) expect((await send(submission(), { token: LIMITED })).status).to.equal(202);
      const over = await send(submission(), { token: LIMITED });
      await problem(over, 429, 'too-many-requests');
      expect(over.headers.get('retry-after')).to.equal('10');
      // Another portal is not held back by this one.
      expect((await send(submission())).status).to.equal(202);
      now += 10_000;
      expect((await send(submission(), { token: LIMITED })).status).to.equal(202);
      await problem(await send(submission(), { token: LIMITED }), 429, 'too-many-requests');
      now += 60_000;
    });

    it('requires a valid HMAC signature within the window from a signing portal, and refuses a replay', async () => {
      const body = JSON.stringify(submission());
      const ts = String(Math.floor(now / 1000));
      const signed = { 'x-amtsbote-timestamp': ts, 'x-amtsbote-signature': signBody(SECRET, ts, Buffer.from(body)) };
      const before = await count();
      const missing = await problem(await send(body, { token: SIGNED }), 401, 'signature-invalid');
      expect(missing.detail).to.equal('send x-amtsbote-timestamp and x-amtsbote-signature');
      const wrong = await problem(await send(body.replace('Erika', 'Erike'), { token: SIGNED, headers: signed }), 401, 'signature-invalid');
      expect(wrong.detail).to.equal('the signature does not match');
      const oldTs = String(Math.floor(now / 1000) - 61);
      const stale = await problem(
        await send(body, {
          token: SIGNED,
          headers: { 'x-amtsbote-timestamp': oldTs, 'x-amtsbote-signature': signBody(SECRET, oldTs, Buffer.from(body)) },
        }),
        401,
        'signature-invalid',
      );
      expect(stale.detail).to.equal("the timestamp is more than 60 s from the hub's clock");
      expect(await count()).to.equal(before);
      expect((await send(body, { token: SIGNED, headers: signed })).status).to.equal(202);
      const replay = await problem(await send(body, { token: SIGNED, headers: signed }), 401, 'signature-invalid');
      expect(replay.detail).to.equal('this signature was used before (a replay)');
      // A portal without signing needs no headers.
      expect((await send(submission())).status).to.equal(202);
    });
  });
}
