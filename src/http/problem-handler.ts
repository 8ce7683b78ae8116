import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'winston';
import { HttpProblem, httpProblem, sendProblem } from './problem-details.ts';

/**
 * The express error middleware of every API: turns every error into problem+json. Ours go out as they are,
 * body-parser's by kind, anything else as a bare 500: no stack trace, no parser internals reach the client
 * (the log has the message).
 */
export function problemHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof HttpProblem) {
      sendProblem(res, err, req.originalUrl);
      return;
    }
    const e = err as { type?: string; status?: number; limit?: number };
    if (e?.type === 'entity.too.large') {
      sendProblem(res, httpProblem('body-too-large', `the limit is ${e.limit} bytes`), req.originalUrl);
      return;
    }
    if (e?.type === 'request.aborted' || e?.type === 'request.size.invalid') {
      sendProblem(res, httpProblem('malformed-body', 'the request body was incomplete'), req.originalUrl);
      return;
    }
    if (e?.status === 400 || e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
      sendProblem(res, httpProblem('malformed-body', 'the request body could not be read'), req.originalUrl);
      return;
    }
    logger.error('request failed', {
      method: req.method,
      path: req.route?.path ?? req.path,
      error: err instanceof Error ? err.message : String(err),
    });
    sendProblem(res, httpProblem('internal-error'), req.originalUrl);
  };
}

/** The last handler of the app: a path no router answered is a 404 problem, not express's HTML page. */
export function notFoundHandler(req: Request, res: Response): void {
  sendProblem(res, httpProblem('not-found', `no route for ${req.method} ${req.path}`), req.originalUrl);
}
