// The platform's own record of what was submitted: the `submit-submission` event in the case's event log, a SET
// the delivery service signs (PS512) with a key it publishes at /.well-known/jwks.json. A subscriber checks its
// signature and that its authentication tags are those of the JWEs it fetched: a part swapped on the way, or a
// submission the platform never recorded, is rejected with incorrect-authentication-tag.

import { compactVerify, createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { SubmissionApi } from './api.ts';
import type { AuthenticationTags } from './crypto.ts';
import type { FitConnectFailure } from './http.ts';
import { problems, type RejectProblem } from './problems.ts';

export const EVENT_SUBMIT = 'https://schema.fitko.de/fit-connect/events/submit-submission';

export type EventCheck = { ok: true } | { ok: false; problem: RejectProblem } | { ok: false; failure: FitConnectFailure };

/** The platform's signing keys, fetched once and cached by jose (refreshed on an unknown kid). */
export function platformKeys(jwksUrl: string): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 10_000 });
}

/** Checks the case's submit-submission event against the tags of the parts received. */
export async function checkSubmitEvent(
  api: SubmissionApi,
  keys: JWTVerifyGetKey,
  s: { submissionId: string; caseId: string; authenticationTags: AuthenticationTags },
): Promise<EventCheck> {
  const log = await api.getEvents(s.caseId);
  if (!log.ok) return { ok: false, failure: log };
  const wrong = (detail: string): EventCheck => ({ ok: false, problem: problems.incorrectAuthenticationTag('submission', detail) });
  let recorded: Record<string, unknown> | undefined;
  for (const set of log.value) {
    let claims: { sub?: unknown; events?: Record<string, Record<string, unknown>> };
    try {
      const { payload } = await compactVerify(set, keys, { algorithms: ['PS512'] });
      claims = JSON.parse(new TextDecoder().decode(payload)) as typeof claims;
    } catch {
      // Not signed by the platform: not a record of it, whatever it says.
      continue;
    }
    const event = claims.events?.[EVENT_SUBMIT];
    if (claims.sub === `submission:${s.submissionId}` && event) recorded = event.authenticationTags as Record<string, unknown> | undefined;
  }
  if (!recorded) return wrong('Das Event-Log enthält kein gültig signiertes submit-submission-Event für diese Einreichung.');
  const tags = s.authenticationTags;
  const theirs = (recorded.attachments ?? {}) as Record<string, unknown>;
  const same =
    recorded.metadata === tags.metadata &&
    recorded.data === tags.data &&
    Object.keys(theirs).length === Object.keys(tags.attachments).length &&
    Object.entries(tags.attachments).every(([id, t]) => theirs[id] === t);
  return same ? { ok: true } : wrong('Die Authentication-Tags stimmen nicht mit dem submit-submission-Event überein.');
}
