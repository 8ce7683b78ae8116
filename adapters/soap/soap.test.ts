import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { z } from 'zod';
import { maskSecrets } from '../../src/sdk/index.ts';
import type { AdapterInstance, DeliveryContext, DeliveryResult, OutboundMessage } from '../../src/sdk/index.ts';
import { capturingLogger, jsonMessage, xmlMessage } from '../../src/sdk/conformance.ts';
import soapAdapter from './index.ts';
import { classifyFault, faultOf } from './faults.ts';
import { referenceAt } from './reference.ts';
import { inspectWsdl } from './wsdl.ts';
import { HST_NS, HundesteuerBackOffice, WSDL_PATH } from './fixtures/back-office.ts';
import { makePki, opensslAvailable, type TestPki } from './fixtures/certs.ts';
import { systemClock } from '../../src/clock.ts';

// Real node-soap servers on 127.0.0.1 stand in for the back office: the adapter is tested over real
// sockets, so envelopes, WS-Security, TLS, timeouts and refused connections behave as in production.

const PASSWORD = 'Hunde-Geheim-4711!';
const PASSPHRASE = 'Schlüssel-Passphrase-0815';
const USER = 'amtsbote';
const CITIZEN = ['Mustermann', 'Heidestra'];

/** The mapping's output: declaration, a comment, odd spacing and an entity, all of which must arrive as written. */
const ANMELDUNG_XML =
  `<hst:Anmeldung xmlns:hst="${HST_NS}">\n  <!-- Halterin wohnt Heidestraße 17 -->\n` +
  `  <hst:Gemeinde>05513000</hst:Gemeinde><hst:Halter><hst:Vorname>Erika</hst:Vorname><hst:Nachname>Mustermann</hst:Nachname></hst:Halter>` +
  `<hst:Hund><hst:Name>Bello &amp; Co</hst:Name><hst:Rasse  >Dackel</hst:Rasse></hst:Hund><hst:Haltungsbeginn>2025-05-01</hst:Haltungsbeginn></hst:Anmeldung>`;
const message: OutboundMessage = xmlMessage(`<?xml version="1.0" encoding="UTF-8"?>\n${ANMELDUNG_XML}`);

const jsonAnmeldung = jsonMessage({
  Gemeinde: '05512000',
  Halter: { Vorname: 'Erika', Nachname: 'Mustermann' },
  Hund: { Name: 'Luna', Rasse: 'Mischling' },
  Haltungsbeginn: '2025-04-01',
});

const usernameToken = (password = PASSWORD, passwordType: 'PasswordDigest' | 'PasswordText' = 'PasswordDigest') => ({
  type: 'usernameToken',
  username: USER,
  password,
  passwordType,
});

let bo: HundesteuerBackOffice;
let open: HundesteuerBackOffice;
let refusedUrl = '';
const { logger, lines } = capturingLogger();
const adapters: AdapterInstance[] = [];
const results: unknown[] = [];

async function adapter(options: Record<string, unknown>, timeoutMs = 3000, log = logger): Promise<AdapterInstance> {
  const parsed = soapAdapter.options.parse({
    wsdl: WSDL_PATH,
    operation: 'Anmelden',
    endpoint: bo.url11,
    referencePath: 'Quittung.Aktenzeichen',
    security: usernameToken(),
    ...options,
  });
  const instance = await soapAdapter.create(parsed, { clock: systemClock, targetId: 'test-soap', logger: log, timeoutMs });
  adapters.push(instance);
  return instance;
}

let counter = 0;
function dctx(key?: string): DeliveryContext {
  counter += 1;
  return {
    deliveryId: `dlv-${counter}`,
    idempotencyKey: key ?? `idem-${counter}`,
    submissionId: 'sub-1',
    tenant: '05513000',
    service: 'hundeanmeldung',
    attempt: 1,
  };
}

async function deliver(a: AdapterInstance, m: OutboundMessage = message, ctx: DeliveryContext = dctx()): Promise<DeliveryResult> {
  const r = await a.deliver(m, ctx);
  results.push(r);
  return r;
}

function failure(r: DeliveryResult): Extract<DeliveryResult, { ok: false }> {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}

const flushLogs = () => new Promise((resolve) => setImmediate(resolve));
const lastReceived = (b = bo) => {
  const r = b.received.at(-1);
  if (!r) throw new Error('the back office received nothing');
  return r;
};

before(async () => {
  bo = await new HundesteuerBackOffice({ users: { [USER]: PASSWORD }, slowMs: 5000 }).start();
  open = await new HundesteuerBackOffice().start();
  // A port that was just free and is closed again: connecting to it is refused.
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
  refusedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/hundesteuer/soap11`;
  await new Promise((resolve) => closed.close(resolve));
});

after(async () => {
  await Promise.all(adapters.map((a) => a.close?.()));
  await bo.stop();
  await open.stop();
});

beforeEach(() => {
  bo.behaviour = 'accept';
  open.behaviour = 'accept';
});

describe('soap adapter', () => {
  describe('options', () => {
    it('applies the defaults', () => {
      const o = soapAdapter.options.parse({ wsdl: 'wsdl/hundesteuer.wsdl', operation: 'Anmelden', endpoint: 'https://fv.example/soap' });
      expect(o).to.deep.equal({
        wsdl: 'wsdl/hundesteuer.wsdl',
        operation: 'Anmelden',
        endpoint: 'https://fv.example/soap',
        security: { type: 'none' },
        idempotency: { in: 'soapHeader', element: 'IdempotencyKey', namespace: 'urn:amtsbote:1', prefix: 'amt' },
      });
      const t = soapAdapter.options.parse({
        wsdl: 'a.wsdl',
        operation: 'A',
        endpoint: 'https://x.example',
        security: { type: 'usernameToken', username: 'u', password: 'p' },
      });
      expect(t.security).to.deep.equal({ type: 'usernameToken', username: 'u', password: 'p', passwordType: 'PasswordDigest' });
      expect(soapAdapter.type).to.equal('soap');
      expect(soapAdapter.version).to.equal('1.0.0');
      expect(soapAdapter.defaultFormat).to.equal('xml');
      expect(() => z.toJSONSchema(soapAdapter.options, { io: 'input', unrepresentable: 'any' })).not.to.throw();
    });

    it('rejects a WSDL URL with a clear message, and inline XML', () => {
      for (const wsdl of ['http://fv.example/soap?wsdl', 'https://fv.example/hundesteuer.wsdl', 'file:///etc/hundesteuer.wsdl']) {
        const r = soapAdapter.options.safeParse({ wsdl, operation: 'Anmelden', endpoint: 'https://fv.example/soap' });
        expect(r.success, wsdl).to.equal(false);
        expect(r.error?.issues[0]?.path).to.deep.equal(['wsdl']);
        expect(r.error?.issues[0]?.message).to.match(/local WSDL file, not a URL/);
      }
      const inline = soapAdapter.options.safeParse({ wsdl: '<definitions/>', operation: 'Anmelden', endpoint: 'https://fv.example/soap' });
      expect(inline.success).to.equal(false);
    });

    it('rejects unknown keys, at the top and inside security, tls and idempotency', () => {
      const base = { wsdl: 'a.wsdl', operation: 'Anmelden', endpoint: 'https://fv.example/soap' };
      const top = soapAdapter.options.safeParse({ ...base, retries: 3 });
      expect(top.success).to.equal(false);
      expect(top.error?.issues[0]?.code).to.equal('unrecognized_keys');
      for (const o of [
        { ...base, security: { type: 'usernameToken', username: 'u', password: 'p', token: 'x' } },
        { ...base, security: { type: 'tls' } },
        { ...base, tls: { cert: 'c.pem', key: 'k.pem', pfx: 'x.p12' } },
        { ...base, idempotency: { in: 'soapHeader', name: 'Key' } },
        { ...base, idempotency: { in: 'httpHeader' } },
      ]) {
        expect(soapAdapter.options.safeParse(o).success, JSON.stringify(o)).to.equal(false);
      }
    });

    it('rejects bad endpoints, paths and combinations without echoing values', () => {
      const base = { wsdl: 'a.wsdl', operation: 'Anmelden', endpoint: 'https://fv.example/soap' };
      const bad = [
        { ...base, endpoint: 'ftp://fv.example/soap' },
        { ...base, endpoint: `https://amtsbote:${PASSWORD}@fv.example/soap` },
        { ...base, endpoint: 'http://fv.example/soap', tls: { ca: 'ca.pem' } },
        { ...base, tls: { cert: 'c.pem' } },
        { ...base, tls: { passphrase: PASSPHRASE } },
        { ...base, tls: { key: '-----BEGIN PRIVATE KEY-----\nabc', cert: 'c.pem' } },
        { ...base, checkXml: '<Ping/>' },
        { ...base, checkOperation: 'Anmelden' },
        { ...base, referencePath: '/Quittung/Aktenzeichen' },
        { ...base, referencePath: 'Quittung..Aktenzeichen' },
        { ...base, idempotency: { in: 'soapHeader', prefix: 'soap' } },
        { ...base, idempotency: { in: 'soapHeader', namespace: 'urn:"x"' } },
        { ...base, soapVersion: '1.3' },
        { ...base, operation: 'hst:Anmelden' },
      ];
      for (const o of bad) {
        const r = soapAdapter.options.safeParse(o);
        expect(r.success, JSON.stringify(o)).to.equal(false);
        expect(JSON.stringify(r.error?.issues)).not.to.contain(PASSWORD).and.not.to.contain(PASSPHRASE);
      }
      const good = soapAdapter.options.safeParse({
        ...base,
        tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem', passphrase: PASSPHRASE },
        security: usernameToken(),
        referencePath: 'Antwort.Akten.0.Zeichen',
        checkOperation: 'Ping',
        checkXml: '<Ping/>',
        idempotency: { in: 'none' },
      });
      expect(good.success, JSON.stringify(good.error?.issues)).to.equal(true);
    });

    it('masks the password and the passphrase', () => {
      const parsed = soapAdapter.options.parse({
        wsdl: 'a.wsdl',
        operation: 'Anmelden',
        endpoint: 'https://fv.example/soap',
        security: usernameToken(),
        tls: { cert: 'c.pem', key: 'k.pem', passphrase: PASSPHRASE },
      });
      const masked = maskSecrets(soapAdapter.options, parsed) as { security: Record<string, unknown>; tls: Record<string, unknown> };
      expect(masked.security).to.include({ type: 'usernameToken', username: USER, password: '***' });
      expect(masked.tls).to.include({ cert: 'c.pem', key: 'k.pem', passphrase: '***' });
      expect(JSON.stringify(masked)).not.to.contain(PASSWORD).and.not.to.contain(PASSPHRASE);
    });
  });

  describe('create', () => {
    it('resolves a relative WSDL path against the working directory and takes the first SOAP port', async () => {
      const relative = path.relative(process.cwd(), WSDL_PATH);
      expect(path.isAbsolute(relative)).to.equal(false);
      const captured = capturingLogger();
      const a = await adapter({ wsdl: relative }, 3000, captured.logger);
      expect(await deliver(a)).to.deep.equal({ ok: true, reference: 'HST-2025-0001', httpStatus: 200 });
      const r = lastReceived();
      // The first port is the SOAP 1.1 one: text/xml and a SOAPAction header.
      expect(r.headers['content-type']).to.equal('text/xml; charset=utf-8');
      expect(r.headers.soapaction).to.equal('"urn:de:amtsbote:test:hundesteuer:1/Anmelden"');
      await flushLogs();
      const ready = captured.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'soap client ready');
      expect(ready).to.include({
        service: 'Hundesteuer',
        port: 'HundesteuerSoap11',
        operation: 'Anmelden',
        soapVersion: '1.1',
        wsdl: WSDL_PATH,
      });
      expect(ready?.buildMs).to.be.a('number');
    });

    it('reads the SOAP version from the binding namespace, not its prefix', () => {
      expect(inspectWsdl(readFileSync(WSDL_PATH, 'utf8')).map((p) => [p.port, p.soapVersion])).to.deep.equal([
        ['HundesteuerSoap11', '1.1'],
        ['HundesteuerSoap12', '1.2'],
      ]);
      // XTA's style: the prefix "soap" bound to the SOAP 1.2 binding namespace, no wsdl prefix.
      const xta = `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:t="urn:t">
        <binding name="B" type="t:P"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/></binding>
        <binding name="H" type="t:P"><http:binding xmlns:http="http://schemas.xmlsoap.org/wsdl/http/" verb="POST"/></binding>
        <service name="S"><port name="Http" binding="t:H"/><port name="P" binding="t:B"/></service></definitions>`;
      expect(inspectWsdl(xta)).to.deep.equal([{ service: 'S', port: 'P', soapVersion: '1.2' }]);
    });

    it('refuses a missing WSDL, an unknown port and an unknown operation, naming what exists', async () => {
      const make = (o: Record<string, unknown>) =>
        soapAdapter.create(soapAdapter.options.parse({ wsdl: WSDL_PATH, operation: 'Anmelden', endpoint: bo.url11, ...o }), {
          clock: systemClock,
          targetId: 't',
          logger,
          timeoutMs: 1000,
        });
      const errorOf = async (o: Record<string, unknown>) => {
        try {
          await make(o);
        } catch (err) {
          return (err as Error).message;
        }
        throw new Error('create() succeeded');
      };
      expect(await errorOf({ wsdl: 'adapters/soap/fixtures/missing.wsdl' })).to.match(/^wsdl: cannot read .*missing\.wsdl \(ENOENT\)$/);
      expect(await errorOf({ port: 'HundesteuerSoap13' })).to.contain(
        'SOAP ports: Hundesteuer/HundesteuerSoap11 (SOAP 1.1), Hundesteuer/HundesteuerSoap12 (SOAP 1.2)',
      );
      expect(await errorOf({ operation: 'Abmelden' })).to.equal(
        `wsdl: no operation Abmelden in Hundesteuer/HundesteuerSoap11 of ${WSDL_PATH} (operations: Anmelden, Ping)`,
      );
      expect(await errorOf({ checkOperation: 'Status' })).to.contain('no operation Status');
    });

    it('refuses a WSDL that imports a schema from the network, without fetching it', async () => {
      let fetched = 0;
      const remote = http.createServer((_req, res) => {
        fetched += 1;
        res.end('<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:remote"/>');
      });
      await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', () => resolve()));
      const dir = mkdtempSync(path.join(tmpdir(), 'amtsbote-soap-wsdl-'));
      try {
        const schemaUrl = `http://127.0.0.1:${(remote.address() as AddressInfo).port}/remote.xsd?key=abc`;
        const wsdl = readFileSync(WSDL_PATH, 'utf8').replace(
          '<xsd:schema targetNamespace="urn:de:amtsbote:test:hundesteuer:1" elementFormDefault="qualified">',
          `$&<xsd:import namespace="urn:remote" schemaLocation="${schemaUrl}"/>`,
        );
        writeFileSync(path.join(dir, 'remote-import.wsdl'), wsdl);
        let message = '';
        try {
          await soapAdapter.create(
            soapAdapter.options.parse({ wsdl: path.join(dir, 'remote-import.wsdl'), operation: 'Anmelden', endpoint: bo.url11 }),
            { clock: systemClock, targetId: 't', logger, timeoutMs: 1000 },
          );
        } catch (err) {
          message = (err as Error).message;
        }
        expect(message)
          .to.contain('imports http://127.0.0.1:')
          .and.contain('/remote.xsd: keep every imported WSDL and schema as a local file');
        expect(message).not.to.contain('key=abc');
        expect(fetched).to.equal(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await new Promise((resolve) => remote.close(resolve));
      }
    });
  });

  describe('deliver', () => {
    it('SOAP 1.1: sends the mapped XML into soap:Body unchanged and reads the reference by path', async () => {
      const a = await adapter({});
      const ctx = dctx();
      const r = await deliver(a, message, ctx);
      expect(r).to.include({ ok: true, httpStatus: 200 });
      const got = lastReceived();
      // Byte for byte, without the XML declaration (which cannot stand inside an envelope).
      expect(got.body).to.contain(`<soap:Body>${ANMELDUNG_XML}</soap:Body>`);
      expect(got.body).not.to.contain('<?xml version="1.0" encoding="UTF-8"?>');
      expect(got.body).to.contain('xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"');
      expect(got.headers['x-amtsbote-delivery']).to.equal(ctx.deliveryId);
      expect(got.headers['user-agent']).to.equal('Amtsbote-soap/1.0.0');
      const filed = bo.filed.at(-1)!;
      expect(r.ok && r.reference).to.equal(filed.aktenzeichen);
      expect(filed.args).to.deep.include({ Gemeinde: '05513000', Haltungsbeginn: '2025-05-01' });
      expect(filed.args).to.have.nested.property('Hund.Name', 'Bello & Co');
    });

    it('SOAP 1.2: the port HundesteuerSoap12 speaks 1.2, detected from the WSDL', async () => {
      const a = await adapter({ port: 'HundesteuerSoap12', endpoint: bo.url12 });
      const r = await deliver(a);
      expect(r).to.include({ ok: true, httpStatus: 200 });
      expect(r.ok && r.reference).to.match(/^HST-2025-\d{4}$/);
      const got = lastReceived();
      expect(got.headers['content-type']).to.equal(
        'application/soap+xml; charset=utf-8; action="urn:de:amtsbote:test:hundesteuer:1/Anmelden"',
      );
      expect(got.headers.soapaction).to.equal(undefined);
      expect(got.body).to.contain('xmlns:soap="http://www.w3.org/2003/05/soap-envelope"');
      expect(got.body).to.contain(`<soap:Body>${ANMELDUNG_XML}</soap:Body>`);
    });

    it('soapVersion overrides the binding, with a warning', async () => {
      const captured = capturingLogger();
      const a = await adapter({ soapVersion: '1.2', endpoint: bo.url12 }, 3000, captured.logger);
      expect(await deliver(a)).to.include({ ok: true });
      expect(lastReceived().headers['content-type']).to.match(/^application\/soap\+xml/);
      await flushLogs();
      expect(captured.lines.join('\n')).to.contain('soapVersion overrides the binding');
    });

    it('a json message becomes the operation arguments, serialised by node-soap from the WSDL', async () => {
      const a = await adapter({});
      const r = await deliver(a, jsonAnmeldung);
      expect(r).to.include({ ok: true });
      const got = lastReceived();
      expect(got.body).to.match(/<hst:Anmeldung xmlns:hst="urn:de:amtsbote:test:hundesteuer:1"[ >]/);
      expect(got.body).to.contain('<hst:Gemeinde>05512000</hst:Gemeinde>');
      expect(bo.filed.at(-1)!.args).to.deep.equal(jsonAnmeldung.body);
    });

    it('puts the idempotency key into a SOAP header, one per call even when calls overlap', async () => {
      const a = await adapter({});
      const ctx = dctx('0190c0de-aaaa-7000-8000-000000000001');
      const first = await deliver(a, message, ctx);
      expect(lastReceived().body).to.contain(
        '<soap:Header><amt:IdempotencyKey xmlns:amt="urn:amtsbote:1">0190c0de-aaaa-7000-8000-000000000001</amt:IdempotencyKey>',
      );
      const second = await deliver(a, message, { ...ctx, attempt: 2 });
      expect(first.ok && second.ok && second.reference === first.reference).to.equal(true);
      expect(bo.filed.filter((f) => f.idempotencyKey === ctx.idempotencyKey)).to.have.length(1);

      const keys = Array.from({ length: 6 }, (_, i) => `parallel-${i}`);
      const rs = await Promise.all(keys.map((k) => deliver(a, message, dctx(k))));
      expect(rs.every((r) => r.ok)).to.equal(true);
      for (const [i, k] of keys.entries()) {
        const filed = bo.filed.find((f) => f.idempotencyKey === k);
        expect(filed, k).to.not.equal(undefined);
        expect(rs[i]!.ok && rs[i]!.reference).to.equal(filed!.aktenzeichen);
      }
    });

    it('takes a custom header element, or none', async () => {
      const custom = await adapter({
        idempotency: { in: 'soapHeader', element: 'Vorgangsschluessel', namespace: 'urn:fv:kopf', prefix: 'fv' },
      });
      await deliver(custom, message, dctx('k<&>1'));
      expect(lastReceived().body).to.contain('<fv:Vorgangsschluessel xmlns:fv="urn:fv:kopf">k&lt;&amp;&gt;1</fv:Vorgangsschluessel>');

      const none = await adapter({ idempotency: { in: 'none' } });
      await deliver(none, message, dctx('no-header-key'));
      expect(lastReceived().body).not.to.contain('no-header-key');
      expect(lastReceived().body).not.to.contain('IdempotencyKey');
    });

    it('without security and idempotency header the envelope has no soap:Header', async () => {
      const a = await adapter({ endpoint: open.url11, security: { type: 'none' }, idempotency: { in: 'none' } });
      expect(await deliver(a)).to.include({ ok: true });
      expect(lastReceived(open).body).not.to.contain('Header');
    });

    it('succeeds with reference null and a warning when the answer lacks the reference', async () => {
      const captured = capturingLogger();
      const a = await adapter({}, 3000, captured.logger);
      bo.behaviour = 'noReference';
      const r = await deliver(a);
      expect(r).to.deep.equal({
        ok: true,
        reference: null,
        httpStatus: 200,
        warning: 'back office accepted but gave no reference at Quittung.Aktenzeichen',
      });
      await flushLogs();
      const warn = captured.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 'warn');
      expect(warn?.message).to.contain('no reference at Quittung.Aktenzeichen');

      const noPath = await adapter({ referencePath: undefined });
      bo.behaviour = 'accept';
      expect(await deliver(noPath)).to.deep.equal({ ok: true, reference: null, httpStatus: 200 });
    });

    describe('acceptance', () => {
      const efile = { accepted: 'status = "0"', retryable: 'status = "2"', error: 'errormessage' };

      it('fails an answer without the operation response element, permanently: an empty soap:Body or another element', async () => {
        const empty = await adapter({ endpoint: `${bo.base}/empty-body` });
        expect(failure(await deliver(empty))).to.deep.equal({
          ok: false,
          retryable: false,
          error: "back office answered HTTP 200 with an empty soap:Body, without the operation's response element Quittung",
          errorKind: 'soap-no-response',
          httpStatus: 200,
        });
        const other = await adapter({ endpoint: `${bo.base}/other-element` });
        expect(failure(await deliver(other))).to.include({
          retryable: false,
          errorKind: 'soap-no-response',
          error: "back office answered HTTP 200 without the operation's response element Quittung",
        });
      });

      it('refuses a result code inside a 200, permanently or for now, with the errormessage and nothing filed', async () => {
        const a = await adapter({ acceptance: efile });
        const filed = bo.filed.length;
        bo.behaviour = 'refused';
        expect(failure(await deliver(a))).to.deep.equal({
          ok: false,
          retryable: false,
          error: 'back office refused the case: Vorgang nicht angelegt',
          errorKind: 'refused',
          httpStatus: 200,
        });
        bo.behaviour = 'busy';
        expect(failure(await deliver(a))).to.include({
          retryable: true,
          errorKind: 'refused',
          error: 'back office refused the case: System ausgelastet, bitte später erneut senden',
        });
        bo.behaviour = 'accept';
        const r = await deliver(a);
        expect(r).to.include({ ok: true });
        expect(r.ok && r.reference).to.equal(bo.filed.at(-1)!.aktenzeichen);
        expect(bo.filed.length).to.equal(filed + 1);
      });

      it('reads the reference by the rule instead of referencePath, and refuses both at once', async () => {
        const a = await adapter({ referencePath: undefined, acceptance: { ...efile, reference: 'Aktenzeichen' } });
        const r = await deliver(a);
        expect(r.ok && r.reference).to.equal(bo.filed.at(-1)!.aktenzeichen);
        const both = soapAdapter.options.safeParse({
          wsdl: WSDL_PATH,
          operation: 'Anmelden',
          endpoint: bo.url11,
          referencePath: 'Quittung.Aktenzeichen',
          acceptance: { accepted: 'true', reference: 'x' },
        });
        expect(both.success).to.equal(false);
        expect(both.error!.issues.map((i) => i.path.join('.'))).to.deep.equal(['acceptance.reference']);
      });
    });

    it('refuses messages it cannot send, permanently and without a request', async () => {
      const a = await adapter({});
      const before = bo.received.length;
      const cases: [OutboundMessage, RegExp][] = [
        [jsonMessage([1, 2]), /must be an object/],
        [jsonMessage('Anmeldung'), /must be an object/],
        [xmlMessage('Anmeldung ohne XML'), /does not start with an element/],
        [xmlMessage('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>'), /DOCTYPE/],
      ];
      for (const [m, pattern] of cases) {
        const r = failure(await deliver(a, m));
        expect(r).to.include({ retryable: false, errorKind: 'mapping-output' });
        expect(r.error).to.match(pattern);
      }
      expect(bo.received.length).to.equal(before);
    });

    it('reads references through repeated elements and never through prototypes', () => {
      const env = (body: string) => `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${body}</s:Body></s:Envelope>`;
      const doc = env(
        '<a:Antwort xmlns:a="urn:a"><a:Akte><a:Zeichen> 007 </a:Zeichen></a:Akte><a:Akte><a:Zeichen>008</a:Zeichen></a:Akte></a:Antwort>',
      );
      expect(referenceAt(doc, 'Antwort.Akte.1.Zeichen')).to.equal('008');
      expect(referenceAt(doc, 'Antwort.Akte.0.Zeichen')).to.equal('007');
      expect(referenceAt(doc, 'Antwort.Akte.Zeichen')).to.equal(null);
      expect(referenceAt(env('<Q><AZ typ="x">A-1</AZ></Q>'), 'Q.AZ.0')).to.equal('A-1');
      expect(referenceAt(env('<Q><AZ/></Q>'), 'Q.AZ')).to.equal(null);
      expect(referenceAt(env('<Q/>'), 'Q.constructor')).to.equal(null);
      expect(referenceAt('kein xml', 'Q')).to.equal(null);
    });
  });

  describe('WS-Security UsernameToken', () => {
    it('PasswordDigest: the server recomputes Base64(SHA-1(nonce + created + password)) and accepts', async () => {
      const a = await adapter({ security: usernameToken(PASSWORD, 'PasswordDigest') });
      expect(await deliver(a)).to.include({ ok: true });
      expect(bo.auth.at(-1)).to.deep.equal({ username: USER, passwordType: 'PasswordDigest', ok: true });
      expect(lastReceived().body).not.to.contain(PASSWORD);
    });

    it('PasswordText: accepted, the password is in the token', async () => {
      const a = await adapter({ security: usernameToken(PASSWORD, 'PasswordText') });
      expect(await deliver(a)).to.include({ ok: true });
      expect(bo.auth.at(-1)).to.deep.equal({ username: USER, passwordType: 'PasswordText', ok: true });
    });

    it('a wrong password is a permanent fault, and check() is not ok', async () => {
      for (const passwordType of ['PasswordDigest', 'PasswordText'] as const) {
        const a = await adapter({ security: usernameToken('falsches-Passwort', passwordType) });
        const before = bo.filed.length;
        const r = failure(await deliver(a));
        expect(r).to.include({ retryable: false, errorKind: 'soap-client-fault', httpStatus: 401 });
        expect(r.error).to.contain('Invalid username or password');
        expect(bo.filed.length).to.equal(before);
        const c = await a.check();
        expect(c.ok).to.equal(false);
        expect(c.message).to.match(/^credentials rejected: /);
      }
    });

    it('no token at a server that requires one is permanent', async () => {
      const a = await adapter({ security: { type: 'none' } });
      expect(failure(await deliver(a))).to.include({ retryable: false, httpStatus: 401 });
    });
  });

  describe('classification', () => {
    it('Client (1.1) and Sender (1.2) faults are permanent, Server and Receiver faults retryable', async () => {
      const a11 = await adapter({});
      const a12 = await adapter({ port: 'HundesteuerSoap12', endpoint: bo.url12 });
      bo.behaviour = 'clientFault';
      expect(failure(await deliver(a11))).to.deep.equal({
        ok: false,
        retryable: false,
        error: 'back office answered with SOAP fault soap:Client: Pflichtfeld Hund.Rasse fehlt',
        errorKind: 'soap-client-fault',
        httpStatus: 500,
      });
      expect(failure(await deliver(a12))).to.deep.equal({
        ok: false,
        retryable: false,
        error: 'back office answered with SOAP fault soap:Sender (hst:Fachfehler): Pflichtfeld Hund.Rasse fehlt',
        errorKind: 'soap-client-fault',
        httpStatus: 400,
      });
      bo.behaviour = 'serverFault';
      expect(failure(await deliver(a11))).to.include({ retryable: true, errorKind: 'soap-server-fault', httpStatus: 500 });
      const r12 = failure(await deliver(a12));
      expect(r12).to.include({ retryable: true, errorKind: 'soap-server-fault' });
      expect(r12.error).to.equal('back office answered with SOAP fault soap:Receiver (hst:Fachfehler): Datenbank nicht erreichbar');
    });

    it("a fault code of the back office's own is permanent unless the HTTP status says later", async () => {
      const a = await adapter({});
      bo.behaviour = 'unknownFault';
      expect(failure(await deliver(a))).to.include({ retryable: false, errorKind: 'soap-fault', httpStatus: 500 });
      const answer = (status: number, headers: Record<string, unknown> = {}) => ({ status, statusText: '', headers });
      const unknown = { code: 'fv:Wartung', reason: 'Wartungsfenster' };
      // The hub's clock, on a whole second: an HTTP date in Retry-After counts from it.
      const now = 1_800_000_000_000;
      expect(classifyFault(unknown, answer(503, { 'retry-after': '30' }), now)).to.include({
        retryable: true,
        retryAfterMs: 30_000,
        httpStatus: 503,
      });
      expect(classifyFault(unknown, answer(503, { 'retry-after': new Date(now + 120_000).toUTCString() }), now)).to.include({
        retryAfterMs: 120_000,
      });
      expect(classifyFault({ code: 'soap:Server.Busy', reason: '' }, answer(500), now)).to.include({
        retryable: true,
        errorKind: 'soap-server-fault',
      });
      expect(classifyFault({ code: 'Client.Authentication', reason: '' }, answer(500), now)).to.include({
        retryable: false,
        errorKind: 'soap-client-fault',
      });
      expect(classifyFault({ code: 'wsse:FailedAuthentication', reason: '' }, answer(500), now)).to.include({
        retryable: false,
        errorKind: 'soap-security-fault',
      });
      expect(classifyFault({ code: 'env:Sender', subcode: 'wsse:InvalidSecurityToken', reason: '' }, answer(400), now)).to.include({
        retryable: false,
        errorKind: 'soap-security-fault',
      });
      expect(classifyFault({ code: 'soap:VersionMismatch', reason: '' }, answer(503), now)).to.include({ retryable: false });
      expect(classifyFault({ code: 'env:Receiver', reason: '' }, answer(503, { 'retry-after': '5' }), now)).to.include({
        retryAfterMs: 5000,
      });
      expect(
        faultOf({
          Envelope: {
            Body: { Fault: { Code: { Value: 'env:Sender' }, Reason: { Text: [{ attributes: { 'xml:lang': 'de' }, $value: 'Fehler' }] } } },
          },
        }),
      ).to.deep.equal({
        code: 'env:Sender',
        reason: 'Fehler',
      });
    });

    it('shows the faultstring on one line of at most 200 characters, never the echoed request', async () => {
      const a = await adapter({});
      bo.behaviour = 'echoFault';
      const r = failure(await deliver(a));
      expect(r.retryable).to.equal(false);
      const reason = r.error.replace('back office answered with SOAP fault soap:Client: ', '');
      expect(reason).to.have.length(200);
      expect(reason).to.match(/^Ungültige Anmeldung forged: line /);
      expect(r.error).not.to.match(/[\r\n]/);
      // The form data lies beyond the 200 characters, and node-soap's own message (which carries the
      // fault detail with the whole case) is never used.
      for (const c of CITIZEN) expect(r.error).not.to.contain(c);
    });

    it('HTTP 503 without a fault is retryable and honours Retry-After', async () => {
      const a = await adapter({ endpoint: `${bo.base}/status/503` });
      expect(failure(await deliver(a))).to.deep.equal({
        ok: false,
        retryable: true,
        error: 'back office answered HTTP 503 Service Unavailable',
        errorKind: 'http-503',
        httpStatus: 503,
        retryAfterMs: 7000,
      });
    });

    it('HTTP 500 with an HTML page is retryable; the page is not shown', async () => {
      const a = await adapter({ endpoint: `${bo.base}/status/500-html` });
      const r = failure(await deliver(a));
      expect(r).to.include({ retryable: true, errorKind: 'http-500', httpStatus: 500 });
      for (const c of CITIZEN) expect(r.error).not.to.contain(c);
    });

    it('HTTP 401 without a fault is permanent; a redirect is permanent and not followed', async () => {
      const a = await adapter({ endpoint: `${bo.base}/status/401` });
      expect(failure(await deliver(a))).to.include({ retryable: false, errorKind: 'http-401', httpStatus: 401 });
      const b = await adapter({ endpoint: `${bo.base}/status/302` });
      const before = bo.received.length;
      const r = failure(await deliver(b));
      expect(r).to.include({ retryable: false, errorKind: 'http-302' });
      expect(r.error).to.contain('redirects are not followed');
      expect(bo.received.length).to.equal(before + 1);
    });

    it('HTTP 200 that is not a SOAP envelope is permanent: nobody can say whether the case was filed', async () => {
      const a = await adapter({ endpoint: `${bo.base}/html-200` });
      expect(failure(await deliver(a))).to.deep.equal({
        ok: false,
        retryable: false,
        error: 'back office answered HTTP 200 with something that is not a SOAP envelope',
        errorKind: 'soap-invalid-response',
        httpStatus: 200,
      });
    });

    it('decodes an ISO-8859-1 answer by its declared charset', async () => {
      const a = await adapter({ endpoint: `${bo.base}/latin1` });
      expect(await deliver(a)).to.include({ ok: true, reference: 'HST-Süd-0815' });
    });

    it('a refused connection is retryable, errorKind network', async () => {
      const a = await adapter({ endpoint: refusedUrl });
      const r = failure(await deliver(a));
      expect(r).to.include({ retryable: true, errorKind: 'network' });
      expect(r.error).to.equal(`network error ECONNREFUSED: ${new URL(refusedUrl).host} refused the connection (nothing listens there)`);
    });

    it('a back office slower than timeoutMs is retryable, errorKind timeout', async () => {
      const a = await adapter({}, 300);
      bo.behaviour = 'slow';
      const started = Date.now();
      const r = failure(await deliver(a));
      expect(r).to.include({ retryable: true, errorKind: 'timeout' });
      expect(r.error).to.equal(`back office ${new URL(bo.base).host} did not answer in time`);
      // Well before the back office's answer at 5 s; the margin is for a busy machine.
      expect(Date.now() - started).to.be.below(4000);
    });

    it('the timeout bounds the whole answer, not just silence on the socket', async () => {
      const a = await adapter({ endpoint: `${bo.base}/trickle` }, 300);
      const started = Date.now();
      const r = failure(await deliver(a));
      expect(r).to.include({ retryable: true, errorKind: 'timeout' });
      // The trickled envelope would take ten seconds to the end.
      expect(Date.now() - started).to.be.below(4000);
    });
  });

  describe('check', () => {
    it('without checkOperation: an empty probe passes the credentials and runs no operation', async () => {
      const a = await adapter({});
      const filed = bo.filed.length;
      const r = await a.check();
      expect(r.ok, r.message).to.equal(true);
      expect(r.message).to.match(
        /^reachable, credentials not refused: http:\/\/127\.0\.0\.1:\d+\/hundesteuer\/soap11 answered the empty probe with SOAP fault/,
      );
      expect(bo.auth.at(-1)).to.include({ ok: true });
      expect(bo.filed.length).to.equal(filed);
      const probe = lastReceived();
      expect(probe.body).to.contain('<soap:Body/>');
      expect(probe.headers.soapaction).to.equal('""');

      const a12 = await adapter({ port: 'HundesteuerSoap12', endpoint: bo.url12 });
      expect((await a12.check()).ok).to.equal(true);
      expect(lastReceived().headers['content-type']).to.equal('application/soap+xml; charset=utf-8');

      const none = await adapter({ endpoint: open.url11, security: { type: 'none' } });
      const n = await none.check();
      expect(n.ok).to.equal(true);
      expect(n.message).to.contain('no credentials configured');
    });

    it('with checkOperation: calls the harmless operation with the credentials', async () => {
      const a = await adapter({
        checkOperation: 'Ping',
        checkXml: `<?xml version="1.0"?><h:PingAnfrage xmlns:h="${HST_NS}"><h:Echo>amtsbote</h:Echo></h:PingAnfrage>`,
      });
      const r = await a.check();
      expect(r.ok, r.message).to.equal(true);
      expect(r.message).to.match(
        /^reachable, credentials accepted: Ping at http:\/\/127\.0\.0\.1:\d+\/hundesteuer\/soap11 answered HTTP 200$/,
      );
      expect(bo.pings.at(-1)).to.deep.equal({ Echo: 'amtsbote' });
      expect(lastReceived().headers.soapaction).to.equal('"urn:de:amtsbote:test:hundesteuer:1/Ping"');

      const empty = await adapter({ checkOperation: 'Ping' });
      expect((await empty.check()).ok).to.equal(true);

      const bad = await adapter({ checkOperation: 'Ping', security: usernameToken('falsch') });
      const b = await bad.check();
      expect(b.ok).to.equal(false);
      expect(b.message).to.match(
        /^credentials rejected: Ping at .*: back office answered with SOAP fault SOAP-ENV:Client \(AuthenticationFailure\): Invalid username or password$/,
      );
    });

    it('is not ok when the back office is unreachable, unavailable or not SOAP', async () => {
      const refused = await (await adapter({ endpoint: refusedUrl })).check();
      expect(refused).to.deep.equal({
        ok: false,
        message: `cannot reach ${refusedUrl}: network error ECONNREFUSED: ${new URL(refusedUrl).host} refused the connection (nothing listens there)`,
      });
      const unavailable = await (await adapter({ endpoint: `${bo.base}/status/503` })).check();
      expect(unavailable.ok).to.equal(false);
      expect(unavailable.message).to.match(/^back office unavailable: .* answered HTTP 503$/);
      const html = await (await adapter({ endpoint: `${bo.base}/html-200` })).check();
      expect(html.ok).to.equal(false);
      expect(html.message).to.contain('without a SOAP envelope');
      const missing = await (await adapter({ endpoint: `${bo.base}/nothing-here` })).check();
      expect(missing.ok).to.equal(false);
      const checkRefused = await (await adapter({ endpoint: refusedUrl, checkOperation: 'Ping' })).check();
      expect(checkRefused).to.deep.equal({
        ok: false,
        message: `Ping at ${refusedUrl} failed: network error ECONNREFUSED: ${new URL(refusedUrl).host} refused the connection (nothing listens there)`,
      });
    });
  });

  describe('TLS with client certificates', () => {
    let pki: TestPki | undefined;
    let tlsBo: HundesteuerBackOffice;

    before(async function () {
      if (!opensslAvailable()) {
        console.log('      (skipped: openssl is not installed; the TLS tests need it to make certificates)');
        return this.skip();
      }
      this.timeout(30_000);
      pki = makePki(PASSPHRASE);
      tlsBo = await new HundesteuerBackOffice({
        users: { [USER]: PASSWORD },
        tls: { key: pki.read(pki.serverKey), cert: pki.read(pki.serverCert), ca: pki.read(pki.caCert) },
      }).start();
    });

    after(async () => {
      await tlsBo?.stop();
      pki?.remove();
    });

    const tlsOptions = () => ({ ca: pki!.caCert, cert: pki!.clientCert, key: pki!.clientKey, passphrase: PASSPHRASE });

    it('delivers with a client certificate and a UsernameToken together', async () => {
      const a = await adapter({ endpoint: tlsBo.url11, tls: tlsOptions() });
      const r = await deliver(a);
      expect(r).to.include({ ok: true });
      expect(lastReceived(tlsBo).clientCn).to.equal('amtsbote-hub');
      expect(tlsBo.auth.at(-1)).to.deep.include({ passwordType: 'PasswordDigest', ok: true });
      expect((await a.check()).ok).to.equal(true);
    });

    it('without a client certificate, or with one from another CA, the handshake fails: retryable, check() not ok', async () => {
      for (const tls of [{ ca: pki!.caCert }, { ca: pki!.caCert, cert: pki!.strangerCert, key: pki!.strangerKey }]) {
        const a = await adapter({ endpoint: tlsBo.url11, tls });
        const before = tlsBo.filed.length;
        const r = failure(await deliver(a));
        expect(r).to.include({ retryable: true, errorKind: 'network' });
        expect(tlsBo.filed.length).to.equal(before);
        const c = await a.check();
        expect(c.ok).to.equal(false);
        expect(c.message).to.match(/^cannot reach https:\/\/127\.0\.0\.1:\d+\/hundesteuer\/soap11: network error /);
      }
    });

    it('does not trust the server without the private CA', async () => {
      const a = await adapter({ endpoint: tlsBo.url11, tls: { cert: pki!.clientCert, key: pki!.clientKey, passphrase: PASSPHRASE } });
      const r = failure(await deliver(a));
      expect(r).to.include({ retryable: true, errorKind: 'network' });
      expect(r.error).to.match(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/);
    });

    it('refuses at create() a key it cannot decrypt, without showing the passphrase', async () => {
      let message = '';
      try {
        await adapter({ endpoint: tlsBo.url11, tls: { ...tlsOptions(), passphrase: 'falsche-Passphrase' } });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).to.equal('tls: cannot use the configured files: the key cannot be decrypted (wrong or missing passphrase?)');
      let missing = '';
      try {
        await adapter({ endpoint: tlsBo.url11, tls: { ...tlsOptions(), cert: path.join(pki!.dir, 'nope.crt') } });
      } catch (err) {
        missing = (err as Error).message;
      }
      expect(missing).to.match(/^tls\.cert: cannot read .*nope\.crt \(ENOENT\)$/);
    });

    it('keeps the key and the passphrase out of logs and results', async () => {
      await flushLogs();
      const everything = [...lines, ...results.map((r) => JSON.stringify(r))].join('\n');
      const keyBody = pki!.read(pki!.clientKey).toString('utf8').split('\n')[1]!;
      expect(keyBody.length).to.be.greaterThan(20);
      expect(everything).not.to.contain(keyBody);
      expect(everything).not.to.contain(PASSPHRASE);
    });
  });

  describe('logs', () => {
    it('never contain a secret or the message, in failing and succeeding deliveries', async () => {
      const captured = capturingLogger();
      const checks: string[] = [];
      for (const security of [
        usernameToken(PASSWORD, 'PasswordText'),
        usernameToken(PASSWORD, 'PasswordDigest'),
        usernameToken('Falsch-' + PASSWORD),
      ]) {
        for (const behaviour of ['accept', 'clientFault', 'echoFault', 'serverFault', 'noReference'] as const) {
          const a = await adapter({ security, checkOperation: 'Ping' }, 3000, captured.logger);
          bo.behaviour = behaviour;
          await deliver(a);
          await deliver(a, jsonAnmeldung);
          checks.push((await a.check()).message);
        }
        for (const endpoint of [
          refusedUrl,
          `${bo.base}/status/500-html`,
          `${bo.base}/status/302`,
          `http://127.0.0.1:1/x?password=${PASSWORD}`,
        ]) {
          const a = await adapter({ security, endpoint }, 3000, captured.logger);
          await deliver(a);
          checks.push((await a.check()).message);
        }
      }
      await flushLogs();
      expect(results.some((r) => (r as DeliveryResult).ok)).to.equal(true);
      expect(results.some((r) => !(r as DeliveryResult).ok)).to.equal(true);
      expect(captured.lines.length).to.be.greaterThan(20);
      const everything = [...captured.lines, ...lines, ...checks, ...results.map((r) => JSON.stringify(r))].join('\n');
      for (const forbidden of [PASSWORD, PASSPHRASE, ...CITIZEN, 'Bello', 'Luna']) {
        expect(everything, forbidden).not.to.contain(forbidden);
      }
    });
  });
});
