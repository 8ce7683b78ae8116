import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { arrayPathsFromXsd, XsdArraysError } from './xsd-arrays.ts';

const GEW = 'http://www.xgewerbeanzeige.de/spezifikation/version1_4';
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('inbound: array paths from an XSD', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'amtsbote-xsd-arrays-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes schema files into the temporary folder; the first is the entry. */
  function schema(files: Record<string, string>): string {
    for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, name), body);
    return path.join(dir, Object.keys(files)[0]!);
  }
  const xs = (body: string, attrs = 'targetNamespace="urn:t" xmlns:t="urn:t" elementFormDefault="qualified"') =>
    `<?xml version="1.0"?><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" ${attrs}>${body}</xs:schema>`;

  it('finds the repeated elements of the XGewerbeanzeige schema, through its import, in the channel prefixes', () => {
    const paths = arrayPathsFromXsd(
      fixtures + 'xgewerbeanzeige.xsd',
      { namespace: GEW, element: 'gewerbeanzeige.anmeldung.0100' },
      { gew: GEW },
    );
    expect(paths).to.deep.equal([
      'gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:gewerbetreibender/gew:staatsangehoerigkeit',
      'gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:taetigkeit',
    ]);
  });

  it('follows refs, groups, choices and extensions, and repeats what a repeated group holds', () => {
    const entry = schema({
      'groups.xsd': xs(`
        <xs:element name="r"><xs:complexType><xs:sequence>
          <xs:element ref="t:item" maxOccurs="unbounded"/>
          <xs:group ref="t:pair" maxOccurs="3"/>
          <xs:choice maxOccurs="unbounded"><xs:element name="a" type="xs:string"/><xs:element name="b" type="xs:string"/></xs:choice>
          <xs:element name="once" type="t:Derived"/>
        </xs:sequence></xs:complexType></xs:element>
        <xs:element name="item" type="xs:string"/>
        <xs:group name="pair"><xs:sequence><xs:element name="left" type="xs:string"/><xs:element name="right" type="xs:string"/></xs:sequence></xs:group>
        <xs:complexType name="Base"><xs:sequence><xs:element name="fromBase" type="xs:string" maxOccurs="2"/></xs:sequence></xs:complexType>
        <xs:complexType name="Derived"><xs:complexContent><xs:extension base="t:Base"><xs:sequence>
          <xs:element name="own" type="xs:string" maxOccurs="unbounded"/><xs:element name="single" type="xs:string"/>
        </xs:sequence></xs:extension></xs:complexContent></xs:complexType>`),
    });
    expect(arrayPathsFromXsd(entry, { namespace: 'urn:t', element: 'r' }, { t: 'urn:t' })).to.deep.equal(
      ['t:r/t:a', 't:r/t:b', 't:r/t:item', 't:r/t:left', 't:r/t:once/t:fromBase', 't:r/t:once/t:own', 't:r/t:right'].sort(),
    );
  });

  it('writes unqualified local elements without a namespace, and stops at recursive types', () => {
    const entry = schema({
      'tree.xsd': xs(
        `<xs:element name="tree" type="t:Node"/>
         <xs:complexType name="Node"><xs:sequence>
           <xs:element name="leaf" type="xs:string" maxOccurs="unbounded"/>
           <xs:element name="node" type="t:Node" minOccurs="0" maxOccurs="unbounded"/>
           <xs:element name="q" type="xs:string" form="qualified" maxOccurs="2"/>
         </xs:sequence></xs:complexType>`,
        'targetNamespace="urn:t" xmlns:t="urn:t"',
      ),
    });
    // Below the first tree/node the type repeats itself: those paths need a `//` entry in the channel's arrays.
    expect(arrayPathsFromXsd(entry, { namespace: 'urn:t', element: 'tree' }, { '': 'urn:t' })).to.deep.equal([
      'tree/q',
      'tree/{}leaf',
      'tree/{}node',
    ]);
  });

  it('gives an included schema without a namespace the includer’s (chameleon include)', () => {
    const entry = schema({
      'main.xsd': xs(`<xs:include schemaLocation="part.xsd"/><xs:element name="r" type="t:Part"/>`),
      'part.xsd': xs(
        `<xs:complexType name="Part"><xs:sequence><xs:element name="p" type="xs:string" maxOccurs="9"/></xs:sequence></xs:complexType>`,
        'elementFormDefault="qualified"',
      ),
    });
    expect(arrayPathsFromXsd(entry, { namespace: 'urn:t', element: 'r' }, { t: 'urn:t' })).to.deep.equal(['t:r/t:p']);
  });

  it('refuses a remote import, an unknown root and an undeclared prefix', () => {
    const remote = schema({
      'remote.xsd': xs(`<xs:import namespace="urn:x" schemaLocation="https://example.org/x.xsd"/><xs:element name="r" type="xs:string"/>`),
    });
    expect(() => arrayPathsFromXsd(remote, { namespace: 'urn:t', element: 'r' }, {})).to.throw(XsdArraysError, 'not a local file');
    const plain = schema({ 'plain.xsd': xs(`<xs:element name="r" type="u:T"/>`) });
    expect(() => arrayPathsFromXsd(plain, { namespace: 'urn:t', element: 'other' }, {})).to.throw(
      XsdArraysError,
      'no global element {urn:t}other',
    );
    expect(() => arrayPathsFromXsd(plain, { namespace: 'urn:t', element: 'r' }, {})).to.throw(
      XsdArraysError,
      'the prefix u of u:T is not declared',
    );
  });
});
