import { expect } from 'chai';
import fc from 'fast-check';
import { firstInvalidUtf8, readJsonNumber, readStrictJson, strictJsonStatus, type StrictJsonResult } from './strict-json.ts';

const read = (text: string | Uint8Array, maxDepth?: number): StrictJsonResult =>
  readStrictJson(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, { maxDepth });

function refusal(r: StrictJsonResult) {
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r.value)}`);
  return r;
}

describe('strict JSON reader', () => {
  it('reads what JSON.parse reads, with the same values', () => {
    const text =
      '{"tenant":"emscher-lippe","data":{"dogs":[{"name":"Bello","born":"2021-04-01","weight":12.5}],"count":1,"ok":true,"none":null},"esc":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e4\\ud83d\\ude00"}';
    expect(read(text)).to.deep.equal({ ok: true, value: JSON.parse(text) });
    expect(read(' [ 1 , -0.5e-3 , "" , [ ] , { } ] ')).to.deep.equal({ ok: true, value: [1, -0.5e-3, '', [], {}] });
  });

  describe('bytes', () => {
    it('refuses bytes that are not UTF-8 as a 400, naming the byte, instead of storing U+FFFD', () => {
      const body = Buffer.concat([Buffer.from('{"name":"M'), Buffer.from([0xfc]), Buffer.from('ller"}')]);
      const r = refusal(read(body));
      expect(r).to.include({ kind: 'invalid-utf8', offset: 10 });
      expect(r.detail).to.equal('the body is not valid UTF-8 (at byte 10)');
      expect(strictJsonStatus[r.kind]).to.equal(400);
    });

    it('refuses overlong forms, encoded surrogates, code points beyond U+10FFFF and a sequence cut off at the end', () => {
      for (const bytes of [
        [0xc0, 0xaf],
        [0xe0, 0x80, 0xaf],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0xf5, 0x80, 0x80, 0x80],
        [0xe2, 0x82],
      ]) {
        const body = Buffer.concat([Buffer.from('"'), Buffer.from(bytes), Buffer.from('"')]);
        expect(firstInvalidUtf8(body), bytes.map((b) => b.toString(16)).join(' ')).to.equal(1);
      }
      expect(firstInvalidUtf8(Buffer.from([0x22, 0xe2, 0x82]))).to.equal(1);
      expect(firstInvalidUtf8(Buffer.from('"Müller 😀 한"', 'utf8'))).to.equal(-1);
    });

    it('tolerates one UTF-8 byte order mark before the document and refuses one anywhere else', () => {
      const bom = Buffer.from([0xef, 0xbb, 0xbf]);
      expect(read(Buffer.concat([bom, Buffer.from('{"a":1}')]))).to.deep.equal({ ok: true, value: { a: 1 } });
      const twice = refusal(read(Buffer.concat([bom, bom, Buffer.from('{"a":1}')])));
      expect(twice).to.include({ kind: 'malformed', offset: 3 });
      expect(twice.detail).to.contain('U+FEFF');
      // Inside a string it is a character like any other.
      expect(read(Buffer.concat([Buffer.from('"'), bom, Buffer.from('"')]))).to.deep.equal({ ok: true, value: '\ufeff' });
    });
  });

  describe('depth', () => {
    it('refuses depth 150,000 (150 KB of "[") without overflowing the stack, as a 400', () => {
      const r = refusal(read('['.repeat(150_000)));
      expect(r.kind).to.equal('too-deep');
      expect(r.detail).to.equal('the body is nested deeper than 64 levels');
      expect(r.path).to.have.length(64);
      expect(r.offset).to.equal(64);
      expect(strictJsonStatus[r.kind]).to.equal(400);
    });

    it('refuses the 10 KB body of the finding (objects in arrays) at the limit, naming where', () => {
      const body = '{"data":'.padEnd(8, ' ') + '[{"a":'.repeat(1700) + '1' + '}]'.repeat(1700) + '}';
      expect(body.length).to.be.below(20_000);
      const r = refusal(read(body, 5));
      expect(r.kind).to.equal('too-deep');
      expect(r.path).to.deep.equal(['data', 0, 'a', 0, 'a']);
    });

    it('takes exactly maxDepth levels', () => {
      expect(read('[[[1]]]', 3)).to.deep.equal({ ok: true, value: [[[1]]] });
      expect(refusal(read('[[[[1]]]]', 3)).kind).to.equal('too-deep');
    });
  });

  describe('keys', () => {
    it('refuses a key twice in one object with its path, as a 422', () => {
      const r = refusal(read('{"tenant":"a","data":{"x":1,"y":2,"x":3}}'));
      expect(r).to.deep.include({ kind: 'duplicate-key', path: ['data', 'x'] });
      expect(r.detail).to.equal('the key "x" appears twice in one object');
      expect(strictJsonStatus[r.kind]).to.equal(422);
      expect(refusal(read('{"tenant":"a","tenant":"b"}')).path).to.deep.equal(['tenant']);
    });

    it('takes the same key in different objects', () => {
      expect(read('{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}').ok).to.equal(true);
    });

    it('counts a key written with escapes as the same key', () => {
      expect(refusal(read('{"ab":1,"a\\u0062":2}')).kind).to.equal('duplicate-key');
    });

    for (const key of ['__proto__', 'constructor', 'prototype']) {
      it(`refuses the key ${key} anywhere, with its path, as a 422`, () => {
        const r = refusal(read(`{"applicant":{"name":"A","items":[{"${key}":{"x":1}}]}}`));
        expect(r).to.deep.include({ kind: 'forbidden-key', path: ['applicant', 'items', 0, key] });
        expect(r.detail).to.equal(`the key "${key}" is not accepted`);
        expect(strictJsonStatus[r.kind]).to.equal(422);
      });
    }

    it('refuses __proto__ written with escapes as well', () => {
      expect(refusal(read('{"\\u005f_proto__":{"polluted":true}}')).kind).to.equal('forbidden-key');
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });
  });

  describe('strings', () => {
    it('refuses \\u0000 and lone surrogates, which no database or XML document can hold', () => {
      expect(refusal(read('"a\\u0000b"'))).to.include({ kind: 'invalid-unicode', offset: 2 });
      expect(refusal(read('"\\ud800"')).detail).to.contain('without its second half');
      expect(refusal(read('"\\ud800\\u0041"')).kind).to.equal('invalid-unicode');
      expect(refusal(read('"\\udc00"')).detail).to.contain('without its first half');
    });

    it('refuses raw control characters, unknown escapes and unterminated strings', () => {
      expect(refusal(read('"a\nb"')).detail).to.contain('control character (U+000A)');
      expect(refusal(read('"\\x41"')).kind).to.equal('malformed');
      expect(refusal(read('"\\u12G4"')).kind).to.equal('malformed');
      expect(refusal(read('{"a":"b')).detail).to.contain('does not end');
    });
  });

  describe('numbers', () => {
    it('takes numbers only as JSON writes them', () => {
      for (const text of ['0x10', '+1', '01', '.5', '1.', '1e', '-', 'NaN', 'Infinity', '- 1']) {
        expect(refusal(read(`{"n":${text}}`)).kind, text).to.equal('malformed');
      }
      expect(read('[0, -0, 1.5, 2e3, 1E-2, 9007199254740991, 18446744073709551616]')).to.deep.equal({
        ok: true,
        // biome-ignore lint/correctness/noPrecisionLoss: 2^64 as JSON.parse reads it (a double), which is what the reader must give
        value: [0, -0, 1.5, 2000, 0.01, 9007199254740991, 18446744073709551616],
      });
    });

    it('refuses a number JavaScript would change, as a 422: overflow and integers that lose digits', () => {
      const inf = refusal(read('{"amount":1e400}'));
      expect(inf).to.deep.include({ kind: 'number-out-of-range', path: ['amount'] });
      expect(strictJsonStatus[inf.kind]).to.equal(422);
      expect(refusal(read('[12345678901234567891]')).detail).to.equal('"12345678901234567891" cannot be held exactly; send it as a string');
    });

    it('reads a number given as text (an XML leaf) by the same grammar', () => {
      expect(readJsonNumber('-12.5e1')).to.deep.equal({ ok: true, value: -125 });
      for (const text of ['0x10', ' 1', '1 ', '', '1_000', '0b1', '1e999']) expect(readJsonNumber(text).ok, text).to.equal(false);
      expect(readJsonNumber('0x10')).to.deep.equal({ ok: false, detail: '"0x10" is not a number as JSON writes one' });
    });
  });

  it('refuses anything after the document and an empty body', () => {
    expect(refusal(read('{"a":1} {"a":2}'))).to.deep.include({ kind: 'malformed', path: [], offset: 8 });
    expect(refusal(read('')).detail).to.equal('the body is not valid JSON: it ends where a value should follow');
    expect(refusal(read('{"a":1,}')).detail).to.contain('a key in quotes');
    expect(refusal(read('[1 2]')).detail).to.equal('the body is not valid JSON: "2" at character 3 where "," or "]" should be');
  });

  it('gives the byte offset even after characters of several bytes', () => {
    expect(refusal(read('{"ä":"ö",,}')).offset).to.equal(Buffer.byteLength('{"ä":"ö",', 'utf8'));
  });

  describe('properties', () => {
    // Random documents of every shape JSON has, with strings of any code point.
    const documents = fc.json({ maxDepth: 8, stringUnit: 'grapheme' });

    it('reads every document JSON.stringify writes exactly as JSON.parse does (unless a rule refuses it)', () => {
      fc.assert(
        fc.property(documents, fc.constantFrom(0, 2), (text, indent) => {
          const written = indent ? JSON.stringify(JSON.parse(text), null, indent) : text;
          const r = read(written, 100);
          if (r.ok) {
            expect(r.value).to.deep.equal(JSON.parse(written));
            return;
          }
          // Refused: only for a rule JSON.parse does not have, and the rule's reason is really there.
          expect(r.kind).to.be.oneOf(['forbidden-key', 'number-out-of-range', 'invalid-unicode']);
          if (r.kind === 'forbidden-key') expect(written).to.match(/"(__proto__|constructor|prototype)"/);
        }),
        { numRuns: 2000 },
      );
    });

    it('never throws on hostile bytes, and answers with a known kind', () => {
      const fragments = fc.constantFrom(
        '{',
        '}',
        '[',
        ']',
        '"',
        ':',
        ',',
        '\\',
        '\\u',
        'd800',
        '0',
        '-',
        'e',
        '1e999',
        'true',
        'nul',
        ' ',
        '__proto__',
        '\u0000',
        '\ufeff',
        'ä',
      );
      const hostile = fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fragments, { maxLength: 80 }).map((parts) => Buffer.from(parts.join(''), 'utf8')),
        fc
          .tuple(fc.nat({ max: 50_000 }), fc.constantFrom('[', '{"a":', '[{"b":'))
          .map(([depth, open]) => Buffer.from(open.repeat(depth), 'utf8')),
        documents.chain((text) =>
          fc.nat({ max: Math.max(0, Buffer.byteLength(text) - 1) }).chain((at) =>
            fc.uint8Array({ minLength: 1, maxLength: 3 }).map((junk) => {
              const b = Buffer.from(text, 'utf8');
              return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
            }),
          ),
        ),
      );
      fc.assert(
        fc.property(hostile, (bytes) => {
          const r = readStrictJson(bytes);
          if (!r.ok) {
            expect(strictJsonStatus).to.have.property(r.kind);
            expect(r.offset).to.be.within(0, bytes.length);
            expect(r.path.length).to.be.at.most(64);
          }
        }),
        { numRuns: 3000 },
      );
    });
  });
});
