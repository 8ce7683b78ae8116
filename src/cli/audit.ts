import { InvalidArgumentError } from 'commander';
import { systemClock } from '../clock.ts';
import { auditLines } from '../audit/export.ts';
import { expandTenantScope } from '../operator/principal.ts';
import { loadConfigIfPresent, openConfiguredStore, type DatabaseCommandOptions } from './database.ts';
import { osUser } from './os-user.ts';

export interface AuditExportOptions extends DatabaseCommandOptions {
  tenant?: string;
  since?: string;
  until?: string;
}

/** `amtsbote audit export`: the trail as JSON lines on stdout, oldest first; the export itself is recorded. */
export async function auditExport(o: AuditExportOptions): Promise<void> {
  const since = isoTime(o.since, '--since');
  const until = isoTime(o.until, '--until');
  const config = await loadConfigIfPresent(o);
  const scopes = o.tenant
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // A district's key exports its towns' records too, as it scopes an account.
  const tenants = scopes && [...expandTenantScope(scopes, config?.hub.tenants ?? [])];
  const store = await openConfiguredStore(o, config);
  try {
    let n = 0;
    for await (const line of auditLines(store.audit, { tenants, since, until })) {
      n++;
      if (!process.stdout.write(line)) await new Promise((r) => process.stdout.once('drain', r));
    }
    await store.audit.append(
      { actor: `cli:${osUser()}`, action: 'export', detail: { records: n, tenants: tenants?.join(',') ?? null } },
      systemClock(),
    );
  } finally {
    await store.close();
  }
}

/** `amtsbote audit verify`: walks the chain; exit 1 and the first broken record when it does not hold. */
export async function auditVerify(o: DatabaseCommandOptions & { json?: boolean }): Promise<void> {
  const store = await openConfiguredStore(o, o.databaseUrl ? undefined : await loadConfigIfPresent(o));
  try {
    const v = await store.audit.verify();
    if (o.json) console.log(JSON.stringify(v));
    else if (v.ok) console.log(`audit trail intact: ${v.records} records, head ${v.head}`);
    else console.log(`audit trail BROKEN at record ${v.seq} (${v.reason}); ${v.records} records before it hold`);
    if (!v.ok) process.exitCode = 1;
  } finally {
    await store.close();
  }
}

function isoTime(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t)) throw new InvalidArgumentError(`${flag}: expected an ISO 8601 time`);
  return t;
}
