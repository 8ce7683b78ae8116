// The FIT-Connect pickups table (migration 0012-fit-connect-pickups). Times are epoch milliseconds.

/**
 * seen: fetched, not yet stored (being checked, or held: the hub cannot take it in yet);
 * stored: in the hub, accept-submission not yet confirmed by the platform; accepted; rejected.
 */
export type PickupState = 'seen' | 'stored' | 'accepted' | 'rejected';

export interface FitConnectPickupsTable {
  /** FIT-Connect's submission id. */
  submission_id: string;
  /** The configured destination's name. */
  destination: string;
  destination_id: string;
  case_id: string;
  state: PickupState;
  /** The hub's submission, once stored. */
  hub_submission_id: string | null;
  /** JSON: {metadata, data?, attachments}: what accept-submission confirms. */
  authentication_tags: string | null;
  /** JSON: the problems a rejection named. */
  problems: string | null;
  /** Why it is not answered yet (no form data: rule names and paths only). */
  last_error: string | null;
  attempts: number;
  first_seen_at: number;
  stored_at: number | null;
  answered_at: number | null;
}

export interface FitConnectDatabase {
  fit_connect_pickups: FitConnectPickupsTable;
}
