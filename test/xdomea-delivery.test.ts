// Bottrop's dog registrations filed in its DMS as xdomea 3.0, through the whole hub: intake, store, worker,
// the renderer's XSD check, file-drop writing the container, and the demo DMS importing it and answering
// with its reference. A mapping that writes an invalid message fails for good and writes nothing.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startSimulator, type RunningSimulator } from '../src/demo/index.ts';
import { readContainer } from '../src/mapping/xdomea/read-container.ts';
import { PROJECT_ROOT } from '../src/project-root.ts';
import { postgresReachable } from './support/databases.ts';
import { postSubmission, settledSubmission, startTestHub, submission, type TestHub } from './support/hub.ts';
import { xdomeaSchemaFile } from '../src/mapping/xdomea/schema.ts';

interface View {
  status: string;
  deliveries: {
    target: string;
    state: string;
    attempts: number;
    reference: string | null;
    lastError: string | null;
    lastErrorKind: string | null;
  }[];
}

const PDF = Buffer.from('%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n');

const CONFIG = `
server: { port: 0 }
paths: { mappings: ../mappings }
worker: { concurrency: 2, pollIntervalMs: 50, leaseMs: 5000, shutdownGraceMs: 2000, ackPollMs: 50 }
log: { console: false, file: false }
tenants:
  - { key: "05512000", name: Bottrop }
  - { key: "05562", name: Kreis Recklinghausen }
  - { key: "05562008", name: Datteln, parent: "05562" }
services:
  - { slug: hundeanmeldung, leika: "99102013104000", name: Hund zur Hundesteuer anmelden }
portals:
  - { id: portal-a, name: Portal A, token: "\${env:TEST_PORTAL_A_TOKEN}", tenants: ["05512000", "05562"] }
targets:
  dms:
    adapter: file-drop
    format: xdomea
    timeoutMs: 2000
    options:
      transport: { type: local, directory: "\${env:DROP_DIR}" }
      fileName: "{deliveryId}_FVDaten.SGOAblegen.0605.{ext}"
      acknowledgement: { mode: files, timeoutMs: 10000 }
    policy:
      retry: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 3, jitter: 0 }
routes:
  - id: dogs-bottrop
    tenants: ["05512000"]
    service: hundeanmeldung
    targets: [{ target: dms, mapping: hundeanmeldung-xdomea.jsonata }]
  - id: dogs-datteln
    tenants: ["05562008"]
    service: hundeanmeldung
    targets: [{ target: dms, mapping: bad-xdomea.jsonata }]
`;

/** Bottrop's mapping, with a Kopf whose Erstellungszeitpunkt is no date-time: the XSD refuses it. */
const BAD = `{ "message": { "xdomea:FVDaten.SGOAblegen.0605": {
  "@_xmlns:xdomea": "urn:xoev-de:xdomea:schema:3.0.0",
  "xdomea:Kopf": $merge([$xdomeaKopf($$, {"nachrichtentyp": "0605", "absender": {}, "empfaenger": {"ags": tenant.key}}),
    {"xdomea:Erstellungszeitpunkt": applicant.familyName}]),
  "xdomea:SchriftgutobjektZumAblegen": { "xdomea:FachverfahrenObjektID": submission.id,
    "xdomea:Schriftgutobjekt": { "xdomea:Vorgang": { "xdomea:Identifikation": { "xdomea:ID": $xdomeaUuid($$, "v") } } } } } },
  "files": [] }`;

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`xdomea into the DMS [${kind}]`, () => {
    let dir: string;
    let t: TestHub;
    let dms: RunningSimulator;

    before(async function () {
      if (kind === 'postgres' && !process.env.CI && !(await postgresReachable())) this.skip();
      dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-xdomea-'));
      mkdirSync(path.join(dir, 'config'));
      mkdirSync(path.join(dir, 'mappings'));
      writeFileSync(path.join(dir, 'config', 'hub.yaml'), CONFIG);
      copyFileSync(
        path.join(PROJECT_ROOT, 'mappings/bottrop/hundeanmeldung-xdomea.jsonata'),
        path.join(dir, 'mappings/hundeanmeldung-xdomea.jsonata'),
      );
      writeFileSync(path.join(dir, 'mappings/bad-xdomea.jsonata'), BAD);
      t = await startTestHub({ kind, backOfficeUrl: 'http://127.0.0.1:9', configDir: path.join(dir, 'config') });
      dms = await startSimulator({ kind: 'dms-xdomea', directory: t.dropDir, intervalMs: 50 });
    });
    after(async () => {
      await dms?.close();
      await t?.stop(true);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('writes {ProzessID}_FVDaten.SGOAblegen.0605.zip, which the DMS imports; its reference is the delivery’s', async () => {
      const id = await postSubmission(
        t,
        submission({
          tenant: '05512000',
          service: 'hundeanmeldung',
          data: { dog: { name: 'Luna', sex: 'f' }, listedDog: false, additionalDog: false },
          attachments: [{ filename: 'Impfausweis Luna.pdf', mediaType: 'application/pdf', content: PDF.toString('base64') }],
        }),
      );
      const v = await settledSubmission<View>(t, id, 15_000);
      const d = v.deliveries[0]!;
      expect(d, d.lastError ?? '').to.include({ state: 'delivered', attempts: 1 });
      expect(d.reference).to.match(/^DMS-05512000-\d{4}-\d{6}$/);

      const deliveryId = (await t.hub.store.getSubmission(id))!.deliveries[0]!.id;
      const zipName = `${deliveryId}_FVDaten.SGOAblegen.0605.zip`;
      expect(readFileSync(path.join(t.dropDir, `${zipName}.ok`), 'utf8').trim()).to.equal(d.reference);
      const entries = readContainer(readFileSync(path.join(t.dropDir, zipName)));
      expect(entries.map((e) => e.name)[0]).to.equal(`${deliveryId}_FVDaten.SGOAblegen.0605.xml`);
      expect(entries).to.have.length(3);
      const pdf = entries.find((e) => e.name.endsWith('_Impfausweis_Luna.pdf'));
      expect(pdf?.content.equals(PDF)).to.equal(true);
      // Nothing beside the container: the attachment travels inside it.
      expect(
        readdirSync(t.dropDir)
          .filter((f) => f.includes(deliveryId))
          .sort(),
      ).to.deep.equal([zipName, `${zipName}.ok`]);
      expect(dms.cases().map((c) => c.reference)).to.include(d.reference);
    });

    it('fails a message the XSD refuses after one attempt (errorKind schema), names the path, writes nothing, logs no value', async function () {
      if (!xdomeaSchemaFile()) {
        console.log('      (skipped: no xdomea 3.0.0 XSDs; ../shared/reference is absent)');
        this.skip();
      }
      const id = await postSubmission(
        t,
        submission({
          tenant: '05562008',
          service: 'hundeanmeldung',
          applicant: { givenName: 'Max', familyName: 'Geheimname', street: 'W', houseNumber: '1', postalCode: '45711', city: 'Datteln' },
        }),
      );
      const d = (await settledSubmission<View>(t, id, 15_000)).deliveries[0]!;
      expect(d).to.include({ state: 'failed', attempts: 1, lastErrorKind: 'schema' });
      expect(d.lastError).to.match(
        /^bad-xdomea\.jsonata: the xdomea message violates xdomea-Nachrichten-FachverfahrensdatenAustauschen\.xsd, nothing was sent: line 1 \(\/xdomea:FVDaten\.SGOAblegen\.0605\/xdomea:Kopf\/xdomea:Erstellungszeitpunkt\): Element 'Erstellungszeitpunkt'/,
      );
      const deliveryId = (await t.hub.store.getSubmission(id))!.deliveries[0]!.id;
      expect(readdirSync(t.dropDir).filter((f) => f.includes(deliveryId))).to.deep.equal([]);
      expect(existsSync(path.join(t.dropDir, `${deliveryId}_FVDaten.SGOAblegen.0605.zip`))).to.equal(false);
      expect(t.logLines.join('')).not.to.include('Geheimname');
    });
  });
}
