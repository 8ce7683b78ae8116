import { expect } from 'chai';
import { readAnswer } from './client.ts';
import { buildEnvelope, contentContainerXml } from './envelope.ts';
import { decodeBody, encodeMtom, MtomError, resolveXop } from './mtom.ts';

// MTOM/XOP as the adapter sends it and as an XTA server may answer (getMessage with its content as MIME parts).

describe('xta2 MTOM/XOP', () => {
  const action = 'http://www.osci.eu/ws/2008/05/transport/urn/messageTypes/MsgBoxFetchRequest';
  // Bytes that look like MIME structure: CRLF, dashes, a header line.
  const tricky = Buffer.concat([Buffer.from('\r\n--MIMEBoundary_x\r\nContent-ID: <no>\r\n\r\n'), Buffer.from([0, 255, 13, 10, 45, 45])]);
  const envelope = buildEnvelope({
    action,
    to: 'https://xta.example/msgbox',
    messageId: 'urn:uuid:1',
    body: contentContainerXml({ contentId: 'm@x', mediaType: 'application/xml', size: 5 }, [
      { contentId: 'a@x', mediaType: 'application/octet-stream', filename: 'daten.bin', size: tricky.length },
    ]),
  });
  const parts = [
    { contentId: 'm@x', mediaType: 'application/xml', content: Buffer.from('<a/>\n') },
    { contentId: 'a@x', mediaType: 'application/octet-stream', content: tricky },
  ];

  it('packs the envelope and its parts and reads them back unchanged', () => {
    const packed = encodeMtom(envelope, parts, action);
    expect(encodeMtom(envelope, parts, action).body.equals(packed.body), 'the same message gives the same bytes').to.equal(true);
    const decoded = decodeBody(packed.contentType, packed.body);
    expect(decoded.envelope).to.equal(envelope);
    expect(decoded.action).to.equal(action);
    expect([...decoded.parts.values()].map((p) => [p.contentId, p.mediaType, p.content.toString('hex')])).to.deep.equal(
      parts.map((p) => [p.contentId, p.mediaType, p.content.toString('hex')]),
    );
    const resolved = resolveXop(decoded.envelope, decoded.parts);
    expect(resolved).to.not.include('xop:Include');
    expect(resolved).to.include(tricky.toString('base64'));
  });

  it('reads an MTOM answer as its infoset', () => {
    const packed = encodeMtom(envelope, parts, action);
    const answer = readAnswer({ status: 200, type: packed.contentType, body: packed.body });
    if (!answer.ok) throw new Error('expected an answer');
    const c = (answer.body.GenericContentContainer as Record<string, Record<string, Record<string, string>>>).ContentContainer!;
    expect(Buffer.from(c.Attachment!['#text']!, 'base64').equals(tricky)).to.equal(true);
    expect(c.Attachment!['@filename']).to.equal('daten.bin');
  });

  it('refuses a reference to a part that is not there, and a multipart without its end', () => {
    const packed = encodeMtom(envelope, parts.slice(0, 1), action);
    const decoded = decodeBody(packed.contentType, packed.body);
    expect(() => resolveXop(decoded.envelope, decoded.parts)).to.throw(MtomError, /names a MIME part that is not in the message/);
    const cut = packed.body.subarray(0, packed.body.length - 40);
    expect(() => decodeBody(packed.contentType, cut)).to.throw(MtomError);
  });
});
