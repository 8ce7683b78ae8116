import { expect } from 'chai';
import * as soap from 'soap';
import path from 'node:path';
import { systemClock } from '../../src/clock.ts';
import { capturingLogger, describeAdapterConformance, xmlMessage } from '../../src/sdk/conformance.ts';
import type { AdapterInstance, DeliveryContext, DeliveryMemo, OutboundMessage } from '../../src/sdk/index.ts';
import {
  BACKOFFICE_ACCOUNT,
  HUB_ACCOUNT,
  KEY_PASSPHRASE,
  hasOpenssl,
  makeXtaCertificates,
  startTestXtaSimulator,
  xta2Options,
  type XtaCertificates,
  type XtaSimulator,
  xtaWsdlDir,
} from '../../test/support/xta-simulator/index.ts';
import xta2 from './index.ts';
import { createXtaClient } from './client.ts';
import { OPERATIONS } from './envelope.ts';

// The xta2 adapter against the XTA simulator (built from the same WSDL, over TLS with client certificates, checking
// every request's addressing and schema): the conformance suite, then what is particular to XTA.

const WSDL = path.join(xtaWsdlDir() ?? '', 'XTA.wsdl');
const MESSAGE_ID = /urn:de:xta:messageid:[\w:.-]+/g;

let certs: XtaCertificates | undefined;
const certificates = () => {
  certs ??= makeXtaCertificates();
  return certs;
};
after(() => certs?.remove());

const antrag = '<?xml version="1.0" encoding="UTF-8"?><Antrag xmlns="urn:test:hund"><Rasse>Dackel</Rasse></Antrag>';

describe('xta2 adapter', function () {
  this.timeout(30_000);
  before(function () {
    if (!hasOpenssl()) {
      console.warn('    (skipped: the XTA tests need the openssl command to make certificates)');
      this.skip();
    }
    if (!xtaWsdlDir()) {
      console.log('      (skipped: no XTA 2.1.1 WSDL: ../shared/reference is absent and AMTSBOTE_XTA_WSDL_DIR unset)');
      this.skip();
    }
  });

  let sim: XtaSimulator | undefined;
  describeAdapterConformance(xta2, {
    async start() {
      sim = await startTestXtaSimulator(certificates());
    },
    async stop() {
      await sim?.close();
    },
    options: () => xta2Options(sim!, certificates()),
    // A certificate from a CA the server does not trust: the TLS handshake is refused.
    badCredentialOptions: () =>
      xta2Options(sim!, certificates(), {
        tls: { cert: certificates().strangerCert, key: certificates().strangerKey, ca: certificates().ca },
      }),
    secrets: [KEY_PASSPHRASE],
    behave: (b) => sim!.behave(b),
    refusal: {
      notApplicable: "sendMessage answers with XTA's empty body; the server's verdict is the transport report, read by acknowledgement()",
    },
    filed: () => [...sim!.messages.values()].map((m) => ({ idempotencyKey: m.properties.idempotencyKey ?? '' })),
    // The whole sendMessage envelope (XOP resolved), with the server's message id (fresh for every message) masked.
    received: () =>
      sim!.requests.filter((r) => r.operation === 'sendMessage').map((r) => Buffer.from(r.envelope.replace(MESSAGE_ID, 'MESSAGE-ID'))),
    message: xmlMessage(antrag),
  });

  describe('against the XTA simulator', () => {
    let s: XtaSimulator;
    const { logger, lines } = capturingLogger();
    const instances: AdapterInstance[] = [];
    let n = 0;

    async function adapter(extra: Record<string, unknown> = {}, timeoutMs = 3000): Promise<AdapterInstance> {
      const i = await xta2.create(xta2.options.parse(xta2Options(s, certificates(), extra)), {
        targetId: 'xta-test',
        logger,
        timeoutMs,
        clock: systemClock,
      });
      instances.push(i);
      return i;
    }
    /** A memo as the hub's store keeps it: outlives the attempt. */
    function memo(): DeliveryMemo & { values: Map<string, string> } {
      const values = new Map<string, string>();
      return { values, recall: async (k) => values.get(k), remember: async (k, v) => void values.set(k, v) };
    }
    function dctx(m?: DeliveryMemo, attempt = 1): DeliveryContext {
      n += 1;
      return {
        deliveryId: `d-${n}`,
        idempotencyKey: `key-${n}`,
        submissionId: `s-${n}`,
        tenant: '05513000',
        service: 'hundeanmeldung',
        attempt,
        ...(m ? { memo: m } : {}),
      };
    }
    const message: OutboundMessage = {
      ...xmlMessage(antrag),
      attachments: [
        { filename: 'impfpass.pdf', mediaType: 'application/pdf', size: 9, sha256: '', content: Buffer.from('%PDF-1.7\n') },
        { filename: 'foto.png', mediaType: 'image/png', size: 4, sha256: '', content: Buffer.from([0x89, 0x50, 0x4e, 0x47]) },
      ],
    };

    before(async () => {
      s = await startTestXtaSimulator(certificates());
    });
    afterEach(() => {
      s.behave('accept');
      s.delaySendAnswer(0);
    });
    after(async () => {
      for (const i of instances) await i.close?.();
      await s?.close();
    });

    it('knows every operation by the wsam:Action of XTA.wsdl', async () => {
      const client = await soap.createClientAsync(WSDL, { disableCache: true });
      const seen: Record<string, string> = {};
      for (const port of Object.values(client.wsdl.definitions.services.XTAService!.ports)) {
        for (const [name, m] of Object.entries(port.binding.methods)) seen[name] = (m as { soapAction: string }).soapAction;
      }
      const ours = Object.fromEntries(Object.entries(OPERATIONS).map(([op, o]) => [op, o.action]));
      expect(ours).to.deep.equal(seen);
    });

    it('sends checkAccountActive, createMessageID, sendMessage: SOAP 1.2, WS-Addressing, MTOM, checked against the schemas', async () => {
      const before = s.requests.length;
      const r = await (await adapter()).deliver(message, dctx());
      expect(r).to.include({ ok: true });
      const ops = s.requests.slice(before);
      expect(ops.map((q) => q.operation)).to.deep.equal(['checkAccountActive', 'createMessageId', 'sendMessage']);
      expect(s.refused).to.deep.equal([]);
      const send = ops[2]!;
      expect(send.contentType).to.match(
        /^multipart\/related; type="application\/xop\+xml"; boundary="[^"]+"; start="<[^>]+>"; start-info="application\/soap\+xml"/,
      );
      expect(send.parts).to.equal(3);
      expect(send.addressing).to.deep.equal({
        action: 'http://www.xta.de/XTA/SendMessage',
        messageId: r.ok ? r.reference : '',
        to: s.endpoints.send,
        replyTo: 'http://www.w3.org/2005/08/addressing/anonymous',
      });
      expect(send.certificateCn).to.equal('amtsbote-hub');
      for (const q of ops) expect(q.addressing.to).to.equal(q.operation === 'sendMessage' ? s.endpoints.send : s.endpoints.management);
      const held = s.messages.get(r.ok ? r.reference! : '')!;
      expect(held).to.include({ author: HUB_ACCOUNT, reader: BACKOFFICE_ACCOUNT, service: 'urn:xoev-de:xdomea:schema:3.0.0' });
      expect(held.message.content.toString('utf8')).to.equal(antrag);
      expect(held.message.mediaType).to.equal('application/xml; charset=utf-8');
      expect(held.attachments.map((a) => [a.filename, a.mediaType, a.content.toString('hex')])).to.deep.equal([
        ['impfpass.pdf', 'application/pdf', Buffer.from('%PDF-1.7\n').toString('hex')],
        ['foto.png', 'image/png', '89504e47'],
      ]);
      expect(held.metadataXml).to.include('XDOMEA_FVDATEN').and.include('payloadSchema="urn:xoev-de:xdomea:schema:3.0.0"');
    });

    it("sends a mapping's own bytes (a zip container) unchanged, with their media type", async () => {
      const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0x10]);
      const r = await (await adapter({ messageFilename: 'nachricht.zip' })).deliver(
        { format: 'xml', body: undefined, text: '', bytes: zip, contentType: 'application/zip', attachments: [] },
        dctx(),
      );
      const held = s.messages.get(r.ok ? r.reference! : '')!;
      expect(held.message).to.deep.equal({ mediaType: 'application/zip', filename: 'nachricht.zip', content: zip });
    });

    it('takes the transport report as the final state: open is pending, green accepted, red rejected', async () => {
      const a = await adapter();
      const r = await a.deliver(message, dctx());
      if (!r.ok || !r.awaitingAck) throw new Error('expected a hand-over');
      const id = r.awaitingAck.token;
      s.setStatus(id, 0);
      expect(await a.acknowledgement!(id)).to.deep.equal({ state: 'pending' });
      expect(await a.status!(id)).to.include({ reference: id, status: 'open' });
      s.setStatus(id, 1);
      expect(await a.acknowledgement!(id)).to.deep.equal({ state: 'accepted', reference: id });
      expect(await a.status!(id)).to.include({ status: 'green' });
      s.setStatus(id, 3, 'Leser unbekannt');
      expect(await a.acknowledgement!(id)).to.deep.equal({ state: 'rejected', error: 'transport report red: Leser unbekannt' });
      expect(await a.status!('urn:de:xta:messageid:unknown')).to.equal(null);
    });

    it('does not send twice when the answer to sendMessage came too late: the retry reuses the stored message id', async () => {
      const a = await adapter({}, 800);
      const m = memo();
      const held = s.messages.size;
      const sends = () => s.requests.filter((q) => q.operation === 'sendMessage').length;
      const sentBefore = sends();
      s.delaySendAnswer(1500);
      const first = await a.deliver(message, dctx(m));
      expect(first).to.deep.include({ ok: false, retryable: true, errorKind: 'timeout' });
      const id = m.values.get('xta2.messageId');
      expect(id).to.match(/^urn:de:xta:messageid:/);
      await new Promise((r) => setTimeout(r, 800));
      s.delaySendAnswer(0);
      const d = dctx(m, 2);
      const second = await a.deliver(message, d);
      expect(second).to.deep.include({ ok: true, reference: id });
      expect(s.messages.size - held).to.equal(1);
      expect(sends() - sentBefore).to.equal(1);
      expect(s.requests.at(-1)!.operation).to.equal('getTransportReport');
    });

    it('sends a new message on a replay after the server reported the first one red', async () => {
      const a = await adapter();
      const m = memo();
      const first = await a.deliver(message, dctx(m));
      if (!first.ok) throw new Error('expected a hand-over');
      s.setStatus(first.reference!, 3, 'Leser unbekannt');
      const again = await a.deliver(message, dctx(m, 2));
      expect(again.ok && again.reference)
        .to.be.a('string')
        .and.not.equal(first.reference);
      expect([...m.values.keys()]).to.deep.equal(['xta2.messageId', 'xta2.messageId#2']);
      // A third attempt (its answer lost) finds the second message and sends nothing.
      const sends = s.requests.filter((q) => q.operation === 'sendMessage').length;
      const third = await a.deliver(message, dctx(m, 3));
      expect(third.ok && third.reference).to.equal(again.ok && again.reference);
      expect(s.requests.filter((q) => q.operation === 'sendMessage').length).to.equal(sends);
    });

    it('classifies faults: technical problems retryable, schema violations permanent', async () => {
      const a = await adapter();
      s.behave('retryable');
      expect(await a.deliver(message, dctx())).to.deep.include({ ok: false, retryable: true, errorKind: 'soap-server-fault' });
      s.behave('permanent');
      const r = await a.deliver(message, dctx());
      expect(r).to.deep.include({ ok: false, retryable: false, errorKind: 'soap-client-fault' });
      expect(!r.ok && r.error).to.match(/^XTA sendMessage: MessageSchemaViolationException 9013/);
    });

    it('is refused for an account the certificate may not act for, and without a trusted certificate', async () => {
      const wrongAuthor = await adapter({ author: { identifier: BACKOFFICE_ACCOUNT + '-nobody' } });
      expect(await wrongAuthor.check()).to.deep.include({ ok: false, refused: true });
      expect(await wrongAuthor.deliver(message, dctx())).to.deep.include({ ok: false, retryable: false });
      const stranger = await adapter({
        tls: { cert: certificates().strangerCert, key: certificates().strangerKey, ca: certificates().ca },
      });
      const c = await stranger.check();
      expect(c).to.deep.include({ ok: false, refused: true });
      expect(c.message).to.not.include(KEY_PASSPHRASE);
      expect(lines.join('\n')).to.not.include(KEY_PASSPHRASE);
    });

    it('the simulator refuses a request that breaks the schemas or the addressing rules', async () => {
      const c = createXtaClient({
        endpoints: s.endpoints,
        tls: xta2.options.parse(xta2Options(s, certificates())).tls,
        account: { identifier: HUB_ACCOUNT, type: 'xoev' },
        userAgent: 'test',
        maxResponseBytes: 100_000,
      });
      try {
        const before = s.refused.length;
        // xta:Message without its required contentType attribute.
        const r = await c.call(
          'sendMessage',
          '<xta:GenericContentContainer><xta:ContentContainer><xta:Message>aGk=</xta:Message></xta:ContentContainer></xta:GenericContentContainer>',
          {
            signal: AbortSignal.timeout(3000),
          },
        );
        expect(r.ok).to.equal(false);
        expect(s.refused.slice(before).map((x) => x.reason)).to.satisfy((rs: string[]) => rs.some((x) => /schema: .*contentType/.test(x)));
      } finally {
        c.close();
      }
    });
  });
});
