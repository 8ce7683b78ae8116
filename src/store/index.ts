// The store's entrance: how the hub, its commands and its tests open the database, and the shapes they exchange.
export { dropSchema, type DatabaseOptions } from './connect.ts';
export type { Dialect, DialectName } from './dialect.ts';
export type { Store } from './store.ts';
export type * from './types.ts';
export type * from './console-store.ts';
export type { ConsoleStore } from './console-store.ts';
export type { DeliveredCase, DeliveredHook } from './status-store.ts';
export type { DeliveryState, AttemptOutcome } from './tables.ts';
export type { FitConnectStore, Pickup, PickupState } from './fit-connect-store.ts';
export { uuidv7 } from './ids.ts';
export type { AuditInput, AuditRecord, AuditVerdict, AuditFilter } from './audit-store.ts';
export type { AccountRow, SessionRow } from './access-store.ts';
export type { FieldKeys } from './sealing.ts';
export type { RotationProgress } from './rotation.ts';

import { connect, type DatabaseOptions } from './connect.ts';
import { migrate } from './migrate.ts';
import { Store } from './store.ts';
import { Sealing, type FieldKeys } from './sealing.ts';

/**
 * Connects, migrates and returns the store: the one way to build it. The hub opens it once at start-up and hands
 * it (or one of its parts: `status`, `reconcile`, `portalReconcile`, `prune`) to whatever needs the database.
 * With `keys`, personal values are encrypted at rest (docs/keys.md); without, they are stored in clear.
 */
export async function openStore(opts: DatabaseOptions & { keys?: FieldKeys | undefined }): Promise<Store> {
  const conn = await connect(opts);
  try {
    await migrate(conn);
  } catch (e) {
    await conn.close();
    throw e;
  }
  return new Store(conn, new Sealing(opts.keys));
}
