import path from 'node:path';
import { DATA_KEYS_ENV, DATA_KEYS_FILE_ENV, INDEX_KEYS_ENV, INDEX_KEYS_FILE_ENV } from '../security/field-crypto.ts';
import { addKey, dataFolderKeyFiles, type KeyKind } from '../security/key-files.ts';
import { loadConfigIfPresent, openConfiguredStore, type DatabaseCommandOptions } from './database.ts';
import { storeAuditTrail } from '../audit/store-trail.ts';
import { systemClock } from '../clock.ts';
import { osUser } from './os-user.ts';

export interface KeysGenerateOptions {
  data: string;
  index?: boolean;
  file?: string;
}

/**
 * `amtsbote keys generate`: a fresh key, first (current) in its key file, the older keys kept below it for
 * reading. The file: --file, else AMTSBOTE_DATA_KEYS_FILE / AMTSBOTE_INDEX_KEYS_FILE, else the data folder's.
 * Prints the key id and the file, never the key.
 */
export function keysGenerate(o: KeysGenerateOptions): void {
  const kind: KeyKind = o.index ? 'index' : 'data';
  const [inline, fileEnv] = kind === 'data' ? [DATA_KEYS_ENV, DATA_KEYS_FILE_ENV] : [INDEX_KEYS_ENV, INDEX_KEYS_FILE_ENV];
  const file = o.file || process.env[fileEnv] || (process.env[inline] ? undefined : dataFolderKeyFiles(path.resolve(o.data))[kind]);
  if (!file)
    throw new Error(
      `the ${kind} keys come from ${inline}, which this command cannot change: write a new key with --file <path> and add its line to ${inline} (docs/keys.md)`,
    );
  const kid = addKey(path.resolve(file), kind);
  console.log(`added ${kind} key ${kid} to ${path.resolve(file)} (mode 0600) as the current one; the older keys stay for reading`);
  if (kind === 'data')
    console.log(
      'running hubs reading this file seal with it within seconds; then run `amtsbote keys rotate` to re-seal what older keys sealed',
    );
}

export interface KeysRotateOptions extends DatabaseCommandOptions {
  batch: string;
}

/** `amtsbote keys rotate`: re-seals with the current data key, in batches, beside a running hub. */
export async function keysRotate(o: KeysRotateOptions): Promise<void> {
  const batch = Number(o.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new Error('--batch must be a whole number from 1 to 10000');
  const config = await loadConfigIfPresent(o);
  const store = await openConfiguredStore(o, config);
  try {
    const { rotateKeys } = await import('../maintenance/key-rotation.ts');
    const kid = store.sealing.kid;
    if (kid === null) throw new Error('no data key is configured: nothing to rotate to (docs/keys.md)');
    console.log(`re-sealing with data key ${kid}, ${batch} rows a batch`);
    const r = await rotateKeys(store, { batch, audit: { trail: storeAuditTrail(store.audit, systemClock), actor: `cli:${osUser()}` } });
    for (const t of Object.keys(r.resealed) as (keyof typeof r.resealed)[])
      console.log(`  ${t.padEnd(20)}${String(r.resealed[t]).padStart(10)} re-sealed${r.failed[t] ? `, ${r.failed[t]} did not open` : ''}`);
    const failed = Object.values(r.failed).reduce((a, b) => a + b, 0);
    if (failed) {
      console.log(`${failed} values did not open with the configured keys and were left as they are (docs/keys.md, "rotation")`);
      process.exitCode = 1;
    } else console.log(`done in ${r.passes} pass(es): every value is sealed with ${kid}; older data keys may be removed`);
  } finally {
    await store.close();
  }
}
