import type { DeliveryResult } from '../../src/sdk/index.ts';
import { oneLine } from '../../src/sdk/index.ts';

// Re-exported for this adapter's modules, which import it from here.
export { oneLine };

type Failure = Extract<DeliveryResult, { ok: false }>;

/** Thrown by the SFTP transport when the server shows another host key than configured. */
export class HostKeyMismatchError extends Error {
  readonly kind = 'host-key';
  constructor(
    readonly expected: string,
    readonly presented: string,
  ) {
    super(`host key mismatch: expected ${expected}, the server presented ${presented}`);
  }
}

/** The server refused the credentials. */
export class AuthError extends Error {
  readonly kind = 'auth';
}

/** The configuration cannot work (an unreadable key, a name too long); retrying will not help. */
export class ConfigError extends Error {
  readonly kind = 'config';
}

/** The attempt ran out of time. */
export class DeadlineError extends Error {
  readonly kind = 'timeout';
}

// Local file-system codes (errno names) and the SFTP v3 status codes (numbers) mean the same things.
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;
const SFTP_FAILURE = 4;
/** OpenSSH's answer for EINVAL and ENAMETOOLONG. */
const SFTP_BAD_MESSAGE = 5;
const SFTP_OP_UNSUPPORTED = 8;

/** Codes of a directory that is missing or not a directory: a share not mounted (yet). */
const MISSING = new Set<string | number>(['ENOENT', 'ENOTDIR', SFTP_NO_SUCH_FILE]);
const DENIED = new Set<string | number>(['EACCES', 'EPERM', SFTP_PERMISSION_DENIED]);
const FULL = new Set<string | number>(['ENOSPC', 'EDQUOT']);
const NETWORK = new Set<string | number>([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ERR_NOT_CONNECTED',
  'ERR_GENERIC_CLIENT',
]);
const TIMEOUT = new Set<string | number>(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);
/** A name or a request the target can never accept: retrying the same thing fails the same way. */
const INVALID = new Set<string | number>(['ENAMETOOLONG', 'EINVAL', 'EISDIR', SFTP_BAD_MESSAGE, SFTP_OP_UNSUPPORTED]);

/**
 * The design's rule for a folder: whatever may heal by itself (a share that comes back, a full disk
 * that is cleaned up, a server that restarts) is retryable and bounded by the target's retry policy;
 * what will fail the same way every time is permanent. `where` names the target for the message
 * (a path or sftp://user@host/dir, never a credential).
 */
export function classifyError(err: unknown, where: string): Failure {
  if (err instanceof HostKeyMismatchError) {
    // A security failure, not an outage: the server is not the one configured (a man in the middle,
    // or a re-installed server). Retrying would keep knocking at it; an operator must check and fix hostKey.
    return {
      ok: false,
      retryable: false,
      error: `${where}: ${err.message}; not delivered. Verify the server and update hostKey`,
      errorKind: 'host-key',
    };
  }
  if (err instanceof AuthError) {
    // As 401/403 in the REST adapter: the same credentials are refused the same way on every retry.
    return { ok: false, retryable: false, error: `${where}: ${err.message}`, errorKind: 'auth' };
  }
  if (err instanceof ConfigError) return { ok: false, retryable: false, error: `${where}: ${err.message}`, errorKind: 'config' };
  if (err instanceof DeadlineError) return { ok: false, retryable: true, error: `${where}: ${err.message}`, errorKind: 'timeout' };

  const code = (err as { code?: unknown } | null)?.code;
  const message = oneLine(err instanceof Error ? err.message : String(err), 200);
  const codeText = typeof code === 'string' ? code : typeof code === 'number' ? `SFTP status ${code}` : 'no code';
  const fail = (retryable: boolean, errorKind: string, text: string): Failure => ({
    ok: false,
    retryable,
    error: `${where}: ${text}`,
    errorKind,
  });

  if (typeof code === 'string' || typeof code === 'number') {
    // Decision: a missing directory is retryable. It is what an unmounted share or a folder the back office
    // recreates looks like; the retry policy bounds it and check() reports it plainly meanwhile.
    if (MISSING.has(code)) return fail(true, 'directory-missing', `directory missing or not a directory (${codeText})`);
    if (DENIED.has(code)) return fail(true, 'permission', `permission denied (${codeText}); a share may come back with its rights`);
    if (FULL.has(code)) return fail(true, 'disk-full', `no space left (${codeText})`);
    if (TIMEOUT.has(code)) return fail(true, 'timeout', `timed out (${codeText})`);
    if (NETWORK.has(code)) return fail(true, 'network', `connection failed (${codeText}): ${message}`);
    if (INVALID.has(code)) return fail(false, 'invalid', `the target refuses the request (${codeText}): ${message}`);
    // SSH_FX_FAILURE is all OpenSSH's v3 server says for a full disk, a quota and most I/O errors.
    if (code === SFTP_FAILURE) return fail(true, 'io', `the server failed the request (${codeText}): ${message}`);
  }
  if (/timed out|timeout/i.test(message)) return fail(true, 'timeout', message);
  if (/no response from server|connection|socket|closed|not connected|handshake/i.test(message)) return fail(true, 'network', message);
  // Unknown I/O errors (EIO, ESTALE, EBUSY, EMFILE …) are nearly always environmental.
  return fail(true, 'io', `${message} (${codeText})`);
}

export function errorCode(err: unknown): string | number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' || typeof code === 'number' ? code : undefined;
}
