import { InvalidArgumentError } from 'commander';
import { searchJson, timelineJson } from '../console/answers.ts';
import { lookupTimeline } from '../console/lookup.ts';
import { parseSearch } from '../console/search-query.ts';
import { loadConfigIfPresent, openConfiguredStore, type DatabaseCommandOptions } from './database.ts';

export interface SearchCommandOptions extends DatabaseCommandOptions {
  id?: string;
  externalId?: string;
  reference?: string;
  tenant?: string;
  service?: string;
  target?: string;
  state?: string;
  errorKind?: string;
  from?: string;
  to?: string;
  limit?: string;
  cursor?: string;
  json?: boolean;
}

const flag = (pointer: string) => `--${pointer.slice(2).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
const iso = (ms: number) => new Date(ms).toISOString();

/** `amtsbote submissions search`: the console's search against the database (every tenant: a shell user is an admin). */
export async function submissionsSearch(o: SearchCommandOptions): Promise<void> {
  const { config: _c, data: _d, databaseUrl: _u, databaseSchema: _s, json, ...query } = o;
  const parsed = parseSearch(query as Record<string, unknown>);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.errors.map((e) => `${flag(e.pointer)}: ${e.detail}`).join('; '));
  const store = await openConfiguredStore(o, o.databaseUrl ? undefined : await loadConfigIfPresent(o));
  try {
    const page = await store.console.search({ ...parsed.value.search, tenants: undefined }, parsed.value.limit, parsed.value.cursor);
    const answer = searchJson(page);
    if (json) {
      console.log(JSON.stringify(answer, null, 2));
      return;
    }
    for (const r of page.rows)
      console.log(
        [
          r.id,
          iso(r.receivedAt),
          r.tenant,
          r.service,
          r.externalId,
          r.deliveries
            .map((d) => `${d.target}:${d.state}${d.reference ? `:${d.reference}` : ''}${d.errorKind ? `:${d.errorKind}` : ''}`)
            .join(' '),
        ].join('\t'),
      );
    console.log(
      `${page.rows.length} submission${page.rows.length === 1 ? '' : 's'}${answer.next ? `; more: --cursor ${answer.next}` : ''}`,
    );
  } finally {
    await store.close();
  }
}

/** `amtsbote submissions show <id|external id>`: the timeline. */
export async function submissionsShow(ref: string, o: DatabaseCommandOptions & { json?: boolean }): Promise<void> {
  const store = await openConfiguredStore(o, o.databaseUrl ? undefined : await loadConfigIfPresent(o));
  try {
    const found = await lookupTimeline(store, ref, undefined);
    if (!found) {
      console.error(`amtsbote: no submission ${ref}`);
      process.exitCode = 1;
      return;
    }
    const j = timelineJson(found.timeline, found.otherMatches);
    if (o.json) {
      console.log(JSON.stringify(j, null, 2));
      return;
    }
    const s = j.submission;
    console.log(`${s.id}  ${s.externalId}  tenant ${s.tenant}  service ${s.service}  received ${s.receivedAt}`);
    for (const d of s.deliveries)
      console.log(
        `  → ${d.target}\t${d.state}\tattempts ${d.attempts}\t${d.reference ?? '-'}\t${d.lastErrorKind ? `${d.lastErrorKind}: ${d.lastError}` : ''}`,
      );
    if (j.portalStatus) console.log(`  portal status ${j.portalStatus.status} (${j.portalStatus.at})`);
    for (const e of j.entries) console.log(`${e.at}\t${describe(e as Record<string, unknown>)}`);
    if (j.otherMatches.length) console.log(`also under this external id: ${j.otherMatches.join(', ')}`);
  } finally {
    await store.close();
  }
}

function describe(e: Record<string, unknown>): string {
  switch (e.kind) {
    case 'received':
      return `received from ${e.portalId}`;
    case 'event':
      return `${e.type}${e.target ? ` ${e.target}` : ''}${e.detail ? ` ${JSON.stringify(e.detail)}` : ''}`;
    case 'attempt':
      return `attempt ${e.number} ${e.target} ${e.outcome ?? 'running'}${e.httpStatus ? ` HTTP ${e.httpStatus}` : ''}${e.durationMs !== null ? ` ${e.durationMs} ms` : ''}${e.error ? ` ${e.errorKind}: ${e.error}` : ''}`;
    case 'status':
      return `status ${e.target} ${e.backofficeStatus ?? '-'} → ${e.portalStatus ?? '-'} (${e.source}, ${e.effect})`;
    default:
      return `to portal #${e.sequence} ${e.status} ${e.state}`;
  }
}
