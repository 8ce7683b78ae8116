import { z } from 'zod';
import { acceptanceOption, filePath } from '../../src/sdk/index.ts';
import { isJsonPointer } from '../_http/json-pointer.ts';
import { authSchema, checkHeaderSources, checkUrlOption, extraHeaders, httpMethod, httpUrl, idempotencyHeader } from '../_http/options.ts';

// The HTTP side (url, method, auth, headers, checkUrl, idempotency header) is the one every HTTP target has
// (adapters/_http/options.ts), field for field, so this adapter and rest validate and document these options
// alike. Messages never echo a value: it may be a credential, and the config loader prints them as they are.

/** `type/subtype` with optional parameters, and nothing Node would refuse in a header. */
const MEDIA_TYPE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;

/**
 * `Quittung/Aktenzeichen`, `/Quittung/Aktenzeichen` or `Quittung/@aktenzeichen`: element names from the root
 * down, an optional attribute last. A prefix (`q:Quittung`) is allowed and ignored, like namespaces.
 */
export const XML_PATH =
  /^\/?(?:[\p{L}_][\p{L}\p{N}_.-]*:)?[\p{L}_][\p{L}\p{N}_.-]*(?:\/(?:[\p{L}_][\p{L}\p{N}_.-]*:)?[\p{L}_][\p{L}\p{N}_.-]*)*(?:\/@(?:[\p{L}_][\p{L}\p{N}_.-]*:)?[\p{L}_][\p{L}\p{N}_.-]*)?$/u;

export const referenceSchema = z.discriminatedUnion('from', [
  z
    .object({
      from: z.literal('xml'),
      path: z
        .string()
        .regex(
          XML_PATH,
          'must be element names from the root down, separated by "/", e.g. Quittung/Aktenzeichen (an attribute last as @name)',
        )
        .describe('element names from the root element down; namespace prefixes are ignored'),
    })
    .strict(),
  z
    .object({
      from: z.literal('json'),
      pointer: z
        .string()
        .refine(isJsonPointer, 'must be an RFC 6901 JSON pointer such as /id')
        .describe('RFC 6901 JSON pointer into a JSON answer'),
    })
    .strict(),
]);

export const xmlHttpOptionsSchema = z
  .object({
    url: httpUrl.describe('the back-office endpoint that receives one XML document per request'),
    method: httpMethod,
    auth: authSchema.describe('how the hub authenticates at the back office (as the rest adapter)'),
    headers: extraHeaders,
    contentType: z
      .string()
      .regex(MEDIA_TYPE, 'must be a media type such as application/xml; charset=utf-8')
      .default('application/xml; charset=utf-8')
      .describe('Content-Type of the request; the body is always the UTF-8 text of the mapped document'),
    idempotencyHeader,
    schema: filePath(z.string().min(1))
      .refine(
        (p) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(p),
        'must be the path of a local .xsd file, not a URL: schemas are never fetched from the network',
      )
      .optional()
      .describe(
        'entry XSD (local path; a relative path is found in the configuration folder); every message is validated against it before it is sent',
      ),
    reference: referenceSchema.optional().describe("where the back office's reference (Aktenzeichen) is in its answer"),
    acceptance: acceptanceOption.optional(),
    checkUrl: checkUrlOption,
  })
  .strict()
  .superRefine((o, ctx) => {
    // The same rules as the rest adapter: one source per header.
    checkHeaderSources(o, ctx);
    if (o.acceptance?.reference && o.reference) {
      ctx.addIssue({ code: 'custom', path: ['acceptance', 'reference'], message: 'give the reference once: here or as reference' });
    }
  });

export type XmlHttpOptions = z.output<typeof xmlHttpOptionsSchema>;
export type ReferenceOption = z.output<typeof referenceSchema>;
