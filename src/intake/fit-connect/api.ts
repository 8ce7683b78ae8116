// The Submission API as a subscriber uses it: list the submissions waiting at a destination, fetch one with
// its encrypted parts, read and write the case's event log. Every call returns a result, never throws:
// the caller decides between retrying later (network, 5xx, 429) and giving up (other 4xx, malformed answers).

import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { createHttp, exchange, httpFailure, invalidAnswer, type Answer, type Result } from './http.ts';
import type { TokenSource } from './token.ts';
import { parseStrictJsonText } from '../../http/strict-json.ts';

/** A submission waiting for pickup, as the listing gives it. */
export interface SubmissionForPickup {
  destinationId: string;
  submissionId: string;
  caseId: string;
}

/** One submission as `GET /v1/submissions/{id}` gives it: metadata and data still encrypted (JWE compact). */
export interface EncryptedSubmission extends SubmissionForPickup {
  encryptedMetadata: string;
  encryptedData?: string | undefined;
  /** The attachment ids; each is fetched on its own. */
  attachments: string[];
  serviceType?: { identifier?: string | undefined; name?: string | undefined } | undefined;
}

const pickupSchema = z.looseObject({ destinationId: z.string().min(1), submissionId: z.string().min(1), caseId: z.string().min(1) });
const pageSchema = z.looseObject({
  offset: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
  totalCount: z.number().int().nonnegative(),
  submissions: z.array(pickupSchema),
});
const submissionSchema = pickupSchema.extend({
  encryptedMetadata: z.string().min(1),
  encryptedData: z.string().min(1).optional(),
  attachments: z.array(z.string().min(1)).default([]),
  serviceType: z.looseObject({ identifier: z.string().optional(), name: z.string().optional() }).optional(),
});
const eventLogSchema = z.looseObject({ eventLog: z.array(z.string()) });

/** The platform's largest page; we ask for less. */
const DEFAULT_PAGE_SIZE = 100;
/** Guards against a platform whose totalCount never stops growing under us. */
const MAX_PAGES = 1000;

export interface SubmissionApiOptions {
  /** Base URL of the Submission API, e.g. https://…/submission-api (without /v1). */
  baseUrl: string;
  tokens: TokenSource;
  timeoutMs?: number;
  pageSize?: number;
  http?: AxiosInstance;
}

export class SubmissionApi {
  readonly #o: SubmissionApiOptions;
  readonly #http: AxiosInstance;
  readonly #base: string;

  constructor(o: SubmissionApiOptions) {
    this.#o = o;
    this.#http = o.http ?? createHttp();
    this.#base = o.baseUrl.replace(/\/+$/, '');
  }

  /** Every submission waiting at `destinationId`, paging through with offset and limit. */
  async listSubmissions(destinationId: string): Promise<Result<SubmissionForPickup[]>> {
    const limit = this.#o.pageSize ?? DEFAULT_PAGE_SIZE;
    const all: SubmissionForPickup[] = [];
    for (let page = 0, offset = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams({ destinationId, offset: String(offset), limit: String(limit) });
      const got = await this.#json('GET /v1/submissions', `/v1/submissions?${query}`, pageSchema);
      if (!got.ok) return got;
      const { submissions, count, totalCount } = got.value;
      for (const s of submissions) all.push({ destinationId: s.destinationId, submissionId: s.submissionId, caseId: s.caseId });
      offset += submissions.length;
      // Stops on an empty page too: a count that lies must not make us loop.
      if (submissions.length === 0 || count === 0 || offset >= totalCount) return { ok: true, value: all };
    }
    return invalidAnswer('GET /v1/submissions', `more than ${MAX_PAGES} pages`);
  }

  async getSubmission(submissionId: string): Promise<Result<EncryptedSubmission>> {
    return this.#json('GET /v1/submissions/{id}', `/v1/submissions/${encodeURIComponent(submissionId)}`, submissionSchema);
  }

  /** One attachment, as the JWE compact serialization the platform stores. */
  async getAttachment(submissionId: string, attachmentId: string): Promise<Result<string>> {
    const what = 'GET /v1/submissions/{id}/attachments/{attachmentId}';
    const got = await this.#send(
      what,
      'GET',
      `/v1/submissions/${encodeURIComponent(submissionId)}/attachments/${encodeURIComponent(attachmentId)}`,
      { Accept: 'application/jose' },
    );
    if (!got.ok) return got;
    const jwe = got.value.body.trim();
    if (jwe.split('.').length !== 5) return invalidAnswer(what, 'the answer is not a JWE in compact serialization', got.value.status);
    return { ok: true, value: jwe };
  }

  /** The case's event log: Security Event Tokens, oldest first. */
  async getEvents(caseId: string): Promise<Result<string[]>> {
    const got = await this.#json('GET /v1/cases/{caseId}/events', `/v1/cases/${encodeURIComponent(caseId)}/events`, eventLogSchema);
    return got.ok ? { ok: true, value: got.value.eventLog } : got;
  }

  /** Posts a Security Event Token (accept-submission, reject-submission) to the case's event log. */
  async postEvent(caseId: string, set: string): Promise<Result<void>> {
    const got = await this.#send(
      'POST /v1/cases/{caseId}/events',
      'POST',
      `/v1/cases/${encodeURIComponent(caseId)}/events`,
      { 'Content-Type': 'application/jose', Accept: 'application/json' },
      set,
    );
    return got.ok ? { ok: true, value: undefined } : got;
  }

  async #json<S extends z.ZodType>(what: string, path: string, schema: S): Promise<Result<z.infer<S>>> {
    const got = await this.#send(what, 'GET', path, { Accept: 'application/json' });
    if (!got.ok) return got;
    // The strict reader (src/http/strict-json.ts): no depth, duplicate-key or __proto__ games from the platform either.
    const read = parseStrictJsonText(got.value.body);
    if (!read.ok) return invalidAnswer(what, 'the answer is not JSON', got.value.status);
    const body = read.value;
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return invalidAnswer(
        what,
        `the answer does not have the documented shape (${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown'})`,
        got.value.status,
      );
    }
    return { ok: true, value: parsed.data };
  }

  /** One authorised request; a 401 replaces the token once (it may have been revoked early) and tries again. */
  async #send(what: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, data?: string): Promise<Result<Answer>> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.#o.tokens.get();
      if (!token.ok) return token;
      const sent = await exchange(
        this.#http,
        {
          method,
          url: this.#base + path,
          headers: { ...headers, Authorization: `Bearer ${token.value}` },
          ...(data !== undefined ? { data } : {}),
        },
        this.#o.timeoutMs ?? 30_000,
      );
      if (!sent.ok) return { ...sent, error: `${what}: ${sent.error}` };
      const answer = sent.value;
      if (answer.status === 401 && attempt === 0) {
        this.#o.tokens.invalidate(token.value);
        continue;
      }
      if (answer.status < 200 || answer.status >= 300) return httpFailure(what, answer);
      return { ok: true, value: answer };
    }
  }
}
