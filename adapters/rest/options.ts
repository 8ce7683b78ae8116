import { z } from 'zod';
import { secret } from '../../src/sdk/index.ts';
import { isJsonPointer } from './json-pointer.ts';

// Validation messages never echo the value: a bad value may be a credential (or a URL carrying one),
// and the config loader prints these messages as they are.

/** An RFC 9110 field name (token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node accepts in a header value; anything else (line breaks above all) would throw at send time. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const headerName = z.string().regex(HEADER_NAME, 'must be an HTTP header name (letters, digits, dashes)');
const headerValue = z.string().regex(HEADER_VALUE, 'must not contain line breaks or control characters');

const httpUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL' });
  }
  // Credentials in the URL would be shown unmasked wherever the URL is (options, logs, check messages).
  if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'must not contain credentials; use auth instead' });
  }
});

export const authSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('none') }).strict(),
    z
      .object({
        type: z.literal('basic'),
        username: z
          .string()
          .min(1)
          .regex(/^[^:]*$/, 'must not contain ":" (RFC 7617)')
          .regex(HEADER_VALUE, 'must not contain line breaks or control characters'),
        // Any characters: the pair is sent base64-encoded (UTF-8), so no header-value rule applies.
        password: secret(z.string().min(1)),
      })
      .strict(),
    z.object({ type: z.literal('bearer'), token: secret(headerValue.min(1)) }).strict(),
    z
      .object({
        type: z.literal('api-key'),
        header: headerName.default('X-API-Key'),
        value: secret(headerValue.min(1)),
      })
      .strict(),
  ])
  .default({ type: 'none' });

/** Headers the adapter sets itself; `headers` may not override them. */
const MANAGED_HEADERS = ['authorization', 'content-type', 'content-length', 'host', 'transfer-encoding', 'connection', 'x-amtsbote-delivery'];

export const restOptionsSchema = z
  .object({
    url: httpUrl.describe('the back-office endpoint that receives one case per request'),
    method: z.enum(['POST', 'PUT']).default('POST'),
    auth: authSchema.describe('how the hub authenticates at the back office'),
    headers: z
      .record(headerName, headerValue)
      .optional()
      .describe('extra request headers, shown in clear: put credentials under auth, never here'),
    referencePointer: z
      .string()
      .refine(isJsonPointer, 'must be an RFC 6901 JSON pointer such as /auftrag/aktenzeichen')
      .optional()
      .describe("where the back office's reference (Aktenzeichen) sits in its JSON answer"),
    checkUrl: httpUrl.optional().describe("URL that check() GETs; default: the origin of url"),
    idempotencyHeader: headerName.default('Idempotency-Key').describe('header that carries the idempotency key'),
  })
  .strict()
  .superRefine((o, ctx) => {
    // Two sources for one header would make it unclear which value the back office sees.
    const idem = o.idempotencyHeader.toLowerCase();
    const apiKey = o.auth.type === 'api-key' ? o.auth.header.toLowerCase() : undefined;
    if (MANAGED_HEADERS.includes(idem) || idem === apiKey) {
      ctx.addIssue({ code: 'custom', path: ['idempotencyHeader'], message: 'names a header the adapter already sets' });
    }
    if (apiKey && MANAGED_HEADERS.includes(apiKey) && apiKey !== 'authorization') {
      ctx.addIssue({ code: 'custom', path: ['auth', 'header'], message: 'names a header the adapter already sets' });
    }
    for (const name of Object.keys(o.headers ?? {})) {
      const lower = name.toLowerCase();
      if (MANAGED_HEADERS.includes(lower) || lower === idem || lower === apiKey) {
        ctx.addIssue({
          code: 'custom',
          path: ['headers', name],
          message: lower === 'authorization' ? 'set credentials under auth, not headers' : 'is set by the adapter and cannot be overridden',
        });
      }
    }
  });

export type RestOptions = z.output<typeof restOptionsSchema>;
export type RestAuth = RestOptions['auth'];
