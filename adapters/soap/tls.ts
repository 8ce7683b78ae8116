// Client certificates and private trust for https:// back offices. The files are read once when the
// target is created, so a missing or broken file stops start-up instead of failing every delivery.
// One https.Agent per target holds them: node-soap's ClientSSLSecurity would build a new agent per
// request (no connection reuse) and copy the key into every request's options.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type https from 'node:https';
import tls from 'node:tls';
import type { SoapTls } from './options.ts';
import { oneLine } from './faults.ts';

/** The https.Agent options for the tls block; throws a clean Error (paths, never file contents). */
export function tlsAgentOptions(t: SoapTls | undefined): https.AgentOptions {
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

function readPem(option: string, file: string): Buffer {
  const resolved = path.resolve(file);
  try {
    return readFileSync(resolved);
  } catch (err) {
    const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : 'unreadable';
    throw new Error(`tls.${option}: cannot read ${resolved} (${code})`);
  }
}

/** OpenSSL's reason ("bad decrypt", "key values mismatch"): it names the problem, never key material. */
function describeTlsError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/bad decrypt|bad password|unable to load|interrupted or cancelled/i.test(message)) return 'the key cannot be decrypted (wrong or missing passphrase?)';
  if (/key values mismatch/i.test(message)) return 'the key does not belong to the certificate';
  return oneLine(message, 160);
}
