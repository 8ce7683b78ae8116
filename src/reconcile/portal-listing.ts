// The hub's client of a portal's listing API (docs/reconciliation-portal.md):
//   GET <url>?since=<ISO>[&cursor=<next>]  → { items: [{ externalId, tenant, service, submittedAt }], next: string | null }
//   GET <url>/<externalId>                  → the submission envelope, as POST /api/v1/submissions takes it
// Errors name the URL without its query and the HTTP status; never a body or the token.

/** The portal's listing settings (portals[].listing). */
export interface PortalListingSettings {
  url: string;
  token?: string | undefined;
  timeoutMs: number;
}

/** One submission as the portal lists it. */
export interface ListedSubmission {
  externalId: string;
  tenant?: string;
  service?: string;
  submittedAt?: string;
}

export class PortalListingError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'PortalListingError';
  }
}

/** Guard against a portal that never stops paging. */
const MAX_PAGES = 100_000;
/** An item's fields are ids and times; anything longer is not one. */
const MAX_FIELD = 200;

export class PortalListingClient {
  private readonly base: string;

  constructor(
    readonly portalId: string,
    private readonly settings: PortalListingSettings,
  ) {
    this.base = settings.url.replace(/\/+$/, '');
  }

  /** The portal's submissions since `since`, one page (array) at a time; items without an external id are skipped. */
  async *pages(since: Date): AsyncGenerator<{ items: ListedSubmission[]; skipped: number }> {
    let cursor: string | null = null;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const u = new URL(this.base);
      u.searchParams.set('since', since.toISOString());
      if (cursor !== null) u.searchParams.set('cursor', cursor);
      const body = await this.getJson(u.toString(), page > 1 ? ` (page ${page})` : '');
      if (body === null)
        throw new PortalListingError(`portal ${this.portalId} listing GET ${this.base} answered HTTP 404 Not Found`, false, 404);
      const items = (body as { items?: unknown }).items;
      if (!Array.isArray(items))
        throw new PortalListingError(`portal ${this.portalId} listing GET ${this.base}: the answer has no items array`, false);
      const listed: ListedSubmission[] = [];
      for (const item of items) {
        const s = listedSubmission(item);
        if (s) listed.push(s);
      }
      yield { items: listed, skipped: items.length - listed.length };
      const next = (body as { next?: unknown }).next;
      if (typeof next !== 'string' || next === '') return;
      if (next === cursor)
        throw new PortalListingError(`portal ${this.portalId} listing GET ${this.base}: the next page is the same page; stopped`, false);
      cursor = next;
    }
    throw new PortalListingError(`portal ${this.portalId} listing GET ${this.base}: more than ${MAX_PAGES} pages; stopped`, false);
  }

  /** The full envelope of one submission, or null when the portal does not have it (404). */
  async submission(externalId: string): Promise<unknown> {
    return this.getJson(`${this.base}/${encodeURIComponent(externalId)}`, '', `${this.base}/{externalId}`);
  }

  private async getJson(url: string, page: string, shownAs: string = this.base): Promise<unknown> {
    const shown = `portal ${this.portalId} listing GET ${shownAs}${page}`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { Accept: 'application/json', ...(this.settings.token ? { Authorization: `Bearer ${this.settings.token}` } : {}) },
        // A redirect would take the token to an address nobody configured.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (e) {
      throw new PortalListingError(`${shown} failed: ${networkCause(e)}`, true);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (res.status < 200 || res.status >= 300) {
      await res.body?.cancel();
      const what =
        res.status === 401 || res.status === 403
          ? ' (credentials rejected)'
          : res.status >= 300 && res.status < 400
            ? ' (redirects are not followed)'
            : '';
      throw new PortalListingError(
        `${shown} answered HTTP ${res.status}${what}`,
        res.status >= 500 || res.status === 408 || res.status === 429,
        res.status,
      );
    }
    try {
      return (await res.json()) as unknown;
    } catch {
      throw new PortalListingError(`${shown} answered HTTP ${res.status} without a JSON body`, false, res.status);
    }
  }
}

function listedSubmission(item: unknown): ListedSubmission | null {
  if (!item || typeof item !== 'object') return null;
  const o = item as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' && v.length <= MAX_FIELD ? v : undefined);
  const externalId = text(o['externalId']);
  if (!externalId) return null;
  const s: ListedSubmission = { externalId };
  const tenant = text(o['tenant']);
  const service = text(o['service']);
  const submittedAt = text(o['submittedAt']);
  if (tenant) s.tenant = tenant;
  if (service) s.service = service;
  if (submittedAt) s.submittedAt = submittedAt;
  return s;
}

/** `timeout` or `network error <code>` from what fetch threw (the code sits in its cause, or the cause's errors). */
function networkCause(e: unknown): string {
  if ((e as Error).name === 'TimeoutError') return 'timeout';
  const cause = (e as { cause?: { code?: unknown; errors?: { code?: unknown }[] } }).cause;
  const code = cause?.code ?? cause?.errors?.find((x) => x.code)?.code;
  return typeof code === 'string' ? `network error ${code}` : 'network error';
}
