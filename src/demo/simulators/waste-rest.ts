// Waste-management back office: three dialects on one server, because the cities of the
// Emscher-Lippe region run different systems. Bodies are validated strictly, so a wrong mapping
// shows up as a 400 (a permanent failure in the hub), not as a silently wrong case.
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
  injectOutages,
  isoDate,
  pad6,
  phone,
  postalCode,
  text,
  type SimContext,
} from './common.ts';
import type express from 'express';

/** The ten towns of Kreis Recklinghausen; the district system takes no other AGS. */
export const KREIS_RE_TOWNS: Readonly<Record<string, string>> = {
  '05562004': 'Castrop-Rauxel',
  '05562008': 'Datteln',
  '05562012': 'Dorsten',
  '05562014': 'Gladbeck',
  '05562016': 'Haltern am See',
  '05562020': 'Herten',
  '05562024': 'Marl',
  '05562028': 'Oer-Erkenschwick',
  '05562032': 'Recklinghausen',
  '05562036': 'Waltrop',
};

export const GELSENDIENSTE_PATH = '/gelsendienste/v1/sperrmuell/auftraege';
export const BEST_PATH = '/best/api/v1/orders';
export const KREIS_RE_PATH = '/kreis-re/abfall/v1/vorgaenge';

const year = (ctx: SimContext): number => new Date(ctx.now()).getFullYear();

// --- Gelsenkirchen, GELSENDIENSTE-style: German names, DD.MM.YYYY, item codes ----------------------

export const GELSENDIENSTE_ARTIKEL = ['MOEBEL', 'ELEKTRO-GROSS', 'MATRATZE', 'TEPPICH', 'HOLZ', 'SONSTIGES'] as const;

const gdAdresse = z.strictObject({ strasse: text(100), hausnummer: text(10), plz: postalCode, ort: text(100) });

export const gelsendiensteAuftrag = z.strictObject({
  externeReferenz: text(100),
  antragsdatum: germanDate,
  antragsteller: gelsenkirchenPerson,
  abholadresse: gdAdresse,
  wunschtermin: germanDate,
  positionen: z
    .array(
      z.strictObject({
        artikel: z.enum(GELSENDIENSTE_ARTIKEL),
        anzahl: z.number().int().min(1).max(99),
        beschreibung: text(200).optional(),
      }),
    )
    .min(1, 'at least one item')
    .max(30),
  stellplatz: z.enum(['STRASSE', 'HOF']).optional(),
  bemerkung: text(1000).optional(),
  anlagen: gelsenkirchenAnlagen,
});

// --- Bottrop, BEST-style: English names, ISO dates, numeric article codes ---------------------------

export const BEST_ARTICLES = [1010, 1020, 1030, 2010, 3010, 9000] as const;

const bestAddress = z.strictObject({ street: text(100), houseNumber: text(10), postalCode, city: text(100) });

export const bestOrder = z.strictObject({
  externalReference: text(100),
  customer: z.strictObject({
    salutation: z.enum(['Mr', 'Ms', 'Mx']).optional(),
    firstName: text(100),
    lastName: text(100),
    address: bestAddress,
    email: email.optional(),
    phone: phone.optional(),
  }),
  pickupAddress: bestAddress,
  requestedDate: isoDate,
  lines: z
    .array(
      z.strictObject({
        articleCode: z
          .number()
          .refine((n) => (BEST_ARTICLES as readonly number[]).includes(n), `unknown article code; known: ${BEST_ARTICLES.join(', ')}`),
        quantity: z.number().int().min(1).max(50),
        note: text(200).optional(),
      }),
    )
    .min(1, 'at least one line')
    .max(30),
  placement: z.enum(['CURB', 'YARD']).optional(),
  remarks: text(1000).optional(),
  attachments: z
    .array(z.strictObject({ fileName: text(255), contentType: attachmentMediaType, data: base64 }))
    .max(10)
    .optional(),
});

// --- Kreis Recklinghausen: one district system for ten towns, AGS in every case -------------------

export const KREIS_RE_SCHLUESSEL = ['SM-01', 'SM-02', 'SM-03', 'SM-99', 'EAG-01', 'AH-01'] as const;

const reAnschrift = z.strictObject({ strasse: text(100), hausnummer: text(10), postleitzahl: postalCode, ort: text(100) });

export const kreisReVorgang = z.strictObject({
  gemeindeschluessel: z
    .string()
    .refine((s) => Object.hasOwn(KREIS_RE_TOWNS, s), 'expected the AGS of a town of Kreis Recklinghausen (05562004 … 05562036)'),
  externeVorgangsnummer: text(100),
  antragsteller: z.strictObject({
    anredeSchluessel: z.enum(['01', '02', '03']).optional(),
    vorname: text(100),
    familienname: text(100),
    anschrift: reAnschrift,
    kontakt: z.strictObject({ email: email.optional(), telefon: phone.optional() }).optional(),
  }),
  abholanschrift: reAnschrift,
  wunschtermin: isoDate,
  gegenstaende: z
    .array(
      z.strictObject({
        schluessel: z.enum(KREIS_RE_SCHLUESSEL),
        menge: z.number().int().min(1).max(99),
        bezeichnung: text(200).optional(),
      }),
    )
    .min(1, 'at least one item')
    .max(30),
  bereitstellungsort: z.enum(['G', 'H']).optional(),
  hinweise: text(1000).optional(),
  anlagen: z
    .array(z.strictObject({ dateiname: text(255), mimeType: attachmentMediaType, inhalt: base64 }))
    .max(10)
    .optional(),
});

export function createWasteRestApp(ctx: SimContext): express.Express {
  const app = createApp();
  const outages = injectOutages(ctx);
  const flow = ['angelegt', 'disponiert', 'erledigt'] as const;
  const abgelehnt = { status: 'abgelehnt', reason: 'Abholung am Wunschtermin nicht möglich; bitte neuen Termin beantragen' };
  // Each collection lists its own cases (GET <collection>?since=…&cursor=…), as a reconciliation per target needs.
  const inCollection = (collection: string) => (_req: unknown, c: { collection: string }) => c.collection === collection;
  for (const collection of [GELSENDIENSTE_PATH, BEST_PATH, KREIS_RE_PATH])
    app.get(collection, outages, caseListing(ctx, inCollection(collection)));
  addCaseRoutes(app, ctx, outages);

  app.post(
    GELSENDIENSTE_PATH,
    outages,
    fileCase(ctx, {
      collection: GELSENDIENSTE_PATH,
      dialect: 'gelsendienste',
      schema: gelsendiensteAuftrag,
      ags: () => '05513000',
      reference: () => {
        const y = year(ctx);
        return `GD-SP-${y}-${pad6(ctx.book.next(`gd-${y}`))}`;
      },
      flow,
      rejection: abgelehnt,
      created: (aktenzeichen) => ({ auftrag: { aktenzeichen, status: 'angelegt' } }),
      location: (ref) => `${GELSENDIENSTE_PATH}/${ref}`,
    }),
  );
  app.get(
    `${GELSENDIENSTE_PATH}/:reference`,
    outages,
    caseStatus(ctx, inCollection(GELSENDIENSTE_PATH), (aktenzeichen, status) => ({ auftrag: { aktenzeichen, status } })),
  );

  const bestFlow = ['created', 'scheduled', 'completed'] as const;
  app.post(
    BEST_PATH,
    outages,
    fileCase(ctx, {
      collection: BEST_PATH,
      dialect: 'best',
      schema: bestOrder,
      ags: () => '05512000',
      reference: () => {
        const y = year(ctx);
        return `BEST-${y}-${pad6(ctx.book.next(`best-${y}`))}`;
      },
      flow: bestFlow,
      rejection: { status: 'rejected', reason: 'pickup address outside the service area' },
      created: (orderId) => ({ orderId }),
      location: (ref) => `${BEST_PATH}/${ref}`,
    }),
  );
  app.get(
    `${BEST_PATH}/:reference`,
    outages,
    caseStatus(ctx, inCollection(BEST_PATH), (orderId, status) => ({ orderId, status })),
  );

  app.post(
    KREIS_RE_PATH,
    outages,
    fileCase(ctx, {
      collection: KREIS_RE_PATH,
      dialect: 'kreis-re',
      schema: kreisReVorgang,
      ags: (b) => b.gemeindeschluessel,
      reference: (b) => `RE-${b.gemeindeschluessel}-${pad6(ctx.book.next(`re-${b.gemeindeschluessel}`))}`,
      flow,
      rejection: abgelehnt,
      created: (id) => ({ vorgang: { id } }),
      location: (ref) => `${KREIS_RE_PATH}/${ref}`,
    }),
  );
  app.get(
    `${KREIS_RE_PATH}/:reference`,
    outages,
    caseStatus(ctx, inCollection(KREIS_RE_PATH), (id, status, ags) => ({ vorgang: { id, gemeindeschluessel: ags, status } })),
  );

  finishApp(app);
  return app;
}
