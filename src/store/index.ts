export { connect, migrate, dropSchema, type Connection, type DatabaseOptions, type Dialect } from './connect.ts';
export { Store } from './store.ts';
export type * from './store.ts';
export type { DeliveryState, AttemptOutcome } from './tables.ts';
export { uuidv7 } from './ids.ts';

import { connect, migrate, type DatabaseOptions } from './connect.ts';
import { Store } from './store.ts';

/** Connects, migrates and returns the store: what the hub does at start-up. */
export async function openStore(opts: DatabaseOptions): Promise<Store> {
  const conn = await connect(opts);
  try {
    await migrate(conn);
  } catch (e) {
    await conn.close();
    throw e;
  }
  return new Store(conn);
}
