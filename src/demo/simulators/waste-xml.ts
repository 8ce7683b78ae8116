// Herten's and Marl's waste office: Kreis Recklinghausen's XML intake. Takes a Sperrmüll-Auftrag as
// application/xml, validates it against config/xsd/sperrmuell-auftrag.xsd (which imports kommunal-typen.xsd),
// the same schema set the hub's xml-http adapter checks before sending, and answers with an XML Quittung.
import path from 'node:path';
import express, { type Request, type Response } from 'express';
import { parseUntrustedXml, type UntrustedXmlShape } from '../../http/untrusted-xml.ts';
import { loadSchema } from '../../mapping/xsd/index.ts';
import { IDEMPOTENCY_KEY, createApp, finishApp, injectOutages, pad6, sendProblem, type SimContext } from './common.ts';
import { escapeXml, sendXmlValidationProblem, xmlFieldErrors } from './xml.ts';
import { KREIS_RE_TOWNS } from './waste-rest.ts';
import { PROJECT_ROOT } from '../../project-root.ts';

export const WASTE_XML_PATH = '/abfall/xml/auftraege';
export const WASTE_XML_XSD = path.join(PROJECT_ROOT, 'config/xsd/sperrmuell-auftrag.xsd');
export const SPERRMUELL_NS = 'urn:kreis-re:abfall:sperrmuell:1';
export const KOMMUNAL_NS = 'urn:kreis-re:kommunal:1';

/** The towns whose pickups this intake takes; the district's other towns use its REST system or their own. */
export const WASTE_XML_TOWNS: Readonly<Record<string, string>> = {
  '05562020': KREIS_RE_TOWNS['05562020']!,
  '05562024': KREIS_RE_TOWNS['05562024']!,
};

const XML_TYPES = ['application/xml', 'text/xml', 'application/*+xml'];

// Only read after the schema accepted the document: the root element and the town.
const READER: UntrustedXmlShape = { removeNSPrefix: true, entities: 'keep' };

const xmlAnswer = (root: string, children: Record<string, string>): string =>
  `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="${SPERRMUELL_NS}">` +
  Object.entries(children)
    .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
    .join('') +
  `</${root}>`;

/** The app, and `dispose` to release the compiled schema set when the simulator closes. */
export function createWasteXmlApp(ctx: SimContext): { app: express.Express; dispose(): void } {
  // Compiled once (loadSchema caches by path); a broken schema set fails the start, not the first request.
  const schema = loadSchema(WASTE_XML_XSD);
  const app = createApp();
  const outages = injectOutages(ctx);
  const flow = ['angelegt', 'disponiert', 'erledigt'] as const;

  const sendXml = (res: Response, status: number, xml: string) => res.status(status).type('application/xml; charset=utf-8').send(xml);

  app.post(WASTE_XML_PATH, outages, express.raw({ type: XML_TYPES, limit: '30mb' }), (req: Request, res: Response) => {
    if (!req.is(XML_TYPES) || !Buffer.isBuffer(req.body)) {
      return sendProblem(res, 415, 'media-type', 'Unsupported media type', 'send application/xml');
    }
    const key = req.get('Idempotency-Key');
    if (!key || !IDEMPOTENCY_KEY.test(key)) {
      return sendXmlValidationProblem(res, [
        { element: 'header:Idempotency-Key', detail: key ? 'expected 1–255 visible ASCII characters' : 'required' },
      ]);
    }
    const seen = ctx.book.findByKey(WASTE_XML_PATH, key);
    if (seen) {
      res.set('Idempotent-Replayed', 'true').location(`${WASTE_XML_PATH}/${seen.reference}`);
      return sendXml(res, 200, xmlAnswer('Quittung', { Aktenzeichen: seen.reference }));
    }
    const bytes = req.body;
    const result = schema.validate(bytes);
    // Paths are read from the text; the schema already decoded it by its declaration, UTF-8 is what the hub sends.
    const text = bytes.toString('utf8');
    if (!result.ok) return sendXmlValidationProblem(res, xmlFieldErrors(text, result.errors), result.total);
    // The schema set also declares the answers (Quittung, Auftragsstatus): only the order itself is a request.
    const doc = parseUntrustedXml(text, READER) as Record<string, Record<string, unknown> | undefined>;
    const order = doc['SperrmuellAuftrag'];
    if (!order) {
      const root = Object.keys(doc).find((k) => !k.startsWith('?')) ?? '';
      return sendXmlValidationProblem(res, [
        { element: `/${root}`, detail: `expected the root element {${SPERRMUELL_NS}}SperrmuellAuftrag` },
      ]);
    }
    const ags = String(order['gemeindeschluessel']);
    if (!Object.hasOwn(WASTE_XML_TOWNS, ags)) {
      // Catches a route that sends another town here: its pickups belong to another system.
      return sendXmlValidationProblem(res, [
        {
          element: '/SperrmuellAuftrag/gemeindeschluessel',
          detail: `expected the AGS of a town this intake serves (${Object.keys(WASTE_XML_TOWNS).join(', ')})`,
        },
      ]);
    }
    const reference = `KRE-ABF-${ags}-${pad6(ctx.book.next(`kre-abf-${ags}`))}`;
    ctx.book.add({
      kind: ctx.kind,
      dialect: 'kreis-re-xml',
      collection: WASTE_XML_PATH,
      ags,
      reference,
      idempotencyKey: key,
      flow,
      body: text,
    });
    // One line per case, the reference only: the body is a citizen's data.
    ctx.log(`${ctx.kind}: kreis-re-xml filed ${reference}`);
    res.location(`${WASTE_XML_PATH}/${reference}`);
    sendXml(res, 201, xmlAnswer('Quittung', { Aktenzeichen: reference }));
  });

  app.get(`${WASTE_XML_PATH}/:reference`, outages, (req: Request, res: Response) => {
    const c = ctx.book.find(String(req.params['reference'] ?? ''));
    if (!c || c.collection !== WASTE_XML_PATH) return sendProblem(res, 404, 'not-found', 'Not found', 'no case with this reference');
    sendXml(res, 200, xmlAnswer('Auftragsstatus', { Aktenzeichen: c.reference, Status: ctx.book.status(c) }));
  });

  finishApp(app);
  return { app, dispose: () => schema.dispose() };
}
