import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

/**
 * What a migration file exports: its name (the ordering key, recorded in the database: never renamed) and its
 * up/down for a dialect. A migration is never edited once released: a change is a new file.
 */
export interface MigrationModule {
  name: string;
  build(dialect: Dialect): Migration;
}

export type AnyDb = Kysely<any>;
