// Dorsten's legacy waste system: no API, a batch job that polls a drop folder. Every `intervalMs` it reads the
// new `*.xml` files, checks them, and answers beside each file with `<name>.ok` (the reference) or `<name>.err`
// (one line: what is wrong) — the acknowledgement the hub's file-drop adapter waits for.
import { parseUntrustedXml, UntrustedXmlError, type UntrustedXmlShape } from '../../http/untrusted-xml.ts';
import { z } from 'zod';
import { startAnswerFolder, type RunningAnswerFolder } from './answer-folder.ts';
import { attachmentMediaType, base64, email, fieldErrors, germanDate, pad6, phone, postalCode, text, type SimContext } from './common.ts';

export const DORSTEN = '05562012';
/** What an injected failure writes into `.err`: the night run fell over, nothing is wrong with the file. */
export const BATCH_FAILURE = 'Verarbeitungsfehler im Nachtlauf';
const COLLECTION = 'dorsten';

/** Item kinds of the legacy system: 10 Möbel, 20 Matratze, 30 Teppich, 40 Elektro-Großgerät, 50 Altholz, 90 Sonstiges. */
export const DORSTEN_ARTEN = ['10', '20', '30', '40', '50', '90'] as const;

const adresse = { STRASSE: text(100), HAUSNR: text(10), PLZ: postalCode, ORT: text(100) };

/** The file as fast-xml-parser reads it: attributes as `@_NAME`, an element's text beside attributes as `#text`. */
export const dorstenAuftrag = z.strictObject({
  '@_VERSION': z.literal('2', { error: (iss) => (iss.input === undefined ? 'required' : 'expected "2"') }),
  VORGANG: text(100),
  GEMEINDE: z.string().refine((s) => s === DORSTEN, `expected ${DORSTEN} (Dorsten)`),
  EINGANG: germanDate,
  ANTRAGSTELLER: z.strictObject({
    ANREDE: z.enum(['Herr', 'Frau', 'Divers']).optional(),
    VORNAME: text(100),
    NACHNAME: text(100),
    ...adresse,
    TELEFON: phone.optional(),
    EMAIL: email.optional(),
  }),
  ABHOLUNG: z.strictObject({ ...adresse, TERMIN: germanDate, STANDORT: z.enum(['S', 'H']).optional() }),
  POSITIONEN: z.strictObject({
    POSITION: z
      .array(
        z.strictObject({
          '@_ART': z.enum(DORSTEN_ARTEN),
          '@_ANZAHL': z.string().regex(/^[1-9]\d?$/, 'expected a whole number 1–99'),
          '#text': text(200).optional(),
        }),
      )
      .min(1, 'at least one item')
      .max(30),
  }),
  BEMERKUNG: text(1000).optional(),
  ANLAGEN: z
    .strictObject({
      ANLAGE: z
        .array(z.strictObject({ '@_NAME': text(255), '@_TYP': attachmentMediaType, '#text': base64 }))
        .min(1)
        .max(10),
    })
    .optional(),
});

const BATCH_SHAPE: UntrustedXmlShape = {
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  validate: true,
  isArray: (_name, jpath) => jpath === 'SPERRMUELL.POSITIONEN.POSITION' || jpath === 'SPERRMUELL.ANLAGEN.ANLAGE',
};

/** `/POSITIONEN/POSITION/0/@_ART` → `SPERRMUELL/POSITIONEN/POSITION[1]/@ART`: how the job's operators name a field. */
function fieldPath(pointer: string): string {
  let out = 'SPERRMUELL';
  for (const token of pointer.split('/').slice(1)) {
    if (/^\d+$/.test(token)) out += `[${Number(token) + 1}]`;
    else if (token === '#text') continue;
    else out += '/' + (token.startsWith('@_') ? '@' + token.slice(2) : token);
  }
  return out;
}

/** The problems of one file, first one first; empty when it can be filed. Names fields and rules, never values. */
export function checkBatchFile(content: string): { problems: string[]; order?: z.output<typeof dorstenAuftrag> } {
  let doc: Record<string, unknown>;
  try {
    doc = parseUntrustedXml(content, BATCH_SHAPE) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof UntrustedXmlError && e.at) return { problems: [`not well-formed XML (line ${e.at.line})`] };
    if (e instanceof UntrustedXmlError && e.fault === 'doctype') return { problems: ['a DOCTYPE, which the job does not read'] };
    return { problems: ['not well-formed XML'] };
  }
  const roots = Object.keys(doc);
  if (roots.length !== 1 || roots[0] !== 'SPERRMUELL') return { problems: [`/${roots[0] ?? ''}: expected the root element SPERRMUELL`] };
  const parsed = dorstenAuftrag.safeParse(doc['SPERRMUELL']);
  if (!parsed.success) return { problems: fieldErrors(parsed.error).map((e) => `${fieldPath(e.pointer)}: ${e.detail}`) };
  return { problems: [], order: parsed.data };
}

export interface WasteBatchOptions {
  /** The drop folder; relative paths resolve against the process's working directory. Created if missing. */
  directory: string;
  intervalMs: number;
}

export type RunningBatch = RunningAnswerFolder;

export function startWasteBatch(ctx: SimContext, opts: WasteBatchOptions): Promise<RunningBatch> {
  const flow = ['angelegt', 'disponiert', 'erledigt'] as const;
  return startAnswerFolder(ctx, {
    ...opts,
    extension: '.xml',
    folder: 'drop folder',
    failure: { text: BATCH_FAILURE, label: 'dorsten-batch' },
    answer(name, bytes) {
      const content = bytes.toString('utf8');
      const { problems, order } = checkBatchFile(content);
      if (!order) {
        const more = problems.length > 1 ? ` (+${problems.length - 1} more)` : '';
        ctx.log(`${ctx.kind}: dorsten-batch rejected ${name}`);
        return { err: `${problems[0]}${more}` };
      }
      // The legacy system keys cases by VORGANG: the same case in a second file gets the first reference.
      let reference = ctx.book.findByKey(COLLECTION, order.VORGANG)?.reference;
      if (!reference) {
        const year = new Date(ctx.now()).getFullYear();
        reference = `DOR-SP-${year}-${pad6(ctx.book.next(`dor-sp-${year}`))}`;
        ctx.book.add({
          kind: ctx.kind,
          dialect: 'dorsten-batch',
          collection: COLLECTION,
          ags: DORSTEN,
          reference,
          idempotencyKey: order.VORGANG,
          flow,
          body: content,
        });
        // One line per case, the reference only: the file is a citizen's data.
        ctx.log(`${ctx.kind}: dorsten-batch filed ${reference}`);
      }
      return { ok: reference };
    },
  });
}
