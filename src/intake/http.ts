import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'winston';
import type { Router as HubRouter } from '../routing/router.ts';
import type { Store } from '../store/store.ts';
import { acceptSubmission } from './accept.ts';
import { PortalAuth } from '../http/bearer.ts';
import { validateEnvelope } from './envelope.ts';
import { HttpProblem, sendProblem } from '../http/problem.ts';
import { parseSubmissionXml, XmlInputError } from './xml.ts';
import { submissionResource, submissionStatus } from './submission-view.ts';
import type { SubmissionAccepted } from './submission-answers.ts';
import { StatusStore } from '../store/status-store.ts';
import type { Metrics } from '../operator/metrics.ts';
import type { Clock } from '../clock.ts';

export interface IntakeOptions {
  store: Store;
  router: HubRouter;
  logger: Logger;
  metrics: Metrics;
  bodyLimit: string;
  /** The hub's clock: a submission is received, and its ids made, at its now. */
  now: Clock;
  /** Called after a new submission is stored, so the worker can start at once instead of at its next poll. */
  onAccepted?: () => void;
}

const JSON_TYPES = ['application/json'];
const XML_TYPES = ['application/xml', 'text/xml'];

/** `POST /api/v1/submissions` and `GET /api/v1/submissions/{id}`. */
export function intakeRoutes(opts: IntakeOptions): express.Router {
  const { store, router, logger, metrics } = opts;
  const auth = new PortalAuth(router.config.hub.portals);
  const api = express.Router();
  // The body is read raw: we choose the parser by media type and answer 415 before reading anything else.
  const readBody = express.raw({ type: () => true, limit: opts.bodyLimit });

  api.post(
    '/submissions',
    (req, _res, next) => {
      req.portal = auth.authenticate(req);
      const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (![...JSON_TYPES, ...XML_TYPES].includes(type)) {
        throw new HttpProblem('unsupported-media-type', type ? `${type} is not accepted` : 'Content-Type is missing');
      }
      const charset = /charset=([^;]+)/i.exec(req.get('content-type') ?? '')?.[1]?.trim().toLowerCase();
      if (charset && charset !== 'utf-8' && charset !== 'utf8') throw new HttpProblem('unsupported-media-type', 'only UTF-8 is accepted');
      next();
    },
    readBody,
    async (req: Request, res: Response) => {
      const started = process.hrtime.bigint();
      const portal = req.portal!;
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const isXml = XML_TYPES.includes((req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase());
      let parsed: unknown;
      try {
        parsed = isXml ? parseSubmissionXml(raw) : JSON.parse(raw);
      } catch (e) {
        if (e instanceof XmlInputError) throw new HttpProblem('malformed-body', e.message);
        const at = /position (\d+)/.exec((e as Error).message)?.[1];
        throw new HttpProblem('malformed-body', `the body is not valid JSON${at ? ` (at character ${at})` : ''}`);
      }
      const v = validateEnvelope(parsed);
      if (!v.ok) throw new HttpProblem('invalid-submission', `${v.errors.length} field${v.errors.length > 1 ? 's are' : ' is'} not valid`, v.errors);
      const result = await acceptSubmission(store, router, portal, v.envelope, opts.now());
      const location = `/api/v1/submissions/${result.id}`;
      res.setHeader('Location', location);
      metrics.intake.inc({ portal: portal.id, outcome: result.status });
      metrics.intakeSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      if (result.status === 'created') {
        logger.info('submission received', { submissionId: result.id, tenant: v.envelope.tenant, service: v.envelope.service, portal: portal.id, deliveries: result.deliveries, format: isXml ? 'xml' : 'json' });
        opts.onAccepted?.();
        res.status(202).json({ id: result.id, status: 'received' } satisfies SubmissionAccepted);
        return;
      }
      logger.info('submission resubmitted; answered with the first', { submissionId: result.id, portal: portal.id });
      const current = await store.getSubmission(result.id);
      res.status(200).json({ id: result.id, status: current ? submissionStatus(current) : 'received' } satisfies SubmissionAccepted);
    },
  );

  api.get('/submissions/:id', async (req: Request, res: Response) => {
    const portal = auth.authenticate(req);
    const id = String(req.params.id);
    const s = /^[0-9a-f-]{36}$/.test(id) ? await store.getSubmission(id) : undefined;
    // Another portal's submission is answered like a missing one: its existence is not the caller's business.
    if (!s || s.portalId !== portal.id) throw new HttpProblem('not-found', `no submission ${id} for this portal`);
    res.json(submissionResource(s, await new StatusStore(store.db, store.dialect).view(s.id)));
  });

  return api;
}

/** Turns every error into problem+json: ours as they are, body-parser's by kind, anything else as a bare 500. */
export function problemHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof HttpProblem) {
      sendProblem(res, err, req.originalUrl);
      return;
    }
    const e = err as { type?: string; status?: number; limit?: number };
    if (e?.type === 'entity.too.large') {
      sendProblem(res, new HttpProblem('body-too-large', `the limit is ${e.limit} bytes`), req.originalUrl);
      return;
    }
    if (e?.type === 'request.aborted' || e?.type === 'request.size.invalid') {
      sendProblem(res, new HttpProblem('malformed-body', 'the request body was incomplete'), req.originalUrl);
      return;
    }
    if (e?.status === 400 || e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
      sendProblem(res, new HttpProblem('malformed-body', 'the request body could not be read'), req.originalUrl);
      return;
    }
    logger.error('request failed', { method: req.method, path: req.route?.path ?? req.path, error: err instanceof Error ? err.message : String(err) });
    sendProblem(res, new HttpProblem('internal-error'), req.originalUrl);
  };
}
