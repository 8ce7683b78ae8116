import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { eventually, FIXTURE_CONFIG, startTestHub, submission, type TestHub } from './support/hub.ts';
import { postgresReachable } from './support/databases.ts';
import {
  hasOpenssl,
  KEY_PASSPHRASE,
  makeXtaCertificates,
  startTestXtaSimulator,
  xta2Options,
  type XtaCertificates,
  type XtaSimulator,
  xtaWsdlDir,
} from './support/xta-simulator/index.ts';

// The hub delivers over XTA 2 to the simulator (TLS client certificate, addressing and schema checked on every
// request): the transport report is the delivery's final state, and a sendMessage whose answer comes after the
// target's timeout is not sent a second time: the message id was committed before sending and the retry asks
// the server about it.

const MAPPINGS = fileURLToPath(new URL('./fixtures/mappings', import.meta.url));

interface View {
  status: string;
  deliveries: {
    target: string;
    state: string;
    attempts: number;
    reference: string | null;
    lastErrorKind: string | null;
    attemptLog: { outcome: string; errorKind: string | null }[];
  }[];
}

/** The fixture configuration with the Gelsenkirchen dog registrations routed to one XTA target. */
function xtaConfig(sim: XtaSimulator, certs: XtaCertificates, timeoutMs: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'amtsbote-xta-config-'));
  copyFileSync(path.join(FIXTURE_CONFIG, 'registry.yaml'), path.join(dir, 'registry.yaml'));
  writeFileSync(
    path.join(dir, 'hub.yaml'),
    stringify({
      server: { port: 0 },
      paths: { mappings: MAPPINGS },
      worker: { concurrency: 2, pollIntervalMs: 50, leaseMs: 5000, shutdownGraceMs: 2000, ackPollMs: 50 },
      log: { console: false, file: false },
    }),
  );
  const options = xta2Options(sim, certs);
  (options.tls as Record<string, unknown>).passphrase = '${env:XTA_KEY_PASSPHRASE}';
  writeFileSync(
    path.join(dir, 'targets.yaml'),
    stringify({
      targets: {
        'dms-xta': {
          adapter: 'xta2',
          format: 'xml',
          timeoutMs,
          options,
          policy: { retry: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 5, jitter: 0 } },
        },
      },
      routes: [
        { id: 'dogs', tenants: ['05513000'], service: 'hundeanmeldung', targets: [{ target: 'dms-xta', mapping: 'dog-archive.jsonata' }] },
      ],
    }),
  );
  return dir;
}

const dog = () =>
  submission({
    service: 'hundeanmeldung',
    data: { dog: { name: 'Bello', breed: 'Dackel', birthDate: '2024-05-01', chipNumber: '276098106543210' } },
    attachments: [{ filename: 'impfpass.pdf', mediaType: 'application/pdf', content: Buffer.from('%PDF-1.7 test\n').toString('base64') }],
  });

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`delivery over XTA 2 [${kind}]`, function () {
    this.timeout(30_000);
    let certs: XtaCertificates;
    let sim: XtaSimulator;
    let t: TestHub;
    let configDir = '';

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      if (!hasOpenssl()) this.skip();
      if (!xtaWsdlDir()) {
        console.log('      (skipped: no XTA 2.1.1 WSDL: ../shared/reference is absent and AMTSBOTE_XTA_WSDL_DIR unset)');
        this.skip();
      }
      certs = makeXtaCertificates();
      sim = await startTestXtaSimulator(certs);
      configDir = xtaConfig(sim, certs, 800);
      t = await startTestHub({ kind, backOfficeUrl: 'http://127.0.0.1:9', configDir, env: { XTA_KEY_PASSPHRASE: KEY_PASSPHRASE } });
    });
    afterEach(() => sim?.delaySendAnswer(0));
    after(async () => {
      await t?.stop(true);
      await sim?.close();
      certs?.remove();
      if (configDir) rmSync(configDir, { recursive: true, force: true });
    });

    async function submit(body: Record<string, unknown>): Promise<string> {
      const res = await t.fetch('/api/v1/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, await res.clone().text()).to.equal(202);
      return ((await res.json()) as { id: string }).id;
    }
    const view = async (id: string) => (await (await t.fetch(`/api/v1/submissions/${id}`)).json()) as View;
    const settled = (id: string) =>
      eventually(
        async () =>
          ((await view(id)).deliveries[0]?.state === 'delivered' || (await view(id)).deliveries[0]?.state === 'failed') && view(id),
        15_000,
        'the delivery to settle',
      );
    const sends = () => sim.requests.filter((r) => r.operation === 'sendMessage').length;

    it('hands the message over with addressing and MTOM, and the transport report makes it delivered', async () => {
      const before = sends();
      const v = await settled(await submit(dog()));
      const d = v.deliveries[0]!;
      expect(d).to.include({ target: 'dms-xta', state: 'delivered', attempts: 1 });
      expect(d.attemptLog[0]).to.include({ outcome: 'handed-over' });
      expect(sends() - before).to.equal(1);
      expect(sim.refused).to.deep.equal([]);
      const held = sim.messages.get(d.reference!)!;
      expect(held.message.content.toString('utf8')).to.match(/^<\?xml|^</);
      expect(held.attachments.map((a) => a.filename)).to.deep.equal(['impfpass.pdf']);
      const send = sim.requests.filter((r) => r.operation === 'sendMessage').at(-1)!;
      expect(send.contentType).to.match(/^multipart\/related; type="application\/xop\+xml"/);
      expect(send.addressing).to.include({ action: 'http://www.xta.de/XTA/SendMessage', messageId: d.reference, to: sim.endpoints.send });
    });

    it('does not send a second message when the answer to sendMessage came after the timeout', async () => {
      const before = sends();
      const held = sim.messages.size;
      sim.delaySendAnswer(1500);
      const v = await settled(await submit(dog()));
      const d = v.deliveries[0]!;
      expect(d.state).to.equal('delivered');
      expect(d.attemptLog[0]).to.include({ outcome: 'retry', errorKind: 'timeout' });
      expect(d.attempts).to.be.at.least(2);
      expect(sends() - before, 'sendMessage requests').to.equal(1);
      expect(sim.messages.size - held, 'messages held').to.equal(1);
      expect(sim.messages.has(d.reference!)).to.equal(true);
    });
  });
}
