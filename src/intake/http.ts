import express, { type Request, type Response } from 'express';
import type { Logger } from 'winston';
import type { Router as HubRouter } from '../routing/router.ts';
import type { Store } from '../store/index.ts';
import { acceptSubmission } from './accept.ts';
import { PortalAuth } from './portal-auth.ts';
import { validateEnvelope } from './envelope.ts';
import { httpProblem, pointer } from '../http/problem-details.ts';
import { rawBody } from '../http/body.ts';
import { intakeProblem, refusalProblem } from './problems.ts';
import { firstInvalidUtf8, readStrictJson, strictJsonStatus } from '../http/strict-json.ts';
import { isUtf8Charset, parseMediaType } from '../http/media-type.ts';
import { parseSubmissionXml, XmlInputError } from './xml.ts';
import { submissionResource } from './submission-view.ts';
import { answerAccepted } from './accepted-answer.ts';
import type { Metrics } from '../operator/metrics.ts';
import type { Clock } from '../clock.ts';
import { validateServiceData, type ServiceDataSchemas } from '../inbound/service-data.ts';
import { inboundProblem } from '../inbound/problems.ts';
import { toPointer } from '../inbound/http.ts';
import type { AttachmentLimits } from '../config/intake-limits.ts';
import { attachmentFaults } from './attachment-limits.ts';
import { portalGuards, type PortalGuards } from './portal-guards.ts';

export interface IntakeOptions {
  store: Store;
  router: HubRouter;
  logger: Logger;
  metrics: Metrics;
  bodyLimit: string;
  /** The hub's clock: a submission is received, and its ids made, at its now. */
  now: Clock;
  /** Limits on the attachments of one submission (configuration `intake.attachments`). */
  attachmentLimits: AttachmentLimits;
  /** Shared with the inbound channels (portal-guards.ts); default: this route's own. */
  guards?: PortalGuards;
  /** Called after a new submission is stored, so the worker can start at once instead of at its next poll. */
  onAccepted?: () => void;
  /** The services' data schemas (services[].dataSchema): bad data is refused here with 422, not at mapping time. */
  serviceSchemas?: ServiceDataSchemas;
}

const JSON_TYPES = ['application/json'];
const XML_TYPES = ['application/xml', 'text/xml'];

/** `POST /api/v1/submissions` and `GET /api/v1/submissions/{id}`. */
export function intakeRoutes(opts: IntakeOptions): express.Router {
  const { store, router, logger, metrics } = opts;
  const auth = new PortalAuth(router.config.hub.portals);
  const { rateLimit, signatures } = opts.guards ?? portalGuards(opts.now);
  const api = express.Router();
  // The body is read raw: we choose the parser by media type and answer 415 before reading anything else.
  const readBody = rawBody(opts.bodyLimit);

  api.post(
    '/submissions',
    (req, res, next) => {
      req.portal = auth.authenticate(req);
      // Before a byte of the body is read: a flooding token costs the hub almost nothing.
      rateLimit.take(req.portal);
      // Parsed by RFC 9110's grammar: `charset="utf-8"` is UTF-8, and a charset inside a quoted value is not one.
      const media = parseMediaType(req.get('content-type'));
      if (!media.ok) throw httpProblem('unsupported-media-type', media.detail);
      const type = media.mediaType.essence;
      if (![...JSON_TYPES, ...XML_TYPES].includes(type)) throw httpProblem('unsupported-media-type', `${type} is not accepted`);
      if (!isUtf8Charset(media.mediaType)) throw httpProblem('unsupported-media-type', 'only UTF-8 is accepted');
      res.locals.isXml = XML_TYPES.includes(type);
      next();
    },
    readBody,
    async (req: Request, res: Response) => {
      const started = process.hrtime.bigint();
      const portal = req.portal!;
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const isXml = res.locals.isXml === true;
      signatures.verify(portal, req, body);
      let parsed: unknown;
      if (isXml) {
        // Bytes that are not UTF-8 would be stored as U+FFFD: refused, as for JSON.
        const bad = firstInvalidUtf8(body);
        if (bad !== -1) throw httpProblem('malformed-body', `the body is not valid UTF-8 (at byte ${bad})`);
        try {
          parsed = parseSubmissionXml(body.toString('utf8'));
        } catch (e) {
          if (e instanceof XmlInputError) throw httpProblem('malformed-body', e.message);
          throw e;
        }
      } else {
        // Not JSON.parse: depth, duplicate keys, __proto__, UTF-8 and numbers are checked on the bytes (strict-json.ts).
        const r = readStrictJson(body);
        if (!r.ok) {
          if (strictJsonStatus[r.kind] === 400) throw httpProblem('malformed-body', r.detail);
          throw intakeProblem('invalid-submission', r.detail, [{ pointer: pointer(r.path), detail: r.detail }]);
        }
        parsed = r.value;
      }
      const v = validateEnvelope(parsed);
      if (!v.ok)
        throw intakeProblem('invalid-submission', `${v.errors.length} field${v.errors.length > 1 ? 's are' : ' is'} not valid`, v.errors);
      // An unknown service is left to the accept path, which names it; a known one with a schema has its data checked.
      const service = router.service(v.envelope.service);
      if (service && opts.serviceSchemas) {
        const data = validateServiceData(opts.serviceSchemas, service.slug, v.envelope.data);
        if (!data.ok)
          throw inboundProblem(
            'invalid-service-data',
            data.detail,
            (data.errors ?? []).map((e) => ({ pointer: toPointer(e.path), detail: e.detail })),
          );
      }
      const faults = attachmentFaults(
        v.envelope.attachments.map((a) => ({ mediaType: a.mediaType, content: Buffer.from(a.content, 'base64') })),
        opts.attachmentLimits,
      );
      if (faults.length)
        throw intakeProblem('invalid-submission', `${faults.length} attachment rule${faults.length > 1 ? 's' : ''} broken`, faults);
      const result = await acceptSubmission(store, router, portal, v.envelope, opts.now());
      if (!result.ok) throw refusalProblem(result);
      metrics.intakeSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      await answerAccepted(res, result, {
        store,
        metrics,
        logger,
        portal,
        received: { tenant: v.envelope.tenant, service: v.envelope.service, format: isXml ? 'xml' : 'json' },
        onAccepted: opts.onAccepted,
      });
    },
  );

  api.get('/submissions/:id', async (req: Request, res: Response) => {
    const portal = auth.authenticate(req);
    const id = String(req.params.id);
    const s = /^[0-9a-f-]{36}$/.test(id) ? await store.getSubmission(id) : undefined;
    // Another portal's submission is answered like a missing one: its existence is not the caller's business.
    if (!s || s.portalId !== portal.id) throw httpProblem('not-found', `no submission ${id} for this portal`);
    res.json(submissionResource(s, await store.status.view(s.id)));
  });

  return api;
}
