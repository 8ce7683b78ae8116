import type { RunRecord, StoredDiscrepancy } from '../../store/reconcile-store.ts';
import { type Html, html } from './html.ts';
import { badge, type PageContext } from './layout.ts';

export function runsBody(c: PageContext, runs: RunRecord[]): Html {
  return html`<table class="grid" id="runs"><thead><tr><th scope="col">${c.t.started}</th><th scope="col">Job</th><th scope="col">${c.t.state}</th>
<th scope="col" class="num">${c.t.matched}</th><th scope="col" class="num">${c.t.discrepancies}</th></tr></thead><tbody>
${runs.length ? '' : html`<tr><td colspan="5">${c.t.noRows}</td></tr>`}
${runs.map(
  (
    r,
  ) => html`<tr><td><a href="/console/reconciliation/${r.id}">${c.time(r.startedAt)}</a></td><td>${r.job} (${r.scheduleId})</td><td>${badge(r.state)}</td>
<td class="num">${r.matched}</td><td class="num">${r.discrepancies}</td></tr>`,
)}</tbody></table>`;
}

/** One run: its findings the principal may see, counted by class, with CSV export and confirm/dismiss. */
export function runBody(c: PageContext, run: RunRecord, findings: StoredDiscrepancy[], mayAct: boolean): Html {
  const byClass = new Map<string, number>();
  for (const f of findings) byClass.set(f.class, (byClass.get(f.class) ?? 0) + 1);
  return html`<p>${c.time(run.startedAt)} – ${c.time(run.finishedAt)} ${badge(run.state)} · <a href="/console/reconciliation/${run.id}.csv" download>${c.t.exportCsv}</a></p>
<section><h2>${c.t.byClass}</h2><ul>${[...byClass].map(([k, n]) => html`<li>${k}: <strong>${n}</strong></li>`)}${byClass.size ? '' : html`<li>${c.t.noFindings}</li>`}</ul></section>
<table class="grid compact" id="findings"><thead><tr><th scope="col">#</th><th scope="col">Klasse/Class</th><th scope="col">${c.t.action}</th><th scope="col">${c.t.target}</th>
<th scope="col">${c.t.tenant}</th><th scope="col">${c.t.reference}</th><th scope="col">${c.t.submission}</th><th scope="col"></th></tr></thead><tbody>
${findings.map(
  (
    f,
  ) => html`<tr><td>${f.id}</td><td>${f.class}</td><td>${badge(f.action)}</td><td>${f.targetId ?? '—'}</td><td>${f.tenant ?? '—'}</td><td>${f.reference ?? '—'}</td>
<td>${f.submissionId ? html`<a href="/console/submissions/${f.submissionId}">${f.externalId ?? f.submissionId}</a>` : '—'}</td>
<td>${
    mayAct && f.action === 'awaiting-operator'
      ? html`<form method="post" action="/console/reconciliation/findings/${f.id}" class="inline">${c.csrf}<input type="hidden" name="run" value="${run.id}">
<button name="do" value="confirm">${c.t.confirm}</button> <button name="do" value="dismiss" class="secondary">${c.t.dismiss}</button></form>`
      : f.resolvedBy
        ? html`${f.resolvedBy}`
        : ''
  }</td></tr>`,
)}</tbody></table>`;
}
