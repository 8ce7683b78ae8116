import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { compileMapping, MappingError, renderMessage } from '../mapping/engine.ts';
import { compileChannel, inboundChannelSchema, receiveInbound } from './channel.ts';

const GEW = 'http://www.xgewerbeanzeige.de/spezifikation/version1_4';
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixture = (name: string) => readFileSync(fixtures + name);
const mapping = compileMapping(fixtures + 'mappings', 'gewerbeanmeldung-fachverfahren.jsonata');

describe('inbound: the pass-through target format (original)', () => {
  it('sends the original XÖV document unchanged: the same bytes, its media type, no mapping run', async () => {
    const original = { bytes: fixture('gewerbeanmeldung.xml'), mediaType: 'application/xml; charset=utf-8' };
    const m = await renderMessage(mapping, { not: 'read' }, 'original', undefined, original);
    expect(m.bytes?.equals(fixture('gewerbeanmeldung.xml'))).to.equal(true);
    expect(m).to.include({ format: 'xml', contentType: 'application/xml; charset=utf-8', body: undefined });
    // Adapters that still send text as UTF-8 send the same bytes, CR LF and all.
    expect(Buffer.from(m.text, 'utf8').equals(original.bytes)).to.equal(true);
  });

  it('keeps a byte order mark and an ISO-8859-1 document as they are; text is the Unicode document', async () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fixture('gewerbeanmeldung.xml')]);
    expect(
      Buffer.from(
        (await renderMessage(mapping, {}, 'original', undefined, { bytes: bom, mediaType: 'application/xml' })).text,
        'utf8',
      ).equals(bom),
    ).to.equal(true);
    const latin1 = fixture('gewerbeanmeldung-latin1.xml');
    const m = await renderMessage(mapping, {}, 'original', undefined, { bytes: latin1, mediaType: 'text/xml' });
    expect(m.bytes?.equals(latin1)).to.equal(true);
    expect(m.text).to.include('Özdemir-Kühn');
  });

  it('passes JSON on as JSON, its body the parsed document', async () => {
    const bytes = fixture('fim-hundeanmeldung.json');
    const m = await renderMessage(mapping, {}, 'original', undefined, { bytes, mediaType: 'application/json' });
    expect(m.format).to.equal('json');
    expect(m.bytes?.equals(bytes)).to.equal(true);
    expect((m.body as { meta: { ags: string } }).meta.ags).to.equal('05513000');
  });

  it('fails permanently, as a mapping error, for a submission without an original (one that came in an envelope)', async () => {
    try {
      await renderMessage(mapping, {}, 'original');
      expect.fail('rendered');
    } catch (e) {
      expect(e).to.be.instanceOf(MappingError);
      expect((e as MappingError).describe()).to.equal(
        'gewerbeanmeldung-fachverfahren.jsonata: format original needs a submission that came in on an inbound channel; this one has no original document',
      );
    }
  });

  it('from intake to message: what the channel received is what the pass-through sends, and a JSON target maps from the structure', async () => {
    const channel = compileChannel(
      inboundChannelSchema.parse({
        name: 'xgewerbeanzeige',
        document: {
          kind: 'xml',
          root: { namespace: GEW, element: 'gewerbeanzeige.anmeldung.0100' },
          namespaces: { gew: GEW },
          arrays: ['gew:gewerbeanzeige.anmeldung.0100/gew:anzeige/gew:taetigkeit'],
          xsd: 'xgewerbeanzeige.xsd',
        },
        mapping: 'gewerbeanmeldung-eingang.jsonata',
      }),
      { mappingsDir: fixtures + 'mappings', configDir: fixtures },
    );
    const r = await receiveInbound(channel, fixture('gewerbeanmeldung-eine-taetigkeit.xml'), 'application/xml', () => 0);
    if (!r.ok) throw new Error(r.detail);
    const s = r.submission;
    const passed = await renderMessage(mapping, {}, 'original', undefined, s.content);
    expect(passed.bytes?.equals(fixture('gewerbeanmeldung-eine-taetigkeit.xml'))).to.equal(true);

    const mapped = await renderMessage(mapping, { submission: { externalId: s.externalId }, data: s.data }, 'json');
    expect(mapped.body).to.deep.equal({
      aktenzeichenAntrag: '0e8e4d3a-8f0b-4b39-a3a6-6a4f3c0d2b77',
      name: 'Özdemir-Kühn',
      taetigkeiten: [{ text: 'Einzelhandel mit Fahrrädern', wz2008: '47.64.1', wzVersion: '2008', ab: '2027-01-01' }],
    });
  });
});
