// `POST /api/v1/inbound/{channel}`: a standards message as the portal has it (docs/inbound.md). The checks run
// before anything is stored: token, channel, the document (receiveInbound), the configuration (tenant, service,
// route), the service's data schema; then the intake's accept path stores it once, with its original bytes.

import express, { type Request, type Response } from 'express';
import type { Logger } from 'winston';
import type { Clock } from '../clock.ts';
import { rawBody } from '../http/body.ts';
import { httpProblem, pointer, type FieldError, type HttpProblem } from '../http/problem-details.ts';
import { acceptSubmission, admit } from '../intake/accept.ts';
import { PortalAuth } from '../intake/portal-auth.ts';
import { refusalProblem } from '../intake/problems.ts';
import { answerAccepted } from '../intake/accepted-answer.ts';
import type { Metrics } from '../operator/metrics.ts';
import type { Router as HubRouter } from '../routing/router.ts';
import type { Store } from '../store/index.ts';
import { envelopeOf, receiveInbound } from './channel.ts';
import { inboundProblem } from './problems.ts';
import type { Refusal } from './result.ts';
import { validateServiceData } from './service-data.ts';
import type { InboundSetup } from './setup.ts';
import type { PortalGuards } from '../intake/portal-guards.ts';

export interface InboundOptions {
  store: Store;
  router: HubRouter;
  inbound: InboundSetup;
  logger: Logger;
  metrics: Metrics;
  /** The intake's limit (server.bodyLimit). */
  bodyLimit: string;
  now: Clock;
  /** Called after a new submission is stored, so the worker can start at once. */
  onAccepted?: () => void;
  /** The envelope intake's per-token limit and request signatures: one budget per portal for both routes. */
  guards: PortalGuards;
}

export function inboundRoutes(opts: InboundOptions): express.Router {
  const { store, router, logger, metrics, inbound } = opts;
  const auth = new PortalAuth(router.config.hub.portals);
  const api = express.Router();

  api.post(
    '/inbound/:channel',
    (req, _res, next) => {
      // Token and channel before a byte of the body is read.
      req.portal = auth.authenticate(req);
      opts.guards.rateLimit.take(req.portal);
      if (!inbound.channels.has(String(req.params.channel)))
        throw httpProblem('not-found', `no inbound channel ${String(req.params.channel).slice(0, 80)}`);
      next();
    },
    rawBody(opts.bodyLimit),
    async (req: Request, res: Response) => {
      const portal = req.portal!;
      const channel = inbound.channels.get(String(req.params.channel))!;
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      opts.guards.signatures.verify(portal, req, body);
      const received = await receiveInbound(channel, body, req.get('content-type'), opts.now);
      if (!received.ok) throw documentProblem(received);
      const doc = received.submission;
      // The mapping's head already passed the envelope's rules; this makes it the envelope the accept path takes.
      const v = envelopeOf(doc, { attachments: [] });
      if (!v.ok) throw inboundProblem('invalid-document', 'the inbound mapping gave no valid submission', v.errors);
      const admitted = admit(router, portal, v.envelope);
      if (!admitted.ok) throw refusalProblem(admitted);
      const data = validateServiceData(inbound.serviceSchemas, admitted.service.slug, v.envelope.data);
      if (!data.ok) throw inboundProblem('invalid-service-data', data.detail, fieldErrors(data));

      const result = await acceptSubmission(store, router, portal, v.envelope, doc.receivedAt, doc.content);
      if (!result.ok) throw refusalProblem(result);
      await answerAccepted(res, result, {
        store,
        metrics,
        logger,
        portal,
        received: { tenant: admitted.tenant.key, service: admitted.service.slug, channel: channel.config.name },
        onAccepted: opts.onAccepted,
      });
    },
  );
  return api;
}

function documentProblem(r: Refusal): HttpProblem {
  if (r.status === 415) return inboundProblem('unsupported-document-type', r.detail);
  if (r.status === 400) return inboundProblem('unreadable-document', r.detail);
  const errors = fieldErrors(r);
  return inboundProblem('invalid-document', r.detail, errors.length ? errors : undefined);
}

/** The refusal's places as RFC 9457 field errors: every one, else the one `path`. */
function fieldErrors(r: Refusal): FieldError[] {
  const places = r.errors ?? (r.path !== undefined ? [{ path: r.path, detail: r.detail }] : []);
  return places.map((p) => ({ pointer: toPointer(p.path), detail: p.detail }));
}

/**
 * A JSON pointer (`/data/hund/rasse`) or an element path (`/gew:anzeige/gew:taetigkeit[2]`) in the URI-fragment
 * form the problem's `errors` use (`#/…`). A place that is no path (libxml2's `line 3`) points at the document.
 */
export function toPointer(place: string): string {
  if (!place.startsWith('/')) return '#';
  if (place === '/') return '#';
  return pointer(
    place
      .slice(1)
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')),
  );
}
