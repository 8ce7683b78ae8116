// Client certificates and private trust for adapters that connect over TLS. The files are read once when
// the target is created, so a missing or broken file stops start-up instead of failing every delivery.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type https from 'node:https';
import tls from 'node:tls';
import { z } from 'zod';
import { filePath, secret } from './define-adapter.ts';
import { oneLine } from './text.ts';

/** The path of a PEM file that belongs to the configuration: not a URL, not the PEM text pasted in. */
const pemFile = filePath(
  z
    .string()
    .min(1)
    .superRefine((value, ctx) => {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
        ctx.addIssue({ code: 'custom', message: 'must be the path of a local PEM file, not a URL' });
      } else if (value.includes('-----BEGIN')) {
        ctx.addIssue({ code: 'custom', message: 'must be the path of a PEM file, not the PEM text itself' });
      }
    }),
);

/** The `tls` block of an adapter's options: client certificate, key, private CA. */
export const tlsOptions = z
  .object({
    cert: pemFile.optional().describe('client certificate (PEM file path), presented when the server asks for one'),
    key: pemFile.optional().describe("the client certificate's private key (PEM file path); its content is secret"),
    ca: pemFile.optional().describe("CA certificate(s) (PEM file path) that replace Node's default trust store for this target"),
    passphrase: secret(z.string().min(1)).optional().describe('passphrase of an encrypted key'),
    rejectUnauthorized: z.boolean().default(true).describe('verify the server certificate; false only for tests'),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (Boolean(t.cert) !== Boolean(t.key)) {
      ctx.addIssue({ code: 'custom', path: [t.cert ? 'key' : 'cert'], message: 'cert and key go together' });
    }
    if (t.passphrase && !t.key) ctx.addIssue({ code: 'custom', path: ['passphrase'], message: 'needs a key' });
  });

export type TlsOptions = z.output<typeof tlsOptions>;

/** The https.Agent options for a `tls` block; throws a clean Error (paths, never file contents). */
export function tlsAgentOptions(t: TlsOptions | undefined): https.AgentOptions {
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
  if (/bad decrypt|bad password|unable to load|interrupted or cancelled/i.test(message))
    return 'the key cannot be decrypted (wrong or missing passphrase?)';
  if (/key values mismatch/i.test(message)) return 'the key does not belong to the certificate';
  return oneLine(message, 160);
}
