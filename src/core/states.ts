/** The open delivery states, as SQL; shared by the partial indexes and the claim query (SQLite needs the same text). */
export const OPEN_STATES_SQL = "state in ('queued', 'waiting', 'sending', 'acknowledging')";
