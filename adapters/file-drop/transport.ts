import type { CheckResult } from '../../src/sdk/index.ts';

/** What writing one file came to. */
export type WriteOutcome =
  /** The file is new and complete under its final name. */
  | 'written'
  /** A file of that name was there already with exactly these bytes: an earlier attempt of this delivery. */
  | 'identical'
  /** A file of that name was there with other bytes; it was left untouched. */
  | 'conflict';

export interface FileInfo {
  size: number;
  mtimeMs: number;
  isFile: boolean;
}

/**
 * The folder, local or on an SFTP server. Paths are relative to the configured directory unless absolute
 * (done/ and error/ may be configured either way). Methods throw file-system or SFTP errors; the adapter
 * classifies them.
 */
export interface DropTransport {
  /** For messages and logs: a path or sftp://user@host:port/dir, never a credential. */
  readonly where: string;
  /**
   * Writes `name` into the directory atomically (a temp dot file, then a move that never replaces) and
   * reports whether it was new, already there with these bytes, or there with others.
   */
  writeNew(name: string, content: Buffer): Promise<WriteOutcome>;
  /** The file's size and age, or null when nothing is there. */
  stat(path: string): Promise<FileInfo | null>;
  /** The file's bytes, or null when it is missing. */
  read(path: string): Promise<Buffer | null>;
  /** The names in the directory (or a folder below it); null when the folder does not exist. */
  list(path?: string): Promise<string[] | null>;
  /** The directory exists and a probe file can be written and removed there; `folders` must exist too. */
  check(folders: string[]): Promise<CheckResult>;
  /** Gives up whatever is in flight (a hung connection) after a deadline. */
  abort(): void;
  close(): Promise<void>;
}

/** Same bytes under that name? Size first, so a conflicting big file is not read. */
export async function sameContent(t: Pick<DropTransport, 'stat' | 'read'>, path: string, content: Buffer): Promise<boolean | null> {
  const info = await t.stat(path);
  if (!info) return null;
  if (!info.isFile || info.size !== content.length) return false;
  const existing = await t.read(path);
  if (existing === null) return null;
  return existing.equals(content);
}
