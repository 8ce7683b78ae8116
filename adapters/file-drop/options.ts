import { z } from 'zod';
import { filePath, secret } from '../../src/sdk/index.ts';
import { DEFAULT_FILE_NAME, patternProblems } from './naming.ts';

// Validation messages never echo a value that may be a credential; paths, hosts and patterns are shown.

/** OpenSSH's notation (`ssh-keygen -lf`, `ssh-keyscan | ssh-keygen -lf -`): SHA256: and 43 base64 characters. */
export const HOST_KEY_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

const directory = z
  .string()
  .min(1)
  .refine((d) => !d.includes('\0'), 'must be a path');

const localTransport = z
  .object({
    type: z.literal('local'),
    directory: directory.describe('the folder the batch job polls (absolute, or relative to the working directory)'),
  })
  .strict();

const sftpTransport = z
  .object({
    type: z.literal('sftp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1),
    password: secret(z.string().min(1)).optional(),
    privateKey: filePath(z.string().min(1))
      .optional()
      .describe('path of the private key file (OpenSSH or PEM); read at start-up, its content is never shown or logged'),
    passphrase: secret(z.string().min(1)).optional().describe('passphrase of an encrypted privateKey'),
    hostKey: z
      .string()
      .regex(
        HOST_KEY_FINGERPRINT,
        'must be the SHA256 fingerprint of the server host key, e.g. SHA256:…(43 characters); see ssh-keygen -lf',
      )
      .describe('the server host key fingerprint the hub expects; required, a key is never trusted on first use'),
    directory: directory.describe('the folder on the server (absolute, or relative to the login directory)'),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (!o.password && !o.privateKey)
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'give password or privateKey (or both)' });
    if (o.passphrase && !o.privateKey) ctx.addIssue({ code: 'custom', path: ['passphrase'], message: 'a passphrase needs privateKey' });
  });

const timeoutMs = z
  .number()
  .int()
  .min(1000)
  .default(24 * 60 * 60_000);

/** done/ and error/: below directory when relative; never `..` upwards, never directory itself. */
const ackFolder = z
  .string()
  .min(1)
  .refine(
    (p) => !p.split(/[/\\]/).some((s) => s === '..') && p !== '.' && p !== './' && !p.includes('\0'),
    'must name a folder other than directory, without ".."',
  );

const acknowledgement = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('files'),
      timeoutMs: timeoutMs.describe('how long the hub waits for <name>.ok or <name>.err'),
      referencePath: z
        .string()
        .regex(/^(\/[^/]+)+$/, 'must be a path like /quittung/aktenzeichen')
        .optional()
        .describe('where the reference sits in a JSON or XML .ok file; without it, the first line is the reference'),
    })
    .strict(),
  z
    .object({
      mode: z.literal('folders'),
      done: ackFolder.default('done').describe('folder the back office moves accepted files into'),
      error: ackFolder.default('error').describe('folder the back office moves rejected files into'),
      timeoutMs: timeoutMs.describe('how long the hub waits for the file to move'),
    })
    .strict()
    .refine((o) => o.done !== o.error, { path: ['error'], message: 'must differ from done' }),
]);

export const fileDropOptionsSchema = z
  .object({
    transport: z
      .discriminatedUnion('type', [localTransport, sftpTransport])
      .describe('where the folder is: local (a mount) or on an SFTP server'),
    fileName: z
      .string()
      .min(1)
      .superRefine((p, ctx) => {
        for (const message of patternProblems(p)) ctx.addIssue({ code: 'custom', message });
      })
      .default(DEFAULT_FILE_NAME)
      .describe('file name pattern: {tenant} {service} {deliveryId} {date} {time} {ext}'),
    attachments: z
      .enum(['none', 'embedded', 'beside', 'zip'])
      .default('none')
      .describe(
        'none: not delivered (a warning per delivery); embedded: the mapping carries them inside the message; beside: <stem>.<n>-<filename> next to the message; zip: all in <stem>.zip',
      ),
    acknowledgement: acknowledgement.optional().describe('how the back office confirms that it took the file'),
  })
  .strict();

export type FileDropOptions = z.output<typeof fileDropOptionsSchema>;
export type TransportOptions = FileDropOptions['transport'];
export type SftpTransportOptions = Extract<TransportOptions, { type: 'sftp' }>;
export type AckOptions = NonNullable<FileDropOptions['acknowledgement']>;
