// list(since): the back office's cases page by page, for reconciliation. One page in memory at a time: the
// caller pulls the next page by iterating on.
import type { Logger } from 'winston';
import type { CaseStatus } from '../../src/sdk/index.ts';
import { SINCE_PLACEHOLDER, type Listing } from './options.ts';
import { ListingError, caseAt, getJson, stringAt } from './read.ts';
import { resolveJsonPointer } from '../_http/json-pointer.ts';
import { shownUrl, type TargetHttp } from '../_http/target-http.ts';

/** The first page's URL: the time in the `{since}` placeholder or in the `sinceParam` query parameter. */
export function firstPageUrl(l: Listing, since: Date): string {
  const text = l.sinceFormat === 'epoch-ms' ? String(since.getTime()) : since.toISOString();
  if (!l.sinceParam) return l.url.replaceAll(SINCE_PLACEHOLDER, encodeURIComponent(text));
  const u = new URL(l.url);
  u.searchParams.set(l.sinceParam, text);
  return u.toString();
}

/**
 * The next page's URL from the value at `nextPointer`: with `cursorParam`, the first URL with the cursor
 * set; otherwise a link, resolved against the current page and refused unless it stays on the first page's
 * origin (the credentials go with it).
 */
export function nextPageUrl(l: Listing, first: string, current: string, next: string): string {
  if (l.cursorParam) {
    const u = new URL(first);
    u.searchParams.set(l.cursorParam, next);
    return u.toString();
  }
  let u: URL;
  try {
    u = new URL(next, current);
  } catch {
    throw new ListingError(`listing GET ${shownUrl(current)}: the next link at ${l.nextPointer} is not a URL`, false);
  }
  if (u.origin !== new URL(first).origin) {
    throw new ListingError(
      `listing GET ${shownUrl(current)}: the next link at ${l.nextPointer} leaves ${new URL(first).origin}; not followed`,
      false,
    );
  }
  return u.toString();
}

export async function* listCases(
  l: Listing,
  since: Date,
  target: TargetHttp,
  timeoutMs: number,
  logger: Logger,
  clock: () => number,
): AsyncGenerator<CaseStatus> {
  const first = firstPageUrl(l, since);
  let url = first;
  let skipped = 0;
  for (let page = 1; ; page++) {
    const shown = `GET ${shownUrl(url)}`;
    const spec = { what: 'listing', shown: page > 1 ? `${shown} (page ${page})` : shown, error: ListingError, clock };
    const body = await getJson(target, url, timeoutMs, spec, { listing: true, page });
    // A 404 for a listing is a wrong URL, not an empty result.
    if (body === null) throw new ListingError(`listing ${spec.shown} answered HTTP 404 Not Found`, false, 404);
    const items = resolveJsonPointer(body, l.itemsPointer);
    if (!Array.isArray(items)) throw new ListingError(`listing ${spec.shown}: the answer has no array at ${l.itemsPointer}`, false);
    for (const item of items) {
      const reference = stringAt(item, l.referencePointer);
      const c = reference === null ? null : caseAt(item, reference, l, logger, 'listing');
      if (c) yield c;
      else skipped += 1;
    }
    const next = l.nextPointer ? stringAt(body, l.nextPointer) : null;
    if (next === null) break;
    if (page >= l.maxPages) throw new ListingError(`listing ${shown}: still more pages after maxPages (${l.maxPages}); stopped`, false);
    const following = nextPageUrl(l, first, url, next);
    // A back office that names the page it just served would keep us here for ever.
    if (following === url) throw new ListingError(`listing ${spec.shown}: the next page is the same page; stopped`, false);
    url = following;
  }
  if (skipped > 0) {
    // Counts only: an item may carry citizens' data.
    logger.warn('rest listing: items without a reference or a state were skipped', {
      skipped,
      referencePointer: l.referencePointer,
      statusPointer: l.statusPointer,
    });
  }
}
