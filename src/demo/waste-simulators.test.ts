import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadSchema } from '../mapping/xsd/index.ts';
import type { AdapterDefinition } from '../sdk/types.ts';
import { startSimulator, type RunningSimulator } from './index.ts';
import { WASTE_XML_PATH, WASTE_XML_XSD } from './simulators/waste-xml.ts';
import { BATCH_FAILURE } from './simulators/waste-batch.ts';
import type { Example } from './example-input.ts';
import { systemClock } from '../clock.ts';

import { adapter, deliveryContext, FORM_DATA, mapped, outbound, silent, waitFor } from './simulator-test-helpers.ts';

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
