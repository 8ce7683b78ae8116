/**
 * Where a delivery stands (docs/architecture.md has the table). Open: `queued` (not tried yet), `sending` (an
 * attempt holds its lease), `waiting` (a retry is scheduled), `acknowledging` (handed over; the back office
 * confirms later, e.g. a batch job's `.ok` file). Finished: `delivered`, or `failed` (the dead-letter state).
 */
export const DELIVERY_STATES = ['queued', 'sending', 'waiting', 'acknowledging', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** The states in which a delivery still has work ahead: the worker claims them and the partial indexes cover them. */
export const OPEN_STATES = ['queued', 'waiting', 'sending', 'acknowledging'] as const satisfies readonly DeliveryState[];
export type OpenState = (typeof OPEN_STATES)[number];

/**
 * The open delivery states, as SQL; shared by the claim query and the partial indexes, whose WHERE SQLite only
 * uses when the query's text matches. Kept as literal text: a migration's index must not change with OPEN_STATES.
 */
export const OPEN_STATES_SQL = "state in ('queued', 'waiting', 'sending', 'acknowledging')";
