import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { LoadedConfig } from '../config/load.ts';
import type { Store } from '../store/index.ts';
import { withDatabasePassword } from '../config/database-password.ts';

/** Where the operator commands (replay, reconcile, prune, targets) find the configuration and the database. */
export interface DatabaseCommandOptions {
  config: string;
  data: string;
  databaseUrl?: string;
  databaseSchema?: string;
}

/** Adds the options of `DatabaseCommandOptions`, with the same environment variables as `amtsbote start`. */
export function withDatabaseOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <dir>', 'configuration folder (env AMTSBOTE_CONFIG)', process.env.AMTSBOTE_CONFIG ?? './config')
    .option('-d, --data <dir>', 'data folder with the SQLite database (env AMTSBOTE_DATA)', process.env.AMTSBOTE_DATA ?? './data')
    .option(
      '--database-url <url>',
      'PostgreSQL instead of SQLite: postgres://… (env AMTSBOTE_DATABASE_URL)',
      process.env.AMTSBOTE_DATABASE_URL,
    )
    .option('--database-schema <name>', 'PostgreSQL schema (env AMTSBOTE_DATABASE_SCHEMA)', process.env.AMTSBOTE_DATABASE_SCHEMA);
}

// The configuration, the adapters and the store are imported when a command uses them, not when the CLI
// declares its options (index.ts imports this file): `--help` loads none of them.

/** The configuration, or undefined when the folder does not exist (a command that can do without it goes on). */
export async function loadConfigIfPresent(o: DatabaseCommandOptions): Promise<LoadedConfig | undefined> {
  const dir = path.resolve(o.config);
  if (!existsSync(dir)) return undefined;
  const [{ loadConfig }, { adapterRegistry }, { builtinAdapters }] = await Promise.all([
    import('../config/load.ts'),
    import('../config/adapter-folders.ts'),
    import('../../adapters/index.ts'),
  ]);
  return loadConfig(dir, { adapters: await adapterRegistry(dir, builtinAdapters), env: process.env });
}

/**
 * Opens the database: `--database-url`, else the configuration's, else the data folder's SQLite file. Without
 * claiming it: a running hub may be using it too. With the hub's keys (docs/keys.md), when there are any.
 */
export async function openConfiguredStore(o: DatabaseCommandOptions, config?: LoadedConfig): Promise<Store> {
  const [{ openStore }, { loadKeys }] = await Promise.all([import('../store/index.ts'), import('../security/key-files.ts')]);
  const onCommandLine = Boolean(o.databaseUrl) && process.argv.some((a) => a === '--database-url' || a.startsWith('--database-url='));
  const { url, warnings } = withDatabasePassword(o.databaseUrl || config?.hub.database.url || undefined, process.env, onCommandLine);
  for (const w of warnings) console.error(`warning: ${w}`);
  // The hub's keys, so a command reads what the hub sealed; a command never makes keys of its own.
  const { keys } = loadKeys({ env: process.env, dataDir: path.resolve(o.data), generate: false });
  return openStore({
    keys,
    url,
    sqliteFile: path.join(path.resolve(o.data), 'amtsbote.sqlite'),
    ...(o.databaseSchema ? { schema: o.databaseSchema } : {}),
  });
}
