import { LOGIN_PATH, type OperatorAccess, requireRole } from '../../src/operator/access.ts';
import type { Principal } from '../../src/operator/principal.ts';
import { operatorProblem } from '../../src/operator/problems.ts';

/**
 * An OperatorAccess with several bearer tokens, each standing for its own Principal (a tenant scope, a role): what
 * logins give the operator area, without them, so tests can ask as a Gelsenkirchen viewer or a Bottrop operator.
 */
export function scopedTokenAccess(tokens: Record<string, Principal>): OperatorAccess {
  const api: OperatorAccess['api'] = (req, res, next) => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const p = m ? tokens[m[1]!] : undefined;
    if (!p)
      throw operatorProblem('operator-unauthorized', 'send Authorization: Bearer <operator token>', undefined, {
        'WWW-Authenticate': 'Bearer realm="amtsbote-operator"',
      });
    res.locals.principal = p;
    next();
  };
  return {
    api,
    page: (req, res, next) => {
      if (req.headers.authorization) {
        api(req, res, next);
        return;
      }
      res.redirect(303, `${LOGIN_PATH}?next=${encodeURIComponent(req.originalUrl)}`);
    },
    requireRole,
    csrf: (_req, _res, next) => next(),
  };
}

export const ADMIN_TOKEN = 'console-admin-token-0123456789';
export const GE_TOKEN = 'console-ge-operator-token-0123456789';
export const GE_VIEWER_TOKEN = 'console-ge-viewer-token-0123456789';

export const TEST_PRINCIPALS: Record<string, Principal> = {
  [ADMIN_TOKEN]: { id: 'token:admin', name: 'Admin', role: 'admin', tenants: 'all', via: 'token' },
  [GE_TOKEN]: { id: 'account:ge-operator', name: 'GE Operator', role: 'operator', tenants: new Set(['05513000']), via: 'token' },
  [GE_VIEWER_TOKEN]: { id: 'account:ge-viewer', name: 'GE Viewer', role: 'viewer', tenants: new Set(['05513000']), via: 'token' },
};
