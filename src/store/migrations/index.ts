import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../connect.ts';
import { targetPolicies } from './0004-target-policies.ts';
import { reconciliation } from './0005-reconciliation.ts';
import { statusChannel } from './0006-status-channel.ts';
import { portalReconcile } from './0007-portal-reconcile.ts';
import { prune } from './0008-prune.ts';

/** What a migration file exports: its name (ordering key) and its up/down for a dialect. */
export interface MigrationModule {
  name: string;
  build(dialect: Dialect, types: { time: 'bigint' | 'integer'; blob: 'bytea' | 'blob' }): Migration;
}

export type AnyDb = Kysely<any>;

/** Migrations after 0003, one file each, in order. A new change is a new file and a new line here. */
export const laterMigrations: MigrationModule[] = [
  targetPolicies,
  reconciliation,
  statusChannel,
  portalReconcile,
  prune,
];
