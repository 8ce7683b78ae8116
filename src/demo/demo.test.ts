// The Emscher-Lippe demo end to end without the hub: config/ against the schema, every example
// through the mapping its route names and into the simulator its target names, and the simulators'
// own contract (idempotency, strict validation, outages, status, logging).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import Ajv2020 from 'ajv/dist/2020.js';
import { builtinAdapters } from '../../adapters/index.ts';
import { Router } from '../routing/router.ts';
import { parseSubmissionXml } from '../intake/xml.ts';
import { validateEnvelope } from '../intake/envelope.ts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, type HubConfig } from '../config/schema.ts';
import { loadConfig } from '../config/load.ts';
import type { AdapterDefinition } from '../sdk/types.ts';
import { compileMapping, renderMessage, MappingError } from '../mapping/engine.ts';
import { startSimulator, startSimulators, type RunningSimulator } from './index.ts';
import { exampleInput, type Example } from './example-input.ts';

const root = path.resolve(import.meta.dirname, '../..');
const configDir = path.join(root, 'config');
const examplesDir = path.join(root, 'examples');

// --- the configuration as the hub would merge it ------------------------------------------------------

const yamlFiles = readdirSync(configDir)
  .filter((n) => /\.ya?ml$/.test(n))
  .sort();
const rawConfig: Record<string, unknown> = Object.assign(
  {},
  ...yamlFiles.map((n) => parseYaml(readFileSync(path.join(configDir, n), 'utf8')) as Record<string, unknown>),
);
const parsedConfig = configSchema.safeParse(rawConfig);
const config: HubConfig = parsedConfig.success ? parsedConfig.data : configSchema.parse({});
const mappingsDir = path.resolve(configDir, config.paths.mappings);

const MUNICIPALITIES = ['05513000', '05512000', ...['04', '08', '12', '14', '16', '20', '24', '28', '32', '36'].map((n) => `055620${n}`)];
const SERVICES = ['sperrmuell', 'hundeanmeldung'];

/** The routes for a tenant and a service (slug or LeiKa key), as the hub's router would find them. */
function routeFor(tenant: string, service: string) {
  const svc = config.services.find((s) => s.slug === service || s.leika === service);
  return config.routes.filter((r) => svc && r.tenants.includes(tenant) && (r.service === svc.slug || r.service === svc.leika));
}

// --- examples -------------------------------------------------------------------------------------------

const exampleNames = readdirSync(examplesDir)
  .filter((n) => n.endsWith('.json'))
  .sort();
const readExample = (name: string): Example => JSON.parse(readFileSync(path.join(examplesDir, name), 'utf8')) as Example;

const mappingInput = (ex: Example, target: string, n: number) => exampleInput(config, ex, target, n, '0196a000');

function resolvePointer(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const token of pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[token];
  }
  return cur;
}

// --- HTTP helpers ----------------------------------------------------------------------------------------

async function post(url: string, body: unknown, key?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

describe('Emscher-Lippe demo', () => {
  let waste: RunningSimulator;
  let dogtax: RunningSimulator;
  const logs: string[] = [];
  let seq = 0;

  before(async () => {
    const started = await startSimulators(
      [
        { kind: 'waste-rest', port: 0, failureRate: 0 },
        { kind: 'dogtax-rest', port: 0, failureRate: 0 },
      ],
      { logger: (m) => logs.push(m) },
    );
    [waste, dogtax] = [started[0]!, started[1]!];
  });
  after(async () => {
    await Promise.all([waste?.close(), dogtax?.close()]);
  });

  /** A target's URL, moved from the port hub.yaml gives its simulator to the test's port. */
  function simulatorUrl(targetId: string): string {
    const url = new URL(String(config.targets[targetId]?.options['url']));
    const kind = config.demo?.simulators.find((s) => 'port' in s && s.port === Number(url.port))?.kind;
    const sim = kind === 'waste-rest' ? waste : kind === 'dogtax-rest' ? dogtax : undefined;
    if (!sim) throw new Error(`target ${targetId} points at no simulator of hub.yaml`);
    return sim.url + url.pathname;
  }

  /** The example mapped as its route says, with where it goes. */
  async function mapped(name: string, edit?: (ex: Example) => void) {
    const ex = readExample(name);
    edit?.(ex);
    const [route] = routeFor(ex.tenant, ex.service);
    if (!route) throw new Error(`no route for ${ex.tenant}/${ex.service}`);
    // The REST step: a route may also deliver to a SOAP, XML or file-drop target (simulators.test.ts covers those).
    const step = route.targets.find((t) => config.targets[t.target]?.adapter === 'rest') ?? route.targets[0]!;
    const target = config.targets[step.target]!;
    const input = mappingInput(ex, step.target, ++seq);
    const message = await renderMessage(compileMapping(mappingsDir, step.mapping), input, target.format ?? 'json');
    return { ex, route, step, target, input, message, url: simulatorUrl(step.target), key: input.delivery.idempotencyKey };
  }

  describe('config/', () => {
    it('every YAML file references the generated JSON schema on its first line', () => {
      expect(yamlFiles).to.include.members([
        'hub.yaml',
        'tenants.yaml',
        'services.yaml',
        'portals.yaml',
        'targets.yaml',
        'routes.yaml',
        'schedules.yaml',
      ]);
      for (const n of yamlFiles) {
        expect(readFileSync(path.join(configDir, n), 'utf8').split('\n')[0], n).to.equal(
          '# yaml-language-server: $schema=./amtsbote.schema.json',
        );
      }
    });

    it('passes configSchema', () => {
      expect(parsedConfig.success, parsedConfig.success ? '' : JSON.stringify(parsedConfig.error.issues, null, 2)).to.equal(true);
    });

    it("passes loadConfig's cross-checks with a stand-in rest adapter holding the documented options", () => {
      const rest: AdapterDefinition = {
        type: 'rest',
        version: '0.0.0',
        description: 'stand-in with the rest adapter’s documented options',
        defaultFormat: 'json',
        options: z.strictObject({
          url: z.url({ protocol: /^https?$/ }),
          method: z.enum(['POST', 'PUT']).default('POST'),
          auth: z.looseObject({ type: z.enum(['none', 'basic', 'bearer', 'api-key']) }).default({ type: 'none' }),
          headers: z.record(z.string(), z.string()).optional(),
          referencePointer: z
            .string()
            .regex(/^(\/([^~/]|~[01])*)*$/)
            .optional(),
          checkUrl: z.url().optional(),
          idempotencyHeader: z.string().default('Idempotency-Key'),
          statusLookup: z.looseObject({ url: z.string(), statusPointer: z.string() }).optional(),
          listing: z
            .looseObject({ url: z.string(), itemsPointer: z.string(), referencePointer: z.string(), statusPointer: z.string() })
            .optional(),
        }),
        create: () => {
          throw new Error('not used');
        },
      };
      // Targets of other adapter types (soap, xml-http, file-drop) load with the real adapters.
      const loaded = loadConfig(configDir, { adapters: new Map([...builtinAdapters, ['rest', rest]]), env: {} });
      expect(loaded.mappingsDir).to.equal(path.join(root, 'mappings'));
      expect([...loaded.targets.keys()]).to.have.length(Object.keys(config.targets).length);
      expect([...loaded.targets.values()].filter((t) => t.adapter === rest)).to.have.lengthOf.at.least(5);
    });

    it('loads with the real adapters and router', () => {
      const loaded = loadConfig(configDir, { adapters: builtinAdapters, env: {} });
      expect(() => new Router(loaded)).not.to.throw();
    });

    it('passes the generated config/amtsbote.schema.json that editors check against', () => {
      const schema = JSON.parse(readFileSync(path.join(configDir, 'amtsbote.schema.json'), 'utf8')) as object;
      // ajv is CommonJS: under NodeNext the default import is module.exports.
      const validate = new Ajv2020.default({ strict: false, allErrors: true }).compile(schema);
      expect(validate(rawConfig), JSON.stringify(validate.errors, null, 2)).to.equal(true);
    });

    it('has the 13 tenants with quoted keys and the towns under 05562', () => {
      expect(config.tenants.map((t) => t.key)).to.have.members([...MUNICIPALITIES, '05562']);
      const towns = config.tenants.filter((t) => t.parent === '05562').map((t) => t.key);
      expect(towns).to.have.length(10);
      expect(config.tenants.find((t) => t.key === '05562014')?.name).to.equal('Gladbeck');
    });

    it('routes both services for each of the 12 municipalities exactly once, none for the district', () => {
      for (const tenant of MUNICIPALITIES) {
        for (const service of SERVICES) expect(routeFor(tenant, service), `${tenant}/${service}`).to.have.length(1);
      }
      for (const service of SERVICES) expect(routeFor('05562', service)).to.have.length(0);
      // The ten towns share one route per service; for Sperrmüll, Herten and Marl (XML intake) and Dorsten
      // (batch) may have routes of their own.
      const ownWasteOffice = ['05562012', '05562020', '05562024'];
      for (const service of SERVICES) {
        const towns = MUNICIPALITIES.slice(2).filter((t) => service !== 'sperrmuell' || !ownWasteOffice.includes(t));
        const ids = new Set(towns.map((t) => routeFor(t, service)[0]!.id));
        expect([...ids]).to.have.length(1);
      }
      for (const r of config.routes) expect(r.id).to.match(/^[a-z0-9-]+$/);
    });

    it('names mappings that exist, compile and use no clock or randomness', () => {
      for (const r of config.routes) {
        for (const t of r.targets) {
          expect(() => compileMapping(mappingsDir, t.mapping), t.mapping).not.to.throw();
          const source = readFileSync(path.join(mappingsDir, t.mapping), 'utf8');
          expect(source, t.mapping).not.to.match(/\$(now|millis|random|uuid)\s*\(/);
          expect(source.trimStart(), t.mapping).to.match(/^\/\*/);
        }
      }
    });

    it('points every target at a simulator of hub.yaml on 127.0.0.1, with a short retry for dog tax', () => {
      expect(config.server.port).to.equal(3000);
      const sims = config.demo?.simulators ?? [];
      expect(sims.find((s) => s.kind === 'waste-rest')).to.include({ port: 4101, failureRate: 0 });
      expect(sims.find((s) => s.kind === 'dogtax-rest')).to.include({ port: 4102, failureRate: 0.3 });
      for (const [id, t] of Object.entries(config.targets)) {
        // The SOAP, XML-over-HTTP and file-drop targets have their simulators in simulators.test.ts.
        if (t.adapter !== 'rest') continue;
        expect(String(t.options['url']), id).to.match(/^http:\/\/127\.0\.0\.1:410[12]\//);
        expect(t.options['referencePointer'], id).to.be.a('string');
        if (id.endsWith('hundesteuer')) expect(t.policy.retry.baseDelayMs, id).to.be.at.most(1000);
      }
    });

    it('gives the demo portal the hash of "demo-portal-token" and all 13 tenants', () => {
      const [portal] = config.portals;
      expect(portal?.id).to.equal('emscher-lippe-portal');
      expect(portal?.tokenHash).to.equal('sha256:' + createHash('sha256').update('demo-portal-token').digest('hex'));
      expect(portal?.tenants).to.have.members([...MUNICIPALITIES, '05562']);
      expect(config.schedules).to.deep.include({
        id: 'stuck-deliveries',
        job: 'stuck-deliveries',
        cron: '*/5 * * * *',
        timezone: 'Europe/Berlin',
        options: { olderThanMinutes: 15 },
      });
    });
  });

  describe('examples/', () => {
    it('has a JSON and an XML sample per service and city variant, each with its own external id', () => {
      const expected = ['sperrmuell', 'hundeanmeldung'].flatMap((s) => ['gelsenkirchen', 'bottrop', 'gladbeck'].map((c) => `${s}-${c}`));
      const files = readdirSync(examplesDir);
      for (const e of expected) expect(files).to.include.members([`${e}.json`, `${e}.xml`]);
      const ids = files
        .filter((f) => /\.(json|xml)$/.test(f))
        .map((f) => {
          const text = readFileSync(path.join(examplesDir, f), 'utf8');
          return f.endsWith('.json') ? (JSON.parse(text) as Example).externalId : /<externalId>([^<]+)<\/externalId>/.exec(text)?.[1];
        });
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it("pass the intake's envelope validation, and each XML file reads as its JSON twin", () => {
      const intake = { parseSubmissionXml, validateEnvelope };
      for (const name of exampleNames) {
        const json = readExample(name);
        expect(intake.validateEnvelope(json).ok, name).to.equal(true);
        const xmlName = name.replace(/\.json$/, '.xml');
        const fromXml = intake.parseSubmissionXml(readFileSync(path.join(examplesDir, xmlName), 'utf8')) as Example;
        expect(intake.validateEnvelope(fromXml).ok, xmlName).to.equal(true);
        // Same content; the external id differs (J… vs X…) so both files can be posted.
        expect(fromXml.externalId).to.equal(json.externalId.replace(/-J(\d+)$/, '-X$1'));
        expect({ ...fromXml, externalId: '', attachments: fromXml.attachments ?? [] }, xmlName).to.deep.equal({
          ...json,
          externalId: '',
          attachments: json.attachments ?? [],
        });
      }
    });

    const referencePattern: Record<string, RegExp> = {
      'sperrmuell-gelsenkirchen.json': /^GD-SP-\d{4}-\d{6}$/,
      'sperrmuell-bottrop.json': /^BEST-\d{4}-\d{6}$/,
      'sperrmuell-gladbeck.json': /^RE-05562014-\d{6}$/,
      'hundeanmeldung-gelsenkirchen.json': /^HST-05513000-\d{6}$/,
      'hundeanmeldung-gladbeck.json': /^HST-05562014-\d{6}$/,
      // Herten and Dorsten also have XML / batch back offices (simulators.test.ts); while routes.yaml sends them
      // to the district's REST system, they are filed there.
      'sperrmuell-herten.json': /^RE-05562020-\d{6}$/,
      'sperrmuell-dorsten.json': /^RE-05562012-\d{6}$/,
    };

    /** Examples whose route delivers over REST; the SOAP, XML and batch back offices have simulators.test.ts. */
    const restExamples = exampleNames.filter((name) => {
      const ex = readExample(name);
      const steps = routeFor(ex.tenant, ex.service)[0]?.targets ?? [];
      return steps.length === 0 || steps.some((t) => config.targets[t.target]?.adapter === 'rest');
    });

    for (const name of restExamples) {
      it(`${name}: maps, is filed once with its reference, and a replay returns the same case`, async () => {
        const m = await mapped(name);
        const again = await renderMessage(compileMapping(mappingsDir, m.step.mapping), m.input, 'json');
        expect(again.text, 'deterministic').to.equal(m.message.text);

        const first = await post(m.url, m.message.text, m.key);
        expect(first.status, JSON.stringify(first.json)).to.equal(201);
        const pointer = String(m.target.options['referencePointer']);
        const reference = resolvePointer(first.json, pointer);
        expect(reference).to.match(referencePattern[name] ?? /^$/);

        const replay = await post(m.url, m.message.text, m.key);
        expect(replay.status).to.be.oneOf([200, 201]);
        expect(resolvePointer(replay.json, pointer)).to.equal(reference);
        const all = [...waste.cases(), ...dogtax.cases()];
        const filed = all.filter((c) => c.idempotencyKey === m.key);
        expect(filed).to.have.length(1);
        expect(filed[0]?.reference).to.equal(reference);
        expect(filed[0]?.ags).to.equal(m.ex.tenant);
        expect(filed[0]?.body).to.deep.equal(m.message.body);
      });
    }

    it('carries the code lists through: item codes, tax classes, dates', async () => {
      const ge = (await mapped('sperrmuell-gelsenkirchen.json')).message.body as Record<string, unknown>;
      expect(ge).to.deep.include({ wunschtermin: '20.03.2026', antragsdatum: '02.03.2026', stellplatz: 'STRASSE' });
      expect((ge['positionen'] as { artikel: string }[]).map((p) => p.artikel)).to.deep.equal(['MOEBEL', 'MATRATZE', 'ELEKTRO-GROSS']);
      expect(ge['anlagen']).to.have.length(1);
      const bot = (await mapped('sperrmuell-bottrop.json')).message.body as Record<string, unknown>;
      expect((bot['lines'] as { articleCode: number }[]).map((l) => l.articleCode)).to.deep.equal([1030, 3010]);
      expect(bot).to.not.have.property('attachments');
      const gla = (await mapped('sperrmuell-gladbeck.json')).message.body as Record<string, unknown>;
      expect(gla['gemeindeschluessel']).to.equal('05562014');
      expect(gla['abholanschrift']).to.deep.equal({ strasse: 'Musterallee', hausnummer: '5', postleitzahl: '45964', ort: 'Gladbeck' });
      expect(((await mapped('hundeanmeldung-gelsenkirchen.json')).message.body as Record<string, unknown>)['steuerklasse']).to.equal('N');
      // Bottrop now files over SOAP; the shared mapping (the Kreis towns' tax software) keeps the code list.
      const shared = await renderMessage(
        compileMapping(mappingsDir, 'shared/hundeanmeldung.jsonata'),
        mappingInput(readExample('hundeanmeldung-bottrop.json'), 'kreis-re-hundesteuer', ++seq),
        'json',
      );
      expect((shared.body as Record<string, unknown>)['hundeart']).to.equal(3);
      expect(((await mapped('hundeanmeldung-gladbeck.json')).message.body as Record<string, unknown>)['hundeart']).to.equal(2);
    });

    it('fails the mapping loudly on a value outside a code list or a missing flag', async () => {
      const unknownKind = mapped('sperrmuell-bottrop.json', (ex) => {
        (ex.data['items'] as { kind: string }[])[0]!.kind = 'piano';
      });
      await unknownKind.then(
        () => expect.fail('mapped an unknown item kind'),
        (e: unknown) => {
          expect(e).to.be.instanceOf(MappingError);
          expect((e as Error).message).to.match(/\$code: the value is not in the code list \(furniture, /);
          expect((e as Error).message).not.to.include('piano'); // form data stays out of errors
        },
      );
      const noFlag = mapped('hundeanmeldung-gladbeck.json', (ex) => {
        delete ex.data['listedDog'];
      });
      await noFlag.then(
        () => expect.fail('mapped without listedDog'),
        (e: unknown) => expect((e as Error).message).to.match(/listedDog must be true or false/),
      );
    });
  });

  describe('simulators', () => {
    it('listen on the port asked for (0: a free one) and answer /health', async () => {
      for (const sim of [waste, dogtax]) {
        expect(sim.port).to.be.above(0);
        expect(sim.url).to.equal(`http://127.0.0.1:${sim.port}`);
        const res = await fetch(`${sim.url}/health`);
        expect(res.status).to.equal(200);
      }
    });

    it('refuse a case without Idempotency-Key (400) and file nothing', async () => {
      const m = await mapped('sperrmuell-bottrop.json');
      const before = waste.cases().length;
      const res = await post(m.url, m.message.text);
      expect(res.status).to.equal(400);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(JSON.stringify(res.json)).to.include('Idempotency-Key');
      expect(waste.cases()).to.have.length(before);
    });

    const broken: [string, string, (body: Record<string, any>) => void][] = [
      ['sperrmuell-gelsenkirchen.json', '/wunschtermin', (b) => (b['wunschtermin'] = '2026-03-20')],
      ['sperrmuell-bottrop.json', '/lines/0/articleCode', (b) => (b['lines'][0].articleCode = 4711)],
      ['sperrmuell-gladbeck.json', '/gemeindeschluessel', (b) => (b['gemeindeschluessel'] = '05513000')],
      ['sperrmuell-gladbeck.json', '/gegenstaende/0/menge', (b) => delete b['gegenstaende'][0].menge],
      ['sperrmuell-gladbeck.json', '/vorgangsnummer', (b) => (b['vorgangsnummer'] = 'x')],
      ['hundeanmeldung-gelsenkirchen.json', '/steuerklasse', (b) => (b['steuerklasse'] = 'X')],
      ['hundeanmeldung-gelsenkirchen.json', '/hund/chipnummer', (b) => (b['hund'].chipnummer = '12345')],
      ['hundeanmeldung-gladbeck.json', '/hund/geburtsdatum', (b) => (b['hund'].geburtsdatum = '20.01.2025')],
    ];
    for (const [name, field, breakIt] of broken) {
      it(`${name}: a body with a wrong ${field} gets 400 problem+json naming it, and the key stays usable`, async () => {
        const m = await mapped(name);
        const body = structuredClone(m.message.body) as Record<string, unknown>;
        breakIt(body);
        const res = await post(m.url, body, m.key);
        expect(res.status).to.equal(400);
        expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(((res.json?.['errors'] ?? []) as { pointer: string }[]).map((e) => e.pointer)).to.include(field);
        expect(res.json?.['title']).to.include(field);
        // Nothing was filed, so the same key files the corrected case.
        expect((await post(m.url, m.message.text, m.key)).status).to.equal(201);
      });
    }

    it('report a case’s status under its collection, and 404 elsewhere', async () => {
      const m = await mapped('hundeanmeldung-gladbeck.json');
      const filed = await post(m.url, m.message.text, m.key);
      const ref = String(filed.json?.['kassenzeichen']);
      expect(filed.headers.get('location')).to.equal(`/hundesteuer/05562/anmeldungen/${ref}`);
      for (const key of ['05562', '05562014']) {
        const res = await fetch(`${dogtax.url}/hundesteuer/${key}/anmeldungen/${ref}`);
        expect(res.status).to.equal(200);
        expect(await res.json()).to.deep.equal({ kassenzeichen: ref, status: 'eingegangen' });
      }
      expect((await fetch(`${dogtax.url}/hundesteuer/05512000/anmeldungen/${ref}`)).status).to.equal(404);
      const gd = await mapped('sperrmuell-gelsenkirchen.json');
      const az = String(resolvePointer((await post(gd.url, gd.message.text, gd.key)).json, '/auftrag/aktenzeichen'));
      const status = await fetch(`${gd.url}/${az}`);
      expect(await status.json()).to.deep.equal({ auftrag: { aktenzeichen: az, status: 'angelegt' } });
      const missing = await fetch(`${gd.url}/GD-SP-1999-000000`);
      expect(missing.status).to.equal(404);
      expect(missing.headers.get('content-type')).to.match(/^application\/problem\+json/);
    });

    it('advance a case’s status with time', async () => {
      const sim = await startSimulator({ kind: 'waste-rest', port: 0, failureRate: 0 }, { statusStepMs: 5 });
      try {
        const m = await mapped('sperrmuell-bottrop.json');
        const url = sim.url + new URL(m.url).pathname;
        const id = String((await post(url, m.message.text, m.key)).json?.['orderId']);
        await new Promise((r) => setTimeout(r, 30));
        expect(await (await fetch(`${url}/${id}`)).json()).to.deep.equal({ orderId: id, status: 'completed' });
        expect(sim.cases()[0]?.status).to.equal('completed');
      } finally {
        await sim.close();
      }
    });

    it('answer 503 with Retry-After: 1 when failureRate is 1, and file nothing', async () => {
      const flaky = await startSimulator({ kind: 'dogtax-rest', port: 0, failureRate: 1 });
      try {
        const m = await mapped('hundeanmeldung-gladbeck.json');
        const res = await post(flaky.url + new URL(m.url).pathname, m.message.text, m.key);
        expect(res.status).to.equal(503);
        expect(res.headers.get('retry-after')).to.equal('1');
        expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(flaky.cases()).to.have.length(0);
        expect((await fetch(`${flaky.url}/health`)).status).to.equal(200);
      } finally {
        await flaky.close();
      }
    });

    it('log one line per case, with the reference and no form data', () => {
      const cases = [...waste.cases(), ...dogtax.cases()];
      expect(logs).to.have.length(cases.length);
      for (const c of cases) expect(logs).to.include(`${c.kind}: ${c.dialect} filed ${c.reference}`);
      expect(logs.join('\n')).not.to.match(/Mustermann|Müller|Musterstraße|Bello|Rocky|2760000/);
    });

    it('start all or none: a port in use fails startSimulators and frees what it started', async () => {
      const probe = await startSimulator({ kind: 'waste-rest', port: 0 });
      const freePort = probe.port;
      await probe.close();
      await startSimulators([
        { kind: 'waste-rest', port: freePort },
        { kind: 'dogtax-rest', port: waste.port },
      ]).then(
        () => expect.fail('started on a port in use'),
        (e: unknown) => expect((e as Error).message).to.match(/already in use/),
      );
      const again = await startSimulator({ kind: 'waste-rest', port: freePort });
      expect(again.port).to.equal(freePort);
      await again.close();
      await again.close();
    });
  });
});
