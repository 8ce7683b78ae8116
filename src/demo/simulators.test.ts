// The SOAP, XML-over-HTTP and batch simulators: each demo example through its new mapping into the simulator
// that stands for its back office, and each simulator's contract (authentication, idempotency, validation
// that names the element, injected outages, acknowledgement files). The hub's own adapters, where they can be
// loaded, are pointed at the simulators too: that is what the target options in the README are checked by.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import * as soap from 'soap';
import { simulatorSchema } from './schema.ts';
import type { AdapterDefinition, AdapterInstance } from '../sdk/types.ts';
import { startSimulator, type RunningSimulator } from './index.ts';
import { AMTSBOTE_NS, DOGTAX_SOAP_PATH, DOGTAX_SOAP_WSDL, HUNDESTEUER_NS } from './simulators/dogtax-soap.ts';
import { systemClock } from '../clock.ts';

import { mapped, outbound, deliveryContext, silent, adapter, FORM_DATA } from './simulator-test-helpers.ts';

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
