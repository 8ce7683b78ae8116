import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import express from 'express';
import { postgresReachable } from './support/databases.ts';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/inbound', import.meta.url));
const fixture = (name: string) => readFileSync(new URL(`../src/inbound/fixtures/${name}`, import.meta.url));

/** A back office that keeps each request's body as bytes, exactly as it arrived. */
class RawBackOffice {
  readonly received: { path: string; contentType: string | undefined; body: Buffer }[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    const app = express();
    app.post(['/gewerbe', '/gewerbe-json'], express.raw({ type: () => true }), (req, res) => {
      this.received.push({ path: req.path, contentType: req.get('content-type'), body: req.body as Buffer });
      res.status(201).json({ caseId: `GEW-${this.received.length}` });
    });
    await new Promise<void>((resolve) => (this.server = app.listen(0, '127.0.0.1', () => resolve())));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const post = (body: Buffer | string, contentType: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': contentType },
  // fetch takes bytes as a Uint8Array view; a Buffer is one, but not to the DOM typings.
  body: typeof body === 'string' ? body : new Uint8Array(body),
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`inbound: POST /api/v1/inbound/{channel} [${kind}]`, () => {
    let bo: RawBackOffice;
    let t: TestHub;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      bo = await new RawBackOffice().start();
      t = await startTestHub({ kind, backOfficeUrl: bo.url, configDir: CONFIG });
    });
    after(async () => {
      await t?.stop(true);
      await bo?.stop();
    });

    const submissions = async () =>
      Number(
        (
          await t.hub.store.db
            .selectFrom('submissions')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    /** Posts a document that must be refused; checks the problem and that nothing was stored. */
    async function refused(channel: string, init: ReturnType<typeof post>, status: number, type: string) {
      const before = await submissions();
      const res = await t.fetch(`/api/v1/inbound/${channel}`, init);
      expect(res.status, await res.clone().text()).to.equal(status);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      const problem = (await res.json()) as {
        type: string;
        status: number;
        detail: string;
        errors?: { pointer: string; detail: string }[];
      };
      expect(problem.type).to.equal(`urn:amtsbote:problem:${type}`);
      expect(await submissions()).to.equal(before);
      return problem;
    }

    it('takes an XGewerbeanzeige message as it is (202) and delivers it byte for byte with format original', async () => {
      const message = fixture('gewerbeanmeldung.xml');
      const res = await t.fetch('/api/v1/inbound/xgewerbeanzeige', post(message, 'application/xml; charset=UTF-8'));
      expect(res.status, await res.clone().text()).to.equal(202);
      const { id } = (await res.json()) as { id: string };
      expect(res.headers.get('location')).to.equal(`/api/v1/submissions/${id}`);

      const got = await eventually(async () => bo.received.find((r) => r.path === '/gewerbe'), 10_000, 'the delivery');
      expect(got.body.equals(message), 'the bytes the back office got').to.equal(true);
      expect(got.contentType).to.equal('application/xml; charset=utf-8');
      // The JSON back office gets what the mapping read from the XÖV message's own structure: namespaced
      // elements, an attribute (listVersionID), and the three repeated Tätigkeiten as an array.
      const mapped = await eventually(async () => bo.received.find((r) => r.path === '/gewerbe-json'), 10_000, 'the mapped delivery');
      const json = JSON.parse(mapped.body.toString('utf8')) as {
        aktenzeichenAntrag: string;
        taetigkeiten: { wz2008: string; wzVersion: string }[];
      };
      expect(json.aktenzeichenAntrag).to.equal('5b0d7c1e-3f8a-4c2e-9a61-2f4b8e0c7d15');
      expect(json.taetigkeiten.map((t) => [t.wz2008, t.wzVersion])).to.deep.equal([
        ['47.64.1', '2008'],
        ['95.29.0', '2008'],
        ['47.91.9', '2008'],
      ]);
      const view = (await (await t.fetch(`/api/v1/submissions/${id}`)).json()) as { externalId: string; tenant: string; service: string };
      expect(view).to.include({ externalId: '5b0d7c1e-3f8a-4c2e-9a61-2f4b8e0c7d15', tenant: '05513000', service: 'gewerbeanmeldung' });

      // Sent again: the same submission (idempotent by the message's own id), nothing stored twice.
      const before = await submissions();
      const again = await t.fetch('/api/v1/inbound/xgewerbeanzeige', post(message, 'application/xml'));
      expect(again.status).to.equal(200);
      expect(((await again.json()) as { id: string }).id).to.equal(id);
      expect(await submissions()).to.equal(before);
    });

    it('takes a FIM-style JSON form with good data (202) and delivers it byte for byte', async () => {
      const form = Buffer.from(
        JSON.stringify({
          meta: { antragsId: 'HA-2026-000777', eingereicht: '2026-12-01T10:00:00+01:00', ags: '05513000' },
          antragsteller: { familienname: 'Kowalski', vorname: 'Maria' },
          hund: { rasse: 'Labrador', geburtsdatum: '2025-06-01', chipnummer: '276098106123456' },
        }),
      );
      const res = await t.fetch('/api/v1/inbound/fim-hundeanmeldung', post(form, 'application/json'));
      expect(res.status, await res.clone().text()).to.equal(202);
      const got = await eventually(async () => bo.received.find((r) => r.body.equals(form)), 10_000, 'the delivery');
      expect(got.contentType).to.match(/^application\/json/);
    });

    it('refuses a message its XSD refuses with 422 and the element path; nothing is stored', async () => {
      const problem = await refused(
        'xgewerbeanzeige',
        post(fixture('gewerbeanmeldung-ungueltig.xml'), 'application/xml'),
        422,
        'invalid-document',
      );
      // The path in the channel's prefix (gew:), whatever the portal used (xgewerbe:).
      expect(problem.errors).to.deep.equal([
        {
          pointer: '#/gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:betriebsstaette/gew:postleitzahl',
          detail: "Element 'postleitzahl': [facet 'pattern'] the value is not accepted by the pattern '[0-9]{5}'.",
        },
      ]);
      expect(JSON.stringify(problem)).not.to.include('4587');
    });

    it('refuses what the channel cannot take: 415 for another media type, 400 for broken XML, 404 for no channel', async () => {
      await refused('xgewerbeanzeige', post(fixture('gewerbeanmeldung.xml'), 'application/json'), 415, 'unsupported-document-type');
      await refused('xgewerbeanzeige', post('<gew:x xmlns:gew="urn:x">', 'application/xml'), 400, 'unreadable-document');
      await refused('gibt-es-nicht', post('<a/>', 'application/xml'), 404, 'not-found');
    });

    it("refuses form data that breaks its service's schema with 422 and every path; nothing is stored", async () => {
      // The FIM form is valid for its channel, but the service's data schema requires the dog's chip number.
      const problem = await refused(
        'fim-hundeanmeldung',
        post(fixture('fim-hundeanmeldung.json'), 'application/json'),
        422,
        'invalid-service-data',
      );
      expect(problem.errors).to.deep.equal([{ pointer: '#/data/hund/chipnummer', detail: 'required' }]);
    });

    it("refuses an envelope submission whose data breaks its service's schema with 422 and every path; a good one is taken", async () => {
      const envelope = (data: Record<string, unknown>) =>
        post(
          JSON.stringify({
            externalId: `env-${Math.random().toString(36).slice(2, 10)}`,
            tenant: '05513000',
            service: 'hundeanmeldung',
            submittedAt: '2026-11-24T09:30:00+01:00',
            applicant: {},
            data,
            attachments: [],
          }),
          'application/json',
        );
      const before = await submissions();
      const res = await t.fetch('/api/v1/submissions', envelope({ hund: { rasse: '', geburtsdatum: 'gestern' } }));
      expect(res.status, await res.clone().text()).to.equal(422);
      const problem = (await res.json()) as { type: string; errors: { pointer: string; detail: string }[] };
      expect(problem.type).to.equal('urn:amtsbote:problem:invalid-service-data');
      expect(problem.errors.map((e) => e.pointer).sort()).to.deep.equal([
        '#/data/hund/chipnummer',
        '#/data/hund/geburtsdatum',
        '#/data/hund/rasse',
      ]);
      expect(JSON.stringify(problem)).not.to.include('gestern');
      expect(await submissions()).to.equal(before);
      const good = await t.fetch(
        '/api/v1/submissions',
        envelope({ hund: { rasse: 'Dackel', geburtsdatum: '2024-03-01', chipnummer: '276098106123456' } }),
      );
      expect(good.status, await good.clone().text()).to.equal(202);
    });

    it('needs the portal token and a tenant the portal may submit for', async () => {
      const before = await submissions();
      const res = await t.fetch('/api/v1/inbound/xgewerbeanzeige', {
        ...post(fixture('gewerbeanmeldung.xml'), 'application/xml'),
        token: null,
      });
      expect(res.status).to.equal(401);
      expect(await submissions()).to.equal(before);
      const bottrop = fixture('gewerbeanmeldung-eine-taetigkeit.xml')
        .toString('utf8')
        .replace('<xgewerbe:kennung>05513000', '<xgewerbe:kennung>05512000');
      await refused('xgewerbeanzeige', post(bottrop, 'application/xml'), 403, 'tenant-not-allowed');
    });
  });
}

describe('inbound and envelope intake share one rate budget per portal token', () => {
  let t: TestHub;
  let dir = '';
  let now = 0;
  const LIMITED = 'inbound-limited-token-0123456789';

  before(async () => {
    // The inbound fixture with one more portal, limited to a burst of 2.
    // Beside the fixture (same depth), so its relative paths to schemas and mappings still resolve.
    dir = mkdtempSync(path.join(path.dirname(CONFIG), '.tmp-inbound-rate-'));
    cpSync(CONFIG, dir, { recursive: true });
    const hubYaml = path.join(dir, 'hub.yaml');
    writeFileSync(
      hubYaml,
      readFileSync(hubYaml, 'utf8').replace(
        'portals:\n',
        'portals:\n  - { id: limited, name: Limited, token: "${env:LIMITED_TOKEN}", tenants: ["05513000"], rateLimit: { perMinute: 6, burst: 2 } }\n',
      ),
    );
    now = Date.now();
    t = await startTestHub({
      kind: 'sqlite',
      backOfficeUrl: 'http://127.0.0.1:9',
      configDir: dir,
      worker: { enabled: false },
      clock: () => now,
      env: { LIMITED_TOKEN: LIMITED },
    });
  });
  after(async () => {
    await t?.stop(true);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers 429 with Retry-After on either route once the token has spent its burst on the other', async () => {
    const message = fixture('gewerbeanmeldung.xml');
    const inbound = () => t.fetch('/api/v1/inbound/xgewerbeanzeige', { ...post(message, 'application/xml'), token: LIMITED });
    // Two documents spend the burst (the second is the same document again: 200, still a request).
    expect((await inbound()).status).to.equal(202);
    expect((await inbound()).status).to.equal(200);
    const over = await t.fetch('/api/v1/submissions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: '05513000' }),
      token: LIMITED,
    });
    expect(over.status).to.equal(429);
    expect(over.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(Number(over.headers.get('retry-after'))).to.be.greaterThan(0);
    const again = await inbound();
    expect(again.status).to.equal(429);
    now += 60_000;
    expect((await inbound()).status).to.equal(200);
  });
});
