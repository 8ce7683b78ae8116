import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { buildMappingInput } from '../delivery/message-input.ts';
import { compileMapping, renderMessage } from '../mapping/engine.ts';
import { buildContainer } from '../mapping/xdomea/container.ts';
import { readContainer } from '../mapping/xdomea/read-container.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import { eventually } from '../../test/support/hub.ts';
import { startSimulator } from './index.ts';
import { simulatorSchema } from './schema.ts';
import { checkContainer, DMS_FAILURE } from './simulators/dms-xdomea.ts';
import { xdomeaSchemaFile } from '../mapping/xdomea/schema.ts';

const DELIVERY = '01970000-0000-7000-8000-0000000000e1';

async function bottropContainer(delivery = DELIVERY) {
  const ex = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'examples/hundeanmeldung-bottrop.json'), 'utf8'));
  const input = buildMappingInput({
    submissionId: '01970000-0000-7000-8000-0000000000e0',
    externalId: ex.externalId,
    portal: 'emscher-lippe-portal',
    submittedAt: ex.submittedAt,
    receivedAt: Date.parse(ex.submittedAt),
    tenantKey: '05512000',
    serviceKey: 'hundeanmeldung',
    tenant: { key: '05512000', name: 'Bottrop' },
    service: { slug: 'hundeanmeldung', leika: '99102013104000', name: 'Hund zur Hundesteuer anmelden' },
    applicant: ex.applicant,
    data: ex.data,
    attachments: ex.attachments.map((a: { filename: string; mediaType: string; content: string }) => ({
      ...a,
      content: Buffer.from(a.content, 'base64'),
      size: 0,
      sha256: '',
    })),
    delivery: { id: delivery, idempotencyKey: delivery, target: 'bottrop-dms' },
  });
  const m = await renderMessage(
    compileMapping(path.join(PROJECT_ROOT, 'mappings'), 'bottrop/hundeanmeldung-xdomea.jsonata'),
    input,
    'xdomea',
  );
  return { name: m.container!.name, bytes: m.bytes!, text: m.text };
}

describe('dms-xdomea simulator', () => {
  it('takes a folder and an interval, like the batch job', () => {
    expect(simulatorSchema.parse({ kind: 'dms-xdomea', directory: 'data/demo/bottrop-dms' })).to.deep.equal({
      kind: 'dms-xdomea',
      directory: 'data/demo/bottrop-dms',
      intervalMs: 2000,
      failureRate: 0,
    });
    expect(simulatorSchema.safeParse({ kind: 'dms-xdomea', directory: 'x', port: 1 }).success).to.equal(false);
  });

  it('imports what the hub builds, and refuses a wrong name, a missing or extra file, a message the XSD refuses', async () => {
    const c = await bottropContainer();
    const ok = checkContainer(c.name, c.bytes);
    expect(ok.problems).to.deep.equal([]);
    expect(ok).to.include({ prozessId: DELIVERY, ags: '05512000' });

    const entries = readContainer(c.bytes);
    const [message, ...files] = entries as [(typeof entries)[0], ...typeof entries];
    const rebuilt = (m: typeof message, f: typeof files) => buildContainer(m, f);
    expect(checkContainer('hundeanmeldung.zip', c.bytes).problems[0]).to.match(/not \{ProzessID\}_FVDaten/);
    expect(checkContainer(c.name, Buffer.from('PK nonsense')).problems[0]).to.match(/cannot be read/);
    expect(checkContainer(c.name, await rebuilt(message, files.slice(1))).problems[0]).to.equal(
      '1 Primaerdokument file(s) missing from the container',
    );
    expect(
      checkContainer(c.name, await rebuilt(message, [...files, { name: 'extra.txt', content: Buffer.from('x') }])).problems[0],
    ).to.equal('1 file(s) in the container that no Primaerdokument names');
    // The XSD check needs the real schema set (../shared/reference, or AMTSBOTE_XDOMEA_XSD_DIR).
    if (xdomeaSchemaFile()) {
      const invalid = { ...message, content: Buffer.from(c.text.replace('<xdomea:Stapel>false</xdomea:Stapel>', '')) };
      expect(checkContainer(c.name, await rebuilt(invalid, files)).problems[0]).to.match(/^XSD: line \d+: /);
    }
    const other = c.name.replace(DELIVERY, '01970000-0000-7000-8000-0000000000e9');
    const renamed = { ...message, name: message.name.replace(DELIVERY, '01970000-0000-7000-8000-0000000000e9') };
    expect(checkContainer(other, await rebuilt(renamed, files)).problems[0]).to.equal(
      'Kopf/ProzessID differs from the ProzessID in the file name',
    );
  });

  it('answers each container beside it: .ok with the same reference for the same ProzessID, .err with the first problem', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dms-'));
    const sim = await startSimulator({ kind: 'dms-xdomea', directory: dir, intervalMs: 20 });
    try {
      const c = await bottropContainer();
      writeFileSync(path.join(dir, c.name), c.bytes);
      writeFileSync(path.join(dir, '.tmp-not-yet.zip'), 'half');
      writeFileSync(path.join(dir, 'x_FVDaten.SGOAblegen.0605.zip'), c.bytes);
      const ref = await eventually(
        async () => {
          try {
            return readFileSync(path.join(dir, `${c.name}.ok`), 'utf8').trim();
          } catch {
            return undefined;
          }
        },
        5000,
        'the .ok',
      );
      expect(ref).to.match(/^DMS-05512000-\d{4}-000001$/);
      const err = await eventually(
        async () => {
          try {
            return readFileSync(path.join(dir, 'x_FVDaten.SGOAblegen.0605.zip.err'), 'utf8').trim();
          } catch {
            return undefined;
          }
        },
        5000,
        'the .err',
      );
      expect(err).to.match(/file name is not/);
      expect(sim.cases()).to.have.length(1);
      expect(sim.cases()[0]).to.include({ reference: ref, idempotencyKey: DELIVERY, dialect: 'xdomea-fvdaten' });
    } finally {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const flakyDir = mkdtempSync(path.join(tmpdir(), 'dms-'));
    const flaky = await startSimulator({ kind: 'dms-xdomea', directory: flakyDir, intervalMs: 20, failureRate: 1 });
    try {
      const c = await bottropContainer('01970000-0000-7000-8000-0000000000e2');
      writeFileSync(path.join(flakyDir, c.name), c.bytes);
      const err = await eventually(
        async () => {
          try {
            return readFileSync(path.join(flakyDir, `${c.name}.err`), 'utf8').trim();
          } catch {
            return undefined;
          }
        },
        5000,
        'the .err',
      );
      expect(err).to.equal(DMS_FAILURE);
    } finally {
      await flaky.close();
      rmSync(flakyDir, { recursive: true, force: true });
    }
  });
});
