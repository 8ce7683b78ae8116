import { DELIVERY_STATES } from '../../core/states.ts';
import type { GroupCount, SearchPage, Timeline, TimelineEntry } from '../../store/index.ts';
import { encodeCursor } from '../search-query.ts';
import { type Html, html } from './html.ts';
import { badge, type PageContext } from './layout.ts';

const FIELDS = ['id', 'externalId', 'reference', 'tenant', 'service', 'target', 'errorKind'] as const;

/** The search form, filled with what was asked. */
export function searchForm(c: PageContext, q: Record<string, unknown>, action = '/console/submissions'): Html {
  const v = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : '');
  const label = {
    id: c.t.hubId,
    externalId: c.t.externalId,
    reference: c.t.reference,
    tenant: c.t.tenant,
    service: c.t.service,
    target: c.t.target,
    errorKind: c.t.errorKind,
  };
  return html`<form class="filters" method="get" action="${action}" role="search">
${FIELDS.map((k) => html`<label>${label[k]}<input name="${k}" value="${v(k)}" autocomplete="off"></label>`)}
<label>${c.t.state}<select name="state"><option value="">${c.t.any}</option>
${DELIVERY_STATES.map((s) => html`<option${v('state') === s ? html` selected` : ''}>${s}</option>`)}</select></label>
<label>${c.t.from}<input name="from" value="${v('from')}" placeholder="2026-11-24T00:00:00+01:00"></label>
<label>${c.t.to}<input name="to" value="${v('to')}" placeholder="2026-11-25T00:00:00+01:00"></label>
<div class="actions"><button type="submit">${c.t.search}</button> <a href="${action}">${c.t.reset}</a></div>
</form>`;
}

export function problemsList(errors: { pointer: string; detail: string }[]): Html {
  return html`<div class="error" role="alert"><ul>${errors.map((e) => html`<li><code>${e.pointer.slice(2)}</code>: ${e.detail}</li>`)}</ul></div>`;
}

export function countsTable(c: PageContext, groups: GroupCount[], q: Record<string, unknown>): Html {
  if (!groups.length) return html``;
  const tenant = typeof q.tenant === 'string' ? q.tenant : '';
  return html`<section><h2>${c.t.groupedCounts}</h2><table class="grid compact"><thead><tr><th scope="col">${c.t.target}</th><th scope="col">${c.t.errorKind}</th><th scope="col" class="num">${c.t.count}</th></tr></thead><tbody>
${groups.map(
  (g) =>
    html`<tr><td>${g.target}</td><td>${g.errorKind ?? '—'}</td><td class="num"><a href="/console/dead-letters?target=${g.target}&amp;errorKind=${g.errorKind ?? ''}&amp;tenant=${tenant}">${g.count}</a></td></tr>`,
)}</tbody></table></section>`;
}

export function resultsTable(c: PageContext, page: SearchPage, q: Record<string, unknown>): Html {
  const rest = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (typeof v === 'string' && v !== '' && k !== 'cursor') rest.set(k, v);
  if (page.next) rest.set('cursor', encodeCursor(page.next));
  return html`<table class="grid" id="results"><thead><tr><th scope="col">${c.t.received}</th><th scope="col">${c.t.externalId}</th>
<th scope="col">${c.t.tenant}</th><th scope="col">${c.t.service}</th><th scope="col">${c.t.deliveries}</th></tr></thead><tbody>
${page.rows.length ? '' : html`<tr><td colspan="5">${c.t.noRows}</td></tr>`}
${page.rows.map(
  (
    r,
  ) => html`<tr><td>${c.time(r.receivedAt)}</td><td><a href="/console/submissions/${r.id}">${r.externalId}</a></td><td>${r.tenant}</td><td>${r.service}</td>
<td>${r.deliveries.map((d) => html`<span class="dl">${d.target} ${badge(d.state)}${d.reference ? html` <code>${d.reference}</code>` : ''}${d.errorKind ? html` <code>${d.errorKind}</code>` : ''}</span> `)}</td></tr>`,
)}</tbody></table>
${page.next ? html`<p><a rel="next" href="/console/submissions?${rest.toString()}">${c.t.next} →</a></p>` : ''}`;
}

function entryText(c: PageContext, e: TimelineEntry): [string, Html] {
  switch (e.kind) {
    case 'received':
      return [c.t.received, html`${e.portalId} · ${e.externalId}`];
    case 'event':
      return [e.type, html`${e.target ?? ''} ${e.detail ? html`<code>${JSON.stringify(e.detail)}</code>` : ''}`];
    case 'attempt':
      return [
        `${c.t.attempt} ${e.number}`,
        html`${e.target} ${badge(e.outcome ?? 'running')} ${e.httpStatus ?? ''} ${e.durationMs === null ? '' : `${e.durationMs} ms`} ${e.reference ? html`<code>${e.reference}</code>` : ''} ${e.error ? html`<span class="err">${e.errorKind}: ${e.error}</span>` : ''}`,
      ];
    case 'status':
      return [`status (${e.source})`, html`${e.target}: ${e.backofficeStatus ?? '—'} → ${e.portalStatus ?? '—'} (${e.effect})`];
    case 'portal':
      return [c.t.portalStatus, html`#${e.sequence} ${e.status} ${badge(e.state)} ${e.lastError ?? ''}`];
  }
}

export function submissionBody(c: PageContext, tl: Timeline, form: { allowed: boolean; shown: unknown | undefined }): Html {
  const s = tl.submission;
  return html`<dl class="facts"><dt>${c.t.hubId}</dt><dd><code>${s.id}</code></dd><dt>${c.t.externalId}</dt><dd>${s.externalId}</dd>
<dt>${c.t.tenant}</dt><dd>${s.tenant}</dd><dt>${c.t.service}</dt><dd>${s.service}</dd><dt>${c.t.received}</dt><dd>${c.time(s.receivedAt)}</dd>
<dt>${c.t.portalStatus}</dt><dd>${tl.portalStatus ? html`${tl.portalStatus.status} (${c.time(tl.portalStatus.at)})` : '—'}</dd></dl>
<section><h2>${c.t.deliveries}</h2><table class="grid" id="deliveries"><thead><tr><th scope="col">${c.t.target}</th><th scope="col">${c.t.state}</th><th scope="col" class="num">${c.t.attempts}</th><th scope="col">${c.t.reference}</th><th scope="col">${c.t.errorKind}</th></tr></thead><tbody>
${s.deliveries.map((d) => html`<tr><td>${d.targetId}</td><td>${badge(d.state)}</td><td class="num">${d.attempts}</td><td>${d.reference ?? '—'}</td><td>${d.lastErrorKind ? html`<span title="${d.lastError ?? ''}">${d.lastErrorKind}</span>` : '—'}</td></tr>`)}
</tbody></table></section>
<section><h2>${c.t.timeline}</h2><table class="grid compact" id="timeline"><thead><tr><th scope="col">${c.t.at}</th><th scope="col">${c.t.what}</th><th scope="col">${c.t.details}</th></tr></thead><tbody>
${tl.entries.map((e) => {
  const [what, detail] = entryText(c, e);
  return html`<tr class="k-${e.kind}"><td>${c.time(e.at)}</td><td>${what}</td><td>${detail}</td></tr>`;
})}
</tbody></table></section>
<section><h2>${c.t.formData}</h2>
${
  form.shown !== undefined
    ? html`<pre class="form-data">${JSON.stringify(form.shown, null, 2)}</pre>`
    : html`<p>${c.t.formDataHidden}</p>${form.allowed ? html`<p><a class="button" href="/console/submissions/${s.id}?formData=1">${c.t.showFormData}</a></p>` : ''}`
}
</section>`;
}
