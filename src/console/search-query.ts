/**
 * The console's search parameters, one zod schema for the JSON API, the pages and `amtsbote submissions search`:
 * text fields as given, times as ISO 8601, the page size and the opaque cursor of the previous page.
 */
import { z } from 'zod';
import { DELIVERY_STATES } from '../core/states.ts';
import type { FieldError } from '../http/problem-details.ts';
import type { SearchCursor, SubmissionSearch } from '../store/index.ts';

const text = (description: string) => z.string().min(1).max(200).optional().meta({ description });
const time = (description: string) =>
  z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description, examples: ['2026-11-24T00:00:00+01:00'] });

export const SEARCH_LIMIT_MAX = 500;

export const searchQuery = z
  .strictObject({
    id: z.guid().optional().meta({ description: 'The hub id of the submission.' }),
    externalId: text("The portal's own id of the application."),
    reference: text("A back office's reference (Aktenzeichen) of one of its deliveries."),
    tenant: text('The tenant key (AGS), e.g. `05513000`.'),
    service: text('The service slug or LeiKa key.'),
    target: text('A target one of its deliveries goes to.'),
    state: z.enum(DELIVERY_STATES).optional().meta({ description: 'A state one of its deliveries is in.' }),
    errorKind: text('The last error kind of one of its deliveries, e.g. `http-400`, `timeout`.'),
    from: time('Received at or after.'),
    to: time('Received before.'),
    limit: z.coerce.number().int().min(1).max(SEARCH_LIMIT_MAX).default(50).meta({ description: 'Rows per page.' }),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,200}$/)
      .optional()
      .meta({ description: "The previous page's `next`." }),
  })
  .meta({ description: 'Every given field must match.' });

export type SearchQueryInput = z.input<typeof searchQuery>;

export interface ParsedSearch {
  search: Omit<SubmissionSearch, 'tenants'>;
  limit: number;
  cursor: SearchCursor | undefined;
}

/** The cursor as the API hands it out: the last row's received time and id, base64url. */
export function encodeCursor(c: SearchCursor): string {
  return Buffer.from(`${c.receivedAt}.${c.id}`).toString('base64url');
}

function decodeCursor(s: string): SearchCursor | undefined {
  const m = /^(\d{1,16})\.([0-9a-f-]{36})$/.exec(Buffer.from(s, 'base64url').toString());
  return m ? { receivedAt: Number(m[1]), id: m[2]! } : undefined;
}

/**
 * Parses query parameters (empty fields count as absent: a search form sends them all). Field errors carry the
 * parameter's name as a JSON Pointer (`#/from`).
 */
export function parseSearch(query: Record<string, unknown>): { ok: true; value: ParsedSearch } | { ok: false; errors: FieldError[] } {
  const given = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== '' && v !== undefined));
  const r = searchQuery.safeParse(given);
  if (!r.success)
    return {
      ok: false,
      errors: r.error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys'
          ? i.keys.map((k) => ({ pointer: `#/${k}`, detail: 'unknown parameter' }))
          : [{ pointer: `#/${i.path.map(String).join('/')}`, detail: i.message }],
      ),
    };
  const { limit, cursor, from, to, ...rest } = r.data;
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  if (cursor !== undefined && !after) return { ok: false, errors: [{ pointer: '#/cursor', detail: 'not a cursor this hub handed out' }] };
  const ms = (t: string | undefined) => (t === undefined ? undefined : Date.parse(t));
  return { ok: true, value: { search: { ...rest, from: ms(from), to: ms(to) }, limit, cursor: after } };
}
