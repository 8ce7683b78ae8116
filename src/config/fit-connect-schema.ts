// `fitConnect.destinations` (docs/fit-connect.md): the FIT-Connect destinations (Zustellpunkte) the hub subscribes
// to, one per tenant and service group. Secrets (client secret, callback secret, the private keys) come from the
// environment (`${env:NAME}`) or, for the keys, from a file; they are marked secret and shown as "***".

import { validate as validCron } from 'node-cron';
import { z } from 'zod';
import { filePath, secret } from '../sdk/define-adapter.ts';

const url = z.string().regex(/^https?:\/\/[^/@\s]+(\/[^?#\s]*)?$/, 'an http(s) URL without credentials, query or fragment');

/** A private JWK as JSON text (from the environment) or the path of a file holding it. */
const privateKey = (what: string) =>
  z
    .object({
      jwk: secret(z.string().min(2)).optional().describe(`the private ${what} JWK as JSON, written \${env:NAME}`),
      file: filePath(z.string().min(1))
        .optional()
        .describe(`a file holding the private ${what} JWK (JSON), relative to the configuration folder`),
    })
    .strict()
    .refine((k) => (k.jwk ? 1 : 0) + (k.file ? 1 : 0) === 1, { message: 'give exactly one of jwk or file', path: ['jwk'] });

export const fitConnectSchemaRoute = z
  .object({
    schemaUri: z.string().min(1).describe("the metadata's contentStructure.data.submissionSchema.schemaUri"),
    channel: z.string().min(1).describe('the inbound channel (inbound.channels[].name) that reads and checks the data'),
    service: z
      .string()
      .min(1)
      .optional()
      .describe("the service (slug or LeiKa key); absent: the channel mapping's, else the LeiKa key of publicServiceType"),
  })
  .strict();

export const fitConnectDestinationSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    destinationId: z.uuid().describe("the destination's id in FIT-Connect"),
    tenant: z.string().regex(/^\d{5}(\d{3})?$/, 'an official key: 8-digit AGS or 5-digit district key'),
    services: z.array(z.string().min(1)).min(1).describe('the service group: slugs (or LeiKa keys) this destination takes'),
    tokenUrl: url.describe('the OAuth token endpoint, e.g. https://auth-testing.fit-connect.fitko.dev/token'),
    submissionApiUrl: url.describe('the Submission API base URL (without /v1)'),
    jwksUrl: url
      .optional()
      .describe("the platform's signing keys (its submit-submission events); absent: {submissionApiUrl}/.well-known/jwks.json"),
    clientId: z.string().min(1).describe("the subscriber API client's id"),
    clientSecret: secret(z.string().min(8)).describe("the subscriber API client's secret, written ${env:NAME}"),
    scope: z.string().min(1).optional().describe('the OAuth scope to ask for; absent: none is sent'),
    decryptionKey: privateKey('decryption (RSA-OAEP-256, key_ops unwrapKey)'),
    signingKey: privateKey('signing (PS512, key_ops sign)'),
    callbackSecret: secret(z.string().min(16))
      .optional()
      .describe('the callback secret set for the destination; absent: no callback route, polling only'),
    poll: z
      .object({
        cron: z
          .string()
          .refine((c) => validCron(c), 'a cron expression with five or six fields')
          .default('*/5 * * * *'),
        timezone: z.string().default('Europe/Berlin'),
      })
      .strict()
      .prefault({})
      .describe('how often to poll; a callback polls at once besides'),
    schemas: z.array(fitConnectSchemaRoute).min(1).describe('submissionSchema → inbound channel'),
    alertAfterHours: z
      .number()
      .min(1)
      .max(24 * 13)
      .default(48)
      .describe('a pickup not accepted this long after it was first seen raises an alert (FIT-Connect escalates at 3 days)'),
  })
  .strict();

export const fitConnectSchema = z
  .object({ destinations: z.array(fitConnectDestinationSchema).default([]) })
  .strict()
  .prefault({})
  .describe('FIT-Connect destinations the hub subscribes to (docs/fit-connect.md)');

export type FitConnectDestinationConfig = z.output<typeof fitConnectDestinationSchema>;
