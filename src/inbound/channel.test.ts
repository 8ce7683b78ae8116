import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  compileChannel,
  inboundChannelSchema,
  receiveInbound,
  type InboundChannel,
  type InboundResult,
  type InboundSubmission,
} from './channel.ts';
import type { Refusal } from './result.ts';

const GEW = 'http://www.xgewerbeanzeige.de/spezifikation/version1_4';
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string) => readFileSync(fixtures + name);
const paths = { mappingsDir: fixtures + 'mappings', configDir: fixtures };
const clock = () => Date.parse('2026-12-01T08:20:00Z');

/** The Gelsenkirchen channel for business registrations, as a configuration file would give it. */
function gewerbeChannel(overrides: Record<string, unknown> = {}): InboundChannel {
  return compileChannel(
    inboundChannelSchema.parse({
      name: 'xgewerbeanzeige',
      document: {
        kind: 'xml',
        root: { namespace: GEW, element: 'gewerbeanzeige.anmeldung.0100' },
        namespaces: { gew: GEW },
        arrays: ['gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:taetigkeit'],
        xsd: 'xgewerbeanzeige.xsd',
        ...overrides,
      },
      mapping: 'gewerbeanmeldung-eingang.jsonata',
    }),
    paths,
  );
}

function fimChannel(mapping = 'hundeanmeldung-fim-eingang.jsonata'): InboundChannel {
  return compileChannel(
    inboundChannelSchema.parse({
      name: 'fim-hundeanmeldung',
      document: { kind: 'json', jsonSchema: 'fim-hundeanmeldung.schema.json' },
      mapping,
    }),
    paths,
  );
}

function accepted(r: InboundResult): InboundSubmission {
  if (!r.ok) throw new Error(`refused: ${r.status} ${r.detail}`);
  return r.submission;
}

function refused(r: InboundResult): Refusal {
  if (r.ok) throw new Error('accepted');
  return r;
}

const XML = 'application/xml; charset=UTF-8';

describe('inbound: receiving on a channel', () => {
  const channel = gewerbeChannel();

  describe('an XGewerbeanzeige message', () => {
    it('gives tenant, service, external id and submitted-at from its own structure', async () => {
      const s = accepted(await receiveInbound(channel, fixture('gewerbeanmeldung.xml'), XML, clock));
      expect(s).to.include({
        channel: 'xgewerbeanzeige',
        tenant: '05513000',
        service: 'gewerbeanmeldung',
        externalId: '5b0d7c1e-3f8a-4c2e-9a61-2f4b8e0c7d15',
        submittedAt: '2026-12-01T09:15:00+01:00',
      });
      expect(s.receivedAt).to.equal(clock());
      expect(s.applicant).to.deep.equal({ familienname: 'Özdemir-Kühn', vorname: 'Jürgen & Ayşe' });
    });

    it('keeps the original bytes as they came: encoding declaration, CR LF, umlauts', async () => {
      const original = fixture('gewerbeanmeldung.xml');
      const s = accepted(await receiveInbound(channel, original, XML, clock));
      expect(s.content.bytes.equals(original)).to.equal(true);
      expect(s.content.bytes.subarray(0, 40).toString('latin1')).to.equal('<?xml version="1.0" encoding="UTF-8"?>\r\n');
      expect(s.content.mediaType).to.equal('application/xml; charset=utf-8');
    });

    it('keeps an ISO-8859-1 message byte for byte and reads it all the same', async () => {
      const original = fixture('gewerbeanmeldung-latin1.xml');
      const s = accepted(await receiveInbound(channel, original, 'text/xml', clock));
      expect(s.content.bytes.equals(original)).to.equal(true);
      expect(s.content.mediaType).to.equal('text/xml');
      expect(s.applicant).to.deep.include({ familienname: 'Özdemir-Kühn' });
    });

    it('keeps its own copy: the caller reusing its buffer changes nothing', async () => {
      const buffer = Buffer.from(fixture('gewerbeanmeldung.xml'));
      const s = accepted(await receiveInbound(channel, buffer, XML, clock));
      buffer.fill(0);
      expect(s.content.bytes.equals(fixture('gewerbeanmeldung.xml'))).to.equal(true);
    });

    it('gives the mapping the same document whatever prefixes the portal used', async () => {
      const a = accepted(await receiveInbound(channel, fixture('gewerbeanmeldung.xml'), XML, clock));
      for (const other of ['gewerbeanmeldung-default-ns.xml', 'gewerbeanmeldung-prefix-g.xml']) {
        const b = accepted(await receiveInbound(channel, fixture(other), XML, clock));
        expect(b.parsed).to.deep.equal(a.parsed);
        expect(b.data).to.deep.equal(a.data);
        expect(b.content.bytes.equals(fixture(other))).to.equal(true);
      }
    });

    it('makes the data the parsed document when the mapping gives none, with the listed arrays', async () => {
      const s = accepted(await receiveInbound(channel, fixture('gewerbeanmeldung-eine-taetigkeit.xml'), XML, clock));
      expect(s.data).to.equal(s.parsed);
      const taetigkeit = (s.data as any)['gew:gewerbeanzeige.anmeldung.0100']['gew:anzeige']['gew:taetigkeit'];
      expect(taetigkeit).to.be.an('array').with.length(1);
      expect(taetigkeit[0]['gew:wirtschaftszweig']).to.deep.equal({
        '@listURI': 'urn:de:destatis:wz',
        '@listVersionID': '2008',
        code: '47.64.1',
      });
    });
  });

  it('makes every element the XSD lets repeat an array, without listing it', async () => {
    const fromXsd = gewerbeChannel({ arrays: [] });
    expect(fromXsd.arrays).to.include('gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:gewerbetreibender/gew:staatsangehoerigkeit');
    const s = accepted(await receiveInbound(fromXsd, fixture('gewerbeanmeldung-eine-taetigkeit.xml'), XML, clock));
    const anzeige = (s.parsed as any)['gew:gewerbeanzeige.anmeldung.0100']['gew:anzeige'];
    expect(anzeige['gew:taetigkeit']).to.be.an('array').with.length(1);
    expect(anzeige['gew:gewerbetreibender']['gew:staatsangehoerigkeit']).to.be.an('array').with.length(1);
    const listedOnly = gewerbeChannel({ arrays: [], arraysFromXsd: false });
    const t = accepted(await receiveInbound(listedOnly, fixture('gewerbeanmeldung-eine-taetigkeit.xml'), XML, clock));
    expect((t.parsed as any)['gew:gewerbeanzeige.anmeldung.0100']['gew:anzeige']['gew:taetigkeit']).not.to.be.an('array');
  });

  describe('refusals (nothing to store)', () => {
    it('415 for a media type the channel does not take', async () => {
      const r = refused(await receiveInbound(channel, fixture('gewerbeanmeldung.xml'), 'application/json', clock));
      expect(r.status).to.equal(415);
      expect(r.detail).to.include('not application/json');
      expect(refused(await receiveInbound(channel, fixture('gewerbeanmeldung.xml'), undefined, clock)).status).to.equal(415);
      expect(
        accepted(await receiveInbound(channel, fixture('gewerbeanmeldung.xml'), 'application/xgewerbeanzeige+xml', clock)).tenant,
      ).to.equal('05513000');
    });

    it('422 with the element path when the XSD refuses, never the value', async () => {
      const r = refused(await receiveInbound(channel, fixture('gewerbeanmeldung-ungueltig.xml'), XML, clock));
      expect(r.status).to.equal(422);
      expect(r.path).to.equal('/gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:betriebsstaette/gew:postleitzahl');
      expect(r.detail).to.equal(
        "the document does not fit its schema: Element 'postleitzahl': [facet 'pattern'] the value is not accepted by the pattern '[0-9]{5}'.",
      );
      expect(JSON.stringify(r)).not.to.include('4587');
    });

    it('422 naming every place the XSD refuses, e.g. a missing activity and a bad date', async () => {
      const text = fixture('gewerbeanmeldung-eine-taetigkeit.xml')
        .toString('utf8')
        .replace('<xgewerbe:geburtsdatum>1984-02-29</xgewerbe:geburtsdatum>', '<xgewerbe:geburtsdatum>29.02.1984</xgewerbe:geburtsdatum>')
        .replace(/<xgewerbe:taetigkeit>[\s\S]*<\/xgewerbe:taetigkeit>\n/, '');
      const r = refused(await receiveInbound(channel, Buffer.from(text), XML, clock));
      expect(r.status).to.equal(422);
      expect(r.errors?.map((e) => e.path)).to.deep.equal([
        '/gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:gewerbetreibender/gew:geburtsdatum',
        '/gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:anzahlBeschaeftigte',
      ]);
      expect(r.errors?.map((e) => e.detail)).to.deep.equal([
        "Element 'geburtsdatum': the value is not a valid value of the atomic type 'xs:date'.",
        "Element 'anzahlBeschaeftigte': This element is not expected. Expected is ( taetigkeit ).",
      ]);
      expect(r.detail).to.include('(and 1 more)');
    });

    it('422 with the same element path whatever prefixes the document uses, the position where elements repeat', async () => {
      const bad = (name: string, from: RegExp, to: string) => Buffer.from(fixture(name).toString('utf8').replace(from, to));
      const expected = '/gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:taetigkeit[2]/gew:beginn';
      for (const [name, prefix] of [
        ['gewerbeanmeldung.xml', 'xgewerbe:'],
        ['gewerbeanmeldung-default-ns.xml', ''],
        ['gewerbeanmeldung-prefix-g.xml', 'g:'],
      ] as const) {
        // The second activity's start date becomes 1 March in German notation.
        const doc = bad(
          name,
          new RegExp(`(<${prefix}taetigkeit>[\\s\\S]*?<${prefix}taetigkeit>[\\s\\S]*?<${prefix}beginn>)2027-01-01`),
          '$101.03.2027',
        );
        const r = refused(await receiveInbound(channel, doc, XML, clock));
        expect(r.path, name).to.equal(expected);
      }
    });

    it('422 for another root element, even with the same local name in another namespace', async () => {
      const other = fixture('gewerbeanmeldung.xml').toString('utf8').replaceAll(GEW, 'urn:someone-else');
      const r = refused(await receiveInbound(channel, Buffer.from(other), XML, clock));
      expect(r).to.deep.include({ status: 422, path: '/' });
      expect(r.detail).to.equal(
        `the root element is {urn:someone-else}gewerbeanzeige.anmeldung.0100; channel xgewerbeanzeige takes {${GEW}}gewerbeanzeige.anmeldung.0100`,
      );
    });

    it('400 for hostile XML, before any schema sees it', async () => {
      const laughs = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>`;
      const r = refused(await receiveInbound(channel, Buffer.from(laughs), XML, clock));
      expect(r).to.deep.equal({ ok: false, status: 400, detail: 'DOCTYPE and entity declarations are not allowed' });
      const xxe = `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><xgewerbe:gewerbeanzeige.anmeldung.0100 xmlns:xgewerbe="${GEW}">&x;</xgewerbe:gewerbeanzeige.anmeldung.0100>`;
      expect(refused(await receiveInbound(channel, Buffer.from(xxe), XML, clock)).status).to.equal(400);
    });

    it('400 for XML that is not well-formed or not in its encoding', async () => {
      expect(refused(await receiveInbound(channel, Buffer.from('<a><b></a>'), XML, clock)).detail).to.match(/^not well-formed XML/);
      // The Content-Type's charset wins over the declaration (RFC 7303): ISO-8859-1 bytes sent as UTF-8.
      const latin1 = fixture('gewerbeanmeldung-latin1.xml');
      expect(refused(await receiveInbound(channel, latin1, XML, clock))).to.deep.include({
        status: 400,
        detail: 'the document is not valid utf-8',
      });
    });

    it('422 when the inbound mapping cannot read the document (a message type it does not know)', async () => {
      const noXsd = gewerbeChannel({ xsd: undefined });
      const text = fixture('gewerbeanmeldung.xml').toString('utf8').replace('<code>0100</code>', '<code>0200</code>');
      const r = refused(await receiveInbound(noXsd, Buffer.from(text), XML, clock));
      expect(r.status).to.equal(422);
      expect(r.detail).to.match(
        /^the inbound mapping could not read the document: gewerbeanmeldung-eingang\.jsonata:\d+:\d+.*\$code: the value is not in the code list/,
      );
    });

    it('422 with the field when the mapping gives no valid tenant', async () => {
      const text = fixture('gewerbeanmeldung.xml')
        .toString('utf8')
        .replace('<xgewerbe:kennung>05513000</xgewerbe:kennung>', '<xgewerbe:kennung>Gelsenkirchen</xgewerbe:kennung>');
      const r = refused(await receiveInbound(channel, Buffer.from(text), XML, clock));
      expect(r).to.deep.include({ status: 422, path: '/tenant' });
      expect(r.detail).to.equal(
        'the inbound mapping gewerbeanmeldung-eingang.jsonata gave no valid tenant: an official key: 8-digit AGS or 5-digit district key',
      );
    });
  });

  describe('a FIM-style JSON document', () => {
    const fim = fimChannel();

    it('is validated, mapped, and kept as it came', async () => {
      const original = fixture('fim-hundeanmeldung.json');
      const s = accepted(await receiveInbound(fim, original, 'application/json', clock));
      expect(s).to.include({
        tenant: '05513000',
        service: 'hundeanmeldung',
        externalId: 'HA-2026-000123',
        submittedAt: '2026-12-01T10:00:00+01:00',
      });
      expect(s.applicant).to.deep.equal({ familienname: 'Kowalski', vorname: 'Maria' });
      expect(s.data).to.deep.equal({ hund: { rasse: 'Labrador', geburtsdatum: '2025-06-01', gefaehrlich: false } });
      expect(s.content).to.deep.equal({ bytes: original, mediaType: 'application/json' });
    });

    it('422 with every offending JSON pointer', async () => {
      const doc = JSON.parse(fixture('fim-hundeanmeldung.json').toString('utf8'));
      doc.hund.geburtsdatum = '01.06.2025';
      delete doc.antragsteller.vorname;
      doc.extra = true;
      const r = refused(await receiveInbound(fim, Buffer.from(JSON.stringify(doc)), 'application/json', clock));
      expect(r.status).to.equal(422);
      expect(r.path).to.equal('/extra');
      expect(r.errors).to.deep.equal([
        { path: '/extra', detail: 'not allowed here' },
        { path: '/antragsteller/vorname', detail: 'required' },
        { path: '/hund/geburtsdatum', detail: 'must match format "date"' },
      ]);
      expect(r.detail).to.equal('the document does not fit its schema: /extra not allowed here (and 2 more)');
    });

    it('400 for a body that is not JSON, without quoting it', async () => {
      const r = refused(await receiveInbound(fim, Buffer.from('{"meta": geheim}'), 'application/json', clock));
      expect(r).to.deep.equal({ ok: false, status: 400, detail: 'the body is not valid JSON' });
    });

    it('422 for a mapping that gives a field no submission has', async () => {
      const r = refused(
        await receiveInbound(fimChannel('tippfehler-eingang.jsonata'), fixture('fim-hundeanmeldung.json'), 'application/json', clock),
      );
      expect(r.status).to.equal(422);
      expect(r.errors).to.deep.include({ path: '/externalID', detail: 'not a field the mapping can give (externalID)' });
      expect(r.errors).to.deep.include({ path: '/externalId', detail: 'required' });
    });
  });

  describe('configuration', () => {
    it('refuses a namespace given two prefixes, and an unknown document kind', () => {
      const doc = { kind: 'xml', root: { namespace: GEW, element: 'x' }, namespaces: { a: GEW, b: GEW } };
      expect(inboundChannelSchema.safeParse({ name: 'x', document: doc, mapping: 'm.jsonata' }).success).to.equal(false);
      expect(inboundChannelSchema.safeParse({ name: 'x', document: { kind: 'csv' }, mapping: 'm.jsonata' }).success).to.equal(false);
    });

    it('compiles schema and mapping at start-up: a missing XSD fails then, not at the first message', () => {
      expect(() => gewerbeChannel({ xsd: 'missing.xsd' })).to.throw(/schema .*missing\.xsd not found/);
    });
  });
});
