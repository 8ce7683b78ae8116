// One FIT-Connect submission taken in: the pickup row first (keyed by the platform's submission id), then fetch,
// decrypt and verify, the data through its inbound channel, stored through the intake's accept path with the
// original bytes, and only after that commit the accept-submission SET. What cannot be taken in for a reason of
// the sender's is rejected with the documented problems; what fails for a reason of ours (the platform not
// reachable, a service not routed) waits for the next poll and, after long enough, raises the alert.

import { decodeJwt } from 'jose';
import type { Logger } from 'winston';
import type { Clock } from '../../clock.ts';
import { envelopeOf, receiveInbound } from '../../inbound/channel.ts';
import type { Refusal } from '../../inbound/result.ts';
import { validateServiceData, type ServiceDataSchemas } from '../../inbound/service-data.ts';
import type { Router } from '../../routing/router.ts';
import type { Pickup, Store } from '../../store/index.ts';
import { acceptSubmission as storeSubmission, admit } from '../accept.ts';
import type { SubmissionForPickup } from './api.ts';
import { EVENT_ACCEPT, type AuthenticationTags } from './crypto.ts';
import type { Destination } from './destination.ts';
import { checkSubmitEvent } from './event-log.ts';
import { problems, type RejectProblem } from './problems.ts';
import { acceptSubmission, receiveSubmission, rejectSubmission, type ReceivedSubmission } from './receive.ts';

export interface PickupDeps {
  store: Store;
  router: Router;
  serviceSchemas: ServiceDataSchemas;
  logger: Logger;
  now: Clock;
  /** Called after a new submission is stored, so the worker starts at once. */
  onStored?: () => void;
}

/** What became of one listed submission. */
export type PickupOutcome = 'accepted' | 'rejected' | 'held' | 'failed';

const LEIKA_URN = /^urn:de:fim:leika:leistung:(\d{14})$/;

export async function pickUp(d: Destination, listed: SubmissionForPickup, deps: PickupDeps): Promise<PickupOutcome> {
  const fc = deps.store.fitConnect;
  const log = deps.logger.child({ destination: d.config.name, fitConnectSubmission: listed.submissionId, caseId: listed.caseId });
  const p = await fc.see({ ...listed, destination: d.config.name }, deps.now());
  // Listed again although answered: the platform did not get our answer. Answer again, from the row.
  if (p.state === 'stored' || p.state === 'accepted') return accept(d, p, deps, log);
  if (p.state === 'rejected') return reject(d, listed, (p.problems ?? []) as RejectProblem[], deps, log);

  const received = await receiveSubmission(d.api, listed.submissionId, d.decryptionKey);
  if (received.kind === 'failed') {
    await fc.held(listed.submissionId, received.failure.error);
    log.warn('FIT-Connect submission could not be fetched; next poll tries again', { error: received.failure.error });
    return 'failed';
  }
  if (received.kind === 'invalid') return reject(d, listed, received.problems, deps, log);
  const recorded = await checkSubmitEvent(d.api, d.platformKeys, received.submission);
  if (!recorded.ok && 'failure' in recorded) {
    await fc.held(listed.submissionId, recorded.failure.error);
    log.warn('FIT-Connect event log could not be read; next poll tries again', { error: recorded.failure.error });
    return 'failed';
  }
  if (!recorded.ok) return reject(d, listed, [recorded.problem], deps, log);

  const taken = await takeIn(d, received.submission, p, deps);
  if (taken.kind === 'reject') return reject(d, listed, taken.problems, deps, log);
  if (taken.kind === 'hold') {
    await fc.held(listed.submissionId, taken.error);
    log.error('FIT-Connect submission cannot be taken in; it waits (fix the configuration)', { error: taken.error });
    return 'held';
  }
  await fc.stored(listed.submissionId, taken.id, received.submission.authenticationTags, deps.now());
  log.info('FIT-Connect submission stored', { submissionId: taken.id, created: taken.created });
  if (taken.created) deps.onStored?.();
  const stored = await fc.get(listed.submissionId);
  return accept(d, stored!, deps, log);
}

type TakeIn =
  | { kind: 'stored'; id: string; created: boolean }
  | { kind: 'reject'; problems: RejectProblem[] }
  | { kind: 'hold'; error: string };

/** The decrypted submission into the hub: its channel, the head, the configuration's checks, the store. */
async function takeIn(d: Destination, s: ReceivedSubmission, p: Pickup, deps: PickupDeps): Promise<TakeIn> {
  const described = s.metadata.contentStructure.data;
  if (!described || !s.data)
    return { kind: 'reject', problems: [problems.missingData('data', 'Diese Verwaltungsleistung wird nur mit Fachdatensatz angenommen.')] };
  const route = d.schemas.get(described.submissionSchema.schemaUri);
  if (!route)
    return {
      kind: 'reject',
      problems: [problems.unsupportedSchema('data', 'Das Schema des Fachdatensatzes wird von diesem Zustellpunkt nicht unterstützt.')],
    };
  const leika = LEIKA_URN.exec(s.metadata.publicServiceType?.identifier ?? '')?.[1];
  const received = await receiveInbound(route.channel, s.data, described.submissionSchema.mimeType, deps.now, {
    // The destination is the tenant's; the platform's id is the external id (idempotent across crashes); the
    // first sight stands for submitted-at when the mapping gives none, the same on every retry.
    overrides: { tenant: d.config.tenant, externalId: s.submissionId, ...(route.service ? { service: route.service.slug } : {}) },
    defaults: { ...(leika ? { service: leika } : {}), submittedAt: new Date(p.firstSeenAt).toISOString() },
  });
  if (!received.ok) return { kind: 'reject', problems: [dataProblem(received)] };
  const doc = received.submission;
  const v = envelopeOf(doc, {
    attachments: s.attachments.map((a) => ({
      filename: safeFilename(a.filename, a.attachmentId),
      mediaType: a.mimeType,
      content: Buffer.from(a.content).toString('base64'),
    })),
  });
  if (!v.ok) return { kind: 'hold', error: `the channel mapping gave no valid submission: ${v.errors.map((e) => e.pointer).join(', ')}` };
  const admitted = admit(deps.router, d.portal, v.envelope);
  if (!admitted.ok) return { kind: 'hold', error: admitted.detail };
  if (!d.services.has(admitted.service.slug))
    return { kind: 'hold', error: `service ${admitted.service.slug} is not in the service group of destination ${d.config.name}` };
  const data = validateServiceData(deps.serviceSchemas, admitted.service.slug, v.envelope.data);
  if (!data.ok) {
    const where = (data.errors ?? []).map((e) => e.path).join(', ');
    return { kind: 'reject', problems: [problems.schemaViolation('data', `Der Fachdatensatz ist nicht schema-valide (${where}).`)] };
  }
  const result = await storeSubmission(deps.store, deps.router, d.portal, v.envelope, deps.now(), doc.content);
  if (!result.ok) return { kind: 'hold', error: result.detail };
  return { kind: 'stored', id: result.id, created: result.status === 'created' };
}

/** The channel's refusal as the problem FIT-Connect names for it; the detail names rules and paths, not values. */
function dataProblem(r: Refusal): RejectProblem {
  if (r.status === 415) return problems.unsupportedSchema('data', `Der Fachdatensatz hat nicht das Format seines Schemas: ${r.detail}`);
  if (r.status === 400) return problems.syntaxViolation('data', `Der Fachdatensatz ist nicht lesbar: ${r.detail}`);
  const where = (r.errors ?? []).map((e) => e.path).join(', ') || r.path || '/';
  return problems.schemaViolation('data', `Der Fachdatensatz ist nicht schema-valide (${where}): ${r.detail}`);
}

/** Posts accept-submission from the row; marks it accepted when the platform has it. */
async function accept(d: Destination, p: Pickup, deps: PickupDeps, log: Logger): Promise<PickupOutcome> {
  const tags = p.authenticationTags as AuthenticationTags | null;
  if (!tags) return 'failed';
  const posted = await acceptSubmission(d.api, d.signer, {
    destinationId: p.destinationId,
    submissionId: p.submissionId,
    caseId: p.caseId,
    authenticationTags: tags,
  });
  if (posted.ok || (!posted.retryable && (await alreadyAccepted(d, p)))) {
    await deps.store.fitConnect.answered(p.submissionId, 'accepted', deps.now());
    log.info('FIT-Connect submission accepted', { submissionId: p.hubSubmissionId });
    return 'accepted';
  }
  await deps.store.fitConnect.answerFailed(p.submissionId, posted.error);
  log.warn('FIT-Connect accept-submission failed; next poll tries again', { error: posted.error, errorKind: posted.errorKind });
  return 'failed';
}

/** Whether the case's event log holds an accept for the submission already (another instance's, or a lost answer's). */
async function alreadyAccepted(d: Destination, p: Pickup): Promise<boolean> {
  const log = await d.api.getEvents(p.caseId);
  if (!log.ok) return false;
  return log.value.some((set) => {
    try {
      const claims = decodeJwt(set) as { sub?: unknown; iss?: unknown; events?: Record<string, unknown> };
      return claims.sub === `submission:${p.submissionId}` && claims.iss === p.destinationId && Boolean(claims.events?.[EVENT_ACCEPT]);
    } catch {
      return false;
    }
  });
}

async function reject(
  d: Destination,
  listed: SubmissionForPickup,
  found: RejectProblem[],
  deps: PickupDeps,
  log: Logger,
): Promise<PickupOutcome> {
  const posted = await rejectSubmission(d.api, d.signer, listed, found);
  if (!posted.ok) {
    await deps.store.fitConnect.held(listed.submissionId, `reject-submission failed: ${posted.error}`);
    log.warn('FIT-Connect reject-submission failed; next poll tries again', { error: posted.error });
    return 'failed';
  }
  await deps.store.fitConnect.answered(listed.submissionId, 'rejected', deps.now(), found);
  // Problem types and places only: the details may name paths of the form, never its values.
  log.warn('FIT-Connect submission rejected', { problems: found.map((f) => `${f.type.split('/').pop()} (${f.instance})`) });
  return 'rejected';
}

/** An attachment's file name as the envelope takes it; its id where the sender gave none or one we cannot use. */
function safeFilename(name: string | undefined, id: string): string {
  const ok = name && name.length <= 255 && /^(?!\.\.?$)[^\\/\u0000-\u001f]*$/.test(name);
  return ok ? name : `anlage-${id}`;
}
