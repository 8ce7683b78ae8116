import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { compileMapping, MappingError, renderMessage, writeXml } from '../src/mapping/engine.ts';

describe('mapping engine', () => {
  let dir: string;
  const write = (name: string, source: string) => {
    writeFileSync(path.join(dir, name), source);
    return compileMapping(dir, name);
  };
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-mapping-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a JSON result and the same input always gives the same bytes', async () => {
    const m = write('j.jsonata', '{ "name": applicant.familyName, "items": data.items.{ "code": kind, "n": quantity } }');
    const input = {
      applicant: { familyName: 'Mustermann' },
      data: {
        items: [
          { kind: 'a', quantity: 2 },
          { kind: 'b', quantity: 1 },
        ],
      },
    };
    const a = await renderMessage(m, input, 'json');
    const b = await renderMessage(m, structuredClone(input), 'json');
    expect(a.text).to.equal('{"name":"Mustermann","items":[{"code":"a","n":2},{"code":"b","n":1}]}');
    expect(b.text).to.equal(a.text);
    expect(a.contentType).to.equal('application/json');
  });

  it('writes XML with namespaces, attributes, escaping and repeated elements', async () => {
    const m = write(
      'x.jsonata',
      `{ "xd:Antrag": { "@_xmlns:xd": "urn:example:antrag", "@_version": "1.0",
         "xd:Name": applicant.familyName, "xd:Posten": data.items.{ "@_nr": $string(quantity), "#text": kind } } }`,
    );
    const r = await renderMessage(
      m,
      {
        applicant: { familyName: 'Müller & <Söhne>' },
        data: {
          items: [
            { kind: 'Sofa', quantity: 1 },
            { kind: 'Tisch', quantity: 2 },
          ],
        },
      },
      'xml',
    );
    expect(r.contentType).to.equal('application/xml; charset=utf-8');
    expect(r.text).to.equal(
      '<?xml version="1.0" encoding="UTF-8"?><xd:Antrag xmlns:xd="urn:example:antrag" version="1.0"><xd:Name>Müller &amp; &lt;Söhne&gt;</xd:Name><xd:Posten nr="1">Sofa</xd:Posten><xd:Posten nr="2">Tisch</xd:Posten></xd:Antrag>',
    );
    expect(writeXml({ a: { b: 'x' } }, 'inline', { declaration: false, indent: true })).to.equal('<a>\n  <b>x</b>\n</a>\n');
  });

  it('refuses XML results that are not one root element with valid names', () => {
    expect(() => writeXml({ a: 1, b: 2 }, 'm', { declaration: true, indent: false })).to.throw(
      MappingError,
      /exactly one root element, got 2/,
    );
    expect(() => writeXml(['a'], 'm', { declaration: true, indent: false })).to.throw(MappingError, /one root element/);
    expect(() => writeXml({ a: { 'bad name': 1 } }, 'm', { declaration: true, indent: false })).to.throw(
      MappingError,
      /"bad name" at \/a is not a valid XML name/,
    );
  });

  it('formats ISO dates without a time-zone shift and maps code lists strictly', async () => {
    const m = write(
      'f.jsonata',
      '{\n  "d": $formatDate(date, "DD.MM.YYYY"), "y": $formatDate(date, "YY"),\n  "c": $code(kind, { "furniture": "MOEBEL" }), "f": $code(other, { "a": 1 }, "SONST") }',
    );
    const r = await renderMessage(m, { date: '2026-12-31T23:30:00-05:00', kind: 'furniture', other: 'zzz' }, 'json');
    expect(r.body).to.deep.equal({ d: '31.12.2026', y: '26', c: 'MOEBEL', f: 'SONST' });
    try {
      await renderMessage(m, { date: '2026-12-31', kind: 'sofa', other: 'a' }, 'json');
      expect.fail('expected a MappingError');
    } catch (e) {
      expect(e).to.be.instanceOf(MappingError);
      // Line and column of the $code call that failed, as an editor counts them.
      expect((e as MappingError).describe()).to.equal('f.jsonata:3:8: $code: the value is not in the code list (furniture)');
    }
  });

  it("keeps form values out of error messages, JSONata's own included", async () => {
    const m = write('v.jsonata', '{ "n": $number(data.x), "d": $formatDate(data.d, "DD") }');
    for (const input of [{ data: { x: 'Geheim-4711', d: '2026-01-01' } }, { data: { x: '1', d: 'Geheim-4711' } }]) {
      try {
        await renderMessage(m, input, 'json');
        expect.fail('expected a MappingError');
      } catch (e) {
        expect((e as MappingError).describe()).not.to.include('Geheim');
      }
    }
  });

  it('refuses $now(), $millis() and $random(): a mapping must be deterministic', async () => {
    for (const fn of ['$now()', '$millis()', '$random()']) {
      const m = write('t.jsonata', `{ "at": ${fn} }`);
      try {
        await renderMessage(m, {}, 'json');
        expect.fail(`${fn} should fail`);
      } catch (e) {
        expect((e as MappingError).message).to.match(/is not available in mappings/);
      }
    }
  });

  it('reports a syntax error at compile time with code, line and column', () => {
    try {
      write('s.jsonata', '/* Sperrmüll */\n{\n  "a": data.(\n}');
      expect.fail('expected a MappingError');
    } catch (e) {
      const err = e as MappingError;
      expect(err).to.be.instanceOf(MappingError);
      expect(err.code).to.equal('S0211');
      expect(err.position).to.be.a('number');
      expect(err.at).to.deep.equal({ line: 4, column: 1 });
      expect(err.describe()).to.equal('s.jsonata:4:1 (S0211): The symbol "}" cannot be used as a unary operator');
    }
    // A missing comma: JSONata names the next key without its quotes; the column is its opening quote.
    expect(() => write('c.jsonata', '{\n  "a": 1\n  "b": 2\n}'))
      .to.throw(MappingError)
      .that.satisfies((e: MappingError) => e.describe() === 'c.jsonata:3:3 (S0202): Expected "}", got "b"');
  });

  it('places JSONata evaluation errors at the token they blame', async () => {
    for (const [source, expected] of [
      [
        '{\n  "a": data.x,\n  "n": 1 +\n    data.name\n}',
        'e.jsonata:3:10 (T2002): The right side of the "+" operator must evaluate to a number',
      ],
      ['{\n  "a": data.x,\n  "f": $nothing(1)\n}', 'e.jsonata:3:8 (T1006): Attempted to invoke a non-function'],
    ] as const) {
      const m = write('e.jsonata', source);
      try {
        await renderMessage(m, { data: { x: 1, name: 'Mustermann' } }, 'json');
        expect.fail('expected a MappingError');
      } catch (e) {
        expect((e as MappingError).describe()).to.equal(expected);
      }
    }
  });

  it('fails when a mapping produces nothing, and stays inside the mappings folder', async () => {
    const m = write('n.jsonata', 'missing.field');
    try {
      await renderMessage(m, {}, 'json');
      expect.fail('expected a MappingError');
    } catch (e) {
      expect((e as MappingError).message).to.equal('the mapping produced no result');
    }
    expect(() => compileMapping(dir, '../etc/passwd.jsonata')).to.throw(MappingError, /leaves the mappings folder/);
    expect(() => compileMapping(dir, 'nope.jsonata')).to.throw(MappingError, /not found/);
  });
});
