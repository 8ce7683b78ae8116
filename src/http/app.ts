import express from 'express';
import type { Logger } from 'winston';
import { notFoundHandler, problemHandler } from './problem-handler.ts';
import { answerOptions, noStore, securityHeaders } from './security-headers.ts';

/** One feature's routes and where they are mounted (`/api/v1`, or `/` for health and metrics). */
export interface Mount {
  path: string;
  router: express.Router;
}

/**
 * The express app of the hub: security headers and OPTIONS answers (security-headers.ts), the features' routers
 * in order, then 404 and every error as problem+json.
 * Features read their own bodies (src/http/body.ts), so the app sets no parser of its own.
 */
export function createHttpApp(o: { logger: Logger; mounts: readonly Mount[] }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(securityHeaders());
  app.use(answerOptions(app));
  // Every answer under /api/v1 can hold personal data (a submission, a delivery, a finding): no cache keeps it.
  app.use('/api/v1', noStore);
  for (const m of o.mounts) app.use(m.path, m.router);
  app.use(notFoundHandler);
  app.use(problemHandler(o.logger));
  return app;
}
