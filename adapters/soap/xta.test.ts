import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import * as soap from 'soap';
import { capturingLogger, xmlMessage } from '../../src/sdk/conformance.ts';
import soapAdapter from './index.ts';
import { inspectWsdl } from './wsdl.ts';
import { systemClock } from '../../src/clock.ts';

// The real XTA 2.1.1 WSDL (SOAP 1.2, WS-Addressing, MTOM, 14 local schemas) from shared/reference: the
// transport interface NRW's portals expect in front of a back office. It shows node-soap and the adapter
// cope with a WSDL of that size; a fresh clone has no shared/, so the tests then skip.

const projectRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const XTA_WSDL = path.resolve(projectRoot, '../shared/reference/xta-2.1.1/XTA.wsdl');

describe('soap adapter and the XTA 2.1.1 WSDL (shared/reference)', function () {
  this.timeout(30_000);

  before(function () {
    if (!existsSync(XTA_WSDL)) {
      console.log(`      shared/reference not present (${XTA_WSDL}): XTA tests skipped`);
      this.skip();
    }
  });

  it('node-soap builds a client: services, ports and operations', async () => {
    const started = performance.now();
    const client = await soap.createClientAsync(XTA_WSDL, { endpoint: 'https://xta.example/xta/ws', disableCache: true });
    const ms = performance.now() - started;
    const services = client.wsdl.definitions.services;
    const listing: Record<string, Record<string, string[]>> = {};
    for (const [service, svc] of Object.entries(services)) {
      listing[service] = {};
      for (const [port, p] of Object.entries(svc.ports)) listing[service][port] = Object.keys(p.binding.methods);
    }
    console.log(`      XTA.wsdl: node-soap client built in ${ms.toFixed(0)} ms`);
    for (const [service, ports] of Object.entries(listing)) {
      for (const [port, ops] of Object.entries(ports)) console.log(`      ${service}/${port}: ${ops.join(', ')}`);
    }
    // The ports are ManagementPort, SendXtaPort and MsgBoxPort; managementPort/sendPort/msgBoxPort are
    // (lower-cased, with "Type") the names of their portTypes.
    expect(listing).to.deep.equal({
      XTAService: {
        MsgBoxPort: ['getMessage', 'getStatusList', 'getNextMessage', 'getNextStatusList', 'close'],
        SendXtaPort: ['sendMessage', 'sendMessageSync'],
        ManagementPort: ['checkAccountActive', 'lookupService', 'getTransportReport', 'cancelMessage', 'createMessageId'],
      },
    });
    expect(Object.keys(client.wsdl.definitions.portTypes)).to.have.members(['managementPortType', 'sendPortType', 'msgBoxPortType']);
    const send = services.XTAService!.ports.SendXtaPort!.binding.methods.sendMessage!;
    expect(send.soapAction).to.equal('http://www.xta.de/XTA/SendMessage');
    expect(send.style).to.equal('document');
  });

  it('reads SOAP 1.2 from every binding, although XTA binds the prefix "soap" to it', () => {
    expect(inspectWsdl(readFileSync(XTA_WSDL, 'utf8'))).to.deep.equal([
      { service: 'XTAService', port: 'MsgBoxPort', soapVersion: '1.2' },
      { service: 'XTAService', port: 'SendXtaPort', soapVersion: '1.2' },
      { service: 'XTAService', port: 'ManagementPort', soapVersion: '1.2' },
    ]);
  });

  it('create() builds the adapter on it and sends a SOAP 1.2 envelope with the operation action', async () => {
    const seen: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res
          .writeHead(500, { 'Content-Type': 'application/soap+xml; charset=utf-8' })
          .end(
            '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code>' +
              '<env:Reason><env:Text xml:lang="de">XTA-Server nicht bereit</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>',
          );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { logger, lines } = capturingLogger();
    const started = performance.now();
    const instance = await soapAdapter.create(
      soapAdapter.options.parse({
        wsdl: XTA_WSDL,
        port: 'SendXtaPort',
        operation: 'sendMessage',
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/xta/send`,
      }),
      { clock: systemClock, targetId: 'xta-test', logger, timeoutMs: 5000 },
    );
    console.log(`      XTA.wsdl: adapter create() took ${(performance.now() - started).toFixed(0)} ms`);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      const ready = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'soap client ready');
      expect(ready).to.include({ service: 'XTAService', port: 'SendXtaPort', operation: 'sendMessage', soapVersion: '1.2' });

      const message = xmlMessage(
        '<xta:GenericContentContainer xmlns:xta="http://xoev.de/transport/xta/211"><xta:ContentContainer><xta:Message>PE5hY2hyaWNodC8+</xta:Message></xta:ContentContainer></xta:GenericContentContainer>',
      );
      const r = await instance.deliver(message, {
        deliveryId: 'd-xta',
        idempotencyKey: 'k-xta',
        submissionId: 's',
        tenant: '05513000',
        service: 'xta',
        attempt: 1,
      });
      expect(r).to.deep.include({ ok: false, retryable: true, errorKind: 'soap-server-fault' });
      expect(seen[0]!.headers['content-type']).to.equal('application/soap+xml; charset=utf-8; action="http://www.xta.de/XTA/SendMessage"');
      expect(seen[0]!.body).to.contain('xmlns:soap="http://www.w3.org/2003/05/soap-envelope"');
      expect(seen[0]!.body).to.contain(`<soap:Body>${message.text}</soap:Body>`);
    } finally {
      await instance.close?.();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
