import { z } from 'zod';
import { acceptanceOption } from '../../src/sdk/index.ts';
import {
  authSchema,
  checkHeaderSources,
  checkUrl,
  checkUrlOption,
  extraHeaders,
  httpMethod,
  httpUrl,
  idempotencyHeader,
  pointer,
  tlsSchema,
} from '../_http/options.ts';

// Validation messages never echo the value: a bad value may be a credential (or a URL carrying one),
// and the config loader prints these messages as they are. The options every HTTP target shares (auth,
// headers, tls, …) are in adapters/_http/options.ts.

/** A multipart field name that needs no quoting rules: a token, plus `[]` for `attachments[]` style APIs. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z\-[\]]+$/;

const fieldName = z.string().regex(FIELD_NAME, 'must be a form field name (letters, digits, dashes, dots, [])');
const queryParam = z.string().regex(/^[A-Za-z0-9_.\-[\]]+$/, 'must be a query parameter name');

/** The placeholder in `statusLookup.url` that the reference (URL-encoded) replaces. */
export const REFERENCE_PLACEHOLDER = '{reference}';

const statusUrl = z.string().superRefine((value, ctx) => {
  if (!value.includes(REFERENCE_PLACEHOLDER)) {
    ctx.addIssue({ code: 'custom', message: `must contain the placeholder ${REFERENCE_PLACEHOLDER}` });
    return;
  }
  checkUrl(value.replaceAll(REFERENCE_PLACEHOLDER, 'REF'), ctx);
});

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
  .refine((m) => m.messageField !== m.attachmentField, {
    message: 'messageField and attachmentField must differ',
    path: ['attachmentField'],
  });

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
    sinceParam: queryParam.optional().describe('instead of {since}: the query parameter that carries the start of the time range'),
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
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: `must contain ${SINCE_PLACEHOLDER}, or give sinceParam instead (one of the two)`,
      });
    }
    if (l.cursorParam && !l.nextPointer) ctx.addIssue({ code: 'custom', path: ['cursorParam'], message: 'needs nextPointer' });
  });

export const restOptionsSchema = z
  .object({
    url: httpUrl.describe('the back-office endpoint that receives one case per request'),
    method: httpMethod,
    auth: authSchema.describe('how the hub authenticates at the back office'),
    tls: tlsSchema.optional().describe('client certificate and trust for https:// connections'),
    headers: extraHeaders,
    // No schema default: absent means raw, and parsed options stay as short as before the option existed.
    body: z
      .enum(['raw', 'form', 'multipart'])
      .optional()
      .describe(
        'raw (default): the message text as is; form: a flat JSON object as x-www-form-urlencoded; multipart: message and attachments as multipart/form-data',
      ),
    multipart: multipartSchema.optional().describe('part names for body: multipart'),
    referencePointer: pointer.optional().describe("where the back office's reference (Aktenzeichen) sits in its JSON answer"),
    acceptance: acceptanceOption.optional(),
    checkUrl: checkUrlOption,
    idempotencyHeader,
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

function isHttps(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return true; // the url's own rule reports it
  }
}

export type RestOptions = z.output<typeof restOptionsSchema>;
export type StatusLookup = NonNullable<RestOptions['statusLookup']>;
export type Listing = NonNullable<RestOptions['listing']>;
export type Multipart = z.output<typeof multipartSchema>;
