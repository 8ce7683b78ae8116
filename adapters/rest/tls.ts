// Client certificates and private trust for https:// back offices. Files are read once when the
// target is created, so a missing or broken file stops start-up instead of failing every delivery.

import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import type { RestTls } from './options.ts';
import { oneLine } from './response.ts';

/** The https.Agent options for the tls block; throws a clean Error (paths, never file contents). */
export function tlsAgentOptions(t: RestTls | undefined): https.AgentOptions {
  if (!t) return {};
  const options: https.AgentOptions = { rejectUnauthorized: t.rejectUnauthorized };
  if (t.cert) options.cert = readPem('cert', t.cert);
  if (t.key) options.key = readPem('key', t.key);
  if (t.ca) options.ca = readPem('ca', t.ca);
  if (t.passphrase) options.passphrase = t.passphrase;
  try {
    // Node checks the key against the certificate and the passphrase only here (or at the first
    // connection): do it now, while the error can still name the option.
    tls.createSecureContext(options);
  } catch (err) {
    throw new Error(`tls: cannot use the configured files: ${describeTlsError(err)}`);
  }
  return options;
}

function readPem(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : 'unreadable';
    throw new Error(`tls.${option}: cannot read ${path} (${code})`);
  }
}

/** OpenSSL's reason ("bad decrypt", "key values mismatch"): it names the problem, never key material. */
function describeTlsError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/bad decrypt|bad password|unable to load|interrupted or cancelled/i.test(message)) return 'the key cannot be decrypted (wrong or missing passphrase?)';
  if (/key values mismatch/i.test(message)) return 'the key does not belong to the certificate';
  return oneLine(message, 160);
}
