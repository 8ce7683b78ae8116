// The authoring tools: golden mapping tests (`amtsbote mapping test`, and every case under mappings/ as a
// test of its own) and adapter scaffolding (`amtsbote adapter new`, whose output must pass the conformance
// suite as generated).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import {
  caseOutput,
  compareJson,
  compareXml,
  findCaseFiles,
  loadCaseFile,
  loadGoldenConfig,
  runGoldenTests,
  unifiedDiff,
  type GoldenReport,
} from '../src/mapping/golden/index.ts';
import { compileMapping } from '../src/mapping/engine.ts';
import { scaffoldAdapter, ScaffoldError } from '../src/sdk/scaffold.ts';
import { amtsbote as runAmtsbote, run as runCommand } from './support/run.ts';

const root = path.resolve(import.meta.dirname, '..');
const config = loadGoldenConfig(path.join(root, 'config'));

const run = (cmd: string, args: string[], cwd = root) => runCommand(cmd, args, { cwd });
const amtsbote = (args: string[], cwd = root) => runAmtsbote(args, { cwd });

describe('golden mapping cases under mappings/', () => {
  // One test per case, so `npm test` names the case that broke; the runner runs them all once.
  const caseFiles = findCaseFiles(config.mappingsDir);
  let report: GoldenReport;
  before(async function () {
    this.timeout(60_000);
    report = await runGoldenTests({ paths: [config.mappingsDir], config });
  });

  it('cover every mapping a route names, and every example (JSON and XML) as input', () => {
    const tested = new Set(caseFiles.map((f) => path.relative(config.mappingsDir, loadCaseFile(f).mapping).split(path.sep).join('/')));
    for (const mapping of new Set(config.routes.flatMap((r) => r.targets.map((t) => t.mapping))))
      expect([...tested], mapping).to.include(mapping);
    const inputs = new Set(
      caseFiles.flatMap((f) =>
        loadCaseFile(f).cases.map((c) => (typeof c.input === 'string' ? path.resolve(path.dirname(f), c.input) : '')),
      ),
    );
    const examples = ['sperrmuell', 'hundeanmeldung'].flatMap((s) =>
      ['gelsenkirchen', 'bottrop', 'gladbeck'].flatMap((t) => ['json', 'xml'].map((x) => path.join(root, 'examples', `${s}-${t}.${x}`))),
    );
    for (const e of examples) expect([...inputs], path.basename(e)).to.include(e);
    const errorCases = caseFiles.flatMap((f) => loadCaseFile(f).cases.filter((c) => c.expectError));
    expect(
      errorCases.some((c) => /code list/.test(c.expectError!)),
      'an unknown-code case',
    ).to.equal(true);
  });

  for (const file of caseFiles) {
    const rel = path.relative(root, file);
    describe(rel, () => {
      it('reads and compiles', () => {
        const r = report.files.find((f) => f.file === file);
        expect(r, 'run').to.not.equal(undefined);
        expect(r!.error, r!.error).to.equal(undefined);
      });
      for (const c of loadCaseFile(file).cases) {
        it(c.name, function () {
          const r = report.files.find((f) => f.file === file)?.cases.find((x) => x.name === c.name);
          expect(r, 'ran').to.not.equal(undefined);
          if (r!.skipped) {
            console.log(`      (${r!.skipped})`);
            this.skip();
          }
          expect(r!.ok, `${rel}:${c.line}\n${r!.details.join('\n')}`).to.equal(true);
        });
      }
    });
  }
});

describe('golden test tools', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-golden-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const envelope = {
    externalId: 'T-1',
    tenant: '05513000',
    service: 'sperrmuell',
    submittedAt: '2026-03-02T00:30:00+01:00',
    applicant: { familyName: 'Müller & <Söhne>' },
    data: {
      items: [
        { kind: 'Sofa', quantity: 1 },
        { kind: 'Tisch', quantity: 2 },
      ],
    },
  };
  const XML_MAPPING = `{ "xd:Antrag": { "@_xmlns:xd": "urn:example:antrag", "@_version": "1.0", "xd:Kennung": submission.id,
     "xd:Tag": $formatDate(submission.submittedAt, "DD.MM.YYYY"), "xd:Name": applicant.familyName,
     "xd:Posten": data.items.{ "@_nr": $string(quantity), "#text": $code(kind, {"Sofa": "S", "Tisch": "T"}) } } }`;

  it('compares JSON regardless of key order and shows a diff of sorted, pretty lines', () => {
    expect(compareJson({ a: 1, b: [1, { y: 2, x: 1 }] }, { b: [1, { x: 1, y: 2 }], a: 1 }).equal).to.equal(true);
    const c = compareJson({ a: 1, b: 'x' }, { b: 'y', a: 1 });
    expect(c.equal).to.equal(false);
    expect(c.diff).to.deep.equal(['--- expected', '+++ actual', '@@ -1,4 +1,4 @@', ' {', '   "a": 1,', '-  "b": "x"', '+  "b": "y"', ' }']);
    expect(compareJson([1, 2], [2, 1]).equal, 'arrays keep their order').to.equal(false);
  });

  it('compares XML by namespace URI and local name, not prefixes, ignoring attribute order and layout', () => {
    const expected = `<a:Antrag xmlns:a="urn:x" xmlns:m="urn:meta" version="1.0" m:id="7">
      <a:Name>Müller &amp; Söhne</a:Name>
      <!-- comments do not count -->
      <a:Leer></a:Leer>
    </a:Antrag>`;
    const same = `<?xml version="1.0" encoding="UTF-8"?><Antrag m2:id="7" version="1.0" xmlns="urn:x" xmlns:m2="urn:meta"><Name>Müller &#38; Söhne</Name><Leer/></Antrag>`;
    expect(compareXml(expected, same).equal).to.equal(true);

    const otherNs = compareXml(expected, same.replace('xmlns="urn:x"', 'xmlns="urn:y"'));
    expect(otherNs.equal).to.equal(false);
    expect(otherNs.diff).to.include('-<Antrag xmlns="urn:x" version="1.0" {urn:meta}id="7">');
    expect(otherNs.diff).to.include('+<Antrag xmlns="urn:y" version="1.0" {urn:meta}id="7">');
    expect(compareXml('<x>a b</x>', '<x> a b\n</x>').equal, 'whitespace around text').to.equal(true);
    expect(compareXml('<x>a b</x>', '<x>a  b</x>').equal, 'whitespace inside text').to.equal(false);
    expect(compareXml('<x a="1"/>', '<x a=" 1"/>').equal, 'attribute values are exact').to.equal(false);
    expect(() => compareXml('<p:x/>', '<x/>')).to.throw(/prefix "p" is not declared/);
    expect(() => compareXml('<x>', '<x/>')).to.throw(/expected XML: not well-formed/);
  });

  it('writes unified hunks with context, and nothing for equal texts', () => {
    expect(unifiedDiff('a\nb', 'a\nb')).to.deep.equal([]);
    const lines = Array.from({ length: 20 }, (_, i) => `l${i + 1}`);
    const changed = [...lines];
    changed[2] = 'X';
    changed[17] = 'Y';
    expect(unifiedDiff(lines.join('\n'), changed.join('\n'))).to.deep.equal([
      '--- expected',
      '+++ actual',
      '@@ -1,6 +1,6 @@',
      ' l1',
      ' l2',
      '-l3',
      '+X',
      ' l4',
      ' l5',
      ' l6',
      '@@ -15,6 +15,6 @@',
      ' l15',
      ' l16',
      ' l17',
      '-l18',
      '+Y',
      ' l19',
      ' l20',
    ]);
  });

  it('runs XML cases: an expected file with other prefixes and layout, inline XML, a mismatch with a canonical diff', async () => {
    writeFileSync(path.join(dir, 'antrag.jsonata'), XML_MAPPING);
    writeFileSync(path.join(dir, 'submission.json'), JSON.stringify(envelope));
    writeFileSync(
      path.join(dir, 'antrag.expected.xml'),
      `<?xml version="1.0"?>\n<Antrag xmlns="urn:example:antrag" version="1.0">\n  <Kennung>01960000-0000-7000-8000-000000000001</Kennung>\n  <Tag>02.03.2026</Tag>\n  <Name>Müller &amp; &lt;Söhne&gt;</Name>\n  <Posten nr="1">S</Posten>\n  <Posten nr="2">T</Posten>\n</Antrag>\n`,
    );
    writeFileSync(
      path.join(dir, 'antrag.cases.yaml'),
      `- name: file
  input: submission.json
  format: xml
  expectedFile: antrag.expected.xml
- name: inline
  input: submission.json
  format: xml
  submissionId: S1
  expected: |
    <x:Antrag xmlns:x="urn:example:antrag" version="1.0"><x:Kennung>S1</x:Kennung><x:Tag>02.03.2026</x:Tag>
      <x:Name>Müller &amp; &lt;Söhne&gt;</x:Name><x:Posten nr="1">S</x:Posten><x:Posten nr="2">T</x:Posten></x:Antrag>
- name: mismatch
  input: submission.json
  format: xml
  set:
    data.items[1].quantity: 3
  expectedFile: antrag.expected.xml
- name: unknown code
  input: submission.json
  format: xml
  set:
    data.items.0.kind: Stuhl
  expectError: 'antrag\\.jsonata:\\d+:\\d+: \\$code: the value is not in the code list \\(Sofa, Tisch\\)'
- name: an error where none is expected
  input: submission.json
  format: xml
  set:
    data.items.0.kind: Stuhl
  expectedFile: antrag.expected.xml
`,
    );
    const report = await runGoldenTests({ paths: [dir] });
    expect(report.files[0]!.error).to.equal(undefined);
    const cases = report.files[0]!.cases;
    expect(cases.map((c) => [c.name, c.ok])).to.deep.equal([
      ['file', true],
      ['inline', true],
      ['mismatch', false],
      ['unknown code', true],
      ['an error where none is expected', false],
    ]);
    expect(cases[2]!.details).to.include.members([
      '--- expected (antrag.expected.xml)',
      '+++ actual (antrag.jsonata)',
      '-  <Posten nr="2">T</Posten>',
      '+  <Posten nr="3">T</Posten>',
    ]);
    expect(cases[4]!.details.join('\n')).to.match(/code list/);
    expect(report).to.include({ passed: 3, failed: 2 });
  });

  it('builds the input as the hub does: tenant and service from config, attachments decoded, fixed ids, overrides', async () => {
    writeFileSync(path.join(dir, 'echo.jsonata'), '$');
    writeFileSync(
      path.join(dir, 'echo.cases.yaml'),
      `- name: echo
  input:
    externalId: E-1
    tenant: "05562014"
    service: "99050012104000"
    submittedAt: "2026-03-04T08:05:00+01:00"
    applicant: {}
    data: { flag: true }
    attachments: [{ filename: a.txt, mediaType: text/plain, content: "aGk=" }]
  set:
    data.extra.list[1]: x
  unset: [data.flag]
  expected: TODO
`,
    );
    const file = path.join(dir, 'echo.cases.yaml');
    const out = await caseOutput(loadCaseFile(file).cases[0]!, dir, compileMapping(dir, 'echo.jsonata'), false, { paths: [], config });
    expect(out.format).to.equal('json');
    expect(JSON.parse(out.text!)).to.deep.equal({
      submission: {
        id: '01960000-0000-7000-8000-000000000001',
        externalId: 'E-1',
        portal: 'emscher-lippe-portal',
        submittedAt: '2026-03-04T08:05:00+01:00',
        receivedAt: '2026-03-04T07:05:00.000Z',
      },
      tenant: { key: '05562014', name: 'Gladbeck', parent: '05562' },
      service: { slug: 'sperrmuell', leika: '99050012104000', name: 'Sperrmüllabholung beantragen' },
      applicant: {},
      data: { extra: { list: [null, 'x'] } },
      attachments: [
        {
          filename: 'a.txt',
          mediaType: 'text/plain',
          size: 2,
          sha256: '8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4',
          content: 'aGk=',
        },
      ],
      // Not under the configured mappings folder, so no route names this mapping: a stand-in target.
      delivery: {
        id: '01960000-0000-7000-8000-000000000002',
        idempotencyKey: '01960000-0000-7000-8000-000000000002',
        target: 'golden-target',
      },
    });
  });

  it('refuses case files with typos, missing expectations and unquoted keys, naming the line', async () => {
    writeFileSync(path.join(dir, 'm.jsonata'), '{ "a": 1 }');
    writeFileSync(
      path.join(dir, 'm.cases.yaml'),
      `- name: one
  input: x.json
  expectedFiel: a.json
- name: two
  input: x.json
  tenant: 05513000
  expected: { a: 1 }
- name: three
  input: x.json
`,
    );
    const r = (await runGoldenTests({ paths: [path.join(dir, 'm.jsonata')] })).files[0]!;
    expect(r.error).to.match(/line 1 \(case 1\): unknown key expectedFiel/);
    expect(r.error).to.match(/line 4 \(case 2\): tenant: tenant must be a quoted string/);
    expect(r.error).to.match(/line 8 \(case 3\) "three": give exactly one of expected, expectedFile, expectError/);
  });

  it('names a case whose submission the intake would refuse, and a tenant the configuration lacks', async () => {
    writeFileSync(path.join(dir, 'm.jsonata'), '{ "a": 1 }');
    writeFileSync(
      path.join(dir, 'm.cases.yaml'),
      `- name: bad envelope
  input: { externalId: "has space", tenant: "05513000", service: sperrmuell, submittedAt: "2026-03-04T08:05:00+01:00", applicant: {}, data: {} }
  expected: { a: 1 }
- name: unknown tenant
  input: ${JSON.stringify(path.join(root, 'examples/sperrmuell-bottrop.json'))}
  tenant: "05999000"
  expected: { a: 1 }
`,
    );
    const cases = (await runGoldenTests({ paths: [dir], config })).files[0]!.cases;
    expect(cases[0]!.details.join()).to.match(/the inline input is not a valid submission: #\/externalId printable ASCII/);
    expect(cases[1]!.details.join()).to.match(/tenant 05999000 is not in config: the hub would refuse the submission/);
  });

  it('validates XML output against an XSD: valid passes, a violation is an error a case can expect', async () => {
    writeFileSync(path.join(dir, 'antrag.jsonata'), XML_MAPPING);
    writeFileSync(path.join(dir, 'submission.json'), JSON.stringify(envelope));
    writeFileSync(
      path.join(dir, 'antrag.xsd'),
      `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:example:antrag" elementFormDefault="qualified">
  <xs:element name="Antrag"><xs:complexType><xs:sequence>
    <xs:element name="Kennung" type="xs:string"/><xs:element name="Tag" type="xs:string"/><xs:element name="Name" type="xs:string"/>
    <xs:element name="Posten" maxOccurs="unbounded"><xs:complexType><xs:simpleContent><xs:extension base="xs:string">
      <xs:attribute name="nr" type="xs:positiveInteger" use="required"/></xs:extension></xs:simpleContent></xs:complexType></xs:element>
  </xs:sequence><xs:attribute name="version" type="xs:string"/></xs:complexType></xs:element>
</xs:schema>`,
    );
    writeFileSync(
      path.join(dir, 'antrag.cases.yaml'),
      `- name: valid
  input: submission.json
  format: xml
  xsd: antrag.xsd
  expected: |
    <Antrag xmlns="urn:example:antrag" version="1.0"><Kennung>01960000-0000-7000-8000-000000000001</Kennung><Tag>02.03.2026</Tag>
    <Name>Müller &amp; &lt;Söhne&gt;</Name><Posten nr="1">S</Posten><Posten nr="2">T</Posten></Antrag>
- name: violation expected
  input: submission.json
  format: xml
  xsd: antrag.xsd
  set:
    data.items.0.quantity: 0
  expectError: '^XSD antrag.xsd: .*nr'
- name: violation not expected
  input: submission.json
  format: xml
  xsd: antrag.xsd
  set:
    data.items.0.quantity: 0
  expected: "<x/>"
- name: schema missing
  input: submission.json
  format: xml
  xsd: nowhere.xsd
  expected: "<x/>"
`,
    );
    const cases = (await runGoldenTests({ paths: [dir] })).files[0]!.cases;
    expect(
      cases.map((c) => [c.name, c.ok]),
      JSON.stringify(cases, null, 2),
    ).to.deep.equal([
      ['valid', true],
      ['violation expected', true],
      ['violation not expected', false],
      ['schema missing', false],
    ]);
    expect(cases[2]!.details.join('\n')).to.match(/^XSD antrag\.xsd: line \d+: .*nr/);
    expect(cases[3]!.details.join('\n')).to.match(/^xsd nowhere\.xsd: schema .*nowhere\.xsd not found/);
  });
});

describe('amtsbote mapping test (CLI)', function () {
  this.timeout(60_000);

  it('runs every case under the configured mappings folder: one line per case, a summary, exit 0', async () => {
    const r = await amtsbote(['mapping', 'test']);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    const files = findCaseFiles(config.mappingsDir);
    const total = files.reduce((n, f) => n + loadCaseFile(f).cases.length, 0);
    expect(r.stdout).to.include(`${total} cases in ${files.length} files: ${total} passed\n`);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('  ✓ '))).to.have.length(total);
    expect(r.stdout).to.include('mappings/shared/hundeanmeldung.cases.yaml  → shared/hundeanmeldung.jsonata');
  });

  it('exits 1 with a diff when a case fails (a copy with a changed golden file)', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-golden-cli-'));
    try {
      for (const d of ['config', 'mappings', 'examples']) cpSync(path.join(root, d), path.join(tmp, d), { recursive: true });
      const golden = path.join(tmp, 'mappings/gelsenkirchen/expected/sperrmuell-example.json');
      writeFileSync(golden, readFileSync(golden, 'utf8').replace('"STRASSE"', '"HOF"'));
      const r = await amtsbote(['mapping', 'test', '--config', path.join(tmp, 'config')]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stdout).to.include('  ✗ JSON example — three items, photo attachment');
      expect(r.stdout).to.include('      --- expected (expected/sperrmuell-example.json)');
      expect(r.stdout).to.include('      +++ actual (gelsenkirchen/sperrmuell.jsonata)');
      expect(r.stdout).to.include('      -  "stellplatz": "HOF",');
      expect(r.stdout).to.include('      +  "stellplatz": "STRASSE",');
      // Both the JSON and the XML example share the golden file.
      expect(r.stdout).to.match(/\d+ cases in \d+ files: \d+ passed, 2 failed\n/);

      const one = await amtsbote([
        'mapping',
        'test',
        path.join(tmp, 'mappings/bottrop/sperrmuell.cases.yaml'),
        '--config',
        path.join(tmp, 'config'),
      ]);
      expect(one.code, one.stderr).to.equal(0);
      expect(one.stdout).to.include('4 cases in 1 file: 4 passed');

      const none = await amtsbote(['mapping', 'test', path.join(tmp, 'examples')]);
      expect(none.code).to.equal(1);
      expect(none.stderr).to.match(/no golden cases/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
  it('--update writes the actual output back, prints what it wrote, and leaves matching files alone', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-golden-update-'));
    try {
      for (const d of ['config', 'mappings', 'examples']) cpSync(path.join(root, d), path.join(tmp, d), { recursive: true });
      const rel = 'mappings/gelsenkirchen/expected/sperrmuell-example.json';
      const golden = path.join(tmp, rel);
      const original = readFileSync(golden, 'utf8');
      writeFileSync(golden, original.replace('"STRASSE"', '"HOF"'));
      const other = path.join(tmp, 'mappings/bottrop/expected/sperrmuell-example.json');
      const otherBefore = statSync(other).mtimeMs;

      const r = await amtsbote(['mapping', 'test', '--update', '--config', 'config'], tmp);
      expect(r.code, r.stderr + r.stdout).to.equal(0);
      expect(r.stdout).to.include(`  ↻ JSON example — three items, photo attachment, items at the applicant's address  (wrote ${rel})`);
      // The XML twin shares the file: written once, by the first case, and then it matches.
      expect(r.stdout).to.include('  ✓ XML example maps like its JSON twin');
      expect(r.stdout).to.match(/\d+ cases in \d+ files: \d+ passed, 1 updated\n/);
      expect(r.stdout).to.include(`wrote 1 file (review with git diff):\n  ${rel}\n`);
      // Byte for byte the file the project keeps in git: --update writes what a reviewer would have written.
      expect(readFileSync(golden, 'utf8')).to.equal(original);
      expect(statSync(other).mtimeMs).to.equal(otherBefore);

      const again = await amtsbote(['mapping', 'test', '-u', '--config', 'config'], tmp);
      expect(again.code).to.equal(0);
      expect(again.stdout).to.include('wrote nothing: every expectation matched');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('resolves inputs, expected files and schemas relative to the case file: a copied tree passes from another folder', async () => {
    // Elsewhere, one level deeper than in the project, and run from a sibling folder: nothing may depend on the
    // project root or the working directory. The demo's cases name ../../examples and ../../config, so those come along.
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-golden-copy-'));
    try {
      const project = path.join(tmp, 'kunde', 'amtsbote');
      for (const d of ['config', 'mappings', 'examples']) cpSync(path.join(root, d), path.join(project, d), { recursive: true });
      const elsewhere = path.join(tmp, 'anderswo');
      mkdirSync(elsewhere);
      const files = findCaseFiles(config.mappingsDir);
      const total = files.reduce((n, f) => n + loadCaseFile(f).cases.length, 0);

      const r = await amtsbote(['mapping', 'test', '../kunde/amtsbote/mappings', '--config', '../kunde/amtsbote/config'], elsewhere);
      expect(r.code, r.stdout).to.equal(0);
      expect(r.stdout).to.include(`${total} cases in ${files.length} files: ${total} passed\n`);
      expect(r.stdout).to.include(
        '../kunde/amtsbote/mappings/bottrop/hundeanmeldung-soap.cases.yaml  → bottrop/hundeanmeldung-soap.jsonata',
      );

      const one = await amtsbote(
        [
          'mapping',
          'test',
          path.join(project, 'mappings/kreis-recklinghausen/sperrmuell-xml.cases.yaml'),
          '-c',
          path.join(project, 'config'),
        ],
        os.tmpdir(),
      );
      expect(one.code, one.stdout).to.equal(0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('amtsbote adapter new', function () {
  this.timeout(120_000);
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-adapter-new-'));
    // Bare imports (zod, express) of the generated files resolve through the project's node_modules.
    symlinkSync(path.join(root, 'node_modules'), path.join(tmp, 'node_modules'), 'dir');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('refuses names that are not lower-case with dashes, built-in types and existing folders', () => {
    const dir = path.join(tmp, 'refused');
    for (const bad of ['Acme', 'acme_dms', '-acme', 'acme-', 'acme--dms', '1acme', 'a'.repeat(41)]) {
      expect(() => scaffoldAdapter(bad, dir), bad).to.throw(ScaffoldError, /not a valid adapter name/);
    }
    expect(() => scaffoldAdapter('rest', dir, { knownTypes: ['rest'] })).to.throw(ScaffoldError, /ships with the hub/);
    mkdirSync(path.join(dir, 'taken'), { recursive: true });
    expect(() => scaffoldAdapter('taken', dir)).to.throw(ScaffoldError, /exists already/);
    expect(existsSync(path.join(dir, 'taken', 'index.ts'))).to.equal(false);
  });

  it('writes index.ts, a conformance test and a README, and prints the next steps', async () => {
    const r = await amtsbote(['adapter', 'new', 'acme', '--dir', path.join(tmp, 'adapters')]);
    expect(r.code, r.stderr).to.equal(0);
    const dir = path.join(tmp, 'adapters', 'acme');
    const index = readFileSync(path.join(dir, 'index.ts'), 'utf8');
    expect(index).to.include("type: 'acme'");
    expect(index).to.match(/token: secret\(/);
    expect(index).to.include('TODO(acme): this is where the call to the back office goes');
    expect(index).to.include(`from '${path.relative(dir, path.join(root, 'src/sdk')).split(path.sep).join('/')}/index.ts'`);
    expect(readFileSync(path.join(dir, 'acme.test.ts'), 'utf8')).to.include('describeAdapterConformance(adapter, harness)');
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme).to.include('| `token` | yes | | **secret.**');
    expect(readme).to.include('token: ${env:ACME_TOKEN}');
    expect(r.stdout).to.include('next steps:');
    expect(r.stdout).to.match(/Register it in adapters\/index\.ts:\n\s+import acme from '.*\/adapters\/acme\/index\.ts';/);
    expect(r.stdout).to.include('adapter: acme');

    const again = await amtsbote(['adapter', 'new', 'acme', '--dir', path.join(tmp, 'adapters')]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/exists already/);
  });

  it('generates a test that passes the conformance suite unchanged', async () => {
    const test = path.join(tmp, 'adapters', 'acme', 'acme.test.ts');
    expect(existsSync(test), 'generated by the test before').to.equal(true);
    const r = await run(process.execPath, [
      path.join(root, 'node_modules/mocha/bin/mocha.js'),
      '--no-config',
      '--node-option',
      'import=tsx',
      '--timeout',
      '60000',
      '--exit',
      test,
    ]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.include('adapter conformance: acme');
    expect(r.stdout).to.match(/12 passing/);
    expect(r.stdout).not.to.match(/failing|pending/);
  });

  it('generates code that type-checks under the project’s strict settings', async () => {
    writeFileSync(path.join(tmp, 'tsconfig.json'), JSON.stringify({ extends: path.join(root, 'tsconfig.json'), include: ['adapters'] }));
    const r = await run(
      process.execPath,
      [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', path.join(tmp, 'tsconfig.json')],
      tmp,
    );
    expect(r.code, r.stdout + r.stderr).to.equal(0);
  });
});
