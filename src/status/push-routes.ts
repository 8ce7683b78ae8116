import express, { type Request, type Response } from 'express';
import type { HubConfig } from '../config/schema.ts';
import { httpProblem, pointer, type FieldError } from '../http/problem-details.ts';
import { rawBody } from '../http/body.ts';
import { statusProblem } from './problems.ts';
import { isUtf8Charset, parseMediaType } from '../http/media-type.ts';
import { readStrictJson, strictJsonStatus } from '../http/strict-json.ts';
import type { StatusRecordResult } from '../store/status-store.ts';
import { PushAuth } from './push-auth.ts';
import type { StatusRecorder } from './recorder.ts';
import { pushedBatchSchema, pushedEventSchema, type PushedEvent } from './push-schema.ts';
import type { EventResultsAnswer } from './answers.ts';
import type { BackofficeStatusChange } from '../core/status/types.ts';
import type { Clock } from '../clock.ts';

export interface PushRoutesOptions {
  recorder: StatusRecorder;
  targets: HubConfig['targets'];
  /** The hub's clock. */
  now: Clock;
}

export { MAX_EVENTS } from './push-schema.ts';
/** A back office's clock may run this far ahead; later `at`s are refused, as they would freeze the case's status. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * `POST /backoffice-events` (under /api/v1): a back office pushes the status of its cases, one event or a batch.
 * The batch is validated as a whole and written in one transaction: a 422 writes nothing. An event naming a case the
 * hub does not know is answered `unknown-case` in its result (a single event: 404); the others are recorded.
 */
export function pushRoutes(o: PushRoutesOptions): express.Router {
  const auth = new PushAuth(o.targets);
  const now = o.now;
  const api = express.Router();
  const readBody = rawBody('1mb');

  api.post(
    '/backoffice-events',
    (req, res, next) => {
      res.locals.statusTargets = auth.authenticate(req);
      const media = parseMediaType(req.get('content-type'));
      if (!media.ok) throw httpProblem('unsupported-media-type', `${media.detail}; send application/json`);
      const type = media.mediaType.essence;
      if (type !== 'application/json') throw httpProblem('unsupported-media-type', `${type} is not accepted; send application/json`);
      if (!isUtf8Charset(media.mediaType)) throw httpProblem('unsupported-media-type', 'only UTF-8 is accepted');
      next();
    },
    readBody,
    async (req: Request, res: Response) => {
      // A back office is outside the hub too: the same strict reader as the intake (src/http/strict-json.ts).
      const read = readStrictJson(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      if (!read.ok) {
        if (strictJsonStatus[read.kind] === 400) throw httpProblem('malformed-body', read.detail);
        throw statusProblem('invalid-status-event', read.detail, [{ pointer: pointer(read.path), detail: read.detail }]);
      }
      const body = read.value;
      const allowed = res.locals.statusTargets as string[];
      const received = now();
      const { events, single, errors } = validate(body, allowed, received);
      if (errors.length)
        throw statusProblem('invalid-status-event', `${errors.length} field${errors.length > 1 ? 's are' : ' is'} not valid`, errors);
      const changes = events.map(
        (e): BackofficeStatusChange => ({
          targetId: e.target ?? allowed[0]!,
          ...(e.reference !== undefined ? { reference: e.reference } : { idempotencyKey: e.idempotencyKey! }),
          status: e.status,
          ...(e.reason ? { reason: e.reason } : {}),
          at: e.at ? Date.parse(e.at) : received,
          source: 'push',
        }),
      );
      // Without a target the case is looked for in every target the token stands for.
      const results = await o.recorder.recordAll(changes, (c, i) => (events[i]!.target ? [c.targetId] : allowed));
      if (single && results[0]!.outcome === 'unknown-case') {
        const e = events[0]!;
        throw statusProblem(
          'unknown-case',
          e.reference !== undefined ? `no case with reference ${e.reference}` : `no case with idempotency key ${e.idempotencyKey}`,
        );
      }
      res.json({ results: results.map(publicResult) } satisfies EventResultsAnswer);
    },
  );
  return api;
}

function validate(
  body: unknown,
  allowed: readonly string[],
  now: number,
): { events: PushedEvent[]; single: boolean; errors: FieldError[] } {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return { events: [], single: true, errors: [{ pointer: '#', detail: 'the body must be an object' }] };
  const single = !('events' in body);
  const r = single ? pushedEventSchema.safeParse(body, { reportInput: true }) : pushedBatchSchema.safeParse(body, { reportInput: true });
  if (!r.success) {
    return {
      events: [],
      single,
      errors: r.error.issues.map((i): FieldError => {
        if (i.code === 'unrecognized_keys')
          return { pointer: pointer([...i.path, i.keys[0]!]), detail: `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}` };
        if (i.code === 'invalid_type' && i.input === undefined) return { pointer: pointer(i.path), detail: 'required' };
        return { pointer: pointer(i.path), detail: i.code === 'invalid_type' ? `expected ${i.expected}` : i.message };
      }),
    };
  }
  const events = single ? [r.data as PushedEvent] : (r.data as { events: PushedEvent[] }).events;
  const errors: FieldError[] = [];
  events.forEach((e, i) => {
    const at = (field: string) => pointer(single ? [field] : ['events', i, field]);
    if (e.target !== undefined && !allowed.includes(e.target))
      errors.push({ pointer: at('target'), detail: 'this token may not report for this target' });
    if (e.at !== undefined && Date.parse(e.at) > now + MAX_CLOCK_SKEW_MS) errors.push({ pointer: at('at'), detail: 'lies in the future' });
  });
  return { events, single, errors };
}

/** One event's result as the back office sees it: what became of it, and where the case stands for the portal. */
function publicResult(r: StatusRecordResult): EventResultsAnswer['results'][number] {
  return {
    outcome: r.outcome,
    ...(r.submissionId ? { submissionId: r.submissionId } : {}),
    ...(r.portalStatus ? { portalStatus: r.portalStatus } : {}),
  };
}
