import path from 'node:path';
import express from 'express';
import type { Logger } from 'winston';
import type { AuditTrail } from '../../audit/trail.ts';
import type { Clock } from '../../clock.ts';
import type { LoadedConfig } from '../../config/load.ts';
import { REPLAY_MAX } from '../../delivery/replay.ts';
import { confirmRedeliveries } from '../../reconcile/confirm.ts';
import { CSV_COLUMNS, csvRow, discrepancyJson } from '../../reconcile/export.ts';
import type { OperatorAccess } from '../../operator/access.ts';
import { hasRole, principalOf, type Principal, seesTenant, tenantRestriction } from '../../operator/principal.ts';
import { describeTargets } from '../../operator/targets-api.ts';
import { PROJECT_ROOT } from '../../project-root.ts';
import { maskSecrets } from '../../sdk/index.ts';
import type { AdapterInstance } from '../../sdk/types.ts';
import { startOfDay } from '../../store/console-overview.ts';
import type { Store } from '../../store/index.ts';
import type { StoredDiscrepancy } from '../../store/reconcile-store.ts';
import type { LogTap } from '../log-tap.ts';
import { lineVisible } from '../log-tap.ts';
import { lookupTimeline } from '../lookup.ts';
import { parseSearch } from '../search-query.ts';
import { logFilterOf, streamLog } from '../sse.ts';
import { deadLettersBody, dryRunBody } from './dead-letters.ts';
import { html } from './html.ts';
import { contextOf, LANG_COOKIE, langOf, layout, send } from './layout.ts';
import { liveLogBody } from './live-log.ts';
import { overviewBody } from './overview.ts';
import { runBody, runsBody } from './reconciliation.ts';
import { countsTable, problemsList, resultsTable, searchForm, submissionBody } from './submissions.ts';
import { type TargetView, targetsBody } from './targets.ts';

export interface ConsolePagesOptions {
  store: Store;
  config: LoadedConfig;
  adapters: ReadonlyMap<string, AdapterInstance>;
  access: OperatorAccess;
  audit: AuditTrail;
  logTap: LogTap;
  logger: Logger;
  now: Clock;
  onReplayed?: () => void;
}

/** The static files: one stylesheet and small ES modules; no build step (docs/console.md says why). */
export const STATIC_DIR = path.join(PROJECT_ROOT, 'src', 'console', 'static');

/**
 * The console's own policy: the hub's `default-src 'none'` plus its stylesheet, scripts and live-log stream from
 * the hub itself — no inline script or style, so an injected tag cannot run.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const RUN_ID = /^[0-9a-f-]{36}$/;

/** The operator console's pages under /console (mounted at /). */
export function consolePages(o: ConsolePagesOptions): express.Router {
  const r = express.Router();
  const form = express.urlencoded({ extended: false, limit: '256kb', parameterLimit: REPLAY_MAX + 20 });
  const { page, csrf } = o.access;
  const operator = o.access.requireRole('operator');

  r.use('/console', (req, res, next) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('Cache-Control', 'no-store');
    // `?lang=` remembers the choice for the session's pages.
    if (req.query.lang === 'en' || req.query.lang === 'de')
      res.setHeader('Set-Cookie', `${LANG_COOKIE}=${req.query.lang}; Path=/console; SameSite=Lax; HttpOnly`);
    next();
  });
  r.use('/console/static', express.static(STATIC_DIR, { index: false, fallthrough: false, maxAge: '1h' }));

  r.get('/console', page, async (req, res) => {
    const c = contextOf(req, res);
    const o2 = await o.store.console.overview(tenantRestriction(c.principal), startOfDay(o.now()));
    send(res, layout(c, c.t.overview, overviewBody(c, o2), 'overview'));
  });

  r.get('/console/submissions', page, async (req, res) => {
    const c = contextOf(req, res);
    const q = req.query as Record<string, unknown>;
    const parsed = parseSearch(pick(q, ['lang']));
    if (!parsed.ok) {
      send(res, layout(c, c.t.submissions, html`${searchForm(c, q)}${problemsList(parsed.errors)}`, 'submissions'), 400);
      return;
    }
    const f = { ...parsed.value.search, tenants: tenantRestriction(c.principal) };
    const [results, counts] = await Promise.all([
      o.store.console.search(f, parsed.value.limit, parsed.value.cursor),
      o.store.console.groupedCounts(f),
    ]);
    send(
      res,
      layout(c, c.t.submissions, html`${searchForm(c, q)}${countsTable(c, counts, q)}${resultsTable(c, results, q)}`, 'submissions'),
    );
  });

  r.get('/console/submissions/:ref', page, async (req, res) => {
    const c = contextOf(req, res);
    const found = await lookupTimeline(o.store, String(req.params.ref), tenantRestriction(c.principal));
    if (!found) {
      send(res, layout(c, c.t.notFound, html`<p>${c.t.notFound}</p>`, 'submissions'), 404);
      return;
    }
    const s = found.timeline.submission;
    const allowed = hasRole(c.principal, 'admin');
    let shown: unknown;
    if (allowed && req.query.formData === '1') {
      await o.audit.record({
        actor: c.principal.id,
        action: 'form-data-viewed',
        tenant: s.tenant,
        subject: s.id,
        detail: { via: 'console' },
      });
      shown = await o.store.console.formData(s.id, tenantRestriction(c.principal));
    }
    send(res, layout(c, `${c.t.submission} ${s.externalId}`, submissionBody(c, found.timeline, { allowed, shown }), 'submissions'));
  });

  r.get('/console/dead-letters', page, async (req, res) => {
    const c = contextOf(req, res);
    const q = req.query as Record<string, unknown>;
    const parsed = parseSearch({ ...pick(q, ['lang', 'replayed']), state: 'failed', limit: String(200) });
    if (!parsed.ok) {
      send(res, layout(c, c.t.deadLetters, problemsList(parsed.errors), 'deadLetters'), 400);
      return;
    }
    const results = await o.store.console.search(
      { ...parsed.value.search, tenants: tenantRestriction(c.principal) },
      200,
      parsed.value.cursor,
    );
    const notice = typeof q.replayed === 'string' ? c.t.replayed.replace('{n}', q.replayed) : undefined;
    send(res, layout(c, c.t.deadLetters, deadLettersBody(c, results, q, notice), 'deadLetters'));
  });

  r.post('/console/dead-letters/replay', page, operator, form, csrf, async (req, res) => {
    const c = contextOf(req, res);
    const b = req.body as Record<string, string | string[] | undefined>;
    let ids = ([] as string[]).concat(b.ids ?? []).filter((x) => /^[0-9a-f-]{36}$/.test(x));
    if (b.scope === 'all') {
      // Every failed delivery the filter matches, within the principal's tenants, up to the replay limit.
      const f: Record<string, unknown> = { state: 'failed', limit: '500' };
      for (const k of ['tenant', 'target', 'errorKind', 'from', 'to']) if (typeof b[`f_${k}`] === 'string') f[k] = b[`f_${k}`];
      const parsed = parseSearch(f);
      ids = [];
      if (parsed.ok)
        for (let after = parsed.value.cursor, n = 0; n < REPLAY_MAX / 500; n++) {
          const p = await o.store.console.search({ ...parsed.value.search, tenants: tenantRestriction(c.principal) }, 500, after);
          for (const row of p.rows)
            for (const d of row.deliveries)
              if (d.state === 'failed' && (!parsed.value.search.target || d.target === parsed.value.search.target)) ids.push(d.id);
          if (!p.next) break;
          after = p.next;
        }
    }
    const scope = await o.store.console.deliveriesInScope(ids, tenantRestriction(c.principal));
    const replayable = ids.filter((id) => scope.get(id)?.state === 'failed');
    if (b.confirm !== '1') {
      send(
        res,
        layout(
          c,
          c.t.dryRunTitle,
          dryRunBody(
            c,
            ids.filter((id) => scope.has(id)),
            replayable.length,
            '/console/dead-letters',
          ),
          'deadLetters',
        ),
      );
      return;
    }
    const reason = typeof b.reason === 'string' && b.reason.trim() ? b.reason.trim().slice(0, 500) : undefined;
    const results = await o.store.replay(replayable, c.principal.id, reason, o.now());
    const replayed = results.filter((x) => x.outcome === 'replayed');
    for (const x of replayed)
      await o.audit.record({
        actor: c.principal.id,
        action: 'replay',
        tenant: scope.get(x.id)?.tenant,
        subject: x.id,
        detail: { via: 'console' },
      });
    if (replayed.length) {
      o.logger.info('failed deliveries replayed', { by: c.principal.id, count: replayed.length });
      o.onReplayed?.();
    }
    res.redirect(303, `/console/dead-letters?replayed=${replayed.length}`);
  });

  r.get('/console/reconciliation', page, async (req, res) => {
    const c = contextOf(req, res);
    send(res, layout(c, c.t.reconciliation, runsBody(c, await o.store.reconcile.listRuns({ limit: 50 })), 'reconciliation'));
  });

  const visibleFindings = async (runId: string, p: Principal): Promise<StoredDiscrepancy[]> => {
    const out: StoredDiscrepancy[] = [];
    for await (const d of o.store.reconcile.discrepancies(runId))
      if (p.tenants === 'all' || (d.tenant && seesTenant(p, d.tenant))) out.push(d);
    return out;
  };

  r.get('/console/reconciliation/:id.csv', page, async (req, res) => {
    const p = principalOf(res);
    const id = String(req.params.id);
    const run = RUN_ID.test(id) ? await o.store.reconcile.getRun(id) : undefined;
    if (!run) {
      res.status(404).type('text').send('not found');
      return;
    }
    const rows = await visibleFindings(run.id, p);
    await o.audit.record({ actor: p.id, action: 'export', subject: run.id, detail: { rows: rows.length, via: 'console' } });
    res.type('text/csv').setHeader('Content-Disposition', `attachment; filename="reconciliation-${run.id}.csv"`);
    res.send(
      csvRow([...CSV_COLUMNS]) +
        rows
          .map((d) => {
            const j = discrepancyJson(d);
            return csvRow(CSV_COLUMNS.map((k) => (k === 'detail' ? (d.detail ? JSON.stringify(d.detail) : '') : j[k])));
          })
          .join(''),
    );
  });

  r.get('/console/reconciliation/:id', page, async (req, res) => {
    const c = contextOf(req, res);
    const id = String(req.params.id);
    const run = RUN_ID.test(id) ? await o.store.reconcile.getRun(id) : undefined;
    if (!run) {
      send(res, layout(c, c.t.notFound, html`<p>${c.t.notFound}</p>`, 'reconciliation'), 404);
      return;
    }
    const body = runBody(c, run, await visibleFindings(run.id, c.principal), hasRole(c.principal, 'operator'));
    send(res, layout(c, `${c.t.reconciliation} ${c.time(run.startedAt)}`, body, 'reconciliation'));
  });

  r.post('/console/reconciliation/findings/:id', page, operator, form, csrf, async (req, res) => {
    const p = principalOf(res);
    const id = Number(req.params.id);
    const b = req.body as Record<string, string | undefined>;
    const d = Number.isSafeInteger(id) ? await o.store.reconcile.getDiscrepancy(id) : undefined;
    if (!d || (p.tenants !== 'all' && !(d.tenant && seesTenant(p, d.tenant)))) {
      res.status(404).type('text').send('not found');
      return;
    }
    if (b.do === 'confirm') {
      const [result] = await confirmRedeliveries(o.store.reconcile, [id], { by: p.id, reason: undefined, now: o.now() });
      await o.audit.record({
        actor: p.id,
        action: 'reconcile-confirm',
        tenant: d.tenant ?? undefined,
        subject: String(id),
        detail: { outcome: result?.outcome ?? 'not-found' },
      });
      if (result?.outcome === 'redelivered') o.onReplayed?.();
    } else if (b.do === 'dismiss') {
      // Dismissed: left as flagged, with who decided; nothing is sent.
      const ok = await o.store.reconcile.resolveDiscrepancy(id, 'awaiting-operator', 'flagged', p.id, o.now());
      await o.audit.record({
        actor: p.id,
        action: 'reconcile-dismiss',
        tenant: d.tenant ?? undefined,
        subject: String(id),
        detail: { changed: ok },
      });
    }
    res.redirect(303, `/console/reconciliation/${RUN_ID.test(String(b.run)) ? b.run : d.runId}`);
  });

  r.get('/console/log', page, (req, res) => {
    const c = contextOf(req, res);
    const f = logFilterOf(req.query as Record<string, unknown>);
    const lines = o.logTap
      .backlog()
      .filter((l) => lineVisible(l, c.principal, f))
      .slice(-200);
    send(res, layout(c, c.t.liveLog, liveLogBody(c, f, lines), 'liveLog'));
  });

  r.get('/console/log/stream', page, (req, res) => {
    // Only new lines: the page already shows the kept ones.
    streamLog(req, res, o.logTap, principalOf(res), logFilterOf(req.query as Record<string, unknown>), 0);
  });

  const targetViews = async (p: Principal, checks: Map<string, TargetView['check']> = new Map()): Promise<TargetView[]> => {
    const now = o.now();
    const described = await describeTargets(o.store, o.config, now);
    // A scoped principal's queue counts are its tenants' only (the overview's rows), never the target's total.
    const scoped = p.tenants === 'all' ? undefined : await o.store.console.overview(tenantRestriction(p), startOfDay(now));
    return described.map((t) => {
      const resolved = o.config.targets.get(t.id);
      const rows = scoped?.rows.filter((r) => r.target === t.id);
      return {
        id: t.id,
        adapter: t.adapter,
        options: resolved ? maskSecrets(resolved.adapter.options, resolved.options) : null,
        breaker: {
          state: t.breaker.state,
          consecutiveFailures: t.breaker.consecutiveFailures,
          lastError: t.breaker.lastError,
          retryAt: t.breaker.retryAt,
        },
        rateLimit: t.rateLimit,
        window: t.window && { windows: t.window.windows ?? [], open: t.window.open, nextOpening: t.window.nextOpening },
        queue: rows
          ? { waiting: rows.reduce((n, r) => n + r.waiting, 0), failed: rows.reduce((n, r) => n + r.failed, 0) }
          : { waiting: t.queue.queued + t.queue.waiting + t.queue.sending + t.queue.acknowledging, failed: t.queue.failed },
        check: checks.get(t.id),
      };
    });
  };

  r.get('/console/targets', page, async (req, res) => {
    const c = contextOf(req, res);
    send(res, layout(c, c.t.targets, targetsBody(c, await targetViews(c.principal), hasRole(c.principal, 'operator')), 'targets'));
  });

  r.post('/console/targets/:id/check', page, operator, form, csrf, async (req, res) => {
    const c = contextOf(req, res);
    const id = String(req.params.id);
    const adapter = o.adapters.get(id);
    const t = o.config.targets.get(id);
    if (!adapter || !t) {
      send(res, layout(c, c.t.notFound, html`<p>${c.t.notFound}</p>`, 'targets'), 404);
      return;
    }
    const limitMs = t.config.timeoutMs + 1000;
    let timer: NodeJS.Timeout | undefined;
    let check: TargetView['check'];
    try {
      const r2 = await Promise.race([
        adapter.check(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${limitMs} ms`)), limitMs))),
      ]);
      check = { result: r2.ok ? 'reachable' : r2.refused ? 'refused' : 'unreachable', message: r2.message };
    } catch (e) {
      check = { result: 'unreachable', message: e instanceof Error ? e.message : String(e) };
    } finally {
      clearTimeout(timer);
    }
    await o.audit.record({ actor: c.principal.id, action: 'check-connection', subject: id, detail: { result: check.result } });
    send(res, layout(c, c.t.targets, targetsBody(c, await targetViews(c.principal, new Map([[id, check]])), true), 'targets'));
  });

  return r;
}

/** The query without the console's own keys (language, notices), for the search's strict parser. */
function pick(q: Record<string, unknown>, drop: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(q).filter(([k]) => !drop.includes(k)));
}

export { langOf };
