// OAuth2 client credentials (RFC 6749 §4.4) at the FIT-Connect token endpoint: one token per client, cached
// until shortly before it expires, fetched by one request at a time however many callers wait for it.
// FIT-Connect tokens live at most 30 minutes, so a longer `expires_in` is not believed.
// The clock is injected: the hub runs on one clock, and tests advance it instead of waiting.

import type { AxiosInstance } from 'axios';
import { createHttp, exchange, httpFailure, invalidAnswer, type Result } from './http.ts';
import { parseStrictJsonText } from '../../http/strict-json.ts';

/** FIT-Connect's upper bound for a token's life. */
export const MAX_TOKEN_LIFETIME_MS = 30 * 60_000;
/** Renew this long before expiry (at most half the lifetime), so a token does not run out on its way. */
const RENEW_BEFORE_MS = 60_000;

export interface TokenSourceOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** E.g. the subscribe scope of the client's destinations; left out of the request when not set. */
  scope?: string | undefined;
  now: () => number;
  timeoutMs?: number;
  http?: AxiosInstance;
}

export class TokenSource {
  readonly #o: TokenSourceOptions;
  readonly #http: AxiosInstance;
  #cached: { token: string; freshUntil: number } | undefined;
  #pending: Promise<Result<string>> | undefined;

  constructor(o: TokenSourceOptions) {
    this.#o = o;
    this.#http = o.http ?? createHttp();
  }

  /** The token endpoint without query string, for messages. */
  get shownUrl(): string {
    const u = new URL(this.#o.tokenUrl);
    return u.origin + u.pathname;
  }

  /** A valid access token: the cached one, the one being fetched, or a new one. */
  get(): Promise<Result<string>> {
    const cached = this.#cached;
    if (cached && this.#o.now() < cached.freshUntil) return Promise.resolve({ ok: true, value: cached.token });
    if (!this.#pending) {
      const pending = this.#fetch();
      this.#pending = pending;
      // Cleared either way: a failure is not cached, the next caller tries again.
      void pending.finally(() => {
        if (this.#pending === pending) this.#pending = undefined;
      });
    }
    return this.#pending;
  }

  /** The platform refused `token` (401): forget it, unless a newer one already replaced it. */
  invalidate(token: string): void {
    if (this.#cached?.token === token) this.#cached = undefined;
  }

  async #fetch(): Promise<Result<string>> {
    const o = this.#o;
    const started = o.now();
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: o.clientId, client_secret: o.clientSecret });
    if (o.scope) form.set('scope', o.scope);
    const what = `token endpoint ${this.shownUrl}`;
    const sent = await exchange(
      this.#http,
      {
        method: 'POST',
        url: o.tokenUrl,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        data: form.toString(),
      },
      o.timeoutMs ?? 10_000,
    );
    if (!sent.ok) return { ...sent, error: `token request failed: ${sent.error}`, errorKind: `token-${sent.errorKind}` };
    const answer = sent.value;
    if (answer.status < 200 || answer.status >= 300) {
      const failure = httpFailure(what, answer, 'token-http');
      // An OAuth error code (invalid_client, invalid_scope) says what to fix; the description is not shown, it may echo input.
      const code = oauthError(answer.body);
      if (code) failure.error += ` (${code})`;
      return failure;
    }
    const read = parseStrictJsonText(answer.body);
    if (!read.ok || !read.value || typeof read.value !== 'object') return invalidAnswer(what, 'the answer is not JSON', answer.status);
    const body = read.value as Record<string, unknown>;
    const token = body.access_token;
    if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token))
      return invalidAnswer(what, 'no usable access_token in the answer', answer.status);
    if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
      return invalidAnswer(what, 'only Bearer tokens are supported', answer.status);
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : MAX_TOKEN_LIFETIME_MS;
    const lifetime = Math.min(expiresIn, MAX_TOKEN_LIFETIME_MS);
    // Counted from the request's start: the platform's clock started the token no later than that.
    this.#cached = { token, freshUntil: started + lifetime - Math.min(RENEW_BEFORE_MS, lifetime / 2) };
    return { ok: true, value: token };
  }
}

function oauthError(body: string): string | undefined {
  const read = parseStrictJsonText(body);
  const error = read.ok && read.value && typeof read.value === 'object' ? (read.value as Record<string, unknown>).error : undefined;
  return typeof error === 'string' && /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(error) ? error : undefined;
}
