import express from 'express';
import { replayRoutes, type OperatorApiOptions } from './operator-api.ts';
import { targetsRoutes, type TargetsApiOptions } from './targets-api.ts';
import type { Authenticate } from './operator-auth.ts';

/** The operator API (mounted under /api/v1, operator token): replay of failed deliveries and the targets' state. */
export function operatorRoutes(
  o: Omit<OperatorApiOptions, 'authenticate'> & Omit<TargetsApiOptions, 'authenticate'> & { authenticate: Authenticate },
): express.Router {
  const api = express.Router();
  api.use(replayRoutes(o));
  api.use(targetsRoutes(o));
  return api;
}
