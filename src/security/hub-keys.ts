import type winston from 'winston';
import { existsSync } from 'node:fs';
import { dataFolderKeyFiles, KEY_ENVS, loadKeys, type ReloadingKeyring } from './key-files.ts';

export const ENCRYPTION_ENV = 'AMTSBOTE_ENCRYPTION';

/**
 * The keys a starting hub encrypts with, and what it says about them (key ids and file paths, never a key).
 * A SQLite hub without keys makes its own in the data folder: it is the only process on that database. Hubs on
 * PostgreSQL share their keys, so one of them making its own would lock the others out: there the keys must be
 * configured (docs/keys.md), and without them the hub runs in clear and warns. AMTSBOTE_ENCRYPTION=off turns it
 * off (the benchmark's unencrypted rows).
 */
export function hubKeys(o: {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  postgres: boolean;
  logger: winston.Logger;
}): ReloadingKeyring | undefined {
  if (encryptionSwitchedOff(o.env, o.dataDir)) {
    o.logger.warn(
      `encryption at rest is off: ${ENCRYPTION_ENV}=off; form data and status reasons are stored in clear (not for production)`,
    );
    return undefined;
  }
  const loaded = loadKeys({ env: o.env, dataDir: o.dataDir, generate: !o.postgres, watch: true });
  const keys = loaded.keys;
  if (!keys) {
    o.logger.warn('encryption at rest is off: no data keys configured; form data and status reasons are stored in clear (docs/keys.md)');
    return undefined;
  }
  if (loaded.source === 'generated')
    o.logger.info('generated data and index keys for encryption at rest; back this folder up apart from the database (docs/keys.md)', {
      files: Object.values(loaded.files),
      dataKey: keys.currentKid,
    });
  o.logger.info('encryption at rest on', { keys: loaded.source, dataKey: keys.currentKid, dataKeys: keys.kids });
  keys.onReload((kids, error) => {
    if (error) o.logger.error('key files changed but do not read; the keys loaded before stay in use', { error: error.message });
    else o.logger.info('key files read again', { dataKey: kids[0], dataKeys: kids });
  });
  return keys;
}

/**
 * Whether AMTSBOTE_ENCRYPTION says off ('on' or unset: the keys decide). Off beside keys is refused: rows sealed
 * with those keys would no longer open, so the switch is only for a hub that never sealed (the benchmark's rows).
 */
function encryptionSwitchedOff(env: NodeJS.ProcessEnv, dataDir: string): boolean {
  const v = env[ENCRYPTION_ENV];
  if (v === undefined || v === '' || v === 'on') return false;
  if (v !== 'off') throw new Error(`${ENCRYPTION_ENV} must be on or off, not ${JSON.stringify(v)}`);
  const keys = [...KEY_ENVS.filter((n) => env[n]), ...Object.values(dataFolderKeyFiles(dataDir)).filter((f) => existsSync(f))];
  if (keys.length)
    throw new Error(
      `${ENCRYPTION_ENV}=off, but keys are there (${keys.join(', ')}): data they sealed would not open; remove one or the other`,
    );
  return true;
}
