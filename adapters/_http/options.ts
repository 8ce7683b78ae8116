import { z } from 'zod';
import { checkHttpUrl, secret, tlsOptions } from '../../src/sdk/index.ts';
import { isJsonPointer } from './json-pointer.ts';

// The options every HTTP target has (rest, xml-http), so both validate and document them alike. Validation
// messages never echo the value: a bad value may be a credential (or a URL carrying one), and the config
// loader prints these messages as they are.

/** An RFC 9110 field name (token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node accepts in a header value; anything else (line breaks above all) would throw at send time. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const headerName = z.string().regex(HEADER_NAME, 'must be an HTTP header name (letters, digits, dashes)');
export const headerValue = z.string().regex(HEADER_VALUE, 'must not contain line breaks or control characters');
export const pointer = z.string().refine(isJsonPointer, 'must be an RFC 6901 JSON pointer such as /auftrag/aktenzeichen');

export const checkUrl = checkHttpUrl('auth');
export const httpUrl = z.string().superRefine(checkUrl);

export const httpMethod = z.enum(['POST', 'PUT']).default('POST');
export const extraHeaders = z
  .record(headerName, headerValue)
  .optional()
  .describe('extra request headers, shown in clear: put credentials under auth, never here');
export const idempotencyHeader = headerName.default('Idempotency-Key').describe('header that carries the idempotency key');
export const checkUrlOption = httpUrl.optional().describe('URL that check() GETs; default: the origin of url');

const oauth2Schema = z
  .object({
    type: z.literal('oauth2'),
    tokenUrl: httpUrl.describe('the OAuth2 token endpoint (client credentials grant)'),
    clientId: z.string().min(1),
    clientSecret: secret(z.string().min(1)),
    scope: z.string().min(1).regex(HEADER_VALUE, 'must not contain line breaks or control characters').optional(),
    audience: z.string().min(1).regex(HEADER_VALUE, 'must not contain line breaks or control characters').optional(),
    clientAuth: z
      .enum(['basic', 'body'])
      .default('basic')
      .describe(
        'basic: client id and secret in an Authorization: Basic header (RFC 6749 §2.3.1); body: as client_id/client_secret form fields',
      ),
    defaultTokenLifetimeSeconds: z
      .number()
      .int()
      .positive()
      .default(300)
      .describe('how long a token is cached when the token endpoint gives no expires_in'),
    tokenTls: z
      .enum(['target', 'system'])
      .default('target')
      .describe(
        "target: the token endpoint is reached with this target's tls settings; system: with Node's default trust store and no client certificate",
      ),
  })
  .strict();

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
    oauth2Schema,
  ])
  .default({ type: 'none' });

export const tlsSchema = tlsOptions;

/** Headers the adapter sets itself; `headers` may not override them. */
export const MANAGED_HEADERS: readonly string[] = [
  'authorization',
  'content-type',
  'content-length',
  'host',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'x-amtsbote-delivery',
];

/**
 * One source per header, so it is clear which value the back office sees: the idempotency header, an api-key
 * header and custom headers may not name a header the adapter sets, nor each other.
 */
export function checkHeaderSources(
  o: { idempotencyHeader: string; auth: { type: string; header?: string }; headers?: Record<string, string> | undefined },
  ctx: z.RefinementCtx,
): void {
  const idem = o.idempotencyHeader.toLowerCase();
  const apiKey = o.auth.type === 'api-key' ? o.auth.header?.toLowerCase() : undefined;
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
}

export type HttpAuth = z.output<typeof authSchema>;
export type OAuth2Auth = Extract<HttpAuth, { type: 'oauth2' }>;
export type HttpTls = z.output<typeof tlsSchema>;
