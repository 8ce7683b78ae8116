import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../dialect.ts';
import type { MigrationModule } from './types.ts';
import { core } from './0001-core.ts';
import { acknowledgements } from './0002-acknowledgements.ts';
import { replay } from './0003-replay.ts';
import { targetPolicies } from './0004-target-policies.ts';
import { reconciliation } from './0005-reconciliation.ts';
import { statusChannel } from './0006-status-channel.ts';
import { portalReconcile } from './0007-portal-reconcile.ts';
import { prune } from './0008-prune.ts';
import { originalContent } from './0009-original-content.ts';
import { access } from './0010-access.ts';
import { consoleIndexes } from './0011-console-indexes.ts';
import { fitConnectPickups } from './0012-fit-connect-pickups.ts';
import { sealedData } from './0013-sealed-data.ts';
import { retention } from './0014-retention.ts';
import { deliveryMemos } from './0015-delivery-memos.ts';

/** Every migration, one file each, in order. A new change is a new file and a new line here. */
export const allMigrations: readonly MigrationModule[] = [
  core,
  acknowledgements,
  replay,
  targetPolicies,
  reconciliation,
  statusChannel,
  portalReconcile,
  prune,
  originalContent,
  access,
  consoleIndexes,
  fitConnectPickups,
  sealedData,
  retention,
  deliveryMemos,
];

/** The migrations for Kysely's migrator, built for the dialect. */
export function migrations(dialect: Dialect): MigrationProvider {
  const all: Record<string, Migration> = {};
  for (const m of allMigrations) all[m.name] = m.build(dialect);
  return { getMigrations: async () => all };
}
