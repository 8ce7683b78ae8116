/** Every class of finding a reconciliation run can report; one metric series and one report column each. */
export const DISCREPANCY_CLASSES = [
  // hub vs back office
  'missing-in-backoffice',
  'unknown-to-hub',
  'duplicated-in-backoffice',
  'status-changed',
  // portal vs hub
  'missing-in-hub',
  'unknown-to-portal',
  // the hub's own queue
  'stuck-delivery',
  // a side (a target's back office, a portal) that could not be read: not compared in this run
  'side-failed',
] as const;
export type DiscrepancyClass = (typeof DISCREPANCY_CLASSES)[number];

/** What the hub did about a finding. */
export type DiscrepancyAction =
  | 'redelivered'
  | 'awaiting-operator'
  | 'flagged'
  | 'reported'
  | 'recorded'
  | 'forwarded'
  | 'taken-in'
  | 'released';

export interface Discrepancy {
  class: DiscrepancyClass;
  action: DiscrepancyAction;
  submissionId?: string;
  deliveryId?: string;
  targetId?: string;
  portalId?: string;
  tenant?: string;
  reference?: string;
  idempotencyKey?: string;
  externalId?: string;
  /** Ids, states, times; never form data. */
  detail?: Record<string, unknown>;
}

/** Where a comparison puts its findings; the run persists them and counts them. */
export interface ReportSink {
  add(d: Discrepancy): Promise<void>;
  /** Cases that agreed on both sides. */
  matched(n: number): void;
}
