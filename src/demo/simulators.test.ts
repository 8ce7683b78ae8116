// The SOAP, XML-over-HTTP and batch simulators: each demo example through its new mapping into the simulator
// that stands for its back office, and each simulator's contract (authentication, idempotency, validation
// that names the element, injected outages, acknowledgement files). The hub's own adapters, where they can be
// loaded, are pointed at the simulators too: that is what the target options in the README are checked by.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as soap from 'soap';
import { parse as parseYaml } from 'yaml';
import winston from 'winston';
import { configSchema, type HubConfig } from '../config/schema.ts';
import { simulatorSchema } from './schema.ts';
import { compileMapping, renderMessage } from '../mapping/engine.ts';
import { loadSchema } from '../mapping/xsd/index.ts';
import type { AdapterDefinition, AdapterInstance, DeliveryContext, OutboundMessage } from '../sdk/types.ts';
import { startSimulator, type RunningSimulator } from './index.ts';
import { AMTSBOTE_NS, DOGTAX_SOAP_PATH, DOGTAX_SOAP_WSDL, HUNDESTEUER_NS } from './simulators/dogtax-soap.ts';
import { WASTE_XML_PATH, WASTE_XML_XSD } from './simulators/waste-xml.ts';
import { BATCH_FAILURE } from './simulators/waste-batch.ts';
import { exampleInput, type Example } from './example-input.ts';
import { systemClock } from '../clock.ts';

const root = path.resolve(import.meta.dirname, '../..');
const configDir = path.join(root, 'config');
const mappingsDir = path.join(root, 'mappings');
const examplesDir = path.join(root, 'examples');

const rawConfig: Record<string, unknown> = Object.assign(
  {},
  ...readdirSync(configDir)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => parseYaml(readFileSync(path.join(configDir, n), 'utf8')) as Record<string, unknown>),
);
const config: HubConfig = configSchema.parse(rawConfig);

const readExample = (name: string): Example => JSON.parse(readFileSync(path.join(examplesDir, name), 'utf8')) as Example;

let seq = 0;

const mappingInput = (ex: Example, target: string) => exampleInput(config, ex, target, ++seq, '0196b000');

/** An example mapped to XML by `mapping`, as the hub renders it for a target with `format: xml`. */
async function mapped(example: string, mapping: string, opts: { declaration?: boolean; edit?: (ex: Example) => void } = {}) {
  const ex = readExample(example);
  opts.edit?.(ex);
  const input = mappingInput(ex, mapping);
  const message = await renderMessage(compileMapping(mappingsDir, mapping), input, 'xml', {
    declaration: opts.declaration ?? true,
    indent: false,
  });
  return { ex, input, text: message.text, message, key: input.delivery.idempotencyKey };
}

/** What the hub hands an adapter for that message. */
function outbound(m: Awaited<ReturnType<typeof mapped>>): OutboundMessage {
  return {
    ...m.message,
    attachments: m.input.attachments.map((a) => ({
      filename: a.filename,
      mediaType: a.mediaType,
      size: a.size,
      sha256: a.sha256,
      content: Buffer.from(a.content, 'base64'),
    })),
  };
}

function deliveryContext(key: string, tenant: string): DeliveryContext {
  return {
    deliveryId: key.replace(/^idem-/, 'dlv-'),
    idempotencyKey: key,
    submissionId: 'sub-1',
    tenant,
    service: 'sperrmuell',
    attempt: 1,
  };
}

const silent = winston.createLogger({ silent: true });

/** The adapter of that type, or undefined while a colleague's adapter does not load yet. */
async function adapter(dir: string): Promise<AdapterDefinition | undefined> {
  try {
    return ((await import(`../../adapters/${dir}/index.ts`)) as { default: AdapterDefinition }).default;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const FORM_DATA = /Mustermann|Musterfrau|Musterweg|Beispiel|Rocky|Staffordshire|2760000|Kleiderschrank|Waschmaschine|Kinderwagen/;

describe('simulatorSchema', () => {
  it('takes each kind with its own fields and defaults, and refuses fields of another kind', () => {
    expect(simulatorSchema.parse({ kind: 'dogtax-soap', port: 4103 })).to.deep.equal({
      kind: 'dogtax-soap',
      port: 4103,
      failureRate: 0,
      username: 'demo-bottrop',
      password: 'demo-password',
    });
    expect(simulatorSchema.parse({ kind: 'waste-xml', port: 4104, failureRate: 0.2 })).to.deep.equal({
      kind: 'waste-xml',
      port: 4104,
      failureRate: 0.2,
    });
    expect(simulatorSchema.parse({ kind: 'waste-batch', directory: 'data/demo/dorsten' })).to.deep.equal({
      kind: 'waste-batch',
      directory: 'data/demo/dorsten',
      intervalMs: 2000,
      failureRate: 0,
    });
    expect(simulatorSchema.parse({ kind: 'waste-rest', port: 4101 })).to.deep.equal({ kind: 'waste-rest', port: 4101, failureRate: 0 });
    expect(simulatorSchema.safeParse({ kind: 'waste-batch', directory: 'x', port: 4105 }).success, 'port on waste-batch').to.equal(false);
    expect(simulatorSchema.safeParse({ kind: 'waste-rest', port: 4101, username: 'x' }).success, 'username on waste-rest').to.equal(false);
    expect(simulatorSchema.safeParse({ kind: 'waste-batch' }).success, 'no directory').to.equal(false);
    expect(simulatorSchema.safeParse({ kind: 'dogtax-soap' }).success, 'no port').to.equal(false);
    expect(simulatorSchema.safeParse({ kind: 'fax', port: 1 }).success, 'unknown kind').to.equal(false);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('dogtax-soap simulator', () => {
  let sim: RunningSimulator;
  const logs: string[] = [];
  let endpoint: string;
  const clients = new Map<string, soap.Client>();

  before(async () => {
    sim = await startSimulator({ kind: 'dogtax-soap', port: 0 }, { logger: (m) => logs.push(m) });
    endpoint = sim.url + DOGTAX_SOAP_PATH;
  });
  after(async () => {
    await sim?.close();
  });

  /** A node-soap client of the WSDL with a PasswordDigest token; one per password. */
  async function client(password = 'demo-password', username = 'demo-bottrop'): Promise<soap.Client> {
    let c = clients.get(username + '\n' + password);
    if (!c) {
      c = await soap.createClientAsync(DOGTAX_SOAP_WSDL, { endpoint });
      c.setSecurity(new soap.WSSecurity(username, password, { passwordType: 'PasswordDigest' }));
      clients.set(username + '\n' + password, c);
    }
    return c;
  }

  /** One operation call with the mapped element as the body, as the soap adapter sends it (`_xml`). */
  async function call(op: 'Anmelden' | 'StatusAbfragen', xml: string, opts: { key?: string; password?: string } = {}) {
    const c = await client(opts.password);
    c.clearSoapHeaders();
    if (opts.key !== undefined) c.addSoapHeader(`<amt:IdempotencyKey xmlns:amt="${AMTSBOTE_NS}">${opts.key}</amt:IdempotencyKey>`);
    const [result] = (await c[`${op}Async`]({ _xml: xml })) as [Record<string, unknown>];
    return result;
  }

  /** The fault of a failed call: node-soap rejects with the parsed envelope in `root`. */
  async function fault(p: Promise<unknown>) {
    const err = await p.then(
      () => expect.fail('expected a SOAP fault'),
      (e: unknown) =>
        e as { root?: { Envelope?: { Body?: { Fault?: Record<string, unknown> } } }; response?: { status: number }; body?: string },
    );
    const f = err.root?.Envelope?.Body?.Fault;
    expect(f, 'a soap:Fault').to.be.an('object');
    return {
      code: String(f!['faultcode']),
      text: String(f!['faultstring']),
      detail: f!['detail'],
      status: err.response?.status,
      body: err.body ?? '',
    };
  }

  const bottrop = () => mapped('hundeanmeldung-bottrop.json', 'bottrop/hundeanmeldung-soap.jsonata', { declaration: false });

  it('files the mapped Bottrop example with a Kassenzeichen, once per IdempotencyKey', async () => {
    const m = await bottrop();
    const first = await call('Anmelden', m.text, { key: m.key });
    expect(first['Kassenzeichen']).to.match(/^HST-BOT-\d{4}-\d{6}$/);
    const replay = await call('Anmelden', m.text, { key: m.key });
    expect(replay['Kassenzeichen']).to.equal(first['Kassenzeichen']);
    // A replayed key answers the first case whatever the body.
    const other = await bottrop();
    expect((await call('Anmelden', other.text, { key: m.key }))['Kassenzeichen']).to.equal(first['Kassenzeichen']);
    const filed = sim.cases().filter((c) => c.idempotencyKey === m.key);
    expect(filed).to.have.length(1);
    expect(filed[0]).to.deep.include({
      kind: 'dogtax-soap',
      dialect: 'hundesteuer-bottrop',
      ags: '05512000',
      reference: first['Kassenzeichen'],
      status: 'eingegangen',
    });
    expect(filed[0]?.body).to.equal(m.text);
    expect(
      await call(
        'StatusAbfragen',
        `<StatusAbfrage xmlns="${HUNDESTEUER_NS}"><Kassenzeichen>${String(first['Kassenzeichen'])}</Kassenzeichen></StatusAbfrage>`,
      ),
    ).to.deep.equal({
      Kassenzeichen: first['Kassenzeichen'],
      Bearbeitungsstand: 'eingegangen',
    });
  });

  it('takes the message with its XML declaration stripped only: a declaration inside the Body is not well-formed', async () => {
    const m = await mapped('hundeanmeldung-bottrop.json', 'bottrop/hundeanmeldung-soap.jsonata', { declaration: true });
    const f = await fault(call('Anmelden', m.text, { key: m.key }));
    expect(f.code).to.equal('soap:Client');
    expect(f.text).to.match(/not well-formed/);
  });

  it('refuses a wrong password, an unknown user and a missing token with a WS-Security fault, and files nothing', async () => {
    const m = await bottrop();
    const before = sim.cases().length;
    for (const creds of [{ password: 'wrong' }, { password: 'demo-password', username: 'someone' }]) {
      const c = await client(creds.password, creds.username);
      c.clearSoapHeaders();
      c.addSoapHeader(`<amt:IdempotencyKey xmlns:amt="${AMTSBOTE_NS}">${m.key}</amt:IdempotencyKey>`);
      const f = await fault(c['AnmeldenAsync']({ _xml: m.text }) as Promise<unknown>);
      expect(f.code).to.equal('wsse:FailedAuthentication');
      expect(f.status).to.equal(500);
      // The fault's envelope declares the wsse prefix its faultcode uses.
      expect(f.body).to.match(/xmlns:wsse="http:\/\/docs\.oasis-open\.org\/wss\/2004\/01\/oasis-200401-wss-wssecurity-secext-1\.0\.xsd"/);
    }
    const anonymous = await soap.createClientAsync(DOGTAX_SOAP_WSDL, { endpoint });
    const f = await fault(anonymous['AnmeldenAsync']({ _xml: m.text }) as Promise<unknown>);
    expect(f.code).to.equal('wsse:InvalidSecurity');
    expect(sim.cases()).to.have.length(before);
  });

  it('refuses a replayed token (same nonce) and a stale one', async () => {
    const m = await bottrop();
    const security = new soap.WSSecurity('demo-bottrop', 'demo-password', { passwordType: 'PasswordDigest' });
    const header = security.toXML();
    const envelope = (sec: string) =>
      `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>${sec}` +
      `<amt:IdempotencyKey xmlns:amt="${AMTSBOTE_NS}">${m.key}</amt:IdempotencyKey></soap:Header><soap:Body>${m.text}</soap:Body></soap:Envelope>`;
    const post = (xml: string) =>
      fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${HUNDESTEUER_NS}/Anmelden"` },
        body: xml,
      });
    const ok = await post(envelope(header));
    expect(ok.status, await ok.clone().text()).to.equal(200);
    expect(await ok.text()).to.match(/<Kassenzeichen>HST-BOT-/);
    const again = await post(envelope(header));
    expect(again.status).to.equal(500);
    expect(await again.text()).to.match(/wsse:FailedAuthentication[\s\S]*nonce replay/);
    // A token made 10 minutes ago (the digest is right for it, but it is stale).
    const created = new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const nonce = Buffer.from('0123456789abcdef').toString('base64');
    const digest = createHash('sha1')
      .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created), Buffer.from('demo-password')]))
      .digest('base64');
    const stale = header
      .replace(/(<wsse:Password [^>]*>)[^<]*/, `$1${digest}`)
      .replace(/(<wsse:Nonce [^>]*>)[^<]*/, `$1${nonce}`)
      .replace(/(<wsu:Created>)[^<]*(<\/wsu:Created><\/wsse:UsernameToken>)/, `$1${created}$2`);
    const late = await post(envelope(stale));
    expect(late.status).to.equal(500);
    expect(await late.text()).to.match(/wsse:FailedAuthentication[\s\S]*Created is not within 5 minutes/);
  });

  const broken: [string, string, (xml: string) => string][] = [
    [
      'a 5-digit chip number',
      '/Anmeldung/hund/chipnummer',
      (x) => x.replace(/<chipnummer>\d+<\/chipnummer>/, '<chipnummer>12345</chipnummer>'),
    ],
    [
      'an ISO date the wrong way round',
      '/Anmeldung/hund/geburtsdatum',
      (x) => x.replace(/<geburtsdatum>[^<]+</, '<geburtsdatum>01.08.2023<'),
    ],
    ['hundeart 4', '/Anmeldung/hundeart', (x) => x.replace(/<hundeart>\d<\/hundeart>/, '<hundeart>4</hundeart>')],
    ['an unknown element', '/Anmeldung/hund/farbe', (x) => x.replace('</chipnummer>', '</chipnummer><farbe>braun</farbe>')],
    ['an attachment without mimeType', '/Anmeldung/anlagen/anlage/@mimeType', (x) => x.replace(/ mimeType="[^"]*"/, '')],
    [
      'a listed breed as an ordinary first dog',
      '/Anmeldung/hundeart',
      (x) => x.replace(/<hundeart>\d<\/hundeart>/, '<hundeart>1</hundeart>'),
    ],
    ['keeping before birth', '/Anmeldung/haltungsbeginn', (x) => x.replace(/<haltungsbeginn>[^<]+</, '<haltungsbeginn>2020-01-01<')],
  ];
  for (const [what, element, breakIt] of broken) {
    it(`answers ${what} with a soap:Client fault naming ${element}, and the key stays usable`, async () => {
      const m = await bottrop();
      const f = await fault(call('Anmelden', breakIt(m.text), { key: m.key }));
      expect(f.code).to.equal('soap:Client');
      expect(f.status).to.equal(500);
      expect(f.text).to.include(`Invalid element ${element}`);
      expect(f.text).not.to.match(/12345|01\.08\.2023|braun|2020-01-01/); // never the value
      const fehler = (f.detail as { Fehler: { Element: string } | { Element: string }[] }).Fehler;
      expect([fehler].flat().map((e) => e.Element)).to.include(element);
      expect((await call('Anmelden', m.text, { key: m.key }))['Kassenzeichen']).to.match(/^HST-BOT-/);
    });
  }

  it('refuses a call without the IdempotencyKey header, and an element the operation does not take', async () => {
    const m = await bottrop();
    const before = sim.cases().length;
    const f = await fault(call('Anmelden', m.text));
    expect(f.code).to.equal('soap:Client');
    expect(f.text).to.include('IdempotencyKey').and.include(AMTSBOTE_NS);
    const g = await fault(
      call('Anmelden', `<StatusAbfrage xmlns="${HUNDESTEUER_NS}"><Kassenzeichen>x</Kassenzeichen></StatusAbfrage>`, { key: m.key }),
    );
    expect(g.text).to.match(/expects \{urn:bottrop:hundesteuer:1\}Anmeldung/);
    // The right name in the wrong namespace is another element.
    const h = await fault(call('Anmelden', m.text.replace(HUNDESTEUER_NS, 'urn:example:other'), { key: m.key }));
    expect(h.code).to.equal('soap:Client');
    const unknown = await fault(
      call('StatusAbfragen', `<StatusAbfrage xmlns="${HUNDESTEUER_NS}"><Kassenzeichen>HST-BOT-1999-000000</Kassenzeichen></StatusAbfrage>`),
    );
    expect(unknown.text).to.include('/StatusAbfrage/Kassenzeichen');
    expect(sim.cases()).to.have.length(before);
  });

  it('answers an unknown SOAPAction and a body that is not XML with a soap:Client fault', async () => {
    const post = (action: string, body: string) =>
      fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: action }, body });
    const bad = await post(
      '"urn:bottrop:hundesteuer:1/Abmelden"',
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>',
    );
    expect(bad.status).to.equal(500);
    // Without a token, the token is what is refused first.
    expect(await bad.text()).to.include('wsse:InvalidSecurity');
    const garbage = await post('""', '<soap:Envelope><soap:Body>');
    expect(garbage.status).to.equal(500);
    const text = await garbage.text();
    expect(text).to.include('<faultcode>soap:Client</faultcode>').and.include('not well-formed');
  });

  it('answers a soap:Server fault with Retry-After: 1 when failureRate is 1, and files nothing', async () => {
    const flaky = await startSimulator({ kind: 'dogtax-soap', port: 0, failureRate: 1 });
    try {
      const m = await bottrop();
      const c = await soap.createClientAsync(DOGTAX_SOAP_WSDL, { endpoint: flaky.url + DOGTAX_SOAP_PATH });
      c.setSecurity(new soap.WSSecurity('demo-bottrop', 'demo-password', { passwordType: 'PasswordDigest' }));
      c.addSoapHeader(`<amt:IdempotencyKey xmlns:amt="${AMTSBOTE_NS}">${m.key}</amt:IdempotencyKey>`);
      const err = await (c['AnmeldenAsync']({ _xml: m.text }) as Promise<unknown>).then(
        () => expect.fail('expected a fault'),
        (e: {
          root: { Envelope: { Body: { Fault: { faultcode: string } } } };
          response: { status: number; headers: Record<string, string> };
        }) => e,
      );
      expect(err.root.Envelope.Body.Fault.faultcode).to.equal('soap:Server');
      expect(err.response.status).to.equal(500);
      expect(err.response.headers['retry-after']).to.equal('1');
      expect(flaky.cases()).to.have.length(0);
      expect((await fetch(`${flaky.url}/health`)).status).to.equal(200);
    } finally {
      await flaky.close();
    }
  });

  it('serves the WSDL at ?wsdl and /health beside it, and logs one line per case without form data', async () => {
    const wsdl = await fetch(`${endpoint}?wsdl`);
    expect(wsdl.status).to.equal(200);
    expect(await wsdl.text()).to.include('Anmelden');
    expect((await fetch(`${sim.url}/health`)).status).to.equal(200);
    expect(sim.port).to.be.above(0);
    expect(sim.url).to.equal(`http://127.0.0.1:${sim.port}`);
    expect(logs).to.have.length(sim.cases().length);
    for (const c of sim.cases()) expect(logs).to.include(`dogtax-soap: hundesteuer-bottrop filed ${c.reference}`);
    expect(logs.join('\n')).not.to.match(FORM_DATA);
  });

  describe('with the hub’s soap adapter', () => {
    let def: AdapterDefinition | undefined;
    let instance: AdapterInstance | undefined;
    before(async function () {
      def = await adapter('soap');
      if (!def) this.skip();
    });
    after(async () => {
      await instance?.close?.();
    });

    /** The target options of the README (section "dogtax-soap"), with the test's port. */
    const options = (password: string) => ({
      wsdl: path.relative(process.cwd(), DOGTAX_SOAP_WSDL),
      operation: 'Anmelden',
      endpoint,
      security: { type: 'usernameToken', username: 'demo-bottrop', password, passwordType: 'PasswordDigest' },
      referencePath: 'Quittung.Kassenzeichen',
    });

    it('delivers the mapped example once per key, and check() passes', async () => {
      const parsed = def!.options.parse(options('demo-password'));
      instance = await def!.create(parsed as never, {
        clock: systemClock,
        targetId: 'bottrop-hundesteuer-soap',
        logger: silent,
        timeoutMs: 10_000,
      });
      const m = await mapped('hundeanmeldung-bottrop.json', 'bottrop/hundeanmeldung-soap.jsonata');
      const first = await instance.deliver(outbound(m), deliveryContext(m.key, '05512000'));
      expect(first.ok, JSON.stringify(first)).to.equal(true);
      const reference = first.ok ? first.reference : null;
      expect(reference).to.match(/^HST-BOT-\d{4}-\d{6}$/);
      const again = await instance.deliver(outbound(m), deliveryContext(m.key, '05512000'));
      expect(again.ok && again.reference).to.equal(reference);
      expect(sim.cases().filter((c) => c.idempotencyKey === m.key)).to.have.length(1);
      expect((await instance.check()).ok).to.equal(true);
    });

    it('classifies the faults: invalid input permanent, wrong password permanent, outage retryable', async () => {
      const m = await mapped('hundeanmeldung-bottrop.json', 'bottrop/hundeanmeldung-soap.jsonata', {
        edit: (ex) => ((ex.data['dog'] as Record<string, unknown>)['chipNumber'] = '12345'),
      });
      const invalid = await instance!.deliver(outbound(m), deliveryContext(m.key, '05512000'));
      expect(invalid).to.deep.include({ ok: false, retryable: false, errorKind: 'soap-client-fault' });
      expect(!invalid.ok && invalid.error).to.include('/Anmeldung/hund/chipnummer');

      const wrong = await def!.create(def!.options.parse(options('wrong')) as never, {
        clock: systemClock,
        targetId: 't',
        logger: silent,
        timeoutMs: 10_000,
      });
      try {
        expect(await wrong.deliver(outbound(m), deliveryContext(m.key, '05512000'))).to.deep.include({
          ok: false,
          retryable: false,
          errorKind: 'soap-security-fault',
        });
        expect((await wrong.check()).ok).to.equal(false);
      } finally {
        await wrong.close?.();
      }

      const flaky = await startSimulator({ kind: 'dogtax-soap', port: 0, failureRate: 1 });
      const down = await def!.create(def!.options.parse({ ...options('demo-password'), endpoint: flaky.url + DOGTAX_SOAP_PATH }) as never, {
        clock: systemClock,
        targetId: 't',
        logger: silent,
        timeoutMs: 10_000,
      });
      try {
        const ok = await mapped('hundeanmeldung-bottrop.json', 'bottrop/hundeanmeldung-soap.jsonata');
        expect(await down.deliver(outbound(ok), deliveryContext(ok.key, '05512000'))).to.deep.include({
          ok: false,
          retryable: true,
          errorKind: 'soap-server-fault',
          retryAfterMs: 1000,
        });
      } finally {
        await down.close?.();
        await flaky.close();
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('waste-xml simulator', () => {
  let sim: RunningSimulator;
  const logs: string[] = [];
  let url: string;

  before(async () => {
    sim = await startSimulator({ kind: 'waste-xml', port: 0 }, { logger: (m) => logs.push(m) });
    url = sim.url + WASTE_XML_PATH;
  });
  after(async () => {
    await sim?.close();
  });

  const post = (body: string, key?: string, type = 'application/xml; charset=utf-8') =>
    fetch(url, { method: 'POST', headers: { 'Content-Type': type, ...(key ? { 'Idempotency-Key': key } : {}) }, body });
  const herten = (edit?: (ex: Example) => void) =>
    mapped('sperrmuell-herten.json', 'kreis-recklinghausen/sperrmuell-xml.jsonata', edit ? { edit } : {});

  it('the mapped Herten example is valid against the XSD set, which imports kommunal-typen.xsd', async () => {
    const schema = loadSchema(WASTE_XML_XSD);
    try {
      expect(schema.files.map((f) => path.basename(f))).to.deep.equal(['sperrmuell-auftrag.xsd', 'kommunal-typen.xsd']);
      const m = await herten();
      expect(schema.validate(m.text)).to.deep.equal({ ok: true });
      // Also the Dorsten example (no e-mail, a separate pickup address) in this format.
      const d = await mapped('sperrmuell-dorsten.json', 'kreis-recklinghausen/sperrmuell-xml.jsonata');
      expect(schema.validate(d.text)).to.deep.equal({ ok: true });
      expect(m.text).to.match(
        /^<\?xml version="1\.0" encoding="UTF-8"\?><SperrmuellAuftrag xmlns="urn:kreis-re:abfall:sperrmuell:1" xmlns:kt="urn:kreis-re:kommunal:1" version="1\.0">/,
      );
      expect(m.text).to.include('<gegenstand schluessel="SM-01"><menge>2</menge>').and.include('<kt:vorname>Erika</kt:vorname>');
    } finally {
      schema.dispose();
    }
  });

  it('files the mapped Herten example with an Aktenzeichen (201), once per Idempotency-Key, and reports its status', async () => {
    const m = await herten();
    const res = await post(m.text, m.key);
    const body = await res.text();
    expect(res.status, body).to.equal(201);
    expect(res.headers.get('content-type')).to.match(/^application\/xml/);
    const az = /<Aktenzeichen>([^<]+)<\/Aktenzeichen>/.exec(body)?.[1];
    expect(az).to.match(/^KRE-ABF-05562020-\d{6}$/);
    expect(body).to.equal(
      `<?xml version="1.0" encoding="UTF-8"?><Quittung xmlns="urn:kreis-re:abfall:sperrmuell:1"><Aktenzeichen>${az}</Aktenzeichen></Quittung>`,
    );
    expect(res.headers.get('location')).to.equal(`${WASTE_XML_PATH}/${az}`);
    const replay = await post(m.text, m.key);
    expect(replay.status).to.equal(200);
    expect(replay.headers.get('idempotent-replayed')).to.equal('true');
    expect(await replay.text()).to.equal(body);
    const filed = sim.cases().filter((c) => c.idempotencyKey === m.key);
    expect(filed).to.have.length(1);
    expect(filed[0]).to.deep.include({ kind: 'waste-xml', dialect: 'kreis-re-xml', ags: '05562020', reference: az, body: m.text });
    const status = await fetch(`${url}/${az}`);
    expect(await status.text()).to.equal(
      `<?xml version="1.0" encoding="UTF-8"?><Auftragsstatus xmlns="urn:kreis-re:abfall:sperrmuell:1"><Aktenzeichen>${az}</Aktenzeichen><Status>angelegt</Status></Auftragsstatus>`,
    );
    expect((await fetch(`${url}/KRE-ABF-05562020-999999`)).status).to.equal(404);
  });

  it('takes Marl too, and refuses the district’s other towns naming gemeindeschluessel', async () => {
    const marl = await herten((ex) => (ex.tenant = '05562024'));
    const res = await post(marl.text, marl.key);
    expect(await res.text()).to.match(/<Aktenzeichen>KRE-ABF-05562024-000001<\/Aktenzeichen>/);
    const gladbeck = await herten((ex) => (ex.tenant = '05562014'));
    const refused = await post(gladbeck.text, gladbeck.key);
    expect(refused.status).to.equal(400);
    const problem = (await refused.json()) as { title: string; errors: { element: string }[] };
    expect(problem.title).to.include('/SperrmuellAuftrag/gemeindeschluessel');
  });

  const broken: [string, string, (xml: string) => string][] = [
    ['menge 0', '/SperrmuellAuftrag/gegenstaende/gegenstand[2]/menge', (x) => x.replace('<menge>1</menge>', '<menge>0</menge>')],
    [
      'an unknown item key',
      '/SperrmuellAuftrag/gegenstaende/gegenstand[1]/@schluessel',
      (x) => x.replace('schluessel="SM-01"', 'schluessel="SM-42"'),
    ],
    ['a missing first name', '/SperrmuellAuftrag/antragsteller/familienname', (x) => x.replace(/<kt:vorname>[^<]*<\/kt:vorname>/, '')],
    [
      'an unprefixed person element (wrong namespace)',
      '/SperrmuellAuftrag/antragsteller/vorname',
      (x) => x.replace(/<kt:vorname>([^<]*)<\/kt:vorname>/, '<vorname>$1</vorname>'),
    ],
    ['a German date', '/SperrmuellAuftrag/wunschtermin', (x) => x.replace(/<wunschtermin>[^<]+</, '<wunschtermin>15.04.2026<')],
    ['version 2.0', '/SperrmuellAuftrag/@version', (x) => x.replace(' version="1.0">', ' version="2.0">')],
    [
      'a 4-digit postal code',
      '/SperrmuellAuftrag/abholanschrift/postleitzahl',
      (x) => x.replace(/(<abholanschrift>[\s\S]*?<kt:postleitzahl>)\d+/, '$14569'),
    ],
    [
      'a Quittung instead of an order',
      '/Quittung',
      () => `<Quittung xmlns="urn:kreis-re:abfall:sperrmuell:1"><Aktenzeichen>KRE-ABF-05562020-000001</Aktenzeichen></Quittung>`,
    ],
  ];
  for (const [what, element, breakIt] of broken) {
    it(`answers ${what} with 400 problem+json naming ${element}, and the key stays usable`, async () => {
      const m = await herten();
      const res = await post(breakIt(m.text), m.key);
      expect(res.status).to.equal(400);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      const problem = (await res.json()) as { title: string; detail: string; errors: { element: string; detail: string }[] };
      expect(problem.errors.map((e) => e.element)).to.include(element);
      expect(problem.title).to.include(`Invalid element ${element}`);
      expect(JSON.stringify(problem)).not.to.match(/SM-42|15\.04\.2026|4569[^9]|Erika/); // never the value
      expect((await post(m.text, m.key)).status).to.equal(201);
    });
  }

  it('refuses what is not XML (415), not well-formed (400), or has no Idempotency-Key (400)', async () => {
    const m = await herten();
    const before = sim.cases().length;
    expect((await post('{"a":1}', m.key, 'application/json')).status).to.equal(415);
    const malformed = await post('<SperrmuellAuftrag><gemeindeschluessel>', m.key);
    expect(malformed.status).to.equal(400);
    expect(((await malformed.json()) as { title: string }).title).to.include('not well-formed');
    const noKey = await post(m.text);
    expect(noKey.status).to.equal(400);
    expect(((await noKey.json()) as { title: string }).title).to.include('Idempotency-Key');
    const doctype = await post(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]>${m.text.replace(/^<\?xml[^>]*>/, '')}`, m.key);
    expect(doctype.status).to.equal(400);
    expect(sim.cases()).to.have.length(before);
  });

  it('answers 503 with Retry-After: 1 when failureRate is 1, and files nothing', async () => {
    const flaky = await startSimulator({ kind: 'waste-xml', port: 0, failureRate: 1 });
    try {
      const m = await herten();
      const res = await fetch(flaky.url + WASTE_XML_PATH, {
        method: 'POST',
        headers: { 'Content-Type': 'application/xml', 'Idempotency-Key': m.key },
        body: m.text,
      });
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('1');
      expect(flaky.cases()).to.have.length(0);
      expect((await fetch(`${flaky.url}/health`)).status).to.equal(200);
    } finally {
      await flaky.close();
    }
  });

  it('logs one line per case, with the reference and no form data', () => {
    expect(logs).to.have.length(sim.cases().length);
    for (const c of sim.cases()) expect(logs).to.include(`waste-xml: kreis-re-xml filed ${c.reference}`);
    expect(logs.join('\n')).not.to.match(FORM_DATA);
  });

  describe('with the hub’s xml-http adapter', () => {
    let def: AdapterDefinition | undefined;
    before(async function () {
      def = await adapter('xml-http');
      if (!def) this.skip();
    });

    it('validates, delivers once per key, reads the Aktenzeichen, and stops a message the XSD refuses before sending', async () => {
      const options = def!.options.parse({
        url,
        method: 'POST',
        auth: { type: 'none' },
        schema: path.relative(process.cwd(), WASTE_XML_XSD),
        reference: { from: 'xml', path: 'Quittung/Aktenzeichen' },
        idempotencyHeader: 'Idempotency-Key',
        checkUrl: `${sim.url}/health`,
      });
      const instance = await def!.create(options as never, {
        clock: systemClock,
        targetId: 'kreis-re-abfall-xml',
        logger: silent,
        timeoutMs: 10_000,
      });
      try {
        const m = await herten();
        const first = await instance.deliver(outbound(m), deliveryContext(m.key, '05562020'));
        expect(first.ok, JSON.stringify(first)).to.equal(true);
        expect(first.ok && first.reference).to.match(/^KRE-ABF-05562020-\d{6}$/);
        const again = await instance.deliver(outbound(m), deliveryContext(m.key, '05562020'));
        expect(again.ok && again.reference).to.equal(first.ok && first.reference);
        const before = sim.cases().length;
        const bad = await herten((ex) => ((ex.data['items'] as { quantity: number }[])[0]!.quantity = 0));
        expect(await instance.deliver(outbound(bad), deliveryContext(bad.key, '05562020'))).to.deep.include({
          ok: false,
          retryable: false,
          errorKind: 'schema',
        });
        expect(sim.cases()).to.have.length(before);
        expect((await instance.check()).ok).to.equal(true);
      } finally {
        await instance.close?.();
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
describe('waste-batch simulator', () => {
  let dir: string;
  let sim: RunningSimulator;
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-batch-'));
    sim = await startSimulator({ kind: 'waste-batch', directory: dir, intervalMs: 100 }, { logger: (m) => logs.push(m) });
  });
  after(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Drops a file as the file-drop adapter does: a dot temp file, then the final name. */
  async function drop(name: string, content: string, into = dir): Promise<void> {
    const tmp = path.join(into, `.${name}.tmp-0123456789ab`);
    await writeFile(tmp, content);
    await rename(tmp, path.join(into, name));
  }

  const answer = (name: string, into = dir) =>
    waitFor(`${name}.ok or .err`, async () => {
      for (const suffix of ['.ok', '.err']) {
        const content = await readFile(path.join(into, name + suffix), 'utf8').catch(() => undefined);
        if (content !== undefined) return { suffix, content };
      }
      return undefined;
    });

  const dorsten = (edit?: (ex: Example) => void) =>
    mapped('sperrmuell-dorsten.json', 'kreis-recklinghausen/sperrmuell-batch.jsonata', edit ? { edit } : {});

  it('runs without a port: url is the folder as file://, port 0', () => {
    expect(sim.port).to.equal(0);
    expect(sim.url).to.equal(`file://${dir}`);
  });

  it('answers the mapped Dorsten example with <name>.ok holding the reference, and files it once', async () => {
    const m = await dorsten();
    expect(m.text).to.match(/^<\?xml version="1\.0" encoding="UTF-8"\?><SPERRMUELL VERSION="2"><VORGANG>/);
    const name = `05562012_sperrmuell_${m.input.delivery.id}.xml`;
    await drop(name, m.text);
    const ack = await answer(name);
    expect(ack.suffix).to.equal('.ok');
    expect(ack.content).to.match(/^DOR-SP-\d{4}-\d{6}\n$/);
    const reference = ack.content.trim();
    const filed = sim.cases().filter((c) => c.reference === reference);
    expect(filed).to.have.length(1);
    expect(filed[0]).to.deep.include({
      kind: 'waste-batch',
      dialect: 'dorsten-batch',
      ags: '05562012',
      idempotencyKey: m.input.submission.id,
      body: m.text,
    });
    // Several rounds later: nothing processed twice, the answer untouched.
    const mtime = statSync(path.join(dir, `${name}.ok`)).mtimeMs;
    const count = sim.cases().length;
    await new Promise((r) => setTimeout(r, 350));
    expect(sim.cases()).to.have.length(count);
    expect(statSync(path.join(dir, `${name}.ok`)).mtimeMs).to.equal(mtime);
    // The same case (VORGANG) in a second file gets the first reference.
    await drop(`05562012_sperrmuell_${m.input.delivery.id}-again.xml`, m.text);
    expect((await answer(`05562012_sperrmuell_${m.input.delivery.id}-again.xml`)).content).to.equal(`${reference}\n`);
    expect(sim.cases().filter((c) => c.idempotencyKey === m.input.submission.id)).to.have.length(1);
  });

  const broken: [string, string, (xml: string) => string][] = [
    ['no pickup date', 'SPERRMUELL/ABHOLUNG/TERMIN: required', (x) => x.replace(/<TERMIN>[^<]*<\/TERMIN>/, '')],
    ['an ISO date', 'SPERRMUELL/ABHOLUNG/TERMIN: expected a date DD.MM.YYYY', (x) => x.replace(/<TERMIN>[^<]*</, '<TERMIN>2026-04-22<')],
    ['an unknown item code', 'SPERRMUELL/POSITIONEN/POSITION[2]/@ART', (x) => x.replace('ART="30"', 'ART="31"')],
    ['another town', 'SPERRMUELL/GEMEINDE: expected 05562012 (Dorsten)', (x) => x.replace('<GEMEINDE>05562012<', '<GEMEINDE>05562020<')],
    ['an unknown element', 'SPERRMUELL/ANTRAGSTELLER/FAX: unknown field', (x) => x.replace('</ORT>', '</ORT><FAX>1</FAX>')],
    ['broken XML', 'not well-formed XML (line 1)', (x) => x.replace('</SPERRMUELL>', '')],
    ['another root', '/SPERRMUELLAUFTRAG: expected the root element SPERRMUELL', (x) => x.replace(/SPERRMUELL/g, 'SPERRMUELLAUFTRAG')],
  ];
  for (const [what, line, breakIt] of broken) {
    it(`answers a file with ${what} with <name>.err: one line naming it, no values`, async () => {
      const m = await dorsten();
      const name = `05562012_sperrmuell_${m.input.delivery.id}.xml`;
      const before = sim.cases().length;
      await drop(name, breakIt(m.text));
      const ack = await answer(name);
      expect(ack.suffix).to.equal('.err');
      expect(ack.content).to.include(line);
      expect(ack.content.split('\n')).to.have.length(2); // one line and its line break
      expect(ack.content).not.to.match(/2026-04-22|05562020|"31"/); // never the value
      expect(ack.content).not.to.match(FORM_DATA);
      expect(sim.cases()).to.have.length(before);
    });
  }

  it('ignores dot files, other names and answers, and does not reprocess after a restart', async () => {
    const m = await dorsten();
    await writeFile(path.join(dir, '.half-written.xml'), m.text);
    await writeFile(path.join(dir, 'notes.txt'), 'x');
    await writeFile(path.join(dir, 'stray.xml.ok'), 'x');
    const before = sim.cases().length;
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.cases()).to.have.length(before);
    expect(readdirSync(dir).filter((n) => n.startsWith('.half-written') || n.startsWith('notes'))).to.deep.equal([
      '.half-written.xml',
      'notes.txt',
    ]);
    // A second run of the job over the same folder finds every file answered.
    const rerun = await startSimulator({ kind: 'waste-batch', directory: dir, intervalMs: 50 });
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(rerun.cases()).to.have.length(0);
    } finally {
      await rerun.close();
    }
  });

  it('writes .err "Verarbeitungsfehler im Nachtlauf" when failureRate is 1, creates a relative folder, and stops on close', async () => {
    const relative = path.relative(process.cwd(), path.join(dir, 'nested', 'eingang'));
    const flaky = await startSimulator({ kind: 'waste-batch', directory: relative, intervalMs: 50, failureRate: 1 });
    const folder = path.join(dir, 'nested', 'eingang');
    try {
      expect(flaky.url).to.equal(`file://${folder}`);
      const m = await dorsten();
      await drop('a.xml', m.text, folder);
      expect(await answer('a.xml', folder)).to.deep.equal({ suffix: '.err', content: `${BATCH_FAILURE}\n` });
      expect(flaky.cases()).to.have.length(0);
    } finally {
      await flaky.close();
    }
    await drop('b.xml', (await dorsten()).text, folder);
    await new Promise((r) => setTimeout(r, 200));
    expect(readdirSync(folder).sort()).to.deep.equal(['a.xml', 'a.xml.err', 'b.xml']);
  });

  it('logs the filed references and rejected file names, no form data', () => {
    for (const c of sim.cases()) expect(logs).to.include(`waste-batch: dorsten-batch filed ${c.reference}`);
    expect(logs.filter((l) => l.includes(' filed '))).to.have.length(sim.cases().length);
    expect(logs.join('\n')).not.to.match(FORM_DATA);
  });

  describe('with the hub’s file-drop adapter', () => {
    let def: AdapterDefinition | undefined;
    before(async function () {
      def = await adapter('file-drop');
      if (!def) this.skip();
    });

    it('drops the mapped example, and the acknowledgement brings the reference', async () => {
      const folder = path.join(dir, 'adapter');
      await mkdir(folder);
      const job = await startSimulator({ kind: 'waste-batch', directory: folder, intervalMs: 50 });
      const options = def!.options.parse({
        transport: { type: 'local', directory: folder },
        fileName: '{tenant}_{service}_{deliveryId}.{ext}',
        attachments: 'none',
        acknowledgement: { mode: 'files', timeoutMs: 60_000 },
      });
      const instance = await def!.create(options as never, {
        clock: systemClock,
        targetId: 'dorsten-abfall',
        logger: silent,
        timeoutMs: 10_000,
      });
      try {
        const m = await dorsten();
        const result = await instance.deliver(outbound(m), deliveryContext(m.key, '05562012'));
        expect(result.ok, JSON.stringify(result)).to.equal(true);
        const token = result.ok ? result.awaitingAck?.token : undefined;
        expect(token).to.be.a('string');
        const ack = await waitFor('the acknowledgement', async () => {
          const a = await instance.acknowledgement!(token!);
          return a.state === 'pending' ? undefined : a;
        });
        expect(ack.state).to.equal('accepted');
        expect(ack.state === 'accepted' && ack.reference).to.match(/^DOR-SP-\d{4}-\d{6}$/);
        const bad = await dorsten((ex) => delete (ex.data as Record<string, unknown>)['preferredDate']);
        const rejected = await instance.deliver(outbound(bad), deliveryContext(bad.key, '05562012'));
        const t2 = rejected.ok ? rejected.awaitingAck?.token : undefined;
        const ack2 = await waitFor('the rejection', async () => {
          const a = await instance.acknowledgement!(t2!);
          return a.state === 'pending' ? undefined : a;
        });
        expect(ack2).to.deep.equal({ state: 'rejected', error: 'SPERRMUELL/ABHOLUNG/TERMIN: required' });
      } finally {
        await instance.close?.();
        await job.close();
      }
    });
  });
});
