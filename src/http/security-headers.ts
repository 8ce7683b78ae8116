// The headers every answer of the hub carries, and the answers to OPTIONS. The hub serves JSON and XML to
// programs, never pages, so the policy is the strictest helmet has: nothing may load, frame or be framed,
// no referrer, no sniffing. Personal data must not stay in a cache: `noStore` marks those answers.

import type { Express, Request, RequestHandler, Response, NextFunction } from 'express';
import helmet from 'helmet';
import { httpProblem, sendProblem } from './problem-details.ts';

/** helmet, set for an API: CSP `default-src 'none'`, frames denied, no referrer, nosniff, HSTS, no X-Powered-By. */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
    },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
}

/** `Cache-Control: no-store`: for every answer that can hold personal data (submission reads, operator views). */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/**
 * OPTIONS answered by the hub instead of express's automatic `200 text/plain`: CORS is off, so no browser needs
 * a preflight, and a program learns the methods from the OpenAPI document. A path the app serves answers `405`
 * problem+json with the `Allow` RFC 9110 §15.5.6 requires; any other path `404` like every unknown path.
 * Mount it before the routes; it reads the app's routes when a request comes, so later routes count too.
 */
export function answerOptions(app: Express): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'OPTIONS') {
      next();
      return;
    }
    const methods = allowedMethods(app, req.path);
    if (methods.length === 0) {
      sendProblem(res, httpProblem('not-found', `no route for ${req.method} ${req.path}`), req.originalUrl);
      return;
    }
    sendProblem(
      res,
      httpProblem('method-not-allowed', `${req.path} allows ${methods.join(', ')}`, undefined, { Allow: methods.join(', ') }),
      req.originalUrl,
    );
  };
}

/** What express's router (v2, the one of express 5) keeps of a route or a mounted router. */
interface RouterLayer {
  match(path: string): { path: string } | false;
  route?: { methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

/**
 * The methods the app's routes take at `path`, sorted, HEAD with GET: found by walking express's router the way
 * it dispatches (routes and mounted routers; middleware without a route does not count).
 */
export function allowedMethods(app: Express, path: string): string[] {
  const found = new Set<string>();
  const walk = (stack: readonly RouterLayer[], p: string): void => {
    for (const layer of stack) {
      const m = layer.match(p);
      if (!m) continue;
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') found.add(method.toUpperCase());
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, p.slice(m.path.length) || '/');
      }
    }
  };
  walk((app.router as unknown as { stack: RouterLayer[] }).stack, path);
  if (found.has('GET')) found.add('HEAD');
  return [...found].sort();
}
