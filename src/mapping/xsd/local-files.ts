import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { xmlRegisterInputProvider } from 'libxml2-wasm';

// libxml2-wasm reads nothing from disk by itself (its wasm file system is an empty in-memory one): files reach
// libxml2 only through input providers, and those are process-wide. This one serves local files ONLY while a
// schema set is being compiled (`whileCompiling`), so xs:include / xs:import resolve, and refuses everything
// at any other time: an untrusted document's external entity can never read a local file through it.

export interface LoadLog {
  /** Every file served, in the order libxml2 asked for them. */
  served: string[];
  /** Locations libxml2 asked for that are not local files or do not exist. */
  refused: string[];
}

let session: LoadLog | null = null;
let registered = false;
const open = new Map<number, { data: Buffer; pos: number }>();
let nextHandle = 1;

/** A libxml2 location → a local absolute path, or null for anything else (http:, ftp:, relative, …). */
function localPath(location: string): string | null {
  if (location.startsWith('file:')) {
    try {
      return fileURLToPath(location);
    } catch {
      return null;
    }
  }
  if (!path.isAbsolute(location)) return null;
  // libxml2 %-escapes some characters when it builds a URI from a relative schemaLocation (a space in a name).
  if (!fs.existsSync(location) && /%[0-9A-Fa-f]{2}/.test(location)) {
    try {
      return decodeURIComponent(location);
    } catch {
      return location;
    }
  }
  return location;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function ensureRegistered(): void {
  if (registered) return;
  const ok = xmlRegisterInputProvider({
    match(location) {
      if (!session) return false;
      const p = localPath(location);
      if (p === null || !isFile(p)) {
        session.refused.push(location);
        return false;
      }
      return true;
    },
    open(location) {
      const p = session ? localPath(location) : null;
      if (p === null) return undefined;
      try {
        const data = fs.readFileSync(p);
        session!.served.push(p);
        const handle = nextHandle++;
        open.set(handle, { data, pos: 0 });
        return handle;
      } catch {
        session!.refused.push(location);
        return undefined;
      }
    },
    read(handle, buf) {
      const f = open.get(handle);
      if (!f) return -1;
      const n = Math.min(buf.byteLength, f.data.length - f.pos);
      f.data.copy(buf, 0, f.pos, f.pos + n);
      f.pos += n;
      return n;
    },
    close(handle) {
      open.delete(handle);
      return true;
    },
  });
  if (!ok) throw new Error('libxml2 input provider table is full; cannot load schema files');
  registered = true;
}

/**
 * Runs `compile` (synchronous: libxml2 calls back into the provider during it) with local files readable,
 * recording into `log` what was served and what was refused, also when `compile` throws.
 */
export function whileCompiling<T>(log: LoadLog, compile: () => T): T {
  ensureRegistered();
  if (session) throw new Error('schema compilation is not re-entrant');
  session = log;
  try {
    return compile();
  } finally {
    session = null;
    // A failed compile may leave handles libxml2 never closed.
    open.clear();
  }
}
