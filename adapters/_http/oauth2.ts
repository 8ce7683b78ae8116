// OAuth2 client credentials (RFC 6749 §4.4): one token per target, cached until shortly before it
// expires, fetched by one request at a time however many deliveries are waiting for it.
// Neither the token, the client secret nor the token endpoint's body ever reach a log line or an error.

import type { HttpAnswer } from './exchange.ts';
import type { Logger } from 'winston';
import { parseRetryAfter, type Clock } from '../../src/sdk/index.ts';
import type { OAuth2Auth } from './options.ts';
import { oneLine, parseJsonBody } from './response.ts';

/** Renew this long before expiry, so a token does not run out between our check and the back office's. */
const EXPIRY_SKEW_MS = 30_000;

/** A failed token request. `retryable` follows the design: network, timeout, 5xx, 408, 429 yes; 4xx no. */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** `token-network`, `token-timeout`, `token-http-401`, `token-invalid-answer`. */
    readonly errorKind: string,
    readonly httpStatus?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export interface TokenRequest {
  method: 'POST';
  url: string;
  data: string;
  headers: Record<string, string>;
}

/** Sends one request to the token endpoint; rejects only on network errors and timeouts (every status is an answer). */
export type TokenTransport = (request: TokenRequest) => Promise<HttpAnswer>;

export interface TokenSourceOptions {
  auth: OAuth2Auth;
  transport: TokenTransport;
  logger: Logger;
  /** The hub's clock: when a cached token goes stale, and what a Retry-After date means. */
  now: Clock;
}

export class OAuth2TokenSource {
  readonly #auth: OAuth2Auth;
  readonly #transport: TokenTransport;
  readonly #logger: Logger;
  readonly #now: () => number;
  #cached: { token: string; freshUntil: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(o: TokenSourceOptions) {
    this.#auth = o.auth;
    this.#transport = o.transport;
    this.#logger = o.logger;
    this.#now = o.now;
  }

  /** The token endpoint without query string, for messages. */
  get shownUrl(): string {
    const u = new URL(this.#auth.tokenUrl);
    return u.origin + u.pathname;
  }

  /** A valid access token: the cached one, the one being fetched, or a new one. Rejects with TokenError. */
  get(): Promise<string> {
    const cached = this.#cached;
    if (cached && this.#now() < cached.freshUntil) return Promise.resolve(cached.token);
    if (!this.#pending) {
      const pending = this.#fetch();
      this.#pending = pending;
      // Cleared whether it worked or not: a failed request is not cached, the next caller tries again.
      const clear = () => {
        if (this.#pending === pending) this.#pending = undefined;
      };
      pending.then(clear, clear);
    }
    return this.#pending;
  }

  /**
   * The back office refused `token` (401): forget it, unless it was already replaced. Comparing the token
   * lets concurrent deliveries that all got a 401 with the same old token share one refresh.
   */
  invalidate(token: string): void {
    if (this.#cached?.token === token) this.#cached = undefined;
  }

  async #fetch(): Promise<string> {
    const a = this.#auth;
    const started = this.#now();
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (a.scope) form.set('scope', a.scope);
    if (a.audience) form.set('audience', a.audience);
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    };
    if (a.clientAuth === 'basic') {
      // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
      headers.Authorization = 'Basic ' + Buffer.from(`${formEncode(a.clientId)}:${formEncode(a.clientSecret)}`, 'utf8').toString('base64');
    } else {
      form.set('client_id', a.clientId);
      form.set('client_secret', a.clientSecret);
    }

    let res: HttpAnswer;
    try {
      res = await this.#transport({ method: 'POST', url: a.tokenUrl, data: form.toString(), headers });
    } catch (err) {
      // Only the code: the error may carry the request (axios' does), and with it the client secret.
      const code = errorCode(err);
      if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') {
        throw new TokenError(`token endpoint ${this.shownUrl} did not answer in time`, true, 'token-timeout');
      }
      throw new TokenError(`token request to ${this.shownUrl} failed: network error ${code ?? 'ENETWORK'}`, true, 'token-network');
    }

    if (res.status < 200 || res.status >= 300) {
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      const retryAfter = retryable ? parseRetryAfter(headerString(res.headers['retry-after']), this.#now()) : undefined;
      const why = this.#oauthError(res);
      const hint = res.status >= 300 && res.status < 400 ? ' (redirects are not followed: configure the final tokenUrl)' : '';
      this.#logger.warn('rest oauth2 token request refused', { httpStatus: res.status, retryable });
      throw new TokenError(
        `token endpoint ${this.shownUrl} answered HTTP ${res.status}${why}${hint}`,
        retryable,
        `token-http-${res.status}`,
        res.status,
        retryAfter,
      );
    }

    const body = parseJsonBody(res.headers['content-type'], res.data) as Record<string, unknown> | undefined;
    const token = body && typeof body === 'object' ? body.access_token : undefined;
    // The token goes into a header: anything Node would refuse there is as useless as no token.
    if (typeof token !== 'string' || token === '' || !/^[\x21-\x7e]+$/.test(token)) {
      throw new TokenError(
        `token endpoint ${this.shownUrl} answered HTTP ${res.status} without a usable access_token`,
        false,
        'token-invalid-answer',
        res.status,
      );
    }
    const type = body!.token_type;
    if (typeof type === 'string' && type.toLowerCase() !== 'bearer') {
      throw new TokenError(
        `token endpoint ${this.shownUrl} issued a token of type "${oneLine(type, 30)}"; only Bearer is supported`,
        false,
        'token-invalid-answer',
        res.status,
      );
    }

    const expiresIn = positiveNumber(body!.expires_in);
    let freshUntil: number;
    if (expiresIn !== undefined) {
      // Counted from the request's start, and never more than half the lifetime taken off, so a
      // short-lived token is still used rather than fetched anew for every delivery.
      const lifetime = expiresIn * 1000;
      freshUntil = started + lifetime - Math.min(EXPIRY_SKEW_MS, lifetime / 2);
    } else {
      freshUntil = started + a.defaultTokenLifetimeSeconds * 1000;
    }
    this.#cached = { token, freshUntil };
    this.#logger.debug('rest oauth2 token obtained', {
      expiresInSeconds: expiresIn ?? null,
      cachedForMs: Math.max(0, freshUntil - this.#now()),
      durationMs: this.#now() - started,
    });
    return token;
  }

  /** `: invalid_client (Invalid client credentials)` from an RFC 6749 §5.2 error answer, or ''. */
  #oauthError(res: HttpAnswer): string {
    const body = parseJsonBody(res.headers['content-type'], res.data);
    if (!body || typeof body !== 'object' || Array.isArray(body)) return '';
    const { error, error_description: description } = body as Record<string, unknown>;
    if (typeof error !== 'string' || !/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(error)) return '';
    let out = `: ${error}`;
    // The description is meant for developers; shown short, on one line, and never if it repeats the secret.
    if (typeof description === 'string' && description.trim() && !description.includes(this.#auth.clientSecret)) {
      out += ` (${oneLine(description, 120)})`;
    }
    return out;
  }
}

/** application/x-www-form-urlencoded for one value: what URLSearchParams produces, spaces as '+'. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function positiveNumber(value: unknown): number | undefined {
  // Some token endpoints send expires_in as a string; RFC 6749 says a number.
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

function headerString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
