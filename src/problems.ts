import { httpProblem } from './http/problem-details.ts';
import { intakeProblem } from './intake/problems.ts';
import { inboundProblem } from './inbound/problems.ts';
import { operatorProblem } from './operator/problems.ts';
import { statusProblem } from './status/problems.ts';
import { reconcileProblem } from './reconcile/problems.ts';
import { consoleProblem } from './console/problems.ts';
import { callbackProblem } from './intake/fit-connect/callback-problems.ts';

/**
 * Every API's problem types in one table (the OpenAPI description and its test load it). Nothing is defined here: each feature
 * defines its own (`defineProblems` in its folder) and the kernel the shared ones (problem-details.ts).
 */
export const problemTypes = {
  ...httpProblem.types,
  ...intakeProblem.types,
  ...inboundProblem.types,
  ...operatorProblem.types,
  ...statusProblem.types,
  ...reconcileProblem.types,
  ...consoleProblem.types,
  ...callbackProblem.types,
} as const;

export type ProblemType = keyof typeof problemTypes;
