// The hub's one clock. hub.ts makes it once (HubOptions.clock, else the machine's) and hands it to every part
// that stamps or compares time: intake, store ids, the delivery worker and its policies, schedules, status,
// reconciliation, prune and the adapters. A test that moves it moves the whole hub; two clocks would let a
// delivery be stamped on one day and judged on another. test/one-clock.test.ts keeps the machine's clock here.

/** Epoch milliseconds, now. */
export type Clock = () => number;

/**
 * The machine's wall clock. Read only where a clock is made: hub.ts when no clock is given, and the top of each
 * operator command (they are processes of their own). Everything else is handed a Clock.
 */
export const systemClock: Clock = () => Date.now();
