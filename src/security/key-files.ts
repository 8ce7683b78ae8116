// Where the hub's keys come from (docs/keys.md): the environment (AMTSBOTE_DATA_KEYS / AMTSBOTE_INDEX_KEYS, or
// the *_FILE variants naming key files), else the key files in the data folder, which a single SQLite hub (the
// demo on a fresh machine) generates on its first start. Key files are read again when they change, and when a
// value names a key the hub does not know yet, so a key added by `amtsbote keys generate` while the hub runs
// (another instance may already seal with it) is picked up without a restart. Keys are never printed.

import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unwatchFile,
  watchFile,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import {
  DATA_KEYS_ENV,
  DATA_KEYS_FILE_ENV,
  FieldCryptoError,
  INDEX_KEYS_ENV,
  INDEX_KEYS_FILE_ENV,
  Keyring,
  parseKeyList,
  type FieldBinding,
} from './field-crypto.ts';

export type KeyKind = 'data' | 'index';

/** The key files of a data folder: `<data>/keys/data.keys` and `<data>/keys/index.keys`. */
export function dataFolderKeyFiles(dataDir: string): Record<KeyKind, string> {
  return { data: path.join(dataDir, 'keys', 'data.keys'), index: path.join(dataDir, 'keys', 'index.keys') };
}

/** Where the hub's keys were found. */
export type KeySource = 'environment' | 'data-folder' | 'generated' | 'none';

export interface LoadedKeys {
  /** Undefined: no keys anywhere, encryption off. */
  keys: ReloadingKeyring | undefined;
  source: KeySource;
  /** The key files in use (none when the keys are given inline). */
  files: Partial<Record<KeyKind, string>>;
}

/** The variables that give keys; any of them set means the keys come from the environment. */
export const KEY_ENVS = [DATA_KEYS_ENV, DATA_KEYS_FILE_ENV, INDEX_KEYS_ENV, INDEX_KEYS_FILE_ENV];

/**
 * The hub's keys: from the environment if any key variable is set, else from the data folder's key files,
 * else, with `generate`, from key files made there now (mode 0600), else none.
 */
export function loadKeys(o: { env: NodeJS.ProcessEnv; dataDir: string; generate: boolean; watch?: boolean }): LoadedKeys {
  const watch = o.watch ?? false;
  if (KEY_ENVS.some((n) => o.env[n])) {
    const files: Partial<Record<KeyKind, string>> = {};
    if (o.env[DATA_KEYS_FILE_ENV]) files.data = o.env[DATA_KEYS_FILE_ENV];
    if (o.env[INDEX_KEYS_FILE_ENV]) files.index = o.env[INDEX_KEYS_FILE_ENV];
    const env = { ...o.env };
    return {
      keys: new ReloadingKeyring(() => Keyring.fromEnvironment(env)!, watch ? Object.values(files) : []),
      source: 'environment',
      files,
    };
  }
  const files = dataFolderKeyFiles(o.dataDir);
  let source: KeySource = 'data-folder';
  if (!existsSync(files.data) && !existsSync(files.index)) {
    if (!o.generate) return { keys: undefined, source: 'none', files: {} };
    addKey(files.data, 'data');
    addKey(files.index, 'index');
    source = 'generated';
  }
  const env = { [DATA_KEYS_FILE_ENV]: files.data, [INDEX_KEYS_FILE_ENV]: files.index };
  return { keys: new ReloadingKeyring(() => Keyring.fromEnvironment(env)!, watch ? [files.data, files.index] : []), source, files };
}

/**
 * Adds a fresh key to a key file as its first entry, the current one; the older ones stay below it, for reading.
 * Creates the file (and its folder, 0700) if missing. Written to a temporary file and renamed, mode 0600, so
 * a reader sees the old file or the new one. Returns the new key's id, never the key.
 */
export function addKey(file: string, kind: KeyKind): string {
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const kids = existing ? parseKeyList(existing, file).map((k) => k.kid) : [];
  let kid: string;
  do kid = `${kind === 'data' ? 'd' : 'i'}-${randomBytes(4).toString('hex')}`;
  while (kids.includes(kid));
  const key = randomBytes(32);
  const header = existing
    ? ''
    : // No commas: the key list splits at them before it skips comments.
      `# Amtsbote ${kind} keys (docs/keys.md): one kid:base64 a line; the first seals and the others stay for reading. Keep secret.\n`;
  const [comments, rest] = splitHeader(existing);
  const text = `${header}${comments}${kid}:${key.toString('base64')}\n${rest}`;
  key.fill(0);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return kid;
}

/** The leading comment lines of a key file, and the rest. */
function splitHeader(text: string): [string, string] {
  const m = /^(?:[ \t]*(?:#[^\n]*)?\n)*/.exec(text)!;
  return [m[0], text.slice(m[0].length)];
}

/**
 * A Keyring that reads its sources again when a key file changes and when a value names a key it does not
 * know. What the store sees (store/sealing.ts FieldKeys); prints as its key ids, like the Keyring.
 */
export class ReloadingKeyring {
  #ring: Keyring;
  readonly #files: string[];
  #onReload: ((kids: string[], error?: Error) => void) | undefined;

  constructor(
    private readonly read: () => Keyring,
    files: string[],
  ) {
    this.#ring = read();
    this.#files = files;
    for (const f of files) watchFile(f, { interval: 1000, persistent: false }, () => this.reload());
  }

  /** Told of each reload: the data key ids now, or why the files were not taken (the old keys stay). */
  onReload(listener: (kids: string[], error?: Error) => void): void {
    this.#onReload = listener;
  }

  /** Reads the sources again; keeps the keys it has when they do not read. */
  reload(): boolean {
    try {
      this.#ring = this.read();
      this.#onReload?.(this.#ring.kids);
      return true;
    } catch (e) {
      this.#onReload?.(this.#ring.kids, e as Error);
      return false;
    }
  }

  close(): void {
    for (const f of this.#files) unwatchFile(f);
  }

  get currentKid(): string {
    return this.#ring.currentKid;
  }

  get kids(): string[] {
    return this.#ring.kids;
  }

  seal(plain: string, b: FieldBinding): string {
    return this.#ring.seal(plain, b);
  }

  open(sealed: string, b: FieldBinding): string {
    return this.#retry(() => this.#ring.open(sealed, b));
  }

  sealBytes(plain: Uint8Array, b: FieldBinding): Buffer {
    return this.#ring.sealBytes(plain, b);
  }

  openBytes(sealed: Uint8Array, b: FieldBinding): Buffer {
    return this.#retry(() => this.#ring.openBytes(sealed, b));
  }

  keyedHash(purpose: string, value: string): string {
    return this.#ring.keyedHash(purpose, value);
  }

  keyedHashMatches(stored: string, purpose: string, value: string): boolean {
    if (this.#ring.keyedHashMatches(stored, purpose, value)) return true;
    const kid = stored.slice(0, stored.indexOf('.'));
    return !this.#ring.indexKids.includes(kid) && this.reload() && this.#ring.keyedHashMatches(stored, purpose, value);
  }

  /** An unknown key may be one another instance (or `keys generate`) just added: read the sources once more. */
  #retry<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof FieldCryptoError) || e.code !== 'unknown-key' || !this.reload()) throw e;
      return f();
    }
  }

  toString(): string {
    return this.#ring.toString();
  }

  toJSON(): string {
    return this.#ring.toString();
  }

  [inspect.custom](): string {
    return this.#ring.toString();
  }
}
