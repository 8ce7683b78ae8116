// `xsd:` naming a WSDL: its embedded schemas (wsdl:types) check a SOAP mapping's output, with the namespace
// declarations they inherit from wsdl:definitions and their imports of each other resolved.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runGoldenTests } from './runner.ts';
import { XsdSession } from './xsd.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const HUNDESTEUER = path.join(root, 'adapters/soap/fixtures/hundesteuer.wsdl');
const BOTTROP = path.join(root, 'config/wsdl/hundesteuer-bottrop.wsdl');
const XTA = path.resolve(root, '../shared/reference/xta-2.1.1/XTA.wsdl');

// The shape WCF's ?singleWsdl gives: the WSDL namespace as the default one, prefixes only on wsdl:definitions,
// one schema importing another by namespace alone (no schemaLocation), two schemas sharing a namespace.
const WCF_SHAPED = `<?xml version="1.0" encoding="utf-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="urn:example:akte:1" xmlns:dt="http://schemas.datacontract.org/2004/07/Akte" xmlns:ser="http://schemas.microsoft.com/2003/10/Serialization/"
    targetNamespace="urn:example:akte:1">
  <types>
    <xs:schema elementFormDefault="qualified" targetNamespace="urn:example:akte:1">
      <xs:import namespace="http://schemas.datacontract.org/2004/07/Akte"/>
      <xs:element name="VorgangAnlegen">
        <xs:complexType><xs:sequence>
          <xs:element name="vorgang" type="dt:Vorgang"/>
        </xs:sequence></xs:complexType>
      </xs:element>
    </xs:schema>
    <xs:schema elementFormDefault="qualified" targetNamespace="http://schemas.datacontract.org/2004/07/Akte">
      <xs:import namespace="http://schemas.microsoft.com/2003/10/Serialization/"/>
      <xs:complexType name="Vorgang"><xs:sequence>
        <xs:element name="Kennung" type="ser:guid"/>
        <xs:element name="Betreff" type="dt:Betreff"/>
      </xs:sequence></xs:complexType>
    </xs:schema>
    <xs:schema elementFormDefault="qualified" targetNamespace="http://schemas.datacontract.org/2004/07/Akte">
      <xs:simpleType name="Betreff"><xs:restriction base="xs:string"><xs:maxLength value="20"/></xs:restriction></xs:simpleType>
    </xs:schema>
    <xs:schema elementFormDefault="qualified" targetNamespace="http://schemas.microsoft.com/2003/10/Serialization/">
      <xs:simpleType name="guid"><xs:restriction base="xs:string"><xs:pattern value="[\\da-fA-F]{8}-[\\da-fA-F]{4}-[\\da-fA-F]{4}-[\\da-fA-F]{4}-[\\da-fA-F]{12}"/></xs:restriction></xs:simpleType>
    </xs:schema>
  </types>
  <message name="VorgangAnlegenRequest"><part name="parameters" element="tns:VorgangAnlegen"/></message>
</definitions>
`;

describe('golden cases: xsd from a WSDL', () => {
  let session: XsdSession;
  beforeEach(() => (session = new XsdSession()));
  afterEach(() => session.close());

  const anmeldung = (gemeinde: string) =>
    `<hst:Anmeldung xmlns:hst="urn:de:amtsbote:test:hundesteuer:1">${gemeinde}<hst:Halter><hst:Vorname>Max</hst:Vorname><hst:Nachname>Mustermann</hst:Nachname></hst:Halter>` +
    `<hst:Hund><hst:Name>Rocky</hst:Name><hst:Rasse>Mischling</hst:Rasse></hst:Hund><hst:Haltungsbeginn>2026-02-01</hst:Haltungsbeginn></hst:Anmeldung>`;

  it('uses a prefix the schema inherits from wsdl:definitions (type="hst:Person")', async () => {
    expect(await session.validate(HUNDESTEUER, anmeldung('<hst:Gemeinde>05512000</hst:Gemeinde>'))).to.deep.equal([]);
    expect(await session.validate(HUNDESTEUER, anmeldung(''))).to.deep.equal([
      "line 1: Element 'Halter': This element is not expected. Expected is ( Gemeinde ).",
    ]);
  });

  it('validates the root element against its global declaration, and names an element the WSDL does not declare', async () => {
    expect(
      await session.validate(HUNDESTEUER, '<PingAnfrage xmlns="urn:de:amtsbote:test:hundesteuer:1"><Echo>x</Echo></PingAnfrage>'),
    ).to.deep.equal([]);
    expect(await session.validate(HUNDESTEUER, '<Anmeldung xmlns="urn:other"/>')).to.deep.equal([
      "line 1: Element 'Anmeldung': No matching global declaration available for the validation root.",
    ]);
  });

  it('uses every schema of the demo WSDL: the header schema and the service schema', async () => {
    expect(await session.validate(BOTTROP, '<IdempotencyKey xmlns="urn:amtsbote:1">abc</IdempotencyKey>')).to.deep.equal([]);
    expect(await session.validate(BOTTROP, '<IdempotencyKey xmlns="urn:amtsbote:1">a b</IdempotencyKey>')).to.have.length(1);
  });

  describe('a WSDL written for the test', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-wsdl-test-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('resolves imports between embedded schemas by namespace, also across two schemas of one namespace', async () => {
      const wsdl = path.join(dir, 'Akte.svc.wsdl');
      writeFileSync(wsdl, WCF_SHAPED);
      const doc = (kennung: string, betreff: string) =>
        `<VorgangAnlegen xmlns="urn:example:akte:1"><vorgang><Kennung xmlns="http://schemas.datacontract.org/2004/07/Akte">${kennung}</Kennung><Betreff xmlns="http://schemas.datacontract.org/2004/07/Akte">${betreff}</Betreff></vorgang></VorgangAnlegen>`;
      expect(await session.validate(wsdl, doc('01960000-0000-7000-8000-000000000001', 'Sperrmüll'))).to.deep.equal([]);
      const bad = await session.validate(wsdl, doc('T-1', 'Sperrmüll am Hof, Einfahrt links'));
      expect(bad).to.have.length(2);
      expect(bad[0]).to.match(/^line 1: Element 'Kennung': .*pattern/);
      expect(bad[1]).to.match(/^line 1: Element 'Betreff': .*length/);
    });

    it('names the WSDL when it is missing, has no schema, or is no WSDL', async () => {
      const noTypes = path.join(dir, 'leer.wsdl');
      writeFileSync(noTypes, '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" targetNamespace="urn:x"/>');
      const notWsdl = path.join(dir, 'other.wsdl');
      writeFileSync(notWsdl, '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>');
      const broken = path.join(dir, 'broken.wsdl');
      writeFileSync(broken, WCF_SHAPED.replace('type="dt:Betreff"', 'type="dt:Titel"'));
      const fails = async (f: string) =>
        session.validate(f, '<x/>').then(
          () => 'no error',
          (e: Error) => e.message,
        );
      expect(await fails(path.join(dir, 'nowhere.wsdl'))).to.equal(`WSDL ${path.join(dir, 'nowhere.wsdl')} not found`);
      expect(await fails(noTypes)).to.equal(`WSDL ${noTypes} embeds no schema (no xsd:schema in wsdl:types)`);
      expect(await fails(notWsdl)).to.equal(`${notWsdl} is not a WSDL: its root element is {http://www.w3.org/2001/XMLSchema}schema`);
      // Line 18 of the WSDL: the error points into the file the user wrote, not a temporary copy.
      expect(await fails(broken)).to.match(
        new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(schema 2 of wsdl:types\\):18: .*Titel`),
      );
    });

    it('runs in a case file: xsd relative to the case file, a violation is what expectError expects', async () => {
      writeFileSync(path.join(dir, 'Akte.svc.wsdl'), WCF_SHAPED);
      writeFileSync(
        path.join(dir, 'akte.jsonata'),
        `{ "VorgangAnlegen": { "@_xmlns": "urn:example:akte:1", "vorgang": { "@_xmlns:dt": "http://schemas.datacontract.org/2004/07/Akte",
           "dt:Kennung": submission.id, "dt:Betreff": data.betreff } } }`,
      );
      const input = {
        externalId: 'A-1',
        tenant: '05513000',
        service: 'sperrmuell',
        submittedAt: '2026-03-02T10:00:00+01:00',
        applicant: {},
        data: { betreff: 'Sperrmüll' },
      };
      mkdirSync(path.join(dir, 'cases'));
      writeFileSync(
        path.join(dir, 'cases/akte.yaml'),
        `- name: valid
  input: ${JSON.stringify(input)}
  format: xml
  xsd: ../Akte.svc.wsdl
  compare: subset
  expected: '<VorgangAnlegen xmlns="urn:example:akte:1"/>'
- name: a subject too long for the contract
  input: ${JSON.stringify(input)}
  format: xml
  xsd: ../Akte.svc.wsdl
  set: { data.betreff: "Sperrmüll am Hof, Einfahrt links" }
  expectError: "^XSD \\\\.\\\\./Akte\\\\.svc\\\\.wsdl: line 1: Element 'Betreff'"
`,
      );
      const r = await runGoldenTests({ paths: [dir] });
      expect(r.files[0]!.cases.map((c) => [c.name, c.ok, ...c.details])).to.deep.equal([
        ['valid', true],
        ['a subject too long for the contract', true],
      ]);
    });
  });

  (existsSync(XTA) ? it : it.skip)(
    `the real XTA 2.1.1 WSDL (shared/reference): schemas included and imported relative to the WSDL`,
    async () => {
      const ok = await session.validate(XTA, '<xta:LookupServiceRequest xmlns:xta="http://xoev.de/transport/xta/211"/>');
      expect(ok).to.deep.equal([
        "line 1: Element 'LookupServiceRequest': Missing child element(s). Expected is ( LookupServiceRequestList ).",
      ]);
    },
  );
});
