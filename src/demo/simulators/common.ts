// What every back-office simulator shares: the case book, idempotency, problem+json answers, injected
// outages and strict body validation. Form data stays in memory (for tests) and is never logged.
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';

export type SimulatorKind = 'waste-rest' | 'dogtax-rest' | 'dogtax-soap' | 'waste-xml' | 'waste-batch' | 'dms-xdomea';

/** One case a simulator has filed. `body` is what the hub sent; kept for tests, never logged. */
export interface SimCase {
  kind: SimulatorKind;
  /**
   * Which back-office dialect filed it: gelsendienste, best, kreis-re, hundesteuer-ge, hundesteuer-nrw,
   * hundesteuer-bottrop (SOAP), kreis-re-xml, dorsten-batch, xdomea-fvdaten (the DMS).
   */
  dialect: string;
  /** The municipality (AGS) the case belongs to. */
  ags: string;
  reference: string;
  /** The key the case was filed under: Idempotency-Key, the SOAP IdempotencyKey header, the batch file's VORGANG, the xdomea ProzessID. */
  idempotencyKey: string;
  /** The back office's current state, advancing with time (see statusStepMs). */
  status: string;
  /** Why, once a case ends rejected. */
  reason?: string;
  createdAt: string;
  /** When the status last changed. */
  updatedAt: string;
  /** The back office lost it: gone from listing and lookup, its key forgotten. */
  lost?: true;
  /** The second case the back office filed under a key it already had. */
  duplicate?: true;
  /** JSON bodies as parsed; XML (SOAP input element, XML body, batch file) as its text. */
  body: unknown;
}

/** How a simulator misbehaves on purpose, so reconciliation has something to find. Counts are of filed cases. */
export interface SimQuirks {
  /** Every n-th case is lost one status step after it was filed (a crashed batch job, a restore from backup). */
  loseEvery?: number | undefined;
  /** The n-th case is filed twice, under one key (once per simulator). */
  duplicateCase?: number | undefined;
  /** Every n-th case ends rejected with a reason instead of done. */
  rejectEvery?: number | undefined;
}

export interface SimContext {
  kind: SimulatorKind;
  failureRate: number;
  random: () => number;
  log: (msg: string) => void;
  /** How long each status step lasts, so status polling and reconciliation have something to see. */
  statusStepMs: number;
  now: () => number;
  book: CaseBook;
}

/** The final state and reason of a rejected case, in the dialect's words. */
export interface Rejection {
  status: string;
  reason: string;
}

export interface StoredCase extends Omit<SimCase, 'status' | 'updatedAt' | 'lost' | 'reason'> {
  /** Collection the case was filed in; idempotency keys are scoped to it. */
  collection: string;
  /** The states the case goes through, one per statusStepMs. */
  flow: readonly string[];
  /** Given with the last state of `flow` when the case ends rejected. */
  finalReason?: string;
  createdMs: number;
  /** When the back office loses it. */
  lostMs?: number;
}

/** Every case of one simulator, by reference and by (collection, idempotency key). */
export class CaseBook {
  private readonly byRef = new Map<string, StoredCase>();
  private readonly byKey = new Map<string, StoredCase>();
  private readonly counters = new Map<string, number>();
  private readonly lost: StoredCase[] = [];
  /** Keys whose case was lost once: a redelivery under the key is kept, or the demo could never recover. */
  private readonly lostKeys = new Set<string>();
  private filed = 0;

  constructor(private readonly ctx: Pick<SimContext, 'statusStepMs' | 'now'> & { quirks?: SimQuirks }) {}

  /** The next number of a counter (per dialect, year or AGS), starting at 1. */
  next(counter: string): number {
    const n = (this.counters.get(counter) ?? 0) + 1;
    this.counters.set(counter, n);
    return n;
  }

  findByKey(collection: string, key: string): StoredCase | undefined {
    return this.present(this.byKey.get(`${collection}\n${key}`));
  }

  find(reference: string): StoredCase | undefined {
    return this.present(this.byRef.get(reference));
  }

  /**
   * Files a case. `rejection` is how the dialect ends a rejected case; `duplicateReference` gives the
   * reference of the second case when this is the one the quirks file twice.
   */
  add(c: Omit<StoredCase, 'createdMs' | 'createdAt'>, opts: { rejection?: Rejection; duplicateReference?: () => string } = {}): StoredCase {
    const ms = this.ctx.now();
    const q = this.ctx.quirks ?? {};
    const n = ++this.filed;
    const key = `${c.collection}\n${c.idempotencyKey}`;
    const stored: StoredCase = { ...c, createdMs: ms, createdAt: new Date(ms).toISOString() };
    if (opts.rejection && q.rejectEvery && n % q.rejectEvery === 0) {
      stored.flow = [...c.flow.slice(0, -1), opts.rejection.status];
      stored.finalReason = opts.rejection.reason;
    }
    if (q.loseEvery && n % q.loseEvery === 0 && !this.lostKeys.has(key)) stored.lostMs = ms + Math.max(1, this.ctx.statusStepMs);
    this.byRef.set(stored.reference, stored);
    this.byKey.set(key, stored);
    if (opts.duplicateReference && q.duplicateCase === n) {
      const twin: StoredCase = { ...stored, reference: opts.duplicateReference(), duplicate: true };
      delete twin.lostMs;
      this.byRef.set(twin.reference, twin);
    }
    return stored;
  }

  /** The case unless the back office has lost it by now; a lost case is dropped with its key. */
  private present(c: StoredCase | undefined): StoredCase | undefined {
    if (!c || c.lostMs === undefined || this.ctx.now() < c.lostMs) return c;
    this.byRef.delete(c.reference);
    const key = `${c.collection}\n${c.idempotencyKey}`;
    if (this.byKey.get(key) === c) this.byKey.delete(key);
    this.lostKeys.add(key);
    this.lost.push(c);
    return undefined;
  }

  private step(c: StoredCase): number {
    const step = this.ctx.statusStepMs > 0 ? Math.floor((this.ctx.now() - c.createdMs) / this.ctx.statusStepMs) : 0;
    return Math.min(Math.max(step, 0), c.flow.length - 1);
  }

  status(c: StoredCase): string {
    return c.flow[this.step(c)] ?? 'unbekannt';
  }

  /** The case's state as a listing shows it: state, when it last changed, and a reason once rejected. */
  view(c: StoredCase): { status: string; updatedMs: number; reason?: string } {
    const step = this.step(c);
    const status = c.flow[step] ?? 'unbekannt';
    const updatedMs = c.createdMs + step * this.ctx.statusStepMs;
    return c.finalReason && step === c.flow.length - 1 ? { status, updatedMs, reason: c.finalReason } : { status, updatedMs };
  }

  /** The cases still held, for listings. */
  held(): StoredCase[] {
    return [...this.byRef.values()].filter((c) => this.present(c));
  }

  /** Every case filed, lost ones included, for tests. */
  list(): SimCase[] {
    const held = this.held();
    return [...held, ...this.lost]
      .sort((a, b) => a.createdMs - b.createdMs)
      .map((c) => {
        const v = this.view(c);
        return {
          kind: c.kind,
          dialect: c.dialect,
          ags: c.ags,
          reference: c.reference,
          idempotencyKey: c.idempotencyKey,
          status: v.status,
          ...(v.reason ? { reason: v.reason } : {}),
          createdAt: c.createdAt,
          updatedAt: new Date(v.updatedMs).toISOString(),
          ...(this.lost.includes(c) ? { lost: true as const } : {}),
          ...(c.duplicate ? { duplicate: true as const } : {}),
          body: structuredClone(c.body),
        };
      });
  }
}

export const pad6 = (n: number): string => String(n).padStart(6, '0');

// ---------------------------------------------------------------------------------------------------
// problem+json (RFC 9457)

export interface FieldError {
  /** RFC 6901 pointer into the request body (or `header:Idempotency-Key`). */
  pointer: string;
  detail: string;
}

const PROBLEM_BASE = 'urn:amtsbote:simulator:problem:';

export function sendProblem(
  res: Response,
  status: number,
  slug: string,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
): void {
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: PROBLEM_BASE + slug, title, status, detail, ...extra }));
}

export function sendValidationProblem(res: Response, errors: FieldError[]): void {
  const shown = errors.slice(0, 5).map((e) => `${e.pointer}: ${e.detail}`);
  if (errors.length > 5) shown.push(`… and ${errors.length - 5} more`);
  // The title names the first field, against RFC 9457's advice of a fixed title: the hub's rest adapter
  // shows only the title, and this is what tells an operator which mapping line is wrong. Field names
  // and rules only, never values.
  const first = errors[0];
  const more = errors.length > 1 ? ` (+${errors.length - 1} more)` : '';
  const title = first ? `Invalid field ${first.pointer}: ${first.detail}${more}` : 'The request body is invalid';
  sendProblem(res, 400, 'validation', title, shown.join('; '), { errors });
}

export function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Zod issues as field errors; never echoes the received values (they may be citizens' data). */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ pointer: pointer([...issue.path, key]), detail: 'unknown field' });
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      out.push({ pointer: pointer(issue.path), detail: 'required' });
    } else {
      out.push({ pointer: pointer(issue.path), detail: issue.message });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// field formats shared by the dialects

export const text = (max = 200) => z.string().max(max, `at most ${max} characters`).regex(/\S/, 'must not be blank');
export const postalCode = z.string().regex(/^\d{5}$/, 'expected 5 digits');
export const email = z
  .string()
  .max(254)
  .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'expected an e-mail address');
export const phone = z
  .string()
  .max(40)
  .regex(/^\+?[\d ()/-]{4,}$/, 'expected a phone number');

function isCalendarDate(y: number, m: number, d: number): boolean {
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine((s) => isCalendarDate(+s.slice(0, 4), +s.slice(5, 7), +s.slice(8, 10)), 'not a calendar date');

export const germanDate = z
  .string()
  .regex(/^\d{2}\.\d{2}\.\d{4}$/, 'expected a date DD.MM.YYYY')
  .refine((s) => isCalendarDate(+s.slice(6, 10), +s.slice(3, 5), +s.slice(0, 2)), 'not a calendar date');

/** DD.MM.YYYY → YYYY-MM-DD, for comparing dates. */
export const germanToIso = (s: string): string => `${s.slice(6, 10)}-${s.slice(3, 5)}-${s.slice(0, 2)}`;

export const base64 = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64')
  .refine((s) => s.length % 4 === 0, 'expected base64');
export const attachmentMediaType = z.enum(['application/pdf', 'image/png', 'image/jpeg', 'text/plain']);

/** The person block and attachment list of Gelsenkirchen's back offices: both speak the city's German dialect. */
export const gelsenkirchenPerson = z.strictObject({
  anrede: z.enum(['Frau', 'Herr', 'Divers']).optional(),
  vorname: text(100),
  nachname: text(100),
  strasse: text(100),
  hausnummer: text(10),
  plz: postalCode,
  ort: text(100),
  email: email.optional(),
  telefon: phone.optional(),
});
export const gelsenkirchenAnlagen = z
  .array(z.strictObject({ dateiname: text(255), mimeType: attachmentMediaType, inhaltBase64: base64 }))
  .max(10)
  .optional();

// ---------------------------------------------------------------------------------------------------
// the app skeleton

export function createApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '30mb', type: ['application/json', 'application/*+json'] }));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return app;
}

/** Answers 503 with Retry-After: 1 for a share of requests, as an overloaded back office does. */
export function injectOutages(ctx: SimContext) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (ctx.failureRate > 0 && ctx.random() < ctx.failureRate) {
      res.set('Retry-After', '1');
      sendProblem(res, 503, 'unavailable', 'Service temporarily unavailable', 'the back office is busy; try again later');
      return;
    }
    next();
  };
}

export function finishApp(app: express.Express): void {
  app.use((_req: Request, res: Response) => {
    sendProblem(res, 404, 'not-found', 'Not found', 'no such resource');
  });
  // Body-parser failures and anything unexpected become problem+json, never an HTML page.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.parse.failed') return sendProblem(res, 400, 'malformed', 'Malformed JSON', 'the body is not valid JSON');
    if (e.type === 'entity.too.large') return sendProblem(res, 413, 'too-large', 'Payload too large', 'the body is too large');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendProblem(res, e.status, 'bad-request', 'Bad request', 'the request could not be read');
    }
    sendProblem(res, 500, 'internal', 'Internal error', 'the simulator failed');
  });
}

export interface FileSpec<T> {
  collection: string;
  dialect: string;
  schema: z.ZodType<T>;
  /** Checks across fields after the schema passed. */
  check?: (body: T, req: Request) => FieldError[];
  ags: (body: T, req: Request) => string;
  reference: (body: T, req: Request) => string;
  flow: readonly string[];
  /** How a rejected case ends (when the simulator's rejectEvery picks it). */
  rejection?: Rejection;
  created: (reference: string) => unknown;
  location: (reference: string) => string;
}

/** What every simulator accepts as an idempotency key: 1–255 visible ASCII characters. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The POST handler every dialect shares: content type, Idempotency-Key, replay, validation, filing.
 * A replayed key returns the first answer (200) and files nothing, whatever the body.
 */
export function fileCase<T>(ctx: SimContext, spec: FileSpec<T> | ((req: Request) => FileSpec<T> | undefined)) {
  return (req: Request, res: Response): void => {
    const s = typeof spec === 'function' ? spec(req) : spec;
    if (!s) return sendProblem(res, 404, 'not-found', 'Not found', 'no such collection');
    if (!req.is('application/json')) {
      return sendProblem(res, 415, 'media-type', 'Unsupported media type', 'send application/json');
    }
    const key = req.get('Idempotency-Key');
    if (!key || !IDEMPOTENCY_KEY.test(key)) {
      return sendValidationProblem(res, [
        { pointer: 'header:Idempotency-Key', detail: key ? 'expected 1–255 visible ASCII characters' : 'required' },
      ]);
    }
    const seen = ctx.book.findByKey(s.collection, key);
    if (seen) {
      res.status(200).set('Idempotent-Replayed', 'true').location(s.location(seen.reference)).json(s.created(seen.reference));
      return;
    }
    const parsed = s.schema.safeParse(req.body);
    if (!parsed.success) return sendValidationProblem(res, fieldErrors(parsed.error));
    const crossErrors = s.check?.(parsed.data, req) ?? [];
    if (crossErrors.length) return sendValidationProblem(res, crossErrors);
    const reference = s.reference(parsed.data, req);
    let twin: string | undefined;
    ctx.book.add(
      {
        kind: ctx.kind,
        dialect: s.dialect,
        collection: s.collection,
        ags: s.ags(parsed.data, req),
        reference,
        idempotencyKey: key,
        flow: s.flow,
        body: req.body as unknown,
      },
      { ...(s.rejection ? { rejection: s.rejection } : {}), duplicateReference: () => (twin = s.reference(parsed.data, req)) },
    );
    // One line per case, the reference only: the body is a citizen's data.
    ctx.log(`${ctx.kind}: ${s.dialect} filed ${reference}`);
    if (twin) ctx.log(`${ctx.kind}: ${s.dialect} filed ${twin} as well, under the same Idempotency-Key (a duplicate, on purpose)`);
    res.status(201).location(s.location(reference)).json(s.created(reference));
  };
}

/** GET <collection>/:reference → the case's current state, if `visible` says the case belongs to this path. */
export function caseStatus(
  ctx: SimContext,
  visible: (req: Request, c: { collection: string; ags: string }) => boolean,
  view: (reference: string, status: string, ags: string) => unknown,
) {
  return (req: Request, res: Response): void => {
    const c = ctx.book.find(String(req.params['reference'] ?? ''));
    if (!c || !visible(req, c)) return sendProblem(res, 404, 'not-found', 'Not found', 'no case with this reference');
    res.json(view(c.reference, ctx.book.status(c), c.ags));
  };
}

// ---------------------------------------------------------------------------------------------------
// listing and lookup, for reconciliation

/** One case as `GET /cases` and the collections' listings show it. */
export function listedCase(ctx: SimContext, c: StoredCase): Record<string, unknown> {
  const v = ctx.book.view(c);
  return {
    reference: c.reference,
    status: v.status,
    idempotencyKey: c.idempotencyKey,
    updatedAt: new Date(v.updatedMs).toISOString(),
    ...(v.reason ? { reason: v.reason } : {}),
    createdAt: c.createdAt,
    ags: c.ags,
    collection: c.collection,
  };
}

const PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

/**
 * `GET …?since=<ISO or epoch ms>&cursor=…&limit=…` → `{ items, next }`: the cases `visible` admits whose status
 * changed at or after `since`, oldest change first, `limit` (default 50) at a time. The cursor is the last
 * item's (change time, reference): keyset paging, so a case whose status moves on while a client pages
 * shows up again later rather than being skipped.
 */
export function caseListing(ctx: SimContext, visible: (req: Request, c: StoredCase) => boolean) {
  return (req: Request, res: Response): void => {
    const sinceText = typeof req.query['since'] === 'string' ? req.query['since'] : '0';
    const since = /^\d+$/.test(sinceText) ? Number(sinceText) : Date.parse(sinceText);
    if (Number.isNaN(since))
      return sendValidationProblem(res, [{ pointer: 'query:since', detail: 'expected an ISO 8601 time or epoch milliseconds' }]);
    const limitText = typeof req.query['limit'] === 'string' ? req.query['limit'] : String(PAGE_SIZE);
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      return sendValidationProblem(res, [{ pointer: 'query:limit', detail: `expected a whole number from 1 to ${MAX_PAGE_SIZE}` }]);
    }
    const after = typeof req.query['cursor'] === 'string' ? decodeCursor(req.query['cursor']) : undefined;
    if (after === null) return sendValidationProblem(res, [{ pointer: 'query:cursor', detail: 'not a cursor this server gave' }]);
    const rows = ctx.book
      .held()
      .filter((c) => visible(req, c))
      .map((c) => ({ c, updatedMs: ctx.book.view(c).updatedMs }))
      .filter(
        (r) => r.updatedMs >= since && (!after || r.updatedMs > after.ms || (r.updatedMs === after.ms && r.c.reference > after.reference)),
      )
      .sort((a, b) => a.updatedMs - b.updatedMs || (a.c.reference < b.c.reference ? -1 : a.c.reference > b.c.reference ? 1 : 0));
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    res.json({
      items: page.map((r) => listedCase(ctx, r.c)),
      next: rows.length > limit && last ? encodeCursor(last.updatedMs, last.c.reference) : null,
    });
  };
}

function encodeCursor(ms: number, reference: string): string {
  return Buffer.from(`${ms}\n${reference}`).toString('base64url');
}

function decodeCursor(text: string): { ms: number; reference: string } | null {
  const [ms, reference] = Buffer.from(text, 'base64url').toString('utf8').split('\n');
  return ms && /^\d+$/.test(ms) && reference ? { ms: Number(ms), reference } : null;
}

/** `GET /cases` (every case this simulator holds) and `GET /cases/:reference`. */
export function addCaseRoutes(app: express.Express, ctx: SimContext, outages: ReturnType<typeof injectOutages>): void {
  app.get(
    '/cases',
    outages,
    caseListing(ctx, () => true),
  );
  app.get('/cases/:reference', outages, (req, res) => {
    const c = ctx.book.find(String(req.params['reference'] ?? ''));
    if (!c) return sendProblem(res, 404, 'not-found', 'Not found', 'no case with this reference');
    res.json(listedCase(ctx, c));
  });
}
