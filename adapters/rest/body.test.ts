import http from 'node:http';
import { createHash } from 'node:crypto';
import express from 'express';
import { expect } from 'chai';
import type { AdapterInstance, OutboundAttachment, OutboundMessage } from '../../src/sdk/index.ts';
import rest from './index.ts';
import { capturingLogger, closeServer, dctx, failure, flushLogs, jsonMessage, listen } from './test-helpers.ts';
import { systemClock } from '../../src/clock.ts';

// Form and multipart bodies, received by a real express server and parsed the way a back office would:
// URLSearchParams for the form, the fetch API's multipart parser (Response.formData()) for multipart.

const CITIZEN = 'Erika Mustermann';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function attachment(filename: string, mediaType: string, content: Buffer): OutboundAttachment {
  return { filename, mediaType, size: content.length, sha256: createHash('sha256').update(content).digest('hex'), content };
}

/** The multipart body as a back office's framework would see it. */
async function parseMultipart(r: Received): Promise<FormData> {
  return new Response(new Uint8Array(r.body), { headers: { 'content-type': String(r.headers['content-type']) } }).formData();
}

describe('rest adapter: bodies', () => {
  let server: http.Server;
  let base = '';
  let received: Received[] = [];
  const lines: string[] = [];
  const logger = capturingLogger(lines);
  const adapters: AdapterInstance[] = [];

  async function adapter(options: Record<string, unknown>): Promise<AdapterInstance> {
    const instance = await rest.create(rest.options.parse(options), { clock: systemClock, targetId: 'body-test', logger, timeoutMs: 2000 });
    adapters.push(instance);
    return instance;
  }
  const last = (): Received => {
    const r = received.at(-1);
    if (!r) throw new Error('the server received nothing');
    return r;
  };

  before(async () => {
    const app = express();
    app.use(express.raw({ type: () => true, limit: '5mb' }));
    app.post('/in', (req, res) => {
      received.push({ headers: req.headers, body: Buffer.from(req.body as Buffer) });
      res.status(201).json({ id: 'F-1' });
    });
    server = http.createServer(app);
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  beforeEach(() => {
    received = [];
  });
  after(async () => {
    await Promise.all(adapters.map((a) => a.close?.()));
    await closeServer(server);
  });

  describe('raw (the default)', () => {
    it('sends the text as is with the message content type', async () => {
      const a = await adapter({ url: `${base}/in` });
      const m: OutboundMessage = { ...jsonMessage({ a: 1 }), text: '{ "a" : 1 }' };
      expect(await a.deliver(m, dctx('raw'))).to.include({ ok: true });
      expect(last().body.toString()).to.equal('{ "a" : 1 }');
      expect(last().headers['content-type']).to.equal('application/json');
      expect(rest.options.parse({ url: base }).body).to.equal(undefined);
      expect(rest.options.safeParse({ url: base, body: 'xml' }).success).to.equal(false);
    });
  });

  describe('form', () => {
    it('sends a flat object as application/x-www-form-urlencoded, in the mapping’s order', async () => {
      const a = await adapter({ url: `${base}/in`, body: 'form', headers: { 'X-Mandant': '05513000' } });
      const body = { name: CITIZEN, straße: 'Heide & Co = 1+1', alter: 42, hund: true, bemerkung: null, leer: '' };
      const ctx = dctx('form');
      expect(await a.deliver(jsonMessage(body), ctx)).to.include({ ok: true, httpStatus: 201 });
      const r = last();
      expect(r.headers['content-type']).to.equal('application/x-www-form-urlencoded');
      expect(r.headers['idempotency-key']).to.equal(ctx.idempotencyKey);
      expect(r.headers['x-mandant']).to.equal('05513000');
      const parsed = new URLSearchParams(r.body.toString('utf8'));
      expect([...parsed.entries()]).to.deep.equal([
        ['name', CITIZEN],
        ['straße', 'Heide & Co = 1+1'],
        ['alter', '42'],
        ['hund', 'true'],
        ['bemerkung', ''],
        ['leer', ''],
      ]);
    });

    it('refuses nested values, arrays and XML as a permanent mapping-shape error, without sending', async () => {
      const a = await adapter({ url: `${base}/in`, body: 'form' });
      const nested = failure(await a.deliver(jsonMessage({ name: CITIZEN, adresse: { strasse: 'Heidestraße 17' } }), dctx('form')));
      expect(nested).to.deep.equal({
        ok: false,
        retryable: false,
        errorKind: 'mapping-shape',
        error: 'body: form sends flat fields only; field "adresse" holds an object: flatten it in the mapping',
      });
      const list = failure(await a.deliver(jsonMessage({ hunde: ['Bello'] }), dctx('form')));
      expect(list.error).to.contain('field "hunde" holds an array');
      const top = failure(await a.deliver(jsonMessage([CITIZEN]), dctx('form')));
      expect(top).to.include({ retryable: false, errorKind: 'mapping-shape' });
      expect(top.error).to.contain('the mapping produced an array');
      const xml: OutboundMessage = { format: 'xml', body: undefined, text: '<a/>', contentType: 'application/xml', attachments: [] };
      expect(failure(await a.deliver(xml, dctx('form'))).error).to.contain('an XML message');
      expect(received).to.have.length(0);
      await flushLogs();
      expect(lines.join('\n')).not.to.contain('Heidestra').and.not.to.contain('Bello').and.not.to.contain(CITIZEN);
    });
  });

  describe('multipart', () => {
    // Binary content that contains CR LF and dashes, to prove the parts are framed correctly.
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\r\n--\r\n'), Buffer.from([0, 1, 2, 255, 254, 13, 10, 45, 45])]);
    const png = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10, 0, 0]);
    const message: OutboundMessage = {
      ...jsonMessage({ antrag: { name: CITIZEN } }),
      attachments: [attachment('Nachweis Hund.pdf', 'application/pdf', pdf), attachment('Foto "Bello" – ä.png', 'image/png', png)],
    };

    it('sends the message as a part with its content type and each attachment as a file part', async () => {
      const a = await adapter({ url: `${base}/in`, body: 'multipart', referencePointer: '/id' });
      const ctx = dctx('mp');
      expect(await a.deliver(message, ctx)).to.deep.equal({ ok: true, reference: 'F-1', httpStatus: 201 });
      const r = last();
      expect(r.headers['content-type']).to.match(/^multipart\/form-data; boundary=----AmtsboteBoundary[0-9a-f]{32}$/);
      expect(r.headers['idempotency-key']).to.equal(ctx.idempotencyKey);
      expect(Number(r.headers['content-length'])).to.equal(r.body.length);

      const form = await parseMultipart(r);
      expect([...form.keys()]).to.deep.equal(['message', 'attachments', 'attachments']);
      // A part without a filename is a plain field: the mapped text, byte for byte.
      expect(form.get('message')).to.equal(message.text);
      const files = form.getAll('attachments') as File[];
      expect(files.map((x) => [x.name, x.type])).to.deep.equal([
        ['Nachweis Hund.pdf', 'application/pdf'],
        // Quotes travel percent-encoded (as browsers send them) and the parser decodes them.
        ['Foto "Bello" – ä.png', 'image/png'],
      ]);
      expect(Buffer.from(await files[0]!.arrayBuffer()).equals(pdf)).to.equal(true);
      expect(Buffer.from(await files[1]!.arrayBuffer()).equals(png)).to.equal(true);

      // The part headers as written on the wire.
      const raw = r.body.toString('latin1');
      expect(raw).to.contain('Content-Disposition: form-data; name="message"\r\nContent-Type: application/json\r\n\r\n');
      expect(raw).to.contain(
        'Content-Disposition: form-data; name="attachments"; filename="Nachweis Hund.pdf"\r\nContent-Type: application/pdf\r\n\r\n',
      );
      expect(r.body.toString('utf8')).to.contain('filename="Foto %22Bello%22 – ä.png"');
    });

    it('puts the same bytes on the wire for the same message (boundary included), other bytes for another', async () => {
      const a = await adapter({ url: `${base}/in`, body: 'multipart' });
      await a.deliver(message, dctx('mp'));
      await a.deliver(message, dctx('mp'));
      const other = { ...message, attachments: message.attachments.slice(0, 1) };
      await a.deliver(other, dctx('mp'));
      expect(received[0]!.body.equals(received[1]!.body)).to.equal(true);
      expect(received[0]!.headers['content-type']).to.equal(received[1]!.headers['content-type']);
      expect(received[2]!.headers['content-type']).not.to.equal(received[0]!.headers['content-type']);
    });

    it('uses the configured field names, a message filename, and a safe type for odd media types', async () => {
      const a = await adapter({
        url: `${base}/in`,
        body: 'multipart',
        multipart: { messageField: 'antrag', messageFilename: 'antrag.json', attachmentField: 'anlagen[]' },
      });
      const odd: OutboundMessage = { ...message, attachments: [attachment('x.bin', 'text/plain\r\nX-Evil: 1', Buffer.from('x'))] };
      expect(await a.deliver(odd, dctx('mp'))).to.include({ ok: true });
      const form = await parseMultipart(last());
      const part = form.get('antrag') as File;
      expect(part.name).to.equal('antrag.json');
      expect(part.type).to.equal('application/json');
      expect(await part.text()).to.equal(message.text);
      const file = form.get('anlagen[]') as File;
      expect(file.type).to.equal('application/octet-stream');
      expect(last().body.toString('latin1')).not.to.contain('X-Evil');
    });

    it('sends a message without attachments as the message part alone', async () => {
      const a = await adapter({ url: `${base}/in`, body: 'multipart' });
      expect(await a.deliver(jsonMessage({ a: 1 }), dctx('mp'))).to.include({ ok: true });
      const form = await parseMultipart(last());
      expect([...form.entries()]).to.deep.equal([['message', '{"a":1}']]);
    });

    it('options: multipart only with body multipart, distinct field names, plain field names', () => {
      const ok = rest.options.parse({ url: base, body: 'multipart', multipart: {} });
      expect(ok.multipart).to.deep.equal({ messageField: 'message', attachmentField: 'attachments' });
      for (const o of [
        { url: base, multipart: { messageField: 'm' } },
        { url: base, body: 'raw', multipart: {} },
        { url: base, body: 'multipart', multipart: { messageField: 'a', attachmentField: 'a' } },
        { url: base, body: 'multipart', multipart: { messageField: 'a"b' } },
        { url: base, body: 'multipart', multipart: { messageFilename: 'a\r\nb' } },
        { url: base, body: 'multipart', multipart: { extra: 1 } },
      ]) {
        expect(rest.options.safeParse(o).success, JSON.stringify(o)).to.equal(false);
      }
    });
  });

  describe('reserved headers', () => {
    it('cannot be set through headers, in any case and with any body or auth', () => {
      const reserved = [
        'Authorization',
        'content-type',
        'CONTENT-LENGTH',
        'Host',
        'Transfer-Encoding',
        'Connection',
        'Keep-Alive',
        'Upgrade',
        'TE',
        'Trailer',
        'Expect',
        'X-Amtsbote-Delivery',
        'Idempotency-Key',
      ];
      const auths = [
        { type: 'none' },
        { type: 'bearer', token: 't' },
        { type: 'oauth2', tokenUrl: 'https://idp.example/token', clientId: 'c', clientSecret: 's' },
      ];
      for (const name of reserved) {
        for (const body of ['raw', 'form', 'multipart']) {
          for (const auth of auths) {
            const r = rest.options.safeParse({ url: 'https://fv.example', body, auth, headers: { [name]: 'x' } });
            expect(r.success, `${name} ${body} ${auth.type}`).to.equal(false);
          }
        }
      }
      const key = rest.options.safeParse({
        url: 'https://fv.example',
        auth: { type: 'api-key', header: 'X-Key', value: 'v' },
        headers: { 'x-key': 'y' },
      });
      expect(key.success).to.equal(false);
    });

    it('what the adapter sets wins on the wire', async () => {
      const a = await adapter({ url: `${base}/in`, body: 'form', headers: { 'X-Mandant': '05513000', Accept: 'application/xml' } });
      const ctx = dctx('hdr');
      await a.deliver(jsonMessage({ a: '1' }), ctx);
      const h = last().headers;
      expect(h['content-type']).to.equal('application/x-www-form-urlencoded');
      expect(h['x-amtsbote-delivery']).to.equal(ctx.deliveryId);
      expect(h.accept).to.equal('application/xml'); // not reserved: a back office may want XML answers
    });
  });
});
