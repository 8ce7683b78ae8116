import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { buildMappingInput, type MappingInput } from '../../delivery/message-input.ts';
import { PROJECT_ROOT } from '../../project-root.ts';
import { compileMapping, MappingError, renderMessage } from '../engine.ts';
import { nameUuid } from './ids.ts';
import { safeFileName } from './names.ts';
import { readContainer } from './read-container.ts';
import { XdomeaSchemaError } from './render.ts';
import { FVDATEN_XSD_NAME, fvDatenXsd, REFERENCE_XDOMEA_DIR } from './schema.ts';

/** The real XSD set (../shared/reference); a test that needs it skips with a message where it is absent. */
const REFERENCE_XSD = existsSync(fvDatenXsd(REFERENCE_XDOMEA_DIR)) ? fvDatenXsd(REFERENCE_XDOMEA_DIR) : undefined;
function needsReference(ctx: Mocha.Context): string {
  if (!REFERENCE_XSD) {
    console.log(`      (skipped: ${REFERENCE_XDOMEA_DIR} is absent; CI has it)`);
    ctx.skip();
  }
  return REFERENCE_XSD!;
}

const MAPPINGS = path.join(PROJECT_ROOT, 'mappings');
const BOTTROP = 'bottrop/hundeanmeldung-xdomea.jsonata';
const DELIVERY = '01970000-0000-7000-8000-0000000000d1';
const XML = { declaration: true, indent: false };

interface Example {
  externalId: string;
  tenant: string;
  service: string;
  submittedAt: string;
  applicant: unknown;
  data: unknown;
  attachments?: { filename: string; mediaType: string; content: string }[];
}

const example = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'examples/hundeanmeldung-bottrop.json'), 'utf8')) as Example;

/** The mapping input the worker would build for the Bottrop example, with `attachments` instead of the example's. */
function input(attachments = example.attachments ?? [], delivery = DELIVERY): MappingInput {
  return buildMappingInput({
    submissionId: '01970000-0000-7000-8000-0000000000a1',
    externalId: example.externalId,
    portal: 'emscher-lippe-portal',
    submittedAt: example.submittedAt,
    receivedAt: Date.parse(example.submittedAt) + 1500,
    tenantKey: '05512000',
    serviceKey: 'hundeanmeldung',
    tenant: { key: '05512000', name: 'Bottrop' },
    service: { slug: 'hundeanmeldung', leika: '99102013104000', name: 'Hund zur Hundesteuer anmelden' },
    applicant: example.applicant,
    data: example.data,
    attachments: attachments.map((a) => {
      const content = Buffer.from(a.content, 'base64');
      return { ...a, content, size: content.length, sha256: createHash('sha256').update(content).digest('hex') };
    }),
    delivery: { id: delivery, idempotencyKey: delivery, target: 'bottrop-dms' },
  });
}

describe('xdomea 3.0 messages (format xdomea)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'xdomea-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A mapping of its own, from the text given, in the temporary mappings folder. */
  function mapping(name: string, source: string) {
    writeFileSync(path.join(dir, name), source);
    return compileMapping(dir, name);
  }

  it('builds the container {ProzessID}_FVDaten.SGOAblegen.0605.zip: the message and every primary document, nothing else', async () => {
    const m = await renderMessage(compileMapping(MAPPINGS, BOTTROP), input(), 'xdomea', XML, undefined, {
      xdomeaSchema: REFERENCE_XSD,
    });
    const stem = `${DELIVERY}_FVDaten.SGOAblegen.0605`;
    expect(m.contentType).to.equal('application/zip');
    expect(m.container?.name).to.equal(`${stem}.zip`);
    expect(m.container?.messageName).to.equal(`${stem}.xml`);
    const entries = readContainer(m.bytes!);
    expect(entries.map((e) => e.name)).to.deep.equal([`${stem}.xml`, ...m.container!.files]);
    expect(entries[0]!.content.toString('utf8')).to.equal(m.text);
    expect(m.text).to.include(`<xdomea:ProzessID>${DELIVERY}</xdomea:ProzessID>`);
    // The root names its schema, as a conforming xdomea message does.
    expect(m.text).to.include(`xsi:schemaLocation="urn:xoev-de:xdomea:schema:3.0.0 ${FVDATEN_XSD_NAME}"`);

    // Each Primaerdokument/Dateiname is an entry: the application as JSON, the attachment byte for byte.
    const named = [...m.text.matchAll(/<xdomea:Dateiname>([^<]+)<\/xdomea:Dateiname>/g)].map((x) => x[1]!);
    expect([...named].sort()).to.deep.equal(m.container!.files);
    for (const n of named) expect(n).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}_/);
    const byName = new Map(entries.map((e) => [e.name, e.content]));
    const antrag = JSON.parse(byName.get(named[0]!)!.toString('utf8')) as Record<string, unknown>;
    expect(antrag).to.include({ antragsnummer: example.externalId, leistung: '99102013104000' });
    expect(antrag.angaben).to.deep.equal(example.data);
    expect(named[1]).to.match(/_nachweis-haftpflicht\.txt$/);
    expect(byName.get(named[1]!)!.equals(Buffer.from(example.attachments![0]!.content, 'base64'))).to.equal(true);
  });

  it('builds the same bytes on a retry, and another delivery gets its own ProzessID and ids', async () => {
    const compiled = compileMapping(MAPPINGS, BOTTROP);
    const a = await renderMessage(compiled, input(), 'xdomea', XML);
    const b = await renderMessage(compiled, input(), 'xdomea', XML);
    expect(a.bytes!.equals(b.bytes!)).to.equal(true);
    const other = await renderMessage(compiled, input(undefined, '01970000-0000-7000-8000-0000000000d2'), 'xdomea', XML);
    expect(other.container!.name).to.match(/^01970000-0000-7000-8000-0000000000d2_/);
    const ids = (t: string) => [...t.matchAll(/<xdomea:ID>([^<]+)<\/xdomea:ID>/g)].map((x) => x[1]);
    expect(ids(other.text)).to.have.length(3);
    for (const id of ids(other.text)) expect(ids(a.text)).not.to.include(id);
  });

  it('validates against the real xdomea 3.0.0 XSDs', async function () {
    const xdomeaSchema = needsReference(this);
    const m = await renderMessage(compileMapping(MAPPINGS, BOTTROP), input([]), 'xdomea', XML, undefined, { xdomeaSchema });
    expect(readContainer(m.bytes!)).to.have.length(2);
  });

  it('fails a message the XSD refuses for good, with the XSD message and the path, and never the value', async function () {
    needsReference(this);
    const bad = mapping(
      'bad-kopf.jsonata',
      `{ "message": { "xdomea:FVDaten.SGOAblegen.0605": {
          "@_xmlns:xdomea": "urn:xoev-de:xdomea:schema:3.0.0",
          "xdomea:Kopf": $merge([$xdomeaKopf($$, {"nachrichtentyp": "0605", "absender": {"institution": "A"}, "empfaenger": {"ags": "05512000"}}), {"xdomea:Erstellungszeitpunkt": "Geheim-4711"}]),
          "xdomea:SchriftgutobjektZumAblegen": { "xdomea:FachverfahrenObjektID": "x", "xdomea:Schriftgutobjekt": {
            "xdomea:Dokument": { "xdomea:Identifikation": { "xdomea:ID": $xdomeaUuid($$, "d") } } } } } },
        "files": [] }`,
    );
    const err = await renderMessage(bad, input(), 'xdomea', XML).then(
      () => expect.fail('rendered'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(XdomeaSchemaError);
    const e = err as XdomeaSchemaError;
    expect(e.errorKind).to.equal('schema');
    expect(e.describe()).to.match(
      new RegExp(
        `^bad-kopf\\.jsonata: the xdomea message violates ${FVDATEN_XSD_NAME}, nothing was sent: line 1 \\(/xdomea:FVDaten\\.SGOAblegen\\.0605/xdomea:Kopf/xdomea:Erstellungszeitpunkt\\): Element 'Erstellungszeitpunkt': the value is not a valid value of the atomic type 'xs:dateTime'`,
      ),
    );
    expect(e.message).not.to.include('Geheim-4711');
  });

  it('fails a container whose files and Primaerdokumente do not match, and a message without the xdomea prefix', async () => {
    const doc = `$xdomeaDokument($$, {"key": "a", "filename": "a.txt", "mediaType": "text/plain"})`;
    const body = (files: string, root = 'xdomea:FVDaten.SGOAblegen.0605') => `{ "message": { "${root}": {
        "@_xmlns:xdomea": "urn:xoev-de:xdomea:schema:3.0.0",
        "xdomea:Kopf": $xdomeaKopf($$, {"nachrichtentyp": "0605", "absender": {"institution": "A"}, "empfaenger": {"ags": "05512000"}}),
        "xdomea:SchriftgutobjektZumAblegen": { "xdomea:FachverfahrenObjektID": "x", "xdomea:Schriftgutobjekt": { "xdomea:Dokument": ${doc} } } } },
      "files": ${files} }`;
    const cases: [string, string, RegExp][] = [
      ['missing.jsonata', body('[]'), /names 1 file\(s\) that files\[\] does not hold/],
      [
        'extra.jsonata',
        body(
          `[$xdomeaDatei($$, {"key": "a", "filename": "a.txt", "mediaType": "text/plain", "text": "A"}), {"name": "b.txt", "text": "B"}]`,
        ),
        /files\[\] holds 1 file\(s\) that no Primaerdokument\/Dateiname names/,
      ],
      ['noprefix.jsonata', body('[]', 'FVDaten.SGOAblegen.0605'), /must be one element named xdomea:<Gruppe>/],
      ['group.jsonata', body('[]', 'xdomea:Aussonderung.Aussonderung.0503'), /format xdomea writes FVDaten messages/],
      ['path.jsonata', body(`[{"name": "../a.txt", "text": "A"}]`), /files\[0\]\.name must be a plain file name/],
      ['twice.jsonata', body(`[{"name": "x", "text": "A"}, {"name": "x", "content": "QQ=="}]`), /files\[1\]\.name is given twice/],
    ];
    for (const [name, source, expected] of cases) {
      const err = await renderMessage(mapping(name, source), input(), 'xdomea', XML).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).to.be.instanceOf(MappingError);
      expect((err as MappingError).message, name).to.match(expected);
      expect((err as MappingError).errorKind, name).to.equal('mapping');
    }
    const ok = mapping('ok.jsonata', body(`[$xdomeaDatei($$, {"key": "a", "filename": "a.txt", "mediaType": "text/plain", "text": "A"})]`));
    expect((await renderMessage(ok, input(), 'xdomea', XML)).container!.files).to.have.length(1);
  });

  it('helpers fail on what they need and name the rule: the input, the message type, the document spec', async () => {
    const cases: [string, RegExp][] = [
      ['$xdomeaKopf({}, {"nachrichtentyp": "0605"})', /\$xdomeaKopf: the first argument must be the mapping input/],
      ['$xdomeaKopf($$, {"nachrichtentyp": "605"})', /\$xdomeaKopf: nachrichtentyp must be the four-digit message type code/],
      ['$xdomeaKopf($$, {"nachrichtentyp": "0605", "absender": {}})', /\$xdomeaKopf: empfaenger must be an object/],
      ['$xdomeaDokument($$, {"filename": "a", "mediaType": "text/plain"})', /\$xdomeaDokument: key must be a non-empty string/],
      ['$xdomeaDatei($$, {"key": "a", "filename": "a", "mediaType": "text/plain"})', /\$xdomeaDatei: give the file as exactly one of/],
    ];
    let n = 0;
    for (const [source, expected] of cases) {
      const err = await mapping(`helper-${++n}.jsonata`, source)
        .evaluate(input())
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((err as Error | undefined)?.message, source).to.match(expected);
    }
  });

  it('writes a contact in the XSD order: Behoerdenkennung, Institution, Name, Anschrift, Kommunikation', async () => {
    const k = await mapping(
      'kontakt.jsonata',
      `$xdomeaKontakt({"email": "a@example.org", "anschrift": {"ort": "Bottrop", "strasse": "Weg"}, "familienname": "Muster", "anrede": "Frau", "ags": "05512000", "institution": "Stadt Bottrop"})`,
    ).evaluate(input());
    expect(JSON.parse(JSON.stringify(k))).to.deep.equal({
      'xdomea:Behoerdenkennung': { 'xdomea:Behoerdenschluessel': { code: '05512000' }, 'xdomea:Praefix': { code: 'ags:' } },
      'xdomea:Institution': { 'xdomea:Name': 'Stadt Bottrop' },
      'xdomea:Name': { 'xdomea:Anrede': 'Frau', 'xdomea:Familienname': { 'xdomea:Name': 'Muster' } },
      'xdomea:Anschrift': { 'xdomea:Strasse': 'Weg', 'xdomea:Ort': 'Bottrop' },
      'xdomea:Kommunikation': [
        {
          'xdomea:Kanal': { '@_listURI': 'urn:de:xoev:codeliste:erreichbarkeit', '@_listVersionID': '3', code: '01' },
          'xdomea:Kennung': 'a@example.org',
        },
      ],
    });
    expect(Object.keys(k as object)).to.deep.equal([
      'xdomea:Behoerdenkennung',
      'xdomea:Institution',
      'xdomea:Name',
      'xdomea:Anschrift',
      'xdomea:Kommunikation',
    ]);
  });

  it('makes name-based UUIDs by RFC 9562 (version 5) and file names any DMS takes', () => {
    // RFC 9562's own example: the DNS namespace and www.example.com.
    expect(nameUuid('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).to.equal('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(safeFileName('C:\\Users\\Jana\\Foto Hündin (1).JPG')).to.equal('Foto_Huendin_1_.JPG');
    expect(safeFileName('../.versteckt')).to.equal('versteckt');
    expect(safeFileName('???')).to.equal('datei');
  });
});
