// `POST /api/v1/fit-connect/{destination}/callback`: the platform's "new submissions" callback. Believed only
// with a valid HMAC and a fresh timestamp (callback.ts); then it only makes the destination poll now, so a
// forged or stale callback changes nothing and a lost one costs only the time to the next scheduled poll.

import express, { type Request, type Response } from 'express';
import type { Logger } from 'winston';
import type { Clock } from '../../clock.ts';
import { httpProblem } from '../../http/problem-details.ts';
import { callbackProblem } from './callback-problems.ts';
import { verifyCallback } from './callback.ts';
import type { FitConnectPoller } from './poller.ts';

/** Callbacks are small: a list of ids. */
const CALLBACK_LIMIT = '256kb';

export function fitConnectCallbackRoutes(o: {
  poller: FitConnectPoller;
  trigger: (destination: string) => void;
  logger: Logger;
  now: Clock;
}): express.Router {
  const api = express.Router();
  api.post(
    '/fit-connect/:destination/callback',
    express.raw({ type: () => true, limit: CALLBACK_LIMIT }),
    (req: Request, res: Response) => {
      const name = String(req.params.destination);
      const d = o.poller.get(name);
      const secret = d?.config.callbackSecret;
      if (!d || !secret) throw httpProblem('not-found', `no FIT-Connect callback for ${name.slice(0, 80)}`);
      const result = verifyCallback({
        authentication: req.get('callback-authentication'),
        timestamp: req.get('callback-timestamp'),
        rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        secret,
        now: o.now,
      });
      if (!result.ok) {
        o.logger.warn('FIT-Connect callback refused', { destination: name, reason: result.reason });
        if (result.reason === 'bad-body') throw callbackProblem('callback-invalid', result.error);
        throw callbackProblem('callback-refused', result.error);
      }
      const ours = result.callback.submissions.filter((s) => s.destinationId === d.config.destinationId).length;
      o.logger.info('FIT-Connect callback: polling now', { destination: name, submissions: ours });
      o.trigger(name);
      res.status(202).end();
    },
  );
  return api;
}
