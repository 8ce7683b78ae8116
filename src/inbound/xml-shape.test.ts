import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { decodeXml, DecodeError } from './decode.ts';
import { shapeXml, XmlShapeError, type XmlShapeOptions } from './xml-shape.ts';

const GEW = 'http://www.xgewerbeanzeige.de/spezifikation/version1_4';
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const options: XmlShapeOptions = { namespaces: { gew: GEW } };
const shape = (text: string, o: XmlShapeOptions = options) => shapeXml(text, o).value;
const refusal = (text: string, o: XmlShapeOptions = options): string => {
  try {
    shapeXml(text, o);
  } catch (e) {
    expect(e).to.be.instanceOf(XmlShapeError);
    return (e as Error).message;
  }
  throw new Error('the document was not refused');
};

type Json = Record<string, any>;

describe('inbound: the JSON shape of XML', () => {
  describe('an XGewerbeanzeige message', () => {
    const doc = shape(decodeXml(fixture('gewerbeanmeldung.xml'))) as Json;
    const msg = doc['gew:gewerbeanzeige.anmeldung.0100'];

    it('keys elements by the channel prefix and local name, the root included', () => {
      expect(Object.keys(doc)).to.deep.equal(['gew:gewerbeanzeige.anmeldung.0100']);
      expect(msg['gew:nachrichtenkopf']['gew:leser']['gew:kennung']).to.equal('05513000');
    });

    it('writes attributes with @, unqualified child elements by their local name, xsi with its usual prefix', () => {
      expect(msg['@version']).to.equal('1.4');
      expect(msg['@xsi:schemaLocation']).to.equal(`${GEW} xgewerbeanzeige.xsd`);
      expect(msg['gew:anzeige']['gew:anzeigeart']).to.deep.equal({
        '@listURI': 'urn:xoev-de:xgewerbeanzeige:codeliste:anzeigeart',
        '@listVersionID': '1.0',
        code: '01',
        name: 'Anmeldung',
      });
      expect(msg).not.to.have.property('@xmlns:xgewerbe');
    });

    it('makes repeated elements arrays, in document order', () => {
      const taetigkeiten = msg['gew:anzeige']['gew:taetigkeit'];
      expect(taetigkeiten).to.have.length(3);
      expect(taetigkeiten.map((t: Json) => t['gew:wirtschaftszweig'].code)).to.deep.equal(['47.64.1', '95.29.0', '47.91.9']);
    });

    it('keeps values as the text they are, entities decoded, CR LF read as LF', () => {
      const person = msg['gew:anzeige']['gew:gewerbetreibender'];
      expect(person['gew:vorname']).to.equal('Jürgen & Ayşe');
      expect(msg['gew:anzeige']['gew:anzahlBeschaeftigte']).to.equal('2');
      expect(JSON.stringify(doc)).not.to.include('\r');
    });
  });

  it('gives the same JSON whatever prefixes the document uses (xgewerbe:, a default namespace, g:)', () => {
    const a = shape(decodeXml(fixture('gewerbeanmeldung.xml')));
    const b = shape(decodeXml(fixture('gewerbeanmeldung-default-ns.xml')));
    const c = shape(decodeXml(fixture('gewerbeanmeldung-prefix-g.xml')));
    expect(b).to.deep.equal(a);
    expect(c).to.deep.equal(a);
  });

  it('resolves prefixes per element: declared further down, or the same prefix bound to another namespace inside', () => {
    const doc = shape(`<a:r xmlns:a="urn:one"><x:k xmlns:x="urn:one">1</x:k><a:k2 xmlns:a="urn:two">2</a:k2></a:r>`, {
      namespaces: { o: 'urn:one', t: 'urn:two' },
    });
    expect(doc).to.deep.equal({ 'o:r': { 'o:k': '1', 't:k2': '2' } });
  });

  it('writes a namespace the channel does not name as {uri}local, and no namespace as the bare local name', () => {
    expect(shape(`<r xmlns="urn:x" xmlns:y="urn:y" y:a="1"><k xmlns="">v</k></r>`, {})).to.deep.equal({
      '{urn:x}r': { '@{urn:y}a': '1', k: 'v' },
    });
  });

  it("maps a namespace to bare names with the prefix ''; elements in no namespace are then {}local", () => {
    const doc = shape(`<r xmlns="urn:x"><k listVersionID="1"><code xmlns="">7</code></k></r>`, { namespaces: { '': 'urn:x' } });
    expect(doc).to.deep.equal({ r: { k: { '@listVersionID': '1', '{}code': '7' } } });
  });

  describe('schema-driven arrays', () => {
    const one = decodeXml(fixture('gewerbeanmeldung-eine-taetigkeit.xml'));
    const anzeige = (o: XmlShapeOptions) => (shape(one, o) as Json)['gew:gewerbeanzeige.anmeldung.0100']['gew:anzeige'];

    it('a single occurrence is an object unless its path is listed', () => {
      expect(anzeige(options)['gew:taetigkeit']).to.be.an('object').and.not.an('array');
    });

    it('a listed path is an array even with one occurrence; a leading slash makes no difference', () => {
      for (const path of [
        'gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:taetigkeit',
        '/gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:taetigkeit',
      ]) {
        const t = anzeige({ ...options, arrays: [path] })['gew:taetigkeit'];
        expect(t).to.be.an('array').with.length(1);
        expect(t[0]['gew:beschreibung']).to.equal('Einzelhandel mit Fahrrädern');
      }
    });

    it('a path listed with // is an array wherever a path ends so (recursive structures)', () => {
      const doc = shape(`<r><g><f>1</f><g><f>2</f></g></g></r>`, { arrays: ['//g/f'] });
      expect(doc).to.deep.equal({ r: { g: { f: ['1'], g: { f: ['2'] } } } });
    });

    it('a listed path the document leaves out stays absent', () => {
      const a = anzeige({ ...options, arrays: ['gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:vorgaenger'] });
      expect(a).not.to.have.property('gew:vorgaenger');
    });

    it('the same document with one or three activities gives the same type at the listed path', () => {
      const o = { ...options, arrays: ['gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:taetigkeit'] };
      const three = (shape(decodeXml(fixture('gewerbeanmeldung.xml')), o) as Json)['gew:gewerbeanzeige.anmeldung.0100']['gew:anzeige'][
        'gew:taetigkeit'
      ];
      expect(three).to.be.an('array').with.length(3);
      expect(anzeige(o)['gew:taetigkeit']).to.be.an('array');
    });
  });

  describe("libxml2's node paths told in the JSON keys", () => {
    const text = `<r xmlns="urn:x" xmlns:p="urn:p"><p:a/><p:a><b/><code xmlns="">1</code><code xmlns="">2</code></p:a></r>`;
    const shaped = shapeXml(text, { namespaces: { x: 'urn:x', q: 'urn:p' } });

    it('follows *[n] (a default namespace) and prefix:name[n] steps, with the position where keys repeat', () => {
      expect(shaped.pathOf('/*')).to.equal('/x:r');
      expect(shaped.pathOf('/*/p:a[2]/*')).to.equal('/x:r/q:a[2]/x:b');
      expect(shaped.pathOf('/*/*[2]/code[2]')).to.equal('/x:r/q:a[2]/code[2]');
    });

    it('gives undefined for a path that names no element of the document', () => {
      expect(shaped.pathOf('/*/p:a[3]')).to.equal(undefined);
      expect(shaped.pathOf('/other')).to.equal(undefined);
      expect(shaped.pathOf('/*/text()')).to.equal(undefined);
      expect(shaped.pathOf('')).to.equal(undefined);
    });
  });

  describe('text', () => {
    it('an element with text only is a string, empty ones ""; whitespace inside a leaf is kept', () => {
      expect(shape(`<r><a>  x  </a><b/><c></c></r>`, {})).to.deep.equal({ r: { a: '  x  ', b: '', c: '' } });
    });

    it('an element with attributes and text has #text; with only attributes none', () => {
      expect(shape(`<r><a k="1">x</a><b k="2"/></r>`, {})).to.deep.equal({ r: { a: { '@k': '1', '#text': 'x' }, b: { '@k': '2' } } });
    });

    it('mixed content keeps its text pieces as #text, without the indentation between elements', () => {
      expect(shape(`<r>\n  Hallo <b>Welt</b>!\n</r>`, {})).to.deep.equal({ r: { b: 'Welt', '#text': '\n  Hallo !\n' } });
    });

    it('character references and CDATA are text; &amp;#228; stays the characters &#228;; numbers stay strings', () => {
      expect(shape(`<r><a>&#228;&#xE4;</a><b>&amp;#228;</b><c><![CDATA[<x> & y]]></c><d>01234</d><e>true</e></r>`, {})).to.deep.equal({
        r: { a: 'ää', b: '&#228;', c: '<x> & y', d: '01234', e: 'true' },
      });
    });

    it('comments and processing instructions carry no data', () => {
      expect(shape(`<?xml version="1.0"?><!-- c --><r><?pi x?><a>1</a><!-- d --></r>`, {})).to.deep.equal({ r: { a: '1' } });
    });
  });

  describe('hostile and broken documents are refused', () => {
    it('a DOCTYPE (billion laughs), with its line', () => {
      const laughs = `<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n<lolz>&lol2;</lolz>`;
      try {
        shapeXml(laughs);
        expect.fail('not refused');
      } catch (e) {
        expect((e as XmlShapeError).message).to.equal('DOCTYPE and entity declarations are not allowed');
        expect((e as XmlShapeError).line).to.equal(2);
      }
    });

    it('an external entity', () => {
      expect(refusal(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`)).to.include('DOCTYPE');
    });

    it('an entity XML does not define (&nbsp;), and references to characters XML does not allow', () => {
      expect(refusal(`<r>a&nbsp;b</r>`)).to.match(/^undefined entity &nbsp;/);
      expect(refusal(`<r>&#0;</r>`)).to.include('&#0;');
      expect(refusal(`<r a="&#xD800;"/>`)).to.include('&#xD800;');
    });

    it('an undeclared prefix, a rebound xml prefix, an empty prefixed namespace', () => {
      expect(refusal(`<p:r/>`)).to.equal('the prefix p of <p:r> is not declared');
      expect(refusal(`<r xmlns:xml="urn:other"/>`)).to.include('cannot be declared');
      expect(refusal(`<p:r xmlns:p=""/>`)).to.include('empty namespace');
    });

    it('the same attribute twice once prefixes are resolved', () => {
      expect(refusal(`<r xmlns:a="urn:n" xmlns:b="urn:n" a:k="1" b:k="2"/>`)).to.include('twice');
    });

    it('not well-formed XML, with its line', () => {
      expect(refusal(`<r>\n<a></b>\n</r>`)).to.match(/^not well-formed XML: .*\(line 2, column \d+\)$/);
      expect(refusal(``)).to.match(/^not well-formed XML|exactly one root/);
    });

    it('nesting deeper than the limit', () => {
      const deep = '<a>'.repeat(70) + '</a>'.repeat(70);
      expect(refusal(deep)).to.equal('elements nest deeper than 64 levels');
      expect(() => shapeXml('<a><a><a/></a></a>', { maxDepth: 3 })).not.to.throw();
    });

    it('an element named __proto__ is refused and changes no prototype', () => {
      expect(refusal(`<r><__proto__><polluted>yes</polluted></__proto__></r>`)).to.match(/^the document cannot be read: .*__proto__/);
      expect(({} as Json).polluted).to.equal(undefined);
    });

    it('a prefixed name that resolves to a key like __proto__ stays an ordinary key', () => {
      const doc = shape(`<r xmlns:p="urn:p"><p:constructor>c</p:constructor><p:toString>t</p:toString></r>`, {
        namespaces: { '': 'urn:p' },
      }) as Json;
      expect(doc).to.deep.equal({ '{}r': { constructor: 'c', toString: 't' } });
      expect(Object.getPrototypeOf(doc['{}r'])).to.equal(Object.prototype);
    });
  });
});

describe('inbound: decoding a document', () => {
  it('reads the XML declaration: an ISO-8859-1 message gives the same text as its UTF-8 twin', () => {
    const latin1 = fixture('gewerbeanmeldung-latin1.xml');
    expect(latin1.includes(Buffer.from('Kühn', 'utf8'))).to.equal(false);
    const text = decodeXml(latin1);
    expect(text).to.include('Özdemir-Kühn').and.include('Bahnhofstraße');
  });

  it("lets the Content-Type's charset win, drops a BOM from the text, and refuses bytes invalid in the encoding", () => {
    expect(decodeXml(Buffer.from('<r>\u00e4</r>', 'latin1'), 'iso-8859-1')).to.equal('<r>ä</r>');
    expect(decodeXml(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<r/>')]))).to.equal('<r/>');
    expect(decodeXml(Buffer.from('\ufeff<r>ü</r>', 'utf16le'))).to.equal('<r>ü</r>');
    expect(() => decodeXml(Buffer.from([0x3c, 0x72, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x72, 0x3e]))).to.throw(DecodeError, 'not valid utf-8');
    expect(() => decodeXml(Buffer.from('<?xml version="1.0" encoding="x-klingon"?><r/>'))).to.throw(
      DecodeError,
      'unknown character encoding x-klingon',
    );
  });
});
