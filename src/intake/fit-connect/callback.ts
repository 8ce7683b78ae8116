// A FIT-Connect callback ("new submissions") is only a hint to poll now: it is believed only with a valid
// HMAC-SHA512 (hex, over "{callback-timestamp}.{raw body}", with the callback secret) and a fresh timestamp
// (refused when older than 5 minutes, FIT-Connect's rule, or from the future beyond a small clock skew).
// Pure: the caller passes the raw body as received, the headers, the secret and the clock.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { readStrictJson } from '../../http/strict-json.ts';

export const CALLBACK_NEW_SUBMISSIONS = 'https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions';
export const MAX_CALLBACK_AGE_SECONDS = 300;
/** Clocks drift: a timestamp this far ahead is still taken. */
export const MAX_CALLBACK_SKEW_SECONDS = 30;

export interface CallbackInput {
  /** The `callback-authentication` header. */
  authentication: string | undefined;
  /** The `callback-timestamp` header (Unix seconds). */
  timestamp: string | undefined;
  /** The body exactly as received: the HMAC is over these bytes, not over re-serialised JSON. */
  rawBody: string | Buffer;
  secret: string;
  now: () => number;
}

export interface NewSubmissions {
  type: typeof CALLBACK_NEW_SUBMISSIONS;
  submissions: { destinationId: string; submissionId: string; caseId: string }[];
}

export type CallbackResult =
  | { ok: true; callback: NewSubmissions }
  | { ok: false; reason: 'missing-header' | 'stale' | 'future' | 'bad-signature' | 'bad-body'; error: string };

const bodySchema = z.looseObject({
  type: z.literal(CALLBACK_NEW_SUBMISSIONS),
  submissions: z.array(z.looseObject({ destinationId: z.string().min(1), submissionId: z.string().min(1), caseId: z.string().min(1) })),
});

export function verifyCallback(input: CallbackInput): CallbackResult {
  const { authentication, timestamp } = input;
  if (!authentication || !timestamp)
    return { ok: false, reason: 'missing-header', error: 'callback-authentication and callback-timestamp are required' };
  if (!/^\d{1,12}$/.test(timestamp.trim())) return { ok: false, reason: 'stale', error: 'callback-timestamp is not Unix seconds' };
  const nowSeconds = Math.floor(input.now() / 1000);
  const age = nowSeconds - Number(timestamp.trim());
  if (age > MAX_CALLBACK_AGE_SECONDS)
    return { ok: false, reason: 'stale', error: `the callback is ${age} s old; at most ${MAX_CALLBACK_AGE_SECONDS} s are accepted` };
  if (-age > MAX_CALLBACK_SKEW_SECONDS) return { ok: false, reason: 'future', error: `the callback is dated ${-age} s ahead` };

  // The timestamp as sent, so the MAC is checked over exactly what the platform signed.
  const body = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody, 'utf8') : input.rawBody;
  const expected = createHmac('sha512', input.secret).update(`${timestamp}.`, 'utf8').update(body).digest();
  const given = /^[0-9a-fA-F]+$/.test(authentication.trim()) ? Buffer.from(authentication.trim(), 'hex') : Buffer.alloc(0);
  // Length first: timingSafeEqual throws on different lengths, and the length of a MAC is no secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad-signature', error: 'the callback-authentication HMAC does not match' };

  // The strict reader (src/http/strict-json.ts): UTF-8, depth, duplicate keys and __proto__ checked on the bytes.
  const read = readStrictJson(body);
  if (!read.ok) return { ok: false, reason: 'bad-body', error: 'the callback body is not JSON' };
  const json = read.value;
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      reason: 'bad-body',
      error: `the callback body is not a new-submissions callback (${parsed.error.issues[0]?.path.join('.') || 'type'})`,
    };
  return {
    ok: true,
    callback: {
      type: CALLBACK_NEW_SUBMISSIONS,
      submissions: parsed.data.submissions.map((s) => ({ destinationId: s.destinationId, submissionId: s.submissionId, caseId: s.caseId })),
    },
  };
}
