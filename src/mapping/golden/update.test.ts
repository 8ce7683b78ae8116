// `mapping test --update`: the actual output becomes the expectation (expected file or inline value), as a
// snapshot tool does; what already matches is not touched, what cannot be rewritten stays a failure.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runGoldenTests } from './runner.ts';

describe('golden cases: update', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-update-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const envelope = {
    externalId: 'U-1',
    tenant: '05513000',
    service: 'sperrmuell',
    submittedAt: '2026-03-02T10:00:00+01:00',
    applicant: { familyName: 'Müller' },
    data: { items: [{ kind: 'Sofa' }, { kind: 'Tisch' }] },
  };
  const JSON_MAPPING = '{ "kennung": submission.id, "name": applicant.familyName, "posten": [data.items.kind] }';
  const XML_MAPPING = '{ "a:Antrag": { "@_xmlns:a": "urn:example:antrag", "a:Name": applicant.familyName, "a:Posten": data.items.kind } }';
  const ID = '01960000-0000-7000-8000-000000000001';

  function write(name: string, text: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  it('writes expected files and inline values of failing cases, keeps the rest of the case file, and passes next time', async () => {
    write('antrag.jsonata', JSON_MAPPING);
    write('antrag-xml.jsonata', XML_MAPPING);
    write('submission.json', JSON.stringify(envelope));
    const stale = write('stale.json', JSON.stringify({ kennung: ID, name: 'Meier', posten: ['Sofa', 'Tisch'] }, null, 2) + '\n');
    // Equal in content, other layout: it matches, so it must not be rewritten.
    const matching = write('matching.json', `{"posten":["Sofa","Tisch"],"name":"Müller","kennung":"${ID}"}`);
    const matchingBefore = statSync(matching).mtimeMs;
    const caseText = `# cases of antrag.jsonata
- name: stale file
  input: submission.json
  expectedFile: stale.json
- name: new file
  input: submission.json
  expectedFile: expected/new.json   # does not exist yet
- name: matching file
  input: submission.json
  expectedFile: matching.json
- name: inline, to fill in
  input: submission.json
  expected: TODO  # written by --update
- name: inline subset keeps its keys
  input: submission.json
  compare: subset
  expected: { name: Meier }
- name: an error expectation is never rewritten
  input: submission.json
  expectError: 'no such error'
`;
    const caseFile = write('antrag.cases.yaml', caseText);
    write(
      'antrag-xml.cases.yaml',
      `- name: inline XML
  input: submission.json
  format: xml
  expected: |
    <Antrag xmlns="urn:example:antrag"><Name>Meier</Name></Antrag>
- name: XML to fill in
  input: submission.json
  format: xml
  expected: TODO
`,
    );

    const r = await runGoldenTests({ paths: [dir], update: true });
    const byName = Object.fromEntries(r.files.flatMap((f) => f.cases).map((c) => [c.name, c]));
    expect(byName['stale file']!.updated).to.equal(stale);
    expect(byName['matching file']!.updated).to.equal(undefined);
    expect(byName['an error expectation is never rewritten']!.ok).to.equal(false);
    expect([r.passed, r.updated, r.failed]).to.deep.equal([1, 6, 1]);
    expect(r.written.map((f) => path.relative(dir, f))).to.deep.equal([
      'antrag-xml.cases.yaml',
      'stale.json',
      'expected/new.json',
      'antrag.cases.yaml',
    ]);

    expect(readFileSync(stale, 'utf8')).to.equal(
      JSON.stringify({ kennung: ID, name: 'Müller', posten: ['Sofa', 'Tisch'] }, null, 2) + '\n',
    );
    expect(readFileSync(path.join(dir, 'expected/new.json'), 'utf8')).to.equal(readFileSync(stale, 'utf8'));
    expect(statSync(matching).mtimeMs).to.equal(matchingBefore);
    // Only the two inline values changed; keys, comments and the other cases are as they were.
    expect(readFileSync(caseFile, 'utf8')).to.equal(
      caseText
        .replace(
          'expected: TODO  # written by --update',
          `expected:\n    kennung: ${ID}\n    name: Müller\n    posten:\n      - Sofa\n      - Tisch  # written by --update`,
        )
        .replace('expected: { name: Meier }', 'expected:\n    name: Müller'),
    );
    expect(readFileSync(path.join(dir, 'antrag-xml.cases.yaml'), 'utf8')).to.equal(`- name: inline XML
  input: submission.json
  format: xml
  expected: |
    <a:Antrag xmlns:a="urn:example:antrag">
      <a:Name>Müller</a:Name>
      <a:Posten>Sofa</a:Posten>
      <a:Posten>Tisch</a:Posten>
    </a:Antrag>
- name: XML to fill in
  input: submission.json
  format: xml
  expected: |
    <a:Antrag xmlns:a="urn:example:antrag">
      <a:Name>Müller</a:Name>
      <a:Posten>Sofa</a:Posten>
      <a:Posten>Tisch</a:Posten>
    </a:Antrag>
`);

    const again = await runGoldenTests({ paths: [dir], update: true });
    expect([again.passed, again.updated, again.failed, again.written.length]).to.deep.equal([7, 0, 1, 0]);
  });

  it('keeps an XML file’s declaration and comments, and a subset file keeps its subset', async () => {
    write('antrag.jsonata', XML_MAPPING);
    write('submission.json', JSON.stringify(envelope));
    const full = write(
      'full.xml',
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- antrag.jsonata with submission.json -->\n<Antrag xmlns="urn:example:antrag"><Name>Meier</Name></Antrag>\n',
    );
    const part = write('part.xml', '<Antrag xmlns="urn:example:antrag"><Posten/><Posten>Stuhl</Posten></Antrag>');
    write(
      'antrag.cases.yaml',
      '- { name: full, input: submission.json, format: xml, expectedFile: full.xml }\n- { name: part, input: submission.json, format: xml, compare: subset, expectedFile: part.xml }\n',
    );
    const r = await runGoldenTests({ paths: [dir], update: true });
    expect(r.updated).to.equal(2);
    expect(readFileSync(full, 'utf8')).to.equal(
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- antrag.jsonata with submission.json -->\n<a:Antrag xmlns:a="urn:example:antrag">\n  <a:Name>Müller</a:Name>\n  <a:Posten>Sofa</a:Posten>\n  <a:Posten>Tisch</a:Posten>\n</a:Antrag>\n',
    );
    // Only the two Posten it names, with the actual values; Name stays out of the comparison.
    expect(readFileSync(part, 'utf8')).to.equal(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Antrag xmlns="urn:example:antrag">\n  <Posten/>\n  <Posten>Tisch</Posten>\n</Antrag>\n',
    );
    expect((await runGoldenTests({ paths: [dir] })).failed).to.equal(0);
  });

  it('does not let a twin case with other output overwrite a file it shares', async () => {
    write('antrag.jsonata', JSON_MAPPING);
    write('a.json', JSON.stringify(envelope));
    write('b.json', JSON.stringify({ ...envelope, applicant: { familyName: 'Schulz' } }));
    const shared = write('shared.json', '{}');
    write(
      'antrag.cases.yaml',
      '- { name: first, input: a.json, expectedFile: shared.json }\n- { name: twin, input: b.json, expectedFile: shared.json }\n',
    );
    const r = await runGoldenTests({ paths: [dir], update: true });
    const [first, twin] = r.files[0]!.cases;
    expect(first!.updated).to.equal(shared);
    expect(twin!.ok).to.equal(false);
    expect(twin!.details[0]).to.equal(
      'not updated: shared.json was just written for case "first", and this case\'s output differs from it:',
    );
    expect(twin!.details).to.include('+  "name": "Schulz",');
    expect(JSON.parse(readFileSync(shared, 'utf8'))).to.have.property('name', 'Müller');
  });
});
