// Dog-tax offices (Hundesteuer) of Gelsenkirchen, Bottrop and the Kreis Recklinghausen towns on one
// server, one path per AGS. Gelsenkirchen speaks its own dialect (tax class N/G, DD.MM.YYYY); the
// others share the NRW municipal software's dialect (numeric hundeart 1/2/3, ISO dates).
// The Kreis Recklinghausen towns' tax software is run by their shared data centre, which also takes
// cases for all ten towns at the district key (/hundesteuer/05562/anmeldungen, town AGS in the body):
// that is what lets the hub serve the ten towns with one route and one target.
import type { Request } from 'express';
import type express from 'express';
import { z } from 'zod';
import {
  addCaseRoutes,
  caseListing,
  gelsenkirchenPerson,
  gelsenkirchenAnlagen,
  attachmentMediaType,
  base64,
  caseStatus,
  createApp,
  email,
  fileCase,
  finishApp,
  germanDate,
  germanToIso,
  injectOutages,
  isoDate,
  pad6,
  phone,
  postalCode,
  text,
  sendProblem,
  type FieldError,
  type SimContext,
} from './common.ts';
import { KREIS_RE_TOWNS } from './waste-rest.ts';

export const GELSENKIRCHEN = '05513000';
export const BOTTROP = '05512000';
export const KREIS_RE = '05562';

/** The dog-tax offices this server hosts, by AGS. */
export const DOGTAX_OFFICES: Readonly<Record<string, 'hundesteuer-ge' | 'hundesteuer-nrw'>> = {
  [GELSENKIRCHEN]: 'hundesteuer-ge',
  [BOTTROP]: 'hundesteuer-nrw',
  ...Object.fromEntries(Object.keys(KREIS_RE_TOWNS).map((ags) => [ags, 'hundesteuer-nrw' as const])),
};

export const dogtaxCollection = (ags: string): string => `/hundesteuer/${ags}/anmeldungen`;

/**
 * Breeds a dog-tax statute taxes as dangerous: Landeshundegesetz NRW § 3 Abs. 2 (Pittbull-Terrier,
 * American Staffordshire Terrier, Staffordshire-Bullterrier, Bullterrier) and § 10 Abs. 1 (Alano,
 * American Bulldog, Bullmastiff, Mastiff, Mastino Español, Mastino Napoletano, Fila Brasileiro,
 * Dogo Argentino, Rottweiler, Tosa Inu), each also as "<breed>-Mischling". Compared without case,
 * spaces or dashes; an exact match only, so e.g. "Miniatur Bullterrier" is not caught.
 */
const LISTED_BREEDS = [
  'pittbullterrier',
  'pitbullterrier',
  'americanstaffordshireterrier',
  'staffordshirebullterrier',
  'bullterrier',
  'alano',
  'americanbulldog',
  'bullmastiff',
  'mastiff',
  'mastinoespanol',
  'mastinonapoletano',
  'filabrasileiro',
  'dogoargentino',
  'rottweiler',
  'tosainu',
];

export function isListedBreed(breed: string): boolean {
  const n = breed
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z]/g, '');
  return LISTED_BREEDS.some((b) => n === b || n === `${b}mischling` || n === `${b}mix`);
}

const chip = z.string().regex(/^\d{15}$/, 'expected a 15-digit transponder number (ISO 11784)');

// --- Gelsenkirchen -----------------------------------------------------------------------------------

export const hundesteuerGe = z.strictObject({
  externeReferenz: text(100),
  antragsdatum: germanDate,
  halter: gelsenkirchenPerson,
  hund: z.strictObject({
    name: text(100),
    rasse: text(100),
    geschlecht: z.enum(['R', 'H']),
    geburtsdatumHund: germanDate,
    chipnummer: chip,
  }),
  haltungsbeginn: germanDate,
  steuerklasse: z.enum(['N', 'G']),
  weitererHund: z.boolean(),
  anlagen: gelsenkirchenAnlagen,
});
type HundesteuerGe = z.output<typeof hundesteuerGe>;

function checkGe(b: HundesteuerGe): FieldError[] {
  const out: FieldError[] = [];
  if (germanToIso(b.haltungsbeginn) < germanToIso(b.hund.geburtsdatumHund)) {
    out.push({ pointer: '/haltungsbeginn', detail: 'before the dog was born (/hund/geburtsdatumHund)' });
  }
  if (isListedBreed(b.hund.rasse) && b.steuerklasse !== 'G') {
    out.push({ pointer: '/steuerklasse', detail: 'the breed is listed in LHundG NRW § 3 / § 10; expected "G"' });
  }
  return out;
}

// --- Bottrop and the Kreis Recklinghausen towns --------------------------------------------------------

export const hundesteuerNrw = z.strictObject({
  gemeindeschluessel: z.string().regex(/^\d{8}$/, 'expected an 8-digit AGS'),
  externesAktenzeichen: text(100),
  halter: z.strictObject({
    vorname: text(100),
    familienname: text(100),
    anschrift: z.strictObject({ strasse: text(100), hausnummer: text(10), postleitzahl: postalCode, ort: text(100) }),
    email: email.optional(),
    telefon: phone.optional(),
  }),
  hund: z.strictObject({
    name: text(100),
    rasse: text(100),
    geschlecht: z.enum(['m', 'w']),
    geburtsdatum: isoDate,
    transpondernummer: chip,
  }),
  hundeart: z.union([z.literal(1), z.literal(2), z.literal(3)], {
    error: (iss) => (iss.input === undefined ? 'required' : 'expected 1 (erster Hund), 2 (weiterer Hund) or 3 (gefährlicher Hund)'),
  }),
  haltungsbeginn: isoDate,
  anlagen: z
    .array(z.strictObject({ dateiname: text(255), mimeType: attachmentMediaType, inhalt: base64 }))
    .max(10)
    .optional(),
});
type HundesteuerNrw = z.output<typeof hundesteuerNrw>;

function checkNrw(b: HundesteuerNrw, req: Request): FieldError[] {
  const out: FieldError[] = [];
  // The AGS in the body must match the office it was sent to: catches a route pointing at the wrong town.
  const pathKey = String(req.params['ags']);
  if (pathKey === KREIS_RE ? !Object.hasOwn(KREIS_RE_TOWNS, b.gemeindeschluessel) : b.gemeindeschluessel !== pathKey) {
    out.push({
      pointer: '/gemeindeschluessel',
      detail: pathKey === KREIS_RE ? 'expected the AGS of a town of Kreis Recklinghausen' : 'does not match the AGS in the path',
    });
  }
  if (b.haltungsbeginn < b.hund.geburtsdatum) {
    out.push({ pointer: '/haltungsbeginn', detail: 'before the dog was born (/hund/geburtsdatum)' });
  }
  if (isListedBreed(b.hund.rasse) && b.hundeart !== 3) {
    out.push({ pointer: '/hundeart', detail: 'the breed is listed in LHundG NRW § 3 / § 10; expected 3' });
  }
  return out;
}

export function createDogtaxRestApp(ctx: SimContext): express.Express {
  const app = createApp();
  const outages = injectOutages(ctx);
  const flow = ['eingegangen', 'in-bearbeitung', 'veranlagt'] as const;

  const reference = (ags: string): string => `HST-${ags}-${pad6(ctx.book.next(`hst-${ags}`))}`;
  const common = {
    flow,
    rejection: { status: 'abgelehnt', reason: 'Hund bereits unter einem anderen Kassenzeichen angemeldet' },
    created: (kassenzeichen: string) => ({ kassenzeichen }),
  };
  const fileGe = fileCase<HundesteuerGe>(ctx, {
    ...common,
    collection: dogtaxCollection(GELSENKIRCHEN),
    dialect: 'hundesteuer-ge',
    schema: hundesteuerGe,
    check: checkGe,
    ags: () => GELSENKIRCHEN,
    reference: () => reference(GELSENKIRCHEN),
    location: (ref) => `${dogtaxCollection(GELSENKIRCHEN)}/${ref}`,
  });
  // Bottrop, each Kreis town, and the district intake: the case belongs to the AGS in the body
  // (checkNrw has made sure it matches the path).
  const fileNrw = fileCase<HundesteuerNrw>(ctx, (req) => {
    const pathKey = String(req.params['ags']);
    return {
      ...common,
      collection: dogtaxCollection(pathKey),
      dialect: 'hundesteuer-nrw',
      schema: hundesteuerNrw,
      check: checkNrw,
      ags: (b) => b.gemeindeschluessel,
      reference: (b) => reference(b.gemeindeschluessel),
      location: (ref) => `${dogtaxCollection(pathKey)}/${ref}`,
    };
  });
  const officeOf = (req: Request) => {
    const key = String(req.params['ags'] ?? '');
    if (key === KREIS_RE) return 'hundesteuer-nrw';
    return Object.hasOwn(DOGTAX_OFFICES, key) ? DOGTAX_OFFICES[key] : undefined;
  };

  // Dispatch by the key in the path: each office has its own collection and dialect.
  app.post('/hundesteuer/:ags/anmeldungen', outages, (req, res) => {
    const office = officeOf(req);
    if (office === 'hundesteuer-ge') return fileGe(req, res);
    if (office === 'hundesteuer-nrw') return fileNrw(req, res);
    sendProblem(res, 404, 'not-found', 'Not found', 'no dog-tax office for this key');
  });
  // A case is visible at its town's path and, for the Kreis towns, at the district path too.
  const visible = (req: Request, c: { ags: string }) => {
    const key = String(req.params['ags']);
    return c.ags === key || (key === KREIS_RE && Object.hasOwn(KREIS_RE_TOWNS, c.ags));
  };
  app.get('/hundesteuer/:ags/anmeldungen', outages, caseListing(ctx, visible));
  app.get(
    '/hundesteuer/:ags/anmeldungen/:reference',
    outages,
    caseStatus(ctx, visible, (kassenzeichen, status) => ({ kassenzeichen, status })),
  );
  addCaseRoutes(app, ctx, outages);

  finishApp(app);
  return app;
}
