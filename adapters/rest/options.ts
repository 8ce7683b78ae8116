import { z } from 'zod';
import { acceptanceOption, checkHttpUrl, secret, tlsOptions } from '../../src/sdk/index.ts';
import { isJsonPointer } from './json-pointer.ts';

// Validation messages never echo the value: a bad value may be a credential (or a URL carrying one),
// and the config loader prints these messages as they are.

/** An RFC 9110 field name (token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node accepts in a header value; anything else (line breaks above all) would throw at send time. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** A multipart field name that needs no quoting rules: a token, plus `[]` for `attachments[]` style APIs. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z\-[\]]+$/;

const headerName = z.string().regex(HEADER_NAME, 'must be an HTTP header name (letters, digits, dashes)');
const headerValue = z.string().regex(HEADER_VALUE, 'must not contain line breaks or control characters');
const fieldName = z.string().regex(FIELD_NAME, 'must be a form field name (letters, digits, dashes, dots, [])');
const queryParam = z.string().regex(/^[A-Za-z0-9_.\-[\]]+$/, 'must be a query parameter name');
const pointer = z.string().refine(isJsonPointer, 'must be an RFC 6901 JSON pointer such as /auftrag/aktenzeichen');

const checkUrl = checkHttpUrl('auth');
const httpUrl = z.string().superRefine(checkUrl);

/** The placeholder in `statusLookup.url` that the reference (URL-encoded) replaces. */
export const REFERENCE_PLACEHOLDER = '{reference}';

const statusUrl = z.string().superRefine((value, ctx) => {
  if (!value.includes(REFERENCE_PLACEHOLDER)) {
    ctx.addIssue({ code: 'custom', message: `must contain the placeholder ${REFERENCE_PLACEHOLDER}` });
    return;
  }
  checkUrl(value.replaceAll(REFERENCE_PLACEHOLDER, 'REF'), ctx);
});

/** A file path; refuses PEM text, which would otherwise sit (and be shown) in clear in the options. */

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
      .describe('basic: client id and secret in an Authorization: Basic header (RFC 6749 §2.3.1); body: as client_id/client_secret form fields'),
    defaultTokenLifetimeSeconds: z
      .number()
      .int()
      .positive()
      .default(300)
      .describe('how long a token is cached when the token endpoint gives no expires_in'),
    tokenTls: z
      .enum(['target', 'system'])
      .default('target')
      .describe("target: the token endpoint is reached with this target's tls settings; system: with Node's default trust store and no client certificate"),
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

export const multipartSchema = z
  .object({
    messageField: fieldName.default('message').describe('name of the part that carries the mapped message'),
    messageFilename: z
      .string()
      .min(1)
      .regex(/^[^"\\\x00-\x1f\x7f]+$/, 'must not contain quotes, backslashes or control characters')
      .optional()
      .describe('a filename for the message part, for back offices that expect it as a file'),
    attachmentField: fieldName.default('attachments').describe('name of the parts that carry the attachments, one part per file'),
  })
  .strict()
  .refine((m) => m.messageField !== m.attachmentField, { message: 'messageField and attachmentField must differ', path: ['attachmentField'] });

const stateMap = z
  .record(z.string(), z.string().min(1))
  .optional()
  .describe("back office state → the hub's normalised state; states not listed pass through unchanged");

/** Pointers to a case's optional fields, shared by statusLookup (in the answer) and listing (in each item). */
const caseFieldPointers = {
  reasonPointer: pointer.optional().describe('where the reason for the state sits (e.g. why the case was rejected)'),
  updatedAtPointer: pointer.optional().describe('where the time of the last change sits (ISO 8601 or epoch milliseconds)'),
  idempotencyKeyPointer: pointer.optional().describe('where the idempotency key the case arrived with sits'),
};

export const statusLookupSchema = z
  .object({
    url: statusUrl.describe('GET this URL for one case; {reference} is replaced by the URL-encoded reference'),
    method: z.literal('GET').default('GET'),
    statusPointer: pointer.describe('where the state string sits in the JSON answer'),
    ...caseFieldPointers,
    map: stateMap,
  })
  .strict();

/** The placeholder in `listing.url` that the start of the time range replaces. */
export const SINCE_PLACEHOLDER = '{since}';

/**
 * list(since): one scheme for every back office. The first page is `url` with the time filled in (`{since}` or the
 * `sinceParam` query parameter); each answer may say where the next page is, at `nextPointer`: a cursor (sent
 * as the `cursorParam` query parameter of the first URL) or, without `cursorParam`, a link (absolute or relative,
 * on the same origin). No next value ends the listing.
 */
export const listingSchema = z
  .object({
    url: z
      .string()
      .superRefine((value, ctx) => checkUrl(value.replaceAll(SINCE_PLACEHOLDER, 'SINCE'), ctx))
      .describe('GET this URL for the first page; {since} is replaced by the URL-encoded start of the time range'),
    sinceParam: queryParam
      .optional()
      .describe('instead of {since}: the query parameter that carries the start of the time range'),
    sinceFormat: z.enum(['iso', 'epoch-ms']).default('iso').describe('iso: 2026-03-02T08:15:00.000Z; epoch-ms: milliseconds since 1970'),
    itemsPointer: pointer.describe('where the array of cases sits in each page'),
    referencePointer: pointer.describe("where the case's reference sits in each item"),
    statusPointer: pointer.describe('where the state sits in each item'),
    ...caseFieldPointers,
    nextPointer: pointer.optional().describe('where the next page is named in each page: a cursor (with cursorParam) or a link'),
    cursorParam: queryParam
      .optional()
      .describe('the query parameter that carries the cursor from nextPointer; without it, nextPointer holds a link'),
    maxPages: z.number().int().min(1).default(100_000).describe('a guard against a back office that never stops paging'),
    map: stateMap,
  })
  .strict()
  .superRefine((l, ctx) => {
    const placeholder = l.url.includes(SINCE_PLACEHOLDER);
    if (placeholder === (l.sinceParam !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: `must contain ${SINCE_PLACEHOLDER}, or give sinceParam instead (one of the two)` });
    }
    if (l.cursorParam && !l.nextPointer) ctx.addIssue({ code: 'custom', path: ['cursorParam'], message: 'needs nextPointer' });
  });

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

export const restOptionsSchema = z
  .object({
    url: httpUrl.describe('the back-office endpoint that receives one case per request'),
    method: z.enum(['POST', 'PUT']).default('POST'),
    auth: authSchema.describe('how the hub authenticates at the back office'),
    tls: tlsSchema.optional().describe('client certificate and trust for https:// connections'),
    headers: z
      .record(headerName, headerValue)
      .optional()
      .describe('extra request headers, shown in clear: put credentials under auth, never here'),
    // No schema default: absent means raw, and parsed options stay as short as before the option existed.
    body: z
      .enum(['raw', 'form', 'multipart'])
      .optional()
      .describe('raw (default): the message text as is; form: a flat JSON object as x-www-form-urlencoded; multipart: message and attachments as multipart/form-data'),
    multipart: multipartSchema.optional().describe('part names for body: multipart'),
    referencePointer: pointer.optional().describe("where the back office's reference (Aktenzeichen) sits in its JSON answer"),
    acceptance: acceptanceOption.optional(),
    checkUrl: httpUrl.optional().describe("URL that check() GETs; default: the origin of url"),
    idempotencyHeader: headerName.default('Idempotency-Key').describe('header that carries the idempotency key'),
    statusLookup: statusLookupSchema.optional().describe("how status(reference) asks the back office for a case's state"),
    listing: listingSchema.optional().describe("how list(since) pages through the back office's cases, for reconciliation"),
  })
  .strict()
  .superRefine((o, ctx) => {
    checkHeaderSources(o, ctx);
    if (o.acceptance?.reference && o.referencePointer) {
      ctx.addIssue({ code: 'custom', path: ['acceptance', 'reference'], message: 'give the reference once: here or as referencePointer' });
    }
    if (o.multipart && o.body !== 'multipart') {
      ctx.addIssue({ code: 'custom', path: ['multipart'], message: 'applies only with body: multipart' });
    }
    // A client certificate over plain http would silently never be presented.
    if (o.tls && !isHttps(o.url)) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'needs an https:// url' });
    }
  });

/**
 * One source per header, so it is clear which value the back office sees: the idempotency header, an api-key
 * header and custom headers may not name a header the adapter sets, nor each other. Shared with xml-http.
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

function isHttps(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return true; // the url's own rule reports it
  }
}

export type RestOptions = z.output<typeof restOptionsSchema>;
export type RestAuth = RestOptions['auth'];
export type OAuth2Auth = Extract<RestAuth, { type: 'oauth2' }>;
export type RestTls = NonNullable<RestOptions['tls']>;
export type StatusLookup = NonNullable<RestOptions['statusLookup']>;
export type Listing = NonNullable<RestOptions['listing']>;
export type Multipart = z.output<typeof multipartSchema>;
