// The citizen portal's side of the demo: it makes submissions from examples/ and sends them to the hub, "loses"
// some on the way (a webhook that never arrived), lists what it holds for the hub's portal reconciliation, and
// receives the hub's status updates (failing the first few on request, so the hub's outbox has to retry).
// Form data stays in memory; logs carry external ids and statuses only.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { sendProblem, sendValidationProblem } from './common.ts';
import type { Example } from '../example-input.ts';
import type { Clock } from '../../clock.ts';
import { PROJECT_ROOT } from '../../project-root.ts';

const EXAMPLES = path.join(PROJECT_ROOT, 'examples');

/** A submission as the hub's intake takes it (src/intake/envelope.ts): the shape of the examples. */
export type PortalEnvelope = Example;

/**
 * Where a submission stands on the portal's side. `pending`: not yet through (the hub did not answer; tried
 * again); `sent`: the hub answered 202 or 200; `lost`: never sent; `refused`: the hub answered 4xx.
 */
export type PortalSendState = 'pending' | 'sent' | 'lost' | 'refused';

export interface PortalSubmissionView {
  externalId: string;
  tenant: string;
  service: string;
  submittedAt: string;
  state: PortalSendState;
}

/** One status update the hub POSTed, as received. */
export interface ReceivedStatus {
  receivedAt: string;
  body: unknown;
}

export interface PortalSpec {
  listingToken?: string | undefined;
  submitTo?: string | undefined;
  hubToken?: string | undefined;
  submissions?: number | undefined;
  submitEveryMs?: number | undefined;
  loseEvery?: number | undefined;
  statusFailures?: number | undefined;
}

/** What tests and the demo use to steer the portal. */
export interface PortalControls {
  /** Holds a submission; `lost: true` keeps it from the hub (it is listed all the same). */
  add(envelope: PortalEnvelope, opts?: { lost?: boolean }): void;
  /** Makes (or retries) one submission now, as the timer does: what happened to it. */
  submitNext(): Promise<PortalSubmissionView | undefined>;
  submissions(): PortalSubmissionView[];
  statusUpdates(): ReceivedStatus[];
  /** Answers the next `n` status updates with 503. */
  failStatus(n: number): void;
}

interface Held {
  envelope: PortalEnvelope;
  submittedMs: number;
  state: PortalSendState;
}

const PAGE_SIZE = 50;

function loadExamples(): PortalEnvelope[] {
  return readdirSync(EXAMPLES)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => JSON.parse(readFileSync(path.join(EXAMPLES, n), 'utf8')) as PortalEnvelope);
}

export function createPortal(
  spec: PortalSpec,
  log: (msg: string) => void,
  now: Clock,
): { app: express.Express; controls: PortalControls; timer(): () => void } {
  const held = new Map<string, Held>();
  const updates: ReceivedStatus[] = [];
  let failuresLeft = spec.statusFailures ?? 0;
  let made = 0;
  // A run's own prefix: a restarted demo on the same database must not reuse external ids with other bodies.
  const run = now().toString(36).toUpperCase();
  let examples: PortalEnvelope[] | undefined;

  const view = (h: Held): PortalSubmissionView => ({
    externalId: h.envelope.externalId,
    tenant: h.envelope.tenant,
    service: h.envelope.service,
    submittedAt: h.envelope.submittedAt,
    state: h.state,
  });

  function add(envelope: PortalEnvelope, opts: { lost?: boolean } = {}): Held {
    const ms = Date.parse(envelope.submittedAt);
    const h: Held = {
      envelope: structuredClone(envelope),
      submittedMs: Number.isNaN(ms) ? now() : ms,
      state: opts.lost ? 'lost' : 'pending',
    };
    held.set(envelope.externalId, h);
    return h;
  }

  async function send(h: Held): Promise<void> {
    if (!spec.submitTo) return;
    let status: number;
    try {
      const res = await fetch(spec.submitTo, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(spec.hubToken ? { Authorization: `Bearer ${spec.hubToken}` } : {}) },
        body: JSON.stringify(h.envelope),
        redirect: 'error',
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      await res.body?.cancel();
    } catch {
      log(`portal: hub not reachable for ${h.envelope.externalId}; trying again later`);
      return;
    }
    if (status === 202 || status === 200) h.state = 'sent';
    else if (status >= 400 && status < 500 && status !== 408 && status !== 429) h.state = 'refused';
    log(`portal: sent ${h.envelope.externalId} → HTTP ${status}${h.state === 'pending' ? '; trying again later' : ''}`);
  }

  async function submitNext(): Promise<PortalSubmissionView | undefined> {
    const pending = [...held.values()].find((h) => h.state === 'pending');
    if (pending) {
      await send(pending);
      return view(pending);
    }
    if (made >= (spec.submissions ?? 0)) return undefined;
    examples ??= loadExamples();
    const example = examples[made % examples.length]!;
    made += 1;
    const envelope: PortalEnvelope = {
      ...structuredClone(example),
      externalId: `ELP-SIM-${run}-${String(made).padStart(4, '0')}`,
      submittedAt: new Date(now()).toISOString(),
    };
    const lost = spec.loseEvery !== undefined && made % spec.loseEvery === 0;
    const h = add(envelope, { lost });
    if (lost) log(`portal: ${envelope.externalId} was never sent to the hub (a lost webhook, on purpose)`);
    else await send(h);
    return view(h);
  }

  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));

  const listingAuth = (req: Request, res: Response, next: NextFunction): void => {
    if (spec.listingToken && req.get('authorization') !== `Bearer ${spec.listingToken}`) {
      return sendProblem(res, 401, 'unauthorized', 'Unauthorized', 'send the listing token as Authorization: Bearer');
    }
    next();
  };

  // GET /submissions?since=…&cursor=…&limit=…: oldest first by (submittedAt, externalId), keyset cursor.
  app.get('/submissions', listingAuth, (req, res) => {
    const sinceText = typeof req.query['since'] === 'string' ? req.query['since'] : '1970-01-01T00:00:00Z';
    const since = Date.parse(sinceText);
    if (Number.isNaN(since)) return sendValidationProblem(res, [{ pointer: 'query:since', detail: 'expected an ISO 8601 time' }]);
    const limit = typeof req.query['limit'] === 'string' ? Number(req.query['limit']) : PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      return sendValidationProblem(res, [{ pointer: 'query:limit', detail: 'expected 1 to 1000' }]);
    const cursor =
      typeof req.query['cursor'] === 'string' ? Buffer.from(req.query['cursor'], 'base64url').toString('utf8').split('\n') : undefined;
    const after = cursor && /^\d+$/.test(cursor[0] ?? '') && cursor[1] ? { ms: Number(cursor[0]), id: cursor[1] } : undefined;
    if (cursor && !after) return sendValidationProblem(res, [{ pointer: 'query:cursor', detail: 'not a cursor this server gave' }]);
    const rows = [...held.values()]
      .filter(
        (h) =>
          h.submittedMs >= since &&
          (!after || h.submittedMs > after.ms || (h.submittedMs === after.ms && h.envelope.externalId > after.id)),
      )
      .sort((a, b) => a.submittedMs - b.submittedMs || (a.envelope.externalId < b.envelope.externalId ? -1 : 1));
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    res.json({
      items: page.map((h) => ({
        externalId: h.envelope.externalId,
        tenant: h.envelope.tenant,
        service: h.envelope.service,
        submittedAt: h.envelope.submittedAt,
      })),
      next: rows.length > limit && last ? Buffer.from(`${last.submittedMs}\n${last.envelope.externalId}`).toString('base64url') : null,
    });
  });

  app.get('/submissions/:externalId', listingAuth, (req, res) => {
    const h = held.get(String(req.params['externalId']));
    if (!h) return sendProblem(res, 404, 'not-found', 'Not found', 'no submission with this external id');
    res.json(h.envelope);
  });

  // The hub's status callback: any JSON is recorded; the log names the id and the status only.
  app.post('/status', express.json({ limit: '1mb', type: () => true }), (req, res) => {
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      log(`portal: status update refused with 503 (outage on purpose; ${failuresLeft} more to refuse)`);
      res.set('Retry-After', '1');
      return sendProblem(res, 503, 'unavailable', 'Service temporarily unavailable', 'the portal is busy; try again later');
    }
    const body = req.body as Record<string, unknown> | undefined;
    updates.push({ receivedAt: new Date(now()).toISOString(), body });
    const id = pick(body, ['externalId', 'submissionId', 'id']);
    const status = pick(body, ['status', 'portalStatus', 'state']);
    log(`portal: status update for ${id ?? '(no id)'}: ${status ?? '(no status)'}`);
    res.status(204).end();
  });

  app.use((_req: Request, res: Response) => sendProblem(res, 404, 'not-found', 'Not found', 'no such resource'));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string };
    if (e.type === 'entity.parse.failed') return sendProblem(res, 400, 'malformed', 'Malformed JSON', 'the body is not valid JSON');
    sendProblem(res, 500, 'internal', 'Internal error', 'the simulator failed');
  });

  const controls: PortalControls = {
    add: (envelope, opts) => void add(envelope, opts),
    submitNext,
    submissions: () => [...held.values()].map(view),
    statusUpdates: () => structuredClone(updates),
    failStatus: (n) => void (failuresLeft = n),
  };

  /** Starts the submission timer; returns how to stop it. One tick at a time. */
  function timer(): () => void {
    if (!spec.submitTo || !(spec.submissions ?? 0)) return () => {};
    let busy = false;
    const handle = setInterval(() => {
      if (busy) return;
      busy = true;
      submitNext()
        .catch((e: unknown) => log(`portal: submitting failed: ${(e as Error).message}`))
        .finally(() => (busy = false));
    }, spec.submitEveryMs ?? 5000);
    return () => clearInterval(handle);
  }

  return { app, controls, timer };
}

/** A short string field of the update (ids and statuses are short; anything long is not one). */
function pick(body: Record<string, unknown> | undefined, names: string[]): string | undefined {
  for (const n of names) {
    const v = body?.[n];
    if ((typeof v === 'string' && v.length <= 100) || typeof v === 'number') return String(v);
  }
  return undefined;
}
