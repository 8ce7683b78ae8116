import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
// A namespace import: node-soap is CommonJS marked __esModule (see index.ts).
import * as soap from 'soap';
import type { AdapterInstance, DeliveryContext } from '../../src/sdk/index.ts';
import { capturingLogger, jsonMessage, xmlMessage } from '../../src/sdk/conformance.ts';
import soapAdapter from './index.ts';
import { systemClock } from '../../src/clock.ts';
import { readWsdlPorts } from './wsdl.ts';

// WSDLs as Microsoft's tools write them put other extensions before the SOAP binding (the SOAP Toolkit's
// <stk:binding>, WCF's <wsp:PolicyReference>), and any prefix may name SOAP. Each shape is served by a real
// node-soap server on 127.0.0.1 built from the same WSDL, and a case is delivered through the adapter.

const TOOLKIT_WSDL = new URL('./fixtures/soap-toolkit.wsdl', import.meta.url).pathname;
const WCF_WSDL = new URL('./fixtures/wcf.wsdl', import.meta.url).pathname;

/** What an ASMX service lists beside its SOAP ports; here the only ports of the file. */
const HTTP_ONLY_WSDL = `<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions targetNamespace="http://tempuri.org/" xmlns:tns="http://tempuri.org/" xmlns:s="http://www.w3.org/2001/XMLSchema"
  xmlns:http="http://schemas.xmlsoap.org/wsdl/http/" xmlns:mime="http://schemas.xmlsoap.org/wsdl/mime/" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">
  <wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="http://tempuri.org/"><s:element name="string" nillable="true" type="s:string"/></s:schema></wsdl:types>
  <wsdl:message name="AnlegenHttpGetIn"><wsdl:part name="betreff" type="s:string"/></wsdl:message>
  <wsdl:message name="AnlegenHttpGetOut"><wsdl:part name="Body" element="tns:string"/></wsdl:message>
  <wsdl:portType name="VorgangHttpGet"><wsdl:operation name="Anlegen"><wsdl:input message="tns:AnlegenHttpGetIn"/><wsdl:output message="tns:AnlegenHttpGetOut"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="VorgangHttpGet" type="tns:VorgangHttpGet">
    <http:binding verb="GET"/>
    <wsdl:operation name="Anlegen"><http:operation location="/Anlegen"/><wsdl:input><http:urlEncoded/></wsdl:input><wsdl:output><mime:mimeXml part="Body"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="Vorgang">
    <wsdl:port name="VorgangHttpGet" binding="tns:VorgangHttpGet"><http:address location="http://fv.example/Vorgang.asmx"/></wsdl:port>
  </wsdl:service>
</wsdl:definitions>`;

const { logger } = capturingLogger();
const ctx = (n: number): DeliveryContext => ({
  deliveryId: `dlv-${n}`,
  idempotencyKey: `idem-${n}`,
  submissionId: 'sub-1',
  tenant: '05513000',
  service: 'hundeanmeldung',
  attempt: 1,
});

describe('soap adapter: WSDLs written by Microsoft tools and other prefixes', () => {
  let server: http.Server;
  let base = '';
  const calls: { op: string; args: unknown }[] = [];
  const adapters: AdapterInstance[] = [];
  let dir: string;

  before(async () => {
    server = http.createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Each WSDL as its own service on its own path, as the back office's stack would serve it.
    const toolkit = {
      Vorgangsverwaltung: {
        VorgangSoapPort: { Anlegen: (args: unknown) => (calls.push({ op: 'toolkit', args }), { Result: `VG-${calls.length}` }) },
      },
    };
    const wcfOp = (name: string) => (args: unknown) => (calls.push({ op: name, args }), { AnlegenResult: `WCF-${calls.length}` });
    const wcf = {
      VorgangService: {
        BasicHttpBinding_IVorgangService: { Anlegen: wcfOp('wcf-basic') },
        WSHttpBinding_IVorgangService: { Anlegen: wcfOp('wcf-ws') },
      },
    };
    soap.listen(server, { path: '/toolkit', services: toolkit, xml: readFileSync(TOOLKIT_WSDL, 'utf8'), suppressStack: true });
    soap.listen(server, {
      path: '/wcf12',
      services: wcf,
      xml: readFileSync(WCF_WSDL, 'utf8'),
      forceSoap12Headers: true,
      suppressStack: true,
    });
    dir = mkdtempSync(path.join(tmpdir(), 'amtsbote-wsdl-'));
  });

  after(async () => {
    await Promise.all(adapters.map((a) => a.close?.()));
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  async function create(options: Record<string, unknown>): Promise<AdapterInstance> {
    const a = await soapAdapter.create(soapAdapter.options.parse({ idempotency: { in: 'none' }, ...options }), {
      targetId: 't',
      logger,
      timeoutMs: 3000,
      clock: systemClock,
    });
    adapters.push(a);
    return a;
  }

  async function errorOf(options: Record<string, unknown>): Promise<string> {
    try {
      await create(options);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('create() succeeded');
  }

  it('finds the SOAP binding after the SOAP Toolkit’s <stk:binding> and delivers to a server built from that WSDL', async () => {
    expect(readWsdlPorts(readFileSync(TOOLKIT_WSDL, 'utf8'))).to.deep.equal({
      soap: [{ service: 'Vorgangsverwaltung', port: 'VorgangSoapPort', soapVersion: '1.1' }],
      other: [],
    });
    // rpc/encoded, as the Toolkit writes it: node-soap writes the wrapper, so the mapping sends JSON.
    const a = await create({
      wsdl: TOOLKIT_WSDL,
      operation: 'Anlegen',
      endpoint: `${base}/toolkit`,
      referencePath: 'AnlegenResponse.Result',
    });
    const r = await a.deliver(jsonMessage({ Gemeinde: '05513000', Betreff: 'Hundeanmeldung' }), ctx(1));
    expect(r).to.deep.equal({ ok: true, reference: `VG-${calls.length}`, httpStatus: 200 });
    expect(calls.at(-1)).to.deep.equal({ op: 'toolkit', args: { Gemeinde: '05513000', Betreff: 'Hundeanmeldung' } });
  });

  it('finds WCF’s SOAP 1.2 binding after <wsp:PolicyReference>, under the prefix soap12, and delivers over SOAP 1.2', async () => {
    expect(readWsdlPorts(readFileSync(WCF_WSDL, 'utf8')).soap).to.deep.equal([
      { service: 'VorgangService', port: 'BasicHttpBinding_IVorgangService', soapVersion: '1.1' },
      { service: 'VorgangService', port: 'WSHttpBinding_IVorgangService', soapVersion: '1.2' },
    ]);
    const a = await create({
      wsdl: WCF_WSDL,
      port: 'WSHttpBinding_IVorgangService',
      operation: 'Anlegen',
      endpoint: `${base}/wcf12`,
      referencePath: 'AnlegenResponse.AnlegenResult',
    });
    const r = await a.deliver(
      xmlMessage('<Anlegen xmlns="http://tempuri.org/"><gemeinde>05513000</gemeinde><betreff>Hundeanmeldung</betreff></Anlegen>'),
      ctx(2),
    );
    expect(r).to.deep.equal({ ok: true, reference: `WCF-${calls.length}`, httpStatus: 200 });
    expect(calls.at(-1)).to.deep.equal({ op: 'wcf-ws', args: { gemeinde: '05513000', betreff: 'Hundeanmeldung' } });
  });

  it('reads SOAP from the namespace under any prefix, a default namespace, and an element without attributes', () => {
    const toolkit = readFileSync(TOOLKIT_WSDL, 'utf8');
    const other = toolkit.replaceAll('soap:', 'w11:').replace("xmlns:soap='", "xmlns:w11='");
    expect(readWsdlPorts(other).soap).to.deep.equal([{ service: 'Vorgangsverwaltung', port: 'VorgangSoapPort', soapVersion: '1.1' }]);
    // The SOAP 1.2 binding in its own default namespace; the WSDL elements are prefixed.
    const wcf = readFileSync(WCF_WSDL, 'utf8').replace(
      '<soap12:binding transport=',
      '<binding xmlns="http://schemas.xmlsoap.org/wsdl/soap12/" transport=',
    );
    expect(readWsdlPorts(wcf).soap.map((p) => p.soapVersion)).to.deep.equal(['1.1', '1.2']);
    const bare = readFileSync(WCF_WSDL, 'utf8').replace(
      '<soap12:binding transport="http://schemas.xmlsoap.org/soap/http"/>',
      '<soap12:binding/>',
    );
    expect(readWsdlPorts(bare).soap.map((p) => p.soapVersion)).to.deep.equal(['1.1', '1.2']);
  });

  it('delivers to the Toolkit server through a WSDL whose SOAP prefix is not soap:', async () => {
    const file = path.join(dir, 'toolkit-w11.wsdl');
    writeFileSync(file, readFileSync(TOOLKIT_WSDL, 'utf8').replaceAll('soap:', 'w11:').replace("xmlns:soap='", "xmlns:w11='"));
    const a = await create({ wsdl: file, operation: 'Anlegen', endpoint: `${base}/toolkit`, referencePath: 'AnlegenResponse.Result' });
    const r = await a.deliver(jsonMessage({ Gemeinde: '05562008', Betreff: 'Sperrmüll' }), ctx(3));
    expect(r).to.deep.equal({ ok: true, reference: `VG-${calls.length}`, httpStatus: 200 });
  });

  it('refuses a WSDL with only an HTTP binding, saying which ports it found and why none is SOAP', async () => {
    const file = path.join(dir, 'http-only.wsdl');
    writeFileSync(file, HTTP_ONLY_WSDL);
    expect(await errorOf({ wsdl: file, operation: 'Anlegen', endpoint: `${base}/toolkit` })).to.equal(
      `wsdl: no SOAP port */* in ${file} (SOAP ports: none in this file; other ports: ` +
        'Vorgang/VorgangHttpGet: binding tns:VorgangHttpGet has <http:binding> (an HTTP GET/POST binding), no SOAP 1.1 or 1.2 binding); ' +
        'a port from an imported WSDL needs soapVersion',
    );
    // A binding that is missing, or whose extension's prefix is not declared, is named as such.
    const broken = HTTP_ONLY_WSDL.replace('binding="tns:VorgangHttpGet"', 'binding="tns:Elsewhere"');
    expect(readWsdlPorts(broken).other).to.deep.equal([
      { service: 'Vorgang', port: 'VorgangHttpGet', reason: 'binding tns:Elsewhere is not in this file (imported?)' },
    ]);
    const undeclared = HTTP_ONLY_WSDL.replace('<http:binding verb="GET"/>', '<soapx:binding/>');
    expect(readWsdlPorts(undeclared).other[0]?.reason).to.equal(
      'binding tns:VorgangHttpGet has <soapx:binding> (undeclared prefix), no SOAP 1.1 or 1.2 binding',
    );
  });

  it('names the wanted port first when it exists but is not SOAP', async () => {
    const file = path.join(dir, 'mixed.wsdl');
    const mixed = readFileSync(WCF_WSDL, 'utf8').replace(
      '<wsdl:service name="VorgangService">',
      '<wsdl:binding name="Http" type="tns:IVorgangService"><http:binding xmlns:http="http://schemas.xmlsoap.org/wsdl/http/" verb="POST"/></wsdl:binding>$&<wsdl:port name="HttpPost" binding="tns:Http"/>',
    );
    writeFileSync(file, mixed);
    const message = await errorOf({ wsdl: file, port: 'HttpPost', operation: 'Anlegen', endpoint: `${base}/wcf12` });
    expect(message).to.contain(
      'SOAP ports: VorgangService/BasicHttpBinding_IVorgangService (SOAP 1.1), VorgangService/WSHttpBinding_IVorgangService (SOAP 1.2)',
    );
    expect(message).to.contain('other ports: VorgangService/HttpPost: binding tns:Http has <http:binding> (an HTTP GET/POST binding)');
  });
});
