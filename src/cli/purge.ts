import { loadConfigIfPresent, openConfiguredStore, type DatabaseCommandOptions } from './database.ts';
import { runPurge, type PurgeReport } from '../maintenance/purge.ts';
import { systemClock } from '../clock.ts';
import { osUser } from './os-user.ts';
import { storeAuditTrail } from '../audit/store-trail.ts';

export interface PurgeCommandOptions extends DatabaseCommandOptions {
  dryRun?: boolean;
  json?: boolean;
}

/**
 * `amtsbote purge`: retention of form data now, as the prune schedule applies it, with the configuration's
 * `retention`. `--dry-run` counts per tenant and service and changes nothing.
 */
export async function purge(o: PurgeCommandOptions): Promise<void> {
  const config = await loadConfigIfPresent(o);
  const retention = config?.hub.retention ?? { rules: [] };
  // It may run beside a hub: its updates go in small batches.
  const store = await openConfiguredStore(o, config);
  try {
    const report = await runPurge(store.prune, retention, {
      now: systemClock,
      dryRun: Boolean(o.dryRun),
      actor: `cli:${osUser()}`,
      audit: storeAuditTrail(store.audit, systemClock),
    });
    console.log(o.json ? JSON.stringify(asJson(report), null, 2) : formatReport(report).join('\n'));
  } finally {
    await store.close();
  }
}

function asJson(r: PurgeReport) {
  return {
    dryRun: r.dryRun,
    pairs: r.counts.map((c) => {
      const cut = r.cutoffs.find((x) => x.tenant === c.tenant && x.service === c.service)!;
      return { ...c, retentionDays: cut.days, finalBefore: new Date(cut.before).toISOString() };
    }),
    durationMs: r.durationMs,
  };
}

function formatReport(r: PurgeReport): string[] {
  if (r.cutoffs.length === 0)
    return ['no retention applies (retention.formDataDays and retention.rules are not set, or no data is held): nothing to purge'];
  const total = r.counts.reduce((n, c) => n + c.submissions, 0);
  return [
    r.dryRun
      ? `dry run: would delete the form data of ${total} submissions`
      : `deleted the form data of ${total} submissions in ${(r.durationMs / 1000).toFixed(1)} s`,
    `  ${'tenant'.padEnd(10)}${'service'.padEnd(24)}${'days'.padStart(6)}${'submissions'.padStart(13)}${'attachments'.padStart(13)}`,
    ...r.counts.map((c) => {
      const days = r.cutoffs.find((x) => x.tenant === c.tenant && x.service === c.service)!.days;
      return `  ${c.tenant.padEnd(10)}${c.service.padEnd(24)}${String(days).padStart(6)}${String(c.submissions).padStart(13)}${String(c.attachments).padStart(13)}`;
    }),
  ];
}
