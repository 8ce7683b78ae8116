// Bottrop's dog-tax office as a SOAP 1.1 service (document/literal, config/wsdl/hundesteuer-bottrop.wsdl),
// served by node-soap. What a real one does and the hub's soap adapter must cope with: WS-Security
// UsernameToken (PasswordDigest), an idempotency header, strict validation of the input element against the
// WSDL's schema, and soap:Client / soap:Server faults that tell "your message" from "try again later".
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { ParseOption, XmlDocument, XmlElement, XmlParseError, XmlValidateError, XsdValidator } from 'libxml2-wasm';
// A namespace import, as adapters/soap does: node-soap is CommonJS, and its default import is undefined when
// tsx compiles to CommonJS.
import * as soap from 'soap';
import type { Server as SoapServer } from 'soap';
import { validityErrors } from '../../mapping/xsd/messages.ts';
import { IDEMPOTENCY_KEY, createApp, finishApp, pad6, type SimContext } from './common.ts';
import { isListedBreed } from './dogtax-rest.ts';
import { escapeXml, xmlFieldErrors, type XmlFieldError } from './xml.ts';
import { PROJECT_ROOT } from '../../project-root.ts';

export const DOGTAX_SOAP_WSDL = path.join(PROJECT_ROOT, 'config/wsdl/hundesteuer-bottrop.wsdl');
export const DOGTAX_SOAP_PATH = '/hundesteuer';
export const HUNDESTEUER_NS = 'urn:bottrop:hundesteuer:1';
/** The soap adapter's default idempotency header: `<amt:IdempotencyKey xmlns:amt="urn:amtsbote:1">`. */
export const AMTSBOTE_NS = 'urn:amtsbote:1';
export const DEFAULT_USERNAME = 'demo-bottrop';
export const DEFAULT_PASSWORD = 'demo-password';
const BOTTROP = '05512000';

const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const PASSWORD_DIGEST = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
/** How far wsu:Created may be from the server's clock, and how long a nonce is remembered (WSS UsernameToken profile). */
const FRESHNESS_MS = 5 * 60_000;

/** Operation → its input element and SOAPAction (as in the WSDL). */
const OPERATIONS = {
  Anmelden: { input: 'Anmeldung', action: `${HUNDESTEUER_NS}/Anmelden` },
  StatusAbfragen: { input: 'StatusAbfrage', action: `${HUNDESTEUER_NS}/StatusAbfragen` },
} as const;
type Operation = keyof typeof OPERATIONS;
const COLLECTION = 'Anmelden';

/** Untrusted input: no network, no external entities (and a DOCTYPE is refused below). */
const DOCUMENT_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_BIG_LINES;

// --- faults ----------------------------------------------------------------------------------------------

/** node-soap turns anything thrown with a `Fault` into a fault answer; SOAP 1.1 wants HTTP 500 for every fault. */
class SoapFault extends Error {
  readonly Fault: Record<string, unknown>;
  constructor(fault: Record<string, unknown>) {
    super(String(fault['faultstring']));
    this.Fault = { ...fault, statusCode: 500 };
  }
}

/** The message's fault: permanent. `errors` go into the detail as tns:Fehler, element and rule, never the value. */
function clientFault(faultstring: string, errors: readonly XmlFieldError[] = []): SoapFault {
  const fault: Record<string, unknown> = { faultcode: 'soap:Client', faultstring };
  if (errors.length) {
    const fehler = errors
      .slice(0, 5)
      .map(
        (e) => `<Fehler xmlns="${HUNDESTEUER_NS}"><Element>${escapeXml(e.element)}</Element><Grund>${escapeXml(e.detail)}</Grund></Fehler>`,
      )
      .join('');
    fault['detail'] = { $xml: fehler };
  }
  return new SoapFault(fault);
}

function invalid(errors: readonly XmlFieldError[], total = errors.length): SoapFault {
  const first = errors[0]!;
  const more = total > 1 ? ` (+${total - 1} more)` : '';
  // The faultstring names the first element: it is all the hub's soap adapter shows an operator.
  return clientFault(`Invalid element ${first.element}: ${first.detail}${more}`, errors);
}

/** WS-Security's own fault codes (wsse:FailedAuthentication, wsse:InvalidSecurity), which the soap adapter knows as permanent. */
function securityFault(code: 'FailedAuthentication' | 'InvalidSecurity', faultstring: string): SoapFault {
  return new SoapFault({ attributes: { 'xmlns:wsse': WSSE_NS }, faultcode: `wsse:${code}`, faultstring });
}

// --- the WSDL's schema --------------------------------------------------------------------------------

interface Schema {
  wsdl: string;
  validator: XsdValidator;
}
let schema: Schema | undefined;

/**
 * The WSDL and a validator for its tns schema, compiled once per process (the WSDL is configuration, trusted).
 * The schema is inline in the WSDL, as most services ship it; it declares its own namespaces, so its text
 * stands alone as an XSD document.
 */
export function dogtaxSoapSchema(): Schema {
  if (schema) return schema;
  const wsdl = readFileSync(DOGTAX_SOAP_WSDL, 'utf8');
  const text = new RegExp(`<xs:schema\\b[^>]*targetNamespace="${HUNDESTEUER_NS}"[\\s\\S]*?</xs:schema>`).exec(wsdl)?.[0];
  if (!text) throw new Error(`${DOGTAX_SOAP_WSDL}: no xs:schema for ${HUNDESTEUER_NS}`);
  const doc = XmlDocument.fromString(text, { option: ParseOption.XML_PARSE_NONET });
  // The validator keeps pointers into the schema document: both live as long as the process.
  schema = { wsdl, validator: XsdValidator.fromDoc(doc) };
  return schema;
}

// --- the envelope, read with libxml2 ---------------------------------------------------------------------

interface Envelope {
  /** Local name and namespace of the soap:Body's first element. */
  name: string;
  namespace: string;
  /** The element as text (what is filed), and its values by path below it. */
  xml: string;
  value: (path: string) => string | undefined;
  idempotencyKey: string | undefined;
  errors: XmlFieldError[];
  total: number;
}

const ENVELOPE = "/*[local-name()='Envelope']";

/** Parses the envelope node-soap received, validates the body's element against the schema, and extracts what the operations need. */
function readEnvelope(raw: string): Envelope {
  const doc = XmlDocument.fromString(raw, { option: DOCUMENT_OPTIONS, encoding: 'utf-8' });
  try {
    const el = doc.get(`${ENVELOPE}/*[local-name()='Body']/*[1]`) as XmlElement | null;
    if (!el) throw clientFault('The soap:Body holds no element');
    const key = doc.get(`${ENVELOPE}/*[local-name()='Header']/amt:IdempotencyKey`, { amt: AMTSBOTE_NS });
    let errors: XmlFieldError[] = [];
    let total = 0;
    try {
      dogtaxSoapSchema().validator.validate(el);
    } catch (err) {
      if (!(err instanceof XmlValidateError)) throw err;
      const found = validityErrors(err.details, 10);
      errors = xmlFieldErrors(raw, found, '/Envelope/Body');
      total = Math.max(found.length, err.details.filter((d) => d.level >= 2).length);
    }
    const values = new Map<string, string>();
    // Values by their path of local names below the element, for the checks the schema cannot make.
    const walk = (node: XmlElement, at: string) => {
      for (let c = node.firstChild; c; c = c.next) {
        if (!(c instanceof XmlElement)) continue;
        const p = `${at}/${c.name}`;
        if (!values.has(p)) values.set(p, c.content);
        walk(c, p);
      }
    };
    walk(el, '');
    return {
      name: el.name,
      namespace: el.namespaceUri,
      xml: el.toString({ format: false }),
      value: (p) => values.get(p),
      idempotencyKey: key?.content,
      errors,
      total,
    };
  } finally {
    doc.dispose();
  }
}

// --- WS-Security UsernameToken -----------------------------------------------------------------------------

/** Text of a node-soap value: a string, or `{ attributes, $value }` for an element with attributes. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && '$value' in v) return text((v as { $value: unknown }).$value);
  return undefined;
}

function attribute(v: unknown, name: string): string | undefined {
  const attrs = v && typeof v === 'object' ? (v as { attributes?: Record<string, unknown> }).attributes : undefined;
  const value = attrs?.[name];
  return typeof value === 'string' ? value : undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks a UsernameToken with PasswordDigest = Base64(SHA-1(nonce bytes + created + password)), fresh and used once. */
function checkToken(security: unknown, creds: { username: string; password: string }, seenNonces: Map<string, number>, now: number): void {
  const token = security && typeof security === 'object' ? (security as Record<string, unknown>)['UsernameToken'] : undefined;
  if (!token || typeof token !== 'object') {
    throw securityFault('InvalidSecurity', 'A wsse:Security header with a UsernameToken is required');
  }
  const t = token as Record<string, unknown>;
  const username = text(t['Username']);
  const password = text(t['Password']);
  const nonce = text(t['Nonce']);
  const created = text(t['Created']);
  if (attribute(t['Password'], 'Type') !== PASSWORD_DIGEST) {
    throw securityFault('InvalidSecurity', 'Only wsse:Password of Type PasswordDigest is accepted');
  }
  if (!username || !password || !nonce || !created) {
    throw securityFault('InvalidSecurity', 'The UsernameToken needs Username, Password, Nonce and Created');
  }
  const createdMs = Date.parse(created);
  if (!Number.isFinite(createdMs) || Math.abs(now - createdMs) > FRESHNESS_MS) {
    throw securityFault(
      'FailedAuthentication',
      'The security token could not be authenticated: Created is not within 5 minutes of the server clock',
    );
  }
  const expected = createHash('sha1')
    .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(creds.password, 'utf8')]))
    .digest('base64');
  // Same answer for a wrong user and a wrong password: which of the two is wrong is not for a client to learn.
  if (!sameSecret(username, creds.username) || !sameSecret(password, expected)) {
    throw securityFault('FailedAuthentication', 'The security token could not be authenticated or authorized');
  }
  for (const [n, until] of seenNonces) if (until < now) seenNonces.delete(n);
  // A replayed token (same nonce) is refused; a retry of the hub brings a fresh token.
  if (seenNonces.has(nonce)) throw securityFault('FailedAuthentication', 'The security token was used before (nonce replay)');
  seenNonces.set(nonce, now + 2 * FRESHNESS_MS);
}

// --- the service ---------------------------------------------------------------------------------------------

export interface DogtaxSoapOptions {
  username: string;
  password: string;
}

/** An http.Server (not yet listening) with the SOAP endpoint at /hundesteuer and GET /health beside it. */
export async function createDogtaxSoapServer(ctx: SimContext, creds: DogtaxSoapOptions): Promise<Server> {
  const { wsdl } = dogtaxSoapSchema();
  const flow = ['eingegangen', 'in-bearbeitung', 'veranlagt'] as const;
  const raw = new WeakMap<IncomingMessage, string>();
  const seenNonces = new Map<string, number>();

  const health = createApp();
  finishApp(health);
  const server = createServer(health);

  /** The body element the operation takes; a different one (the SOAPAction chose the operation) is refused. */
  function envelopeFor(req: IncomingMessage, op: Operation): Envelope {
    const text = raw.get(req);
    if (text === undefined) throw new SoapFault({ faultcode: 'soap:Server', faultstring: 'The request could not be read' });
    const env = readEnvelope(text);
    const expected = OPERATIONS[op].input;
    if (env.name !== expected || env.namespace !== HUNDESTEUER_NS) {
      throw clientFault(`Invalid element /${env.name}: operation ${op} expects {${HUNDESTEUER_NS}}${expected}`);
    }
    return env;
  }

  function outage(res: ServerResponse): void {
    if (ctx.failureRate > 0 && ctx.random() < ctx.failureRate) {
      res.setHeader('Retry-After', '1');
      throw new SoapFault({ faultcode: 'soap:Server', faultstring: 'Service temporarily unavailable; try again later' });
    }
  }

  const port = {
    Anmelden(_args: unknown, _cb: unknown, _headers: unknown, req: IncomingMessage, res: ServerResponse) {
      outage(res);
      const env = envelopeFor(req, 'Anmelden');
      const key = env.idempotencyKey;
      if (key === undefined || !IDEMPOTENCY_KEY.test(key)) {
        throw clientFault(
          `Invalid element /Header/IdempotencyKey: ${key === undefined ? `the SOAP header {${AMTSBOTE_NS}}IdempotencyKey is required` : 'expected 1–255 visible ASCII characters'}`,
          [{ element: '/Header/IdempotencyKey', detail: key === undefined ? 'required' : 'expected 1–255 visible ASCII characters' }],
        );
      }
      // A replayed key answers the first Quittung, whatever the body, and files nothing.
      const seen = ctx.book.findByKey(COLLECTION, key);
      if (seen) {
        res.setHeader('Idempotent-Replayed', 'true');
        return { Kassenzeichen: seen.reference };
      }
      if (env.errors.length) throw invalid(env.errors, env.total);
      const checks = crossChecks(env);
      if (checks.length) throw invalid(checks);
      const year = new Date(ctx.now()).getFullYear();
      const reference = `HST-BOT-${year}-${pad6(ctx.book.next(`hst-bot-${year}`))}`;
      ctx.book.add({
        kind: ctx.kind,
        dialect: 'hundesteuer-bottrop',
        collection: COLLECTION,
        ags: BOTTROP,
        reference,
        idempotencyKey: key,
        flow,
        body: env.xml,
      });
      // One line per case, the reference only: the body is a citizen's data.
      ctx.log(`${ctx.kind}: hundesteuer-bottrop filed ${reference}`);
      return { Kassenzeichen: reference };
    },

    StatusAbfragen(_args: unknown, _cb: unknown, _headers: unknown, req: IncomingMessage, res: ServerResponse) {
      outage(res);
      const env = envelopeFor(req, 'StatusAbfragen');
      if (env.errors.length) throw invalid(env.errors, env.total);
      const c = ctx.book.find(env.value('/Kassenzeichen') ?? '');
      if (!c || c.collection !== COLLECTION) {
        throw clientFault('Invalid element /StatusAbfrage/Kassenzeichen: no case with this Kassenzeichen', [
          { element: '/StatusAbfrage/Kassenzeichen', detail: 'no case with this Kassenzeichen' },
        ]);
      }
      return { Kassenzeichen: c.reference, Bearbeitungsstand: ctx.book.status(c) };
    },
  };

  const soapServer = await new Promise<SoapServer>((resolve, reject) => {
    const s: SoapServer = soap.listen(server, {
      path: DOGTAX_SOAP_PATH,
      services: { HundesteuerService: { HundesteuerPort: port } },
      xml: wsdl,
      // Without it an unexpected error would answer with a stack trace.
      suppressStack: true,
      callback: (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(s)),
    });
  });

  // node-soap hands operations a parsed object that has lost namespaces and element order; the operations
  // validate the envelope as received. `log` is node-soap's only hook that sees the raw text before parsing,
  // so it also refuses what is not well-formed with a proper soap:Client fault (node-soap would answer a bare 500).
  soapServer.log = (type: string, data: unknown, req: IncomingMessage) => {
    if (type !== 'received' || typeof data !== 'string') return;
    let doc: XmlDocument;
    try {
      doc = XmlDocument.fromString(data, { option: DOCUMENT_OPTIONS, encoding: 'utf-8' });
    } catch (err) {
      const line = err instanceof XmlParseError ? err.details[0]?.line : undefined;
      throw clientFault(`The request is not well-formed XML${line ? ` (line ${line})` : ''}`);
    }
    const hasDtd = doc.dtd !== null;
    doc.dispose();
    if (hasDtd) throw clientFault('DOCTYPE declarations are not allowed');
    raw.set(req, data);
  };

  // The token first, as a SOAP stack does: the hub's check() probes with an empty body and reads a fault that
  // is no WS-Security fault as "credentials accepted".
  soapServer.authenticate = (security: unknown, _cb: unknown, req?: IncomingMessage, obj?: unknown) => {
    checkToken(security, creds, seenNonces, ctx.now());
    checkOperation(req, obj);
    return true;
  };

  return server;
}

/**
 * Refuses what node-soap cannot dispatch (it would answer an internal error): an unknown SOAPAction, or
 * without one, a body element that is no operation's input.
 */
function checkOperation(req: IncomingMessage | undefined, obj: unknown): void {
  const header = req?.headers['soapaction'];
  const action = typeof header === 'string' ? header.replace(/^"(.*)"$/, '$1') : '';
  if (action) {
    const known = Object.entries(OPERATIONS).some(([op, o]) => o.action === action || action.split('/').pop() === op);
    if (!known)
      throw clientFault(
        `Unknown SOAPAction; this service has ${Object.values(OPERATIONS)
          .map((o) => o.action)
          .join(', ')}`,
      );
    return;
  }
  const body = obj && typeof obj === 'object' ? (obj as Record<string, unknown>)['Body'] : undefined;
  const first = body && typeof body === 'object' ? Object.keys(body).find((k) => k !== 'attributes') : undefined;
  if (!first || !Object.values(OPERATIONS).some((o) => o.input === first)) {
    throw clientFault(
      `Invalid element /${first ?? ''}: not an input element of this service (${Object.values(OPERATIONS)
        .map((o) => o.input)
        .join(', ')})`,
    );
  }
}

/** Rules the schema cannot say, as dogtax-rest checks them for the other NRW offices. */
function crossChecks(env: Envelope): XmlFieldError[] {
  const out: XmlFieldError[] = [];
  const born = env.value('/hund/geburtsdatum') ?? '';
  if ((env.value('/haltungsbeginn') ?? '') < born) {
    out.push({ element: '/Anmeldung/haltungsbeginn', detail: 'before the dog was born (/Anmeldung/hund/geburtsdatum)' });
  }
  if (isListedBreed(env.value('/hund/rasse') ?? '') && env.value('/hundeart') !== '3') {
    out.push({ element: '/Anmeldung/hundeart', detail: 'the breed is listed in LHundG NRW § 3 / § 10; expected 3' });
  }
  return out;
}
