import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { FIXTURE_SAMPLE, FIXTURE_XSD, XDOMEA_FVDATEN_XSD, XDOMEA_SAMPLE } from './bench.ts';
import { cachedSchemaCount, loadSchema, MAX_ERRORS, SchemaLoadError, type CompiledSchema, type XsdResult } from './index.ts';
import { cleanValidityMessage } from './messages.ts';

const sample = fs.readFileSync(FIXTURE_SAMPLE, 'utf8');

function failed(r: XsdResult): Extract<XsdResult, { ok: false }> {
  if (r.ok) throw new Error('expected the document to be invalid');
  return r;
}

/** Replaces the first occurrence, failing loudly when the fixture no longer has it. */
function edit(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`fixture does not contain ${String(from)}`);
  return out;
}

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'amtsbote-xsd-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Copies the fixture schema set into a fresh folder (with a space in its name) and returns the entry. */
function copyFixtureSet(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(path.dirname(FIXTURE_XSD), dir, { recursive: true });
  return path.join(dir, 'hundeanmeldung.xsd');
}

describe('xsd: loadSchema and validate', () => {
  let schema: CompiledSchema;
  before(() => {
    schema = loadSchema(FIXTURE_XSD);
  });
  after(() => schema.dispose());

  it('accepts the valid ~5 KB document', () => {
    expect(Buffer.byteLength(sample)).to.be.within(4500, 6000);
    expect(schema.validate(sample)).to.deep.equal({ ok: true });
    // Bytes too, with the encoding taken from the document.
    expect(schema.validate(Buffer.from(sample, 'utf8'))).to.deep.equal({ ok: true });
  });

  it('resolves xs:import across files, relative to each importing file, each file once', () => {
    const base = path.dirname(FIXTURE_XSD);
    expect(schema.files).to.deep.equal([
      path.join(base, 'hundeanmeldung.xsd'),
      path.join(base, 'person.xsd'),
      path.join(base, 'codes', 'codes.xsd'),
    ]);
    // A rule that lives two imports away (codes.xsd via person.xsd) is enforced.
    const r = failed(schema.validate(edit(sample, '<p:Postleitzahl>45879<', '<p:Postleitzahl>4587<')));
    expect(r.errors[0]).to.include({ element: 'Postleitzahl' });
    expect(r.errors[0]!.message).to.contain("[facet 'pattern']").and.contain("'[0-9]{5}'");
  });

  it('names a missing required element', () => {
    const doc = edit(sample, /\s*<ha:Rasse>Labrador Retriever<\/ha:Rasse>/, '');
    const r = failed(schema.validate(doc));
    expect(r.errors).to.have.length(1);
    expect(r.errors[0]).to.include({ element: 'Geschlecht' });
    expect(r.errors[0]!.message).to.equal("Element 'Geschlecht': This element is not expected. Expected is ( Rasse ).");
    expect(r.errors[0]!.path).to.equal('/ha:Hundeanmeldung/ha:Hund[1]/ha:Geschlecht');
    expect(r.errors[0]!.line).to.equal(doc.split('\n').findIndex((l) => l.includes('<ha:Geschlecht>maennlich<')) + 1);

    const atEnd = failed(schema.validate(edit(sample, /\s*<ha:Portal>[^<]*<\/ha:Portal>/, '')));
    expect(atEnd.errors[0]).to.include({ element: 'Kopf', message: "Element 'Kopf': Missing child element(s). Expected is ( Portal )." });
  });

  it('names the element and the rule of a wrong type, never the value', () => {
    const r = failed(schema.validate(edit(sample, '<p:Geburtsdatum>1984-03-17<', '<p:Geburtsdatum>17.03.1984<')));
    expect(r.errors[0]).to.include({
      element: 'Geburtsdatum',
      message: "Element 'Geburtsdatum': the value is not a valid value of the atomic type 'xs:date'.",
    });
    expect(JSON.stringify(r)).not.to.contain('17.03.1984');
  });

  it('leaves out values in facet, enumeration and fixed-value errors, even values with quotes', () => {
    let doc = edit(sample, '<ha:Geschlecht>weiblich-kastriert<', "<ha:Geschlecht>Hündin' is not an element of the set {'x'}<");
    doc = edit(doc, '<ha:IBAN>DE02120300000000202051<', "<ha:IBAN>DE02 1203 '0000' 0000 2020 51<");
    doc = edit(doc, ' version="1.0">', ' version="Mustermann">');
    const r = failed(schema.validate(doc));
    const text = JSON.stringify(r);
    for (const value of ['Hündin', "'0000'", '2020 51', 'Mustermann']) expect(text).not.to.contain(value);
    expect(r.errors.map((e) => e.message)).to.deep.equal([
      "Element 'Hundeanmeldung', attribute 'version': the value does not match the fixed value constraint '1.0'.",
      "Element 'Geschlecht': [facet 'enumeration'] the value is not one of {'maennlich', 'weiblich', 'maennlich-kastriert', 'weiblich-kastriert'}.",
      "Element 'IBAN': [facet 'pattern'] the value is not accepted by the pattern '[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}'.",
    ]);
  });

  it(`reports at most ${MAX_ERRORS} errors, and how many there were`, () => {
    const doc = sample
      .replace(/<ha:(Geburtsdatum|Haltungsbeginn)>[^<]*</g, '<ha:$1>bald<')
      .replace(/<ha:Groesse>[^<]*</g, '<ha:Groesse>-1<');
    const r = failed(schema.validate(doc));
    expect(r.errors).to.have.length(MAX_ERRORS);
    expect(r.total).to.equal(16);
    for (const e of r.errors) expect(e.message).not.to.contain('bald');
  });

  it('reports a document that is not well-formed, with its line', () => {
    const r = failed(schema.validate(edit(sample, '</ha:Kopf>', '</ha:Kopff>')));
    expect(r.errors[0]!.message).to.match(/^not well-formed XML: Opening and ending tag mismatch: Kopf line \d+ and Kopff$/);
    expect(r.errors[0]!.line).to.be.greaterThan(1);
    expect(failed(schema.validate('')).errors[0]!.message).to.match(/^not well-formed XML/);
  });

  it('refuses a document of another schema', () => {
    const r = failed(schema.validate('<antrag xmlns="urn:other"/>'));
    expect(r.errors[0]!.message).to.contain('No matching global declaration available for the validation root');
  });

  it('treats a string as Unicode whatever its declaration says, and bytes by their declared encoding', () => {
    const latin = sample.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"');
    expect(schema.validate(latin)).to.deep.equal({ ok: true });
    expect(schema.validate(Buffer.from(latin, 'latin1'))).to.deep.equal({ ok: true });
  });
});

describe('xsd: untrusted documents', () => {
  let schema: CompiledSchema;
  let secretFile: string;
  const MARKER = 'TOP-SECRET-MARKER-4711';
  before(() => {
    schema = loadSchema(FIXTURE_XSD);
    secretFile = path.join(tmp, 'secret.txt');
    fs.writeFileSync(secretFile, MARKER);
  });
  after(() => schema.dispose());

  /** Records every file the process opens or reads through node:fs while `fn` runs. */
  function filesTouched(fn: () => void): string[] {
    const touched: string[] = [];
    const f = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
    const names = ['readFileSync', 'openSync', 'statSync', 'existsSync'] as const;
    const saved = names.map((n) => f[n]!);
    names.forEach((n, i) => {
      f[n] = (...a: unknown[]) => {
        touched.push(String(a[0]));
        return saved[i]!(...a);
      };
    });
    try {
      fn();
    } finally {
      names.forEach((n, i) => {
        f[n] = saved[i]!;
      });
    }
    return touched;
  }

  const attacks = (file: string) => ({
    'an external entity (file:///etc/passwd)': `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`,
    'an external entity in a schema-valid place': sample
      .replace('<ha:Hundeanmeldung', `<!DOCTYPE ha:Hundeanmeldung [<!ENTITY e SYSTEM "file://${file}">]>\n<ha:Hundeanmeldung`)
      .replace('<ha:Portal>Serviceportal Emscher-Lippe<', '<ha:Portal>&e;<'),
    'an external DTD': `<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "file://${file}">\n<x/>`,
    'a parameter entity': `<!DOCTYPE x [<!ENTITY % p SYSTEM "file://${file}"> %p;]><x/>`,
    'nested internal entities (billion laughs)': `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><x>&c;&c;&c;</x>`,
  });

  for (const [what] of Object.entries(attacks('/x'))) {
    it(`refuses a DOCTYPE with ${what} and reads no local file`, () => {
      const doc = attacks(secretFile)[what as keyof ReturnType<typeof attacks>];
      let r: XsdResult = { ok: true };
      const touched = filesTouched(() => {
        r = schema.validate(doc);
      });
      const f = failed(r);
      expect(f.errors[0]!.message).to.equal('DOCTYPE declarations are not allowed: no DTD, no entity declarations');
      expect(touched, 'files touched during validation').to.deep.equal([]);
      expect(JSON.stringify(f)).not.to.contain(MARKER).and.not.to.contain('root:');
    });
  }

  it('does not resolve an entity without a DOCTYPE (not well-formed)', () => {
    const r = failed(schema.validate(sample.replace('<ha:Portal>Serviceportal Emscher-Lippe<', '<ha:Portal>&e;<')));
    expect(r.errors[0]!.message).to.contain("Entity 'e' not defined");
  });
});

describe('xsd: schema sets', () => {
  it('compiles a set in a folder with spaces in its name', () => {
    const s = loadSchema(copyFixtureSet('with spaces'));
    try {
      expect(s.files).to.have.length(3);
      expect(s.validate(sample)).to.deep.equal({ ok: true });
    } finally {
      s.dispose();
    }
  });

  it('caches by absolute path, shares the compiled set, and frees it with the last handle', () => {
    const entry = copyFixtureSet('cache');
    const before = cachedSchemaCount();
    const a = loadSchema(entry);
    const b = loadSchema(path.relative(process.cwd(), entry));
    expect(cachedSchemaCount()).to.equal(before + 1);
    expect(b.path).to.equal(a.path);
    a.dispose();
    a.dispose(); // idempotent
    expect(() => a.validate(sample)).to.throw(/disposed/);
    expect(b.validate(sample)).to.deep.equal({ ok: true });
    b.dispose();
    expect(cachedSchemaCount()).to.equal(before);
  });

  it('recompiles when a file of the set changed on disk', () => {
    const entry = copyFixtureSet('changing');
    const old = loadSchema(entry);
    const codes = path.join(path.dirname(entry), 'codes', 'codes.xsd');
    fs.writeFileSync(codes, fs.readFileSync(codes, 'utf8').replace('[0-9]{5}', '[0-9]{4}'));
    // Make sure the change is visible even on a file system with coarse timestamps.
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(codes, later, later);
    const fresh = loadSchema(entry);
    expect(fresh.validate(sample).ok).to.equal(false);
    expect(old.validate(sample).ok, 'handles on the old set keep it').to.equal(true);
    old.dispose();
    fresh.dispose();
  });

  it('refuses a missing entry, a missing include and an invalid schema with a clear message', () => {
    expect(() => loadSchema(path.join(tmp, 'nope.xsd'))).to.throw(SchemaLoadError, /nope\.xsd not found/);

    const entry = copyFixtureSet('missing-import');
    fs.rmSync(path.join(path.dirname(entry), 'person.xsd'));
    expect(() => loadSchema(entry)).to.throw(SchemaLoadError, /person\.xsd \(no such file\)/);

    const bad = path.join(tmp, 'bad.xsd');
    fs.writeFileSync(bad, '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="xs:nosuchtype"/></xs:schema>');
    expect(() => loadSchema(bad)).to.throw(SchemaLoadError, /does not compile: .*nosuchtype/);

    const broken = path.join(tmp, 'broken.xsd');
    fs.writeFileSync(broken, '<xs:schema');
    expect(() => loadSchema(broken)).to.throw(SchemaLoadError, /not well-formed/);
  });

  it('never fetches an import from the network', async () => {
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      res.end('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:remote"/>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/remote.xsd`;
      const entry = path.join(tmp, 'remote-import.xsd');
      fs.writeFileSync(
        entry,
        `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:local">
           <xs:import namespace="urn:remote" schemaLocation="${url}"/>
           <xs:element name="a" type="xs:string"/>
         </xs:schema>`,
      );
      expect(() => loadSchema(entry)).to.throw(
        SchemaLoadError,
        /remote\.xsd \(not a local file: schemas are never fetched from the network\)/,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(requests).to.equal(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('xsd: message clean-up', () => {
  const cases: [string, string][] = [
    [
      "Element '{urn:a}Betrag': [facet 'minInclusive'] The value '-5' is less than the minimum value allowed ('0').\n",
      "Element 'Betrag': [facet 'minInclusive'] the value is less than the minimum value allowed ('0').",
    ],
    [
      "Element '{urn:a}Betrag': [facet 'totalDigits'] The value '123456' has more digits than are allowed ('5').\n",
      "Element 'Betrag': [facet 'totalDigits'] the value has more digits than are allowed ('5').",
    ],
    [
      "Element '{urn:a}Name': [facet 'maxLength'] The value has a length of '61'; this exceeds the allowed maximum length of '60'.\n",
      "Element 'Name': [facet 'maxLength'] The value has a length of '61'; this exceeds the allowed maximum length of '60'.",
    ],
    [
      "Element '{urn:a}Art': The actual value 'x' is' does not match the fixed value constraint 'B'.\n",
      "Element 'Art': the value does not match the fixed value constraint 'B'.",
    ],
    [
      "Element '{urn:a}Fall': Duplicate key-sequence ['AZ-1', 'Erika'] in unique identity-constraint '{urn:a}eindeutig'.\n",
      "Element 'Fall': Duplicate key-sequence […] in unique identity-constraint 'eindeutig'.",
    ],
    [
      "Element '{urn:a}x', attribute 'n': 'abc\ndef' is not a valid value of the atomic type 'xs:int'.\n",
      "Element 'x', attribute 'n': the value is not a valid value of the atomic type 'xs:int'.",
    ],
    [
      "Element '{urn:a}Kopf': This element is not expected. Expected is one of ( {urn:a}A, {urn:b}B ).\n",
      "Element 'Kopf': This element is not expected. Expected is one of ( A, B ).",
    ],
  ];
  for (const [raw, clean] of cases) {
    it(clean, () => {
      expect(cleanValidityMessage(raw).message).to.equal(clean);
    });
  }
});

const hasXdomea = fs.existsSync(XDOMEA_FVDATEN_XSD);
(hasXdomea ? describe : describe.skip)(
  hasXdomea
    ? 'xsd: the xdomea 3.0.0 reference schemas'
    : 'xsd: the xdomea 3.0.0 reference schemas (skipped: ../shared/reference/xdomea-3.0.0 not found)',
  () => {
    let schema: CompiledSchema;
    const xdomea = hasXdomea ? fs.readFileSync(XDOMEA_SAMPLE, 'utf8') : '';
    before(() => {
      schema = loadSchema(XDOMEA_FVDATEN_XSD);
    });
    after(() => schema?.dispose());

    it('compiles the FVDaten set with its includes and the XÖV code import', () => {
      expect(schema.files.map((f) => path.basename(f))).to.have.members([
        'xdomea-Nachrichten-FachverfahrensdatenAustauschen.xsd',
        'xdomea-Baukasten.xsd',
        'xdomea-Datentypen.xsd',
        'xoev-code.xsd',
        'xdomea-Typen-FachverfahrensdatenAustauschen.xsd',
      ]);
    });

    it('accepts a valid FVDaten.SGOErstellen.0604 and names what is wrong in a broken one', () => {
      expect(schema.validate(xdomea)).to.deep.equal({ ok: true });
      let bad = edit(xdomea, '2026-11-24T10:15:30+01:00', 'gestern');
      bad = edit(bad, /\s*<xdomea:Stapel>false<\/xdomea:Stapel>/, '');
      bad = edit(bad, '<code>0604</code>', '<code>9999</code>');
      const r = failed(schema.validate(bad));
      expect(r.errors.map((e) => e.element)).to.deep.equal(['code', 'Erstellungszeitpunkt', 'Kopf']);
      expect(r.errors[0]!.message).to.match(
        /^Element 'code': \[facet 'enumeration'\] the value is not one of \{'0101', .*… \(63 values\)\}\.$/,
      );
      expect(r.errors[1]!.message).to.contain("atomic type 'xs:dateTime'");
      expect(r.errors[2]!.message).to.equal("Element 'Kopf': Missing child element(s). Expected is ( Stapel ).");
      expect(JSON.stringify(r)).not.to.contain('gestern').and.not.to.contain('9999');
    });
  },
);
