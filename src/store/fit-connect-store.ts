import type { Kysely } from 'kysely';
import type { Dialect } from './dialect.ts';
import type { PickupState } from './fit-connect-tables.ts';
import type { Database } from './tables.ts';

export type { PickupState } from './fit-connect-tables.ts';

/** One FIT-Connect submission as the hub keeps track of it. */
export interface Pickup {
  submissionId: string;
  destination: string;
  destinationId: string;
  caseId: string;
  state: PickupState;
  hubSubmissionId: string | null;
  /** Parsed authentication_tags. */
  authenticationTags: { metadata: string; data?: string; attachments: Record<string, string> } | null;
  problems: unknown[] | null;
  lastError: string | null;
  attempts: number;
  firstSeenAt: number;
  storedAt: number | null;
  answeredAt: number | null;
}

/**
 * The SQL of the FIT-Connect subscriber: a row per FIT-Connect submission, keyed by its id, so it is taken in
 * once whatever instance or restart sees it again. Moves are conditional on the state they leave, so two
 * instances racing on one submission write one outcome.
 */
export class FitConnectStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
  ) {}

  /** The pickup for a FIT-Connect submission, created `seen` at `now` if it is new. */
  async see(p: { submissionId: string; destination: string; destinationId: string; caseId: string }, now: number): Promise<Pickup> {
    await this.db
      .insertInto('fit_connect_pickups')
      .values({
        submission_id: p.submissionId,
        destination: p.destination,
        destination_id: p.destinationId,
        case_id: p.caseId,
        state: 'seen',
        attempts: 0,
        first_seen_at: now,
      })
      .onConflict((oc) => oc.column('submission_id').doNothing())
      .execute();
    return (await this.get(p.submissionId))!;
  }

  async get(submissionId: string): Promise<Pickup | undefined> {
    const row = await this.db.selectFrom('fit_connect_pickups').selectAll().where('submission_id', '=', submissionId).executeTakeFirst();
    return row ? toPickup(row) : undefined;
  }

  /** Not taken in yet: counts the try and keeps why (rule names and paths, never form data). */
  async held(submissionId: string, error: string): Promise<void> {
    await this.db
      .updateTable('fit_connect_pickups')
      .set((eb) => ({ last_error: error.slice(0, 500), attempts: eb('attempts', '+', 1) }))
      .where('submission_id', '=', submissionId)
      .where('state', '=', 'seen')
      .execute();
  }

  /** The hub holds it now (its submission committed): what is owed is the accept. */
  async stored(submissionId: string, hubSubmissionId: string, tags: Pickup['authenticationTags'], now: number): Promise<void> {
    await this.db
      .updateTable('fit_connect_pickups')
      .set({
        state: 'stored',
        hub_submission_id: hubSubmissionId,
        authentication_tags: JSON.stringify(tags),
        stored_at: now,
        last_error: null,
      })
      .where('submission_id', '=', submissionId)
      .where('state', '=', 'seen')
      .execute();
  }

  /** The platform took the accept (or the reject). */
  async answered(submissionId: string, state: 'accepted' | 'rejected', now: number, problems?: unknown[]): Promise<void> {
    await this.db
      .updateTable('fit_connect_pickups')
      .set({ state, answered_at: now, last_error: null, ...(problems ? { problems: JSON.stringify(problems) } : {}) })
      .where('submission_id', '=', submissionId)
      .where('state', 'in', state === 'accepted' ? ['stored', 'accepted'] : ['seen', 'rejected'])
      .execute();
  }

  /** The accept could not be posted: why, for the operator, and one more try counted. */
  async answerFailed(submissionId: string, error: string): Promise<void> {
    await this.db
      .updateTable('fit_connect_pickups')
      .set((eb) => ({ last_error: error.slice(0, 500), attempts: eb('attempts', '+', 1) }))
      .where('submission_id', '=', submissionId)
      .execute();
  }

  /** Stored but not accepted: what accept-on-restart (and every poll) answers first, oldest first. */
  async awaitingAccept(destination: string, limit = 500): Promise<Pickup[]> {
    const rows = await this.db
      .selectFrom('fit_connect_pickups')
      .selectAll()
      .where('destination', '=', destination)
      .where('state', '=', 'stored')
      .orderBy('first_seen_at')
      .limit(limit)
      .execute();
    return rows.map(toPickup);
  }

  /** Pickups first seen before `before` and still not accepted nor rejected: the alert's query. */
  async unanswered(before: number, destination?: string): Promise<Pickup[]> {
    let q = this.db
      .selectFrom('fit_connect_pickups')
      .selectAll()
      .where('state', 'in', ['seen', 'stored'])
      .where('first_seen_at', '<', before);
    if (destination) q = q.where('destination', '=', destination);
    return (await q.orderBy('first_seen_at').limit(1000).execute()).map(toPickup);
  }
}

function toPickup(r: {
  submission_id: string;
  destination: string;
  destination_id: string;
  case_id: string;
  state: PickupState;
  hub_submission_id: string | null;
  authentication_tags: string | null;
  problems: string | null;
  last_error: string | null;
  attempts: number;
  first_seen_at: number;
  stored_at: number | null;
  answered_at: number | null;
}): Pickup {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    submissionId: r.submission_id,
    destination: r.destination,
    destinationId: r.destination_id,
    caseId: r.case_id,
    state: r.state,
    hubSubmissionId: r.hub_submission_id,
    authenticationTags: r.authentication_tags ? (JSON.parse(r.authentication_tags) as Pickup['authenticationTags']) : null,
    problems: r.problems ? (JSON.parse(r.problems) as unknown[]) : null,
    lastError: r.last_error,
    attempts: Number(r.attempts),
    firstSeenAt: Number(r.first_seen_at),
    storedAt: n(r.stored_at),
    answeredAt: n(r.answered_at),
  };
}
