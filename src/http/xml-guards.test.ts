import { expect } from 'chai';
import fc from 'fast-check';
import { checkXmlText, isXmlChar, type XmlGuardResult } from './xml-guards.ts';

const doc = (inner: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<submission xmlns="urn:amtsbote:submission:1">${inner}</submission>`;

function refusal(r: XmlGuardResult) {
  if (r.ok) throw new Error('expected a refusal');
  return r;
}

describe('XML guards (pre-scan before parsing)', () => {
  it('passes an ordinary submission with entities, references, comments and CDATA', () => {
    const text = doc(
      '<!-- a comment with <b> and &#0; --><name>M&#252;ller &amp; S&#xF6;hne</name><n type="number">12</n><note><![CDATA[&#0; <x> as text]]></note><e/><a t="&#x1F600;&lt;"/>',
    );
    expect(checkXmlText(text)).to.deep.equal({ ok: true });
  });

  describe('character references', () => {
    for (const ref of [
      '&#0;',
      '&#x0;',
      '&#1;',
      '&#x1F;',
      '&#xD800;',
      '&#xDFFF;',
      '&#xFFFE;',
      '&#xFFFF;',
      '&#x110000;',
      '&#1114112;',
      '&#99999999999999999999;',
      '&#x000000000000D800;',
    ]) {
      it(`refuses ${ref}, which names a character XML does not allow, instead of storing an empty string`, () => {
        const r = refusal(checkXmlText(doc(`<name>${ref}</name>`)));
        expect(r.kind).to.equal('forbidden-reference');
        expect(r.detail).to.match(/^the character reference &#.* names a character XML does not allow \(line 2, column \d+\)$/);
        expect(r.line).to.equal(2);
      });
    }

    it('refuses them in attribute values too, where the parser would expand them', () => {
      expect(refusal(checkXmlText(doc('<name lang="de&#0;"/>'))).kind).to.equal('forbidden-reference');
    });

    it('takes the edges XML allows, with leading zeros', () => {
      for (const ref of ['&#9;', '&#xA;', '&#13;', '&#x20;', '&#xD7FF;', '&#xE000;', '&#xFFFD;', '&#x10000;', '&#x10FFFF;', '&#0000065;']) {
        expect(checkXmlText(doc(`<v>${ref}</v>`)), ref).to.deep.equal({ ok: true });
      }
    });

    it('refuses a reference not written as XML writes one', () => {
      for (const ref of ['&#;', '&#x;', '&#12a;', '&#65', '&#X41;', '&#-1;']) {
        const r = refusal(checkXmlText(doc(`<v>${ref}</v>`)));
        expect(r.kind, ref).to.equal('forbidden-reference');
        expect(r.detail).to.contain('is not a character reference');
      }
    });

    it('leaves named entities to the parser', () => {
      expect(checkXmlText(doc('<v>&nbsp;</v>'))).to.deep.equal({ ok: true });
    });
  });

  describe('raw characters', () => {
    it('refuses control characters, U+FFFE/U+FFFF and lone surrogates anywhere, CDATA and comments included', () => {
      for (const [inner, code] of [
        ['<v>a\u0000b</v>', '0000'],
        ['<v>\u001b[31m</v>', '001B'],
        ['<![CDATA[\u0008]]>', '0008'],
        ['<!-- \u000c -->', '000C'],
        ['<v>\uffff</v>', 'FFFF'],
        ['<v>\ud800</v>', 'D800'],
        ['<v>x\udc00</v>', 'DC00'],
      ] as const) {
        const r = refusal(checkXmlText(doc(inner)));
        expect(r.kind, code).to.equal('forbidden-character');
        expect(r.detail).to.match(new RegExp(`^the character U\\+${code} is not allowed in XML`));
      }
      expect(checkXmlText(doc('<v>tab\there\r\nand 😀 and \ufeff</v>'))).to.deep.equal({ ok: true });
    });
  });

  describe('depth', () => {
    it('refuses elements nested deeper than the limit, before parsing, even 150,000 deep', () => {
      const deep = '<a>'.repeat(150_000) + '</a>'.repeat(150_000);
      const r = refusal(checkXmlText(deep));
      expect(r).to.include({ kind: 'too-deep', offset: 64 * 3, line: 1 });
      expect(r.detail).to.equal('elements are nested deeper than 64 levels (line 1, column 193)');
    });

    it('counts open elements only: siblings, empty elements and markup do not add up', () => {
      const wide = doc('<item><v/></item>'.repeat(10_000));
      expect(checkXmlText(wide, { maxDepth: 3 })).to.deep.equal({ ok: true });
      expect(checkXmlText('<a><b><c/></b></a>', { maxDepth: 2 })).to.deep.equal({ ok: true });
      expect(refusal(checkXmlText('<a><b><c></c></b></a>', { maxDepth: 2 })).kind).to.equal('too-deep');
      // A ">" inside an attribute value does not end the tag; a "/>" there does not make it empty.
      expect(refusal(checkXmlText('<a x="/>"><b y=\'>\'><c>', { maxDepth: 2 })).offset).to.equal(19);
      expect(checkXmlText('<a><!-- <b><c> --><![CDATA[<b><c>]]><?pi <b>?></a>', { maxDepth: 1 })).to.deep.equal({ ok: true });
    });

    it('skips a DOCTYPE with an internal subset (refusing DOCTYPEs is the parser’s part)', () => {
      expect(checkXmlText('<!DOCTYPE a [<!ENTITY e "<b>">]><a>x</a>', { maxDepth: 1 })).to.deep.equal({ ok: true });
    });
  });

  it('never throws on any text and says where', () => {
    const piece = fc.constantFrom(
      '<',
      '>',
      '/',
      '"',
      "'",
      '&',
      '&#',
      'x',
      '0',
      '1',
      'D800',
      ';',
      '<!--',
      '-->',
      '<![CDATA[',
      ']]>',
      '<?',
      '?>',
      '<!',
      '[',
      ']',
      'a',
      '\u0000',
      '\n',
      '\ud800',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 100, unit: 'binary' }),
          fc.array(piece, { maxLength: 100 }).map((p) => p.join('')),
        ),
        (text) => {
          const r = checkXmlText(text, { maxDepth: 3 });
          if (!r.ok) {
            expect(r.offset).to.be.within(0, text.length);
            expect(r.line).to.equal(text.slice(0, r.offset).split('\n').length);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees with XML 1.0 §2.2 on every reference it takes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x11ffff }), (cp) => {
        const ok = checkXmlText(`<v>&#x${cp.toString(16)};</v>`).ok;
        expect(ok).to.equal(isXmlChar(cp));
        expect(checkXmlText(`<v>&#${cp};</v>`).ok).to.equal(ok);
      }),
    );
  });
});
