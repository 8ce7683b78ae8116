import { dateiformat, DATEIFORMAT_LIST_URI, DATEIFORMAT_LIST_VERSION } from './formats.ts';
import { isUuid, nameUuid } from './ids.ts';
import { primaryFileName } from './names.ts';

// JSONata helpers for xdomea mappings (docs/xdomea.md). Each takes the mapping input (`$$`) first, because
// what makes a message stable across retries lives there: the delivery id is the ProzessID and the namespace
// of every other id, the submission's arrival time the message's Erstellungszeitpunkt. They return objects in
// the writer's conventions (prefixed names, `@_` attributes) with the elements in the XSD's order.

type Obj = Record<string, unknown>;

const NACHRICHTENTYP_LIST_URI = 'urn:xoev-de:xdomea:codeliste:nachrichtentyp';
const NACHRICHTENTYP_LIST_VERSION = '2.0';

function fail(fn: string, rule: string): never {
  // Rules only, never values: the message reaches the sync log.
  throw new Error(`$${fn}: ${rule}`);
}

function deliveryId(input: unknown, fn: string): string {
  const id = (input as { delivery?: { id?: unknown } } | undefined)?.delivery?.id;
  if (typeof id !== 'string' || !isUuid(id)) fail(fn, 'the first argument must be the mapping input ($$) with delivery.id, a UUID');
  return id;
}

/** Drops keys whose value is undefined, so optional elements vanish instead of becoming empty ones. */
function compact(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
}

function str(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

interface KontaktSpec {
  /** A municipality's AGS: Behoerdenkennung with Praefix `ags:` (the DVDV's class for municipal authorities). */
  ags?: string;
  behoerdenkennung?: { schluessel?: string; praefix?: string };
  institution?: string;
  kurzbezeichnung?: string;
  organisationseinheit?: string;
  /** A natural person (a citizen who applied): Name/Anrede, Titel, Familienname, Vorname. */
  anrede?: string;
  titel?: string;
  familienname?: string;
  vorname?: string;
  zustaendigkeit?: string;
  anschrift?: { strasse?: string; hausnummer?: string; postleitzahl?: string; ort?: string; zusatz?: string };
  /** Kommunikation with Kanal 01 (E-Mail) and 02 (Telefon Festnetz) of the code list Erreichbarkeit 3. */
  email?: string;
  telefon?: string;
}

const ERREICHBARKEIT = { '@_listURI': 'urn:de:xoev:codeliste:erreichbarkeit', '@_listVersionID': '3' };

function present(o: Obj): Obj | undefined {
  const c = compact(o);
  return Object.keys(c).length ? c : undefined;
}

/**
 * KontaktType in the XSD's order: Behoerdenkennung, Institution, Organisationseinheit, Name, Zustaendigkeit,
 * Anschrift, Kommunikation. Absent fields leave their element out.
 */
function kontakt(spec: unknown, fn: string, field: string): Obj {
  if (!spec || typeof spec !== 'object') fail(fn, `${field} must be an object`);
  const k = spec as KontaktSpec;
  const schluessel = str(k.behoerdenkennung?.schluessel ?? k.ags);
  const praefix = str(k.behoerdenkennung?.praefix ?? (k.ags !== undefined ? 'ags:' : undefined));
  const a = k.anschrift;
  if (a !== undefined && (a === null || typeof a !== 'object')) fail(fn, `${field}.anschrift must be an object`);
  const kommunikation = [
    k.email !== undefined ? { 'xdomea:Kanal': { ...ERREICHBARKEIT, code: '01' }, 'xdomea:Kennung': str(k.email) } : undefined,
    k.telefon !== undefined ? { 'xdomea:Kanal': { ...ERREICHBARKEIT, code: '02' }, 'xdomea:Kennung': str(k.telefon) } : undefined,
  ].filter((x) => x !== undefined);
  return compact({
    'xdomea:Behoerdenkennung': present({
      'xdomea:Behoerdenschluessel': schluessel !== undefined ? { code: schluessel } : undefined,
      'xdomea:Praefix': praefix !== undefined ? { code: praefix } : undefined,
    }),
    'xdomea:Institution': present({ 'xdomea:Name': str(k.institution), 'xdomea:Kurzbezeichnung': str(k.kurzbezeichnung) }),
    'xdomea:Organisationseinheit': k.organisationseinheit !== undefined ? { 'xdomea:Name': str(k.organisationseinheit) } : undefined,
    'xdomea:Name': present({
      'xdomea:Anrede': str(k.anrede),
      'xdomea:Titel': str(k.titel),
      'xdomea:Familienname': k.familienname !== undefined ? { 'xdomea:Name': str(k.familienname) } : undefined,
      'xdomea:Vorname': k.vorname !== undefined ? { 'xdomea:Name': str(k.vorname) } : undefined,
    }),
    'xdomea:Zustaendigkeit': str(k.zustaendigkeit),
    'xdomea:Anschrift': a
      ? present({
          'xdomea:Strasse': str(a.strasse),
          'xdomea:Hausnummer': str(a.hausnummer),
          'xdomea:Postleitzahl': str(a.postleitzahl),
          'xdomea:Ort': str(a.ort),
          'xdomea:Zusatz': str(a.zusatz),
        })
      : undefined,
    'xdomea:Kommunikation': kommunikation.length ? kommunikation : undefined,
  });
}

/** `$xdomeaKontakt({"familienname": …, "anschrift": {…}, "email": …})`: a KontaktType (a Vorgang's Kontakt, a Dokument's Absender). */
function xdomeaKontakt(spec: unknown): Obj {
  return kontakt(spec, 'xdomeaKontakt', 'the argument');
}

interface KopfOptions {
  /** The message type code, e.g. "0605" (FVDaten.SGOAblegen). */
  nachrichtentyp?: string;
  absender?: KontaktSpec;
  empfaenger?: KontaktSpec;
  /** Erstellerkennung: the user id of whoever creates the message; default "amtsbote". */
  erstellerkennung?: string;
  erstellerRolle?: string;
  empfangsbestaetigung?: boolean;
  hinweis?: string;
}

/**
 * `$xdomeaKopf($$, {"nachrichtentyp": "0605", "absender": {…}, "empfaenger": {…}})`: the Kopf of an FVDaten
 * message from a Fachverfahren (NkKeineRueckmeldungFVDatenType). ProzessID is the delivery id (a UUID the hub
 * made when it stored the submission, the same on every attempt and replay); Erstellungszeitpunkt is when
 * the hub received the submission, so a retry writes the same message.
 */
function xdomeaKopf(input: unknown, options: unknown): Obj {
  const fn = 'xdomeaKopf';
  const prozessId = deliveryId(input, fn);
  const o = (options ?? {}) as KopfOptions;
  const typ = str(o.nachrichtentyp);
  if (!typ || !/^\d{4}$/.test(typ)) fail(fn, 'nachrichtentyp must be the four-digit message type code, e.g. "0605"');
  const receivedAt = (input as { submission?: { receivedAt?: unknown } }).submission?.receivedAt;
  if (typeof receivedAt !== 'string') fail(fn, 'the mapping input has no submission.receivedAt');
  if (o.empfangsbestaetigung !== undefined && typeof o.empfangsbestaetigung !== 'boolean')
    fail(fn, 'empfangsbestaetigung must be true or false');
  return compact({
    'xdomea:ProzessID': prozessId,
    'xdomea:Nachrichtentyp': { '@_listURI': NACHRICHTENTYP_LIST_URI, '@_listVersionID': NACHRICHTENTYP_LIST_VERSION, code: typ },
    'xdomea:Erstellungszeitpunkt': receivedAt,
    'xdomea:Absender': kontakt(o.absender, fn, 'absender'),
    'xdomea:Empfaenger': kontakt(o.empfaenger, fn, 'empfaenger'),
    'xdomea:SendendesSystem': { 'xdomea:Produktname': 'Amtsbote' },
    'xdomea:Hinweis': str(o.hinweis),
    'xdomea:Empfangsbestaetigung': o.empfangsbestaetigung ? 'true' : 'false',
    // Fixed to 1 by the XSD: a DMS always confirms the import of FVDaten.
    'xdomea:Importbestaetigung': '1',
    'xdomea:Erstellerkennung': str(o.erstellerkennung) ?? 'amtsbote',
    'xdomea:ErstellerRolle': str(o.erstellerRolle),
    'xdomea:Stapel': 'false',
  });
}

/** `$xdomeaUuid($$, "vorgang")`: a UUID for an object of this delivery's message, the same on every attempt. */
function xdomeaUuid(input: unknown, name: string): string {
  return nameUuid(deliveryId(input, 'xdomeaUuid'), name);
}

interface DokumentSpec {
  /** Unique within the message; the document's and its file's ids derive from it. */
  key?: string;
  filename?: string;
  mediaType?: string;
  betreff?: string;
  kennzeichen?: string;
  bemerkung?: string;
  typ?: string;
  posteingangsdatum?: string;
  /** When the file was made (ISO date-time): Primaerdokument/DatumUhrzeit. */
  datum?: string;
  ersteller?: string;
  /** Format/Version: the file format's version (PDF "1.7"); "unbekannt" when not given. */
  formatVersion?: string;
  /** Dokument/Absender: who sent the document (the applicant), a contact as for `$xdomeaKontakt`. */
  absender?: KontaktSpec;
  /** The file: base64 (`content`, as attachments carry it) or text (`text`, written as UTF-8). */
  content?: string;
  text?: string;
}

function dokumentSpec(spec: unknown, fn: string): Required<Pick<DokumentSpec, 'key' | 'filename' | 'mediaType'>> & DokumentSpec {
  if (!spec || typeof spec !== 'object') fail(fn, 'the second argument must be an object describing the document');
  const d = spec as DokumentSpec;
  if (typeof d.key !== 'string' || d.key === '') fail(fn, 'key must be a non-empty string, unique within the message');
  if (typeof d.filename !== 'string' || d.filename === '') fail(fn, 'filename must be a non-empty string');
  if (typeof d.mediaType !== 'string' || d.mediaType === '') fail(fn, 'mediaType must be a non-empty string');
  return d as Required<Pick<DokumentSpec, 'key' | 'filename' | 'mediaType'>> & DokumentSpec;
}

function fileName(input: unknown, d: { key: string; filename: string }, fn: string): string {
  return primaryFileName(nameUuid(deliveryId(input, fn), `${d.key}/datei`), d.filename);
}

/**
 * `$xdomeaDokument($$, {"key": "antrag", "filename": "Antrag.json", "mediaType": "application/json", …})`:
 * a DokumentType with one version in one format whose Primaerdokument is the file `$xdomeaDatei` puts into
 * the container for the same spec.
 */
function xdomeaDokument(input: unknown, spec: unknown): Obj {
  const fn = 'xdomeaDokument';
  const d = dokumentSpec(spec, fn);
  const format = dateiformat(d.mediaType, d.filename);
  const allgemein = compact({
    'xdomea:Betreff': str(d.betreff),
    'xdomea:Kennzeichen': str(d.kennzeichen),
    'xdomea:Bemerkung': str(d.bemerkung),
  });
  return compact({
    'xdomea:Identifikation': { 'xdomea:ID': nameUuid(deliveryId(input, fn), d.key) },
    'xdomea:AllgemeineMetadaten': Object.keys(allgemein).length ? allgemein : undefined,
    'xdomea:Posteingangsdatum': str(d.posteingangsdatum),
    'xdomea:Typ': str(d.typ),
    'xdomea:Version': {
      'xdomea:Nummer': '1',
      'xdomea:Format': compact({
        'xdomea:Name': { '@_listURI': DATEIFORMAT_LIST_URI, '@_listVersionID': DATEIFORMAT_LIST_VERSION, code: format.code },
        'xdomea:SonstigerName': format.sonstigerName,
        'xdomea:Version': str(d.formatVersion) ?? 'unbekannt',
        'xdomea:Primaerdokument': compact({
          'xdomea:Dateiname': fileName(input, d, fn),
          'xdomea:DateinameOriginal': d.filename,
          'xdomea:Ersteller': str(d.ersteller),
          'xdomea:DatumUhrzeit': str(d.datum),
        }),
      }),
    },
    'xdomea:Absender': d.absender !== undefined ? kontakt(d.absender, fn, 'absender') : undefined,
  });
}

/** `$xdomeaDatei($$, spec)`: the container file for the same spec as `$xdomeaDokument`: `{name, mediaType, content | text}`. */
function xdomeaDatei(input: unknown, spec: unknown): Obj {
  const fn = 'xdomeaDatei';
  const d = dokumentSpec(spec, fn);
  if ((d.content === undefined) === (d.text === undefined)) fail(fn, 'give the file as exactly one of content (base64) or text');
  return compact({ name: fileName(input, d, fn), mediaType: d.mediaType, content: d.content, text: d.text });
}

// JSONata calls these with whatever the expression passes, hence `any`.
export const xdomeaFunctions: Record<string, { implementation: (...args: any[]) => unknown; signature: string }> = {
  xdomeaKopf: { implementation: xdomeaKopf, signature: '<xo:o>' },
  xdomeaUuid: { implementation: xdomeaUuid, signature: '<xs:s>' },
  xdomeaKontakt: { implementation: xdomeaKontakt, signature: '<o:o>' },
  xdomeaDokument: { implementation: xdomeaDokument, signature: '<xo:o>' },
  xdomeaDatei: { implementation: xdomeaDatei, signature: '<xo:o>' },
};
