// compare: subset (only what the expected message names) and readable diffs of long base64 values.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { compareJson, compareXml } from './compare.ts';
import { runGoldenTests } from './runner.ts';
import { shortenBase64 } from './base64.ts';

describe('golden compare: subset', () => {
  const actual = {
    antragsteller: { name: 'Müller', telefon: '0209 1' },
    posten: [
      { art: 'S', menge: 1 },
      { art: 'T', menge: 2 },
    ],
    eingang: '02.03.2026',
  };

  it('JSON: keys absent from the expected object are not compared, at every depth', () => {
    expect(
      compareJson({ antragsteller: { name: 'Müller' }, posten: [{ art: 'S' }, { art: 'T' }] }, actual, undefined, 'subset').equal,
    ).to.equal(true);
    expect(compareJson({ antragsteller: { name: 'Müller' } }, actual).equal, 'exact is the default').to.equal(false);
  });

  it('JSON: a named key that differs or is missing fails, and the diff shows only the named keys', () => {
    const c = compareJson({ antragsteller: { name: 'Meier', anrede: 'Frau' } }, actual, undefined, 'subset');
    expect(c.equal).to.equal(false);
    expect(c.diff).to.deep.equal([
      '--- expected',
      '+++ actual',
      '@@ -1,6 +1,5 @@',
      ' {',
      '   "antragsteller": {',
      '-    "anrede": "Frau",',
      '-    "name": "Meier"',
      '+    "name": "Müller"',
      '   }',
      ' }',
    ]);
  });

  it('JSON: arrays keep their length and order; each element is compared as a subset', () => {
    expect(compareJson({ posten: [{ art: 'S' }] }, actual, undefined, 'subset').equal, 'a shorter array').to.equal(false);
    expect(compareJson({ posten: [{ art: 'T' }, { art: 'S' }] }, actual, undefined, 'subset').equal, 'another order').to.equal(false);
  });

  const xml = `<a:Antrag xmlns:a="urn:x" version="1.0" id="7"><a:Kennung>K-1</a:Kennung><a:Name>Müller</a:Name><a:Posten nr="1">S</a:Posten><a:Posten nr="2">T</a:Posten></a:Antrag>`;

  it('XML: only the attributes and elements the expected element names, in their order; <x/> only says x is there', () => {
    expect(
      compareXml(
        '<Antrag xmlns="urn:x" version="1.0"><Name>Müller</Name><Posten/><Posten nr="2">T</Posten></Antrag>',
        xml,
        undefined,
        'subset',
      ).equal,
    ).to.equal(true);
    expect(
      compareXml('<Antrag xmlns="urn:y"><Name>Müller</Name></Antrag>', xml, undefined, 'subset').equal,
      'the root namespace counts',
    ).to.equal(false);
    expect(
      compareXml('<Antrag xmlns="urn:x"><Name>Müller</Name><Kennung>K-1</Kennung></Antrag>', xml, undefined, 'subset').equal,
      'order counts',
    ).to.equal(false);
    const c = compareXml('<Antrag xmlns="urn:x" version="2.0"><Name>Müller</Name><Vermerk/></Antrag>', xml, undefined, 'subset');
    expect(c.diff).to.deep.equal([
      '--- expected',
      '+++ actual',
      '@@ -1,4 +1,3 @@',
      '-<Antrag xmlns="urn:x" version="2.0">',
      '+<Antrag xmlns="urn:x" version="1.0">',
      '   <Name>Müller</Name>',
      '-  <Vermerk/>',
      ' </Antrag>',
    ]);
  });

  describe('in a case file', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-subset-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('compare: subset applies to the case; compare: anything else is refused', async () => {
      writeFileSync(
        path.join(dir, 'm.jsonata'),
        '{ "kennung": submission.id, "name": applicant.familyName, "eingang": submission.receivedAt }',
      );
      const input = {
        externalId: 'S-1',
        tenant: '05513000',
        service: 'sperrmuell',
        submittedAt: '2026-03-02T10:00:00+01:00',
        applicant: { familyName: 'Müller' },
        data: {},
      };
      writeFileSync(
        path.join(dir, 'm.cases.yaml'),
        `- name: only the name\n  input: ${JSON.stringify(input)}\n  compare: subset\n  expected: { name: Müller }\n- name: exact fails\n  input: ${JSON.stringify(input)}\n  expected: { name: Müller }\n`,
      );
      const cases = (await runGoldenTests({ paths: [dir] })).files[0]!.cases;
      expect(cases.map((c) => [c.name, c.ok])).to.deep.equal([
        ['only the name', true],
        ['exact fails', false],
      ]);

      writeFileSync(
        path.join(dir, 'm.cases.yaml'),
        `- name: typo\n  input: ${JSON.stringify(input)}\n  compare: subsets\n  expected: {}\n`,
      );
      expect((await runGoldenTests({ paths: [dir] })).files[0]!.error).to.match(/line 1 \(case 1\): compare: .*"exact"|"subset"/);
    });
  });
});

describe('golden diffs: long base64 values', () => {
  const pdf = (tail: string) => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytesSeeded(3000), Buffer.from(tail)]);
  // Deterministic "random" bytes, so the test reads the same on every run.
  function randomBytesSeeded(n: number): Buffer {
    const out: Buffer[] = [];
    for (let i = 0; out.length * 32 < n; i++) out.push(createHash('sha256').update(`seed ${i}`).digest());
    return Buffer.concat(out).subarray(0, n);
  }
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 12);

  it('shows head, length and the sha256 of the bytes, so two values still differ visibly', () => {
    const a = pdf('%%EOF A');
    const b = pdf('%%EOF B');
    const c = compareJson({ inhalt: a.toString('base64'), name: 'x.pdf' }, { inhalt: b.toString('base64'), name: 'x.pdf' });
    expect(c.equal).to.equal(false);
    const len = a.toString('base64').length.toLocaleString('en-US');
    expect(c.diff).to.include(`-  "inhalt": "JVBERi0x…(${len} chars, sha256 ${sha(a)})",`);
    expect(c.diff).to.include(`+  "inhalt": "JVBERi0x…(${len} chars, sha256 ${sha(b)})",`);
    expect(c.diff.join('\n').length).to.be.below(400);
  });

  it('shortens base64 wrapped in lines in XML text, and leaves short values, words and ids alone', () => {
    const bytes = pdf('%%EOF');
    const wrapped = bytes.toString('base64').replace(/.{76}/g, '$&\n');
    const c = compareXml(`<a><inhalt>${wrapped}</inhalt><n>1</n></a>`, `<a><inhalt>${wrapped}</inhalt><n>2</n></a>`);
    expect(c.diff.find((l) => l.includes('<inhalt>'))).to.equal(
      `   <inhalt>JVBERi0x…(${bytes.toString('base64').length.toLocaleString('en-US')} chars, sha256 ${sha(bytes)})</inhalt>`,
    );
    const short = Buffer.from('short attachment').toString('base64');
    expect(shortenBase64(short)).to.equal(short);
    const word = 'Donaudampfschifffahrtsgesellschaftskapitaen'.repeat(4);
    expect(shortenBase64(word)).to.equal(word);
    expect(shortenBase64('01960000-0000-7000-8000-000000000001')).to.equal('01960000-0000-7000-8000-000000000001');
  });
});
