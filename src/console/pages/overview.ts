import type { Overview } from '../../store/index.ts';
import { type Html, html } from './html.ts';
import { badge, type PageContext } from './layout.ts';

/** The overview: per tenant and target, the breakers, the last reconciliation. Refreshed by refresh.js. */
export function overviewBody(c: PageContext, o: Overview): Html {
  const t = c.t;
  const run = o.lastReconciliation;
  return html`<div data-refresh="10000" aria-live="polite">
<p class="hint">${t.refreshed} ${c.time(o.dayStart)} –</p>
<table class="grid">
<caption class="sr">${t.overview}</caption>
<thead><tr><th scope="col">${t.tenant}</th><th scope="col">${t.target}</th><th scope="col" class="num">${t.receivedToday}</th>
<th scope="col" class="num">${t.deliveredToday}</th><th scope="col" class="num">${t.waiting}</th><th scope="col" class="num">${t.failed}</th>
<th scope="col">${t.oldestWaiting}</th></tr></thead>
<tbody>
${o.rows.length ? '' : html`<tr><td colspan="7">${t.noRows}</td></tr>`}
${o.rows.map(
  (
    r,
  ) => html`<tr><td>${r.tenant}</td><td><a href="/console/targets#t-${r.target}">${r.target}</a></td><td class="num">${r.receivedToday}</td>
<td class="num">${r.deliveredToday}</td><td class="num">${r.waiting}</td>
<td class="num">${r.failed ? html`<a href="/console/dead-letters?tenant=${r.tenant}&amp;target=${r.target}">${r.failed}</a>` : '0'}</td>
<td>${c.time(r.oldestWaitingAt)}</td></tr>`,
)}
</tbody></table>
<div class="cols">
<section><h2>${t.breaker}</h2>
<table class="grid"><thead><tr><th scope="col">${t.target}</th><th scope="col">${t.state}</th><th scope="col" class="num">#</th></tr></thead><tbody>
${o.breakers.map((b) => html`<tr><td>${b.target}</td><td>${badge(b.breaker.state)}</td><td class="num">${b.breaker.consecutiveFailures}</td></tr>`)}
</tbody></table></section>
<section><h2>${t.lastReconciliation}</h2>
${
  run
    ? html`<p><a href="/console/reconciliation/${run.id}">${c.time(run.startedAt)}</a> ${badge(run.state)}</p>
<ul>${run.findings.length ? run.findings.map((f) => html`<li>${f.target ?? '—'}: ${f.class} × ${f.count}</li>`) : html`<li>${t.noFindings}</li>`}</ul>`
    : html`<p>${t.never}</p>`
}
</section></div></div>`;
}
