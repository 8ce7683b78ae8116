import { expect } from 'chai';
import fc from 'fast-check';
import { isUtf8Charset, parseMediaType, type MediaType } from './media-type.ts';

function parsed(header: string): MediaType {
  const r = parseMediaType(header);
  if (!r.ok) throw new Error(`expected ${header} to parse: ${r.detail}`);
  return r.mediaType;
}

describe('media type (RFC 9110 §8.3.1)', () => {
  it('takes a quoted charset as the same as a bare one: application/json; charset="utf-8"', () => {
    const quoted = parsed('application/json; charset="utf-8"');
    expect(quoted.essence).to.equal('application/json');
    expect(quoted.parameters.get('charset')).to.equal('utf-8');
    expect(isUtf8Charset(quoted)).to.equal(true);
    expect(isUtf8Charset(parsed('application/json;charset=UTF-8'))).to.equal(true);
    expect(isUtf8Charset(parsed('application/json'))).to.equal(true);
    expect(isUtf8Charset(parsed('application/json; charset=utf8'))).to.equal(true);
    expect(isUtf8Charset(parsed('application/json; charset=iso-8859-1'))).to.equal(false);
  });

  it('compares type, subtype and parameter names without case and keeps the case of values', () => {
    const m = parsed('Application/XML ; Charset=UTF-8; Profile="urn:X:Y"');
    expect(m).to.include({ type: 'application', subtype: 'xml', essence: 'application/xml' });
    expect([...m.parameters]).to.deep.equal([
      ['charset', 'UTF-8'],
      ['profile', 'urn:X:Y'],
    ]);
  });

  it('unescapes quoted pairs and keeps ";" and "," inside quotes', () => {
    const m = parsed('text/xml; a="x\\"y\\\\z"; b="1;2,3"; c=""');
    expect(m.parameters.get('a')).to.equal('x"y\\z');
    expect(m.parameters.get('b')).to.equal('1;2,3');
    expect(m.parameters.get('c')).to.equal('');
    // A split on ";" would have found a charset here; the grammar does not.
    expect(parsed('application/json; x="; charset=latin1"').parameters.has('charset')).to.equal(false);
  });

  it('takes the empty parameters and whitespace the grammar allows', () => {
    expect(parsed(' application/json ;; ;').parameters.size).to.equal(0);
    expect(parsed('application/json\t;\tcharset=utf-8\t').parameters.get('charset')).to.equal('utf-8');
  });

  it('refuses what is not a media type, saying where', () => {
    expect(parseMediaType(undefined)).to.deep.equal({ ok: false, detail: 'Content-Type is missing' });
    expect(parseMediaType('  ')).to.deep.equal({ ok: false, detail: 'Content-Type is missing' });
    expect(parseMediaType('json')).to.deep.equal({ ok: false, detail: 'Content-Type is not a media type: "/" is expected at character 4' });
    for (const header of [
      'application/',
      '/json',
      'application/json charset=utf-8',
      'application/json; charset',
      'application/json; charset=',
      'application/json; charset="utf-8',
      'application/json; =x',
      'application /json',
      'application/json; a="\u0001"',
      'application/json; a=é',
    ]) {
      expect(parseMediaType(header).ok, header).to.equal(false);
    }
  });

  it('refuses a parameter named twice, so no two readers can disagree about it', () => {
    expect(parseMediaType('application/json; charset=utf-8; CHARSET=latin1')).to.deep.equal({
      ok: false,
      detail: 'Content-Type names the parameter charset twice',
    });
  });

  it('never throws, and reads back what it is given in canonical form', () => {
    const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,10}$/);
    const value = fc.string({ maxLength: 10, unit: fc.constantFrom('a', 'Z', ' ', '"', '\\', ';', ',', '=', '\t', 'é') });
    fc.assert(
      fc.property(
        token,
        token,
        fc.uniqueArray(fc.tuple(token, value), { maxLength: 4, selector: ([n]) => n.toLowerCase() }),
        (type, subtype, params) => {
          const header = `${type}/${subtype}${params.map(([n, v]) => `; ${n}="${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join('')}`;
          const m = parsed(header);
          expect(m.essence).to.equal(`${type}/${subtype}`.toLowerCase());
          expect([...m.parameters]).to.deep.equal(params.map(([n, v]) => [n.toLowerCase(), v]));
        },
      ),
    );
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (header) => void parseMediaType(header)));
  });
});
