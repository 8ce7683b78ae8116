import type { SearchPage } from '../../store/index.ts';
import { type Html, html } from './html.ts';
import type { PageContext } from './layout.ts';

const FILTERS = ['tenant', 'target', 'errorKind', 'from', 'to'] as const;

/** Failed deliveries of the page's submissions, with checkboxes, and the two replay buttons (dry run first). */
export function deadLettersBody(c: PageContext, page: SearchPage, q: Record<string, unknown>, notice?: string): Html {
  const v = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : '');
  const label = { tenant: c.t.tenant, target: c.t.target, errorKind: c.t.errorKind, from: c.t.from, to: c.t.to };
  const failed = page.rows.flatMap((r) => r.deliveries.filter((d) => d.state === 'failed').map((d) => ({ r, d })));
  return html`${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<form class="filters" method="get" action="/console/dead-letters">
${FILTERS.map((k) => html`<label>${label[k]}<input name="${k}" value="${v(k)}"></label>`)}
<div class="actions"><button type="submit">${c.t.filter}</button> <a href="/console/dead-letters">${c.t.reset}</a></div></form>
<form method="post" action="/console/dead-letters/replay">${c.csrf}
${FILTERS.map((k) => (v(k) ? html`<input type="hidden" name="f_${k}" value="${v(k)}">` : ''))}
<table class="grid" id="dead-letters"><thead><tr><th scope="col"><label><input type="checkbox" data-select-all="ids"> <span class="sr">${c.t.selectAll}</span></label></th>
<th scope="col">${c.t.received}</th><th scope="col">${c.t.externalId}</th><th scope="col">${c.t.tenant}</th><th scope="col">${c.t.target}</th><th scope="col">${c.t.errorKind}</th><th scope="col" class="num">${c.t.attempts}</th></tr></thead><tbody>
${failed.length ? '' : html`<tr><td colspan="7">${c.t.noRows}</td></tr>`}
${failed.map(
  ({
    r,
    d,
  }) => html`<tr><td><input type="checkbox" name="ids" value="${d.id}" aria-label="${c.t.select} ${r.externalId} → ${d.target}"></td>
<td>${c.time(r.receivedAt)}</td><td><a href="/console/submissions/${r.id}">${r.externalId}</a></td><td>${r.tenant}</td><td>${d.target}</td><td>${d.errorKind ?? '—'}</td><td class="num">${d.attempts}</td></tr>`,
)}</tbody></table>
<div class="actions"><button type="submit" name="scope" value="selected">${c.t.replaySelected}</button>
<button type="submit" name="scope" value="all" class="secondary">${c.t.replayAll}</button></div></form>`;
}

/** The dry run: how many would be replayed, the reason field and the confirm button. */
export function dryRunBody(c: PageContext, ids: readonly string[], replayable: number, back: string): Html {
  return html`<form method="post" action="/console/dead-letters/replay" class="confirm">${c.csrf}
<h2>${c.t.dryRunTitle}</h2>
<p id="dry-run"><strong>${replayable}</strong> ${c.t.dryRunText.replace('{n}', String(ids.length))}</p>
${ids.map((id) => html`<input type="hidden" name="ids" value="${id}">`)}
<input type="hidden" name="confirm" value="1">
<label>${c.t.reason}<input name="reason" maxlength="500"></label>
<div class="actions"><button type="submit"${replayable ? '' : html` disabled`}>${c.t.confirmReplay}</button> <a href="${back}">${c.t.cancel}</a></div></form>`;
}
