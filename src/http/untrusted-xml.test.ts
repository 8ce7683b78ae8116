import { expect } from 'chai';
import { parseUntrustedXml, UntrustedXmlError } from './untrusted-xml.ts';

function fault(text: string, shape = {}): UntrustedXmlError {
  try {
    parseUntrustedXml(text, shape);
  } catch (e) {
    if (e instanceof UntrustedXmlError) return e;
    throw e;
  }
  throw new Error('parsed');
}

describe('parseUntrustedXml', () => {
  it('keeps values as the text they are and decodes the predefined entities', () => {
    expect(parseUntrustedXml('<?xml version="1.0"?><a><plz>01234</plz><n>1e3</n><t>a &amp; b</t></a>')).to.deep.equal({
      a: { plz: '01234', n: '1e3', t: 'a & b' },
    });
  });

  it('refuses a DOCTYPE, so no entity is ever declared or expanded (billion laughs, external entities)', () => {
    const laughs = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><l>&b;</l>';
    expect(fault(laughs).fault).to.equal('doctype');
    expect(fault('<!DOCTYPE q [<!ENTITY e SYSTEM "file:///etc/passwd">]><q>&e;</q>').fault).to.equal('doctype');
  });

  it('refuses elements nested deeper than the limit', () => {
    const deep = (n: number) => '<e>'.repeat(n) + '</e>'.repeat(n);
    expect(() => parseUntrustedXml(deep(60))).not.to.throw();
    const e = fault(deep(200));
    expect(e.fault).to.equal('too-deep');
    expect(fault(deep(20), { maxDepth: 10 }).message).to.match(/^elements are nested deeper than 10 levels/);
  });

  it('bounds entity expansion', () => {
    expect(fault(`<a>${'&amp;'.repeat(50)}</a>`, { maxEntityExpansions: 10 }).fault).to.equal('too-many-entities');
  });

  it('with validate, names where a document is not well-formed, in its own words', () => {
    const e = fault('<a>\n<b></a>', { validate: true });
    expect(e.fault).to.equal('malformed');
    expect(e.message).to.match(/^not well-formed XML \(line 2, column \d+\)$/);
    expect(e.at?.rule).to.be.a('string');
  });

  it('with onlyPredefinedEntities, refuses &nbsp; and friends, outside CDATA', () => {
    expect(fault('<a>&nbsp;</a>', { onlyPredefinedEntities: true }).message).to.match(/^undefined entity &nbsp;/);
    expect(parseUntrustedXml('<a><![CDATA[&nbsp;]]></a>', { onlyPredefinedEntities: true })).to.deep.equal({ a: '&nbsp;' });
  });

  it('takes the shape from the caller: attributes, prefixes, arrays, entities left as written', () => {
    const xml = '<s:Envelope xmlns:s="urn:x"><s:Body><r id="7">x &amp; y</r><r id="8">z</r></s:Body></s:Envelope>';
    expect(parseUntrustedXml(xml, { removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: '@' })).to.deep.equal({
      Envelope: {
        Body: {
          r: [
            { '#text': 'x & y', '@id': '7' },
            { '#text': 'z', '@id': '8' },
          ],
        },
      },
    });
    expect(parseUntrustedXml('<a><b>x &amp; y</b></a>', { entities: 'keep', isArray: (name) => name === 'b' })).to.deep.equal({
      a: { b: ['x &amp; y'] },
    });
  });
});
