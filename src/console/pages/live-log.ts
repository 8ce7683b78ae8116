import { LOG_LEVELS, type LogFilter, type LogLine } from '../log-tap.ts';
import { type Html, html } from './html.ts';
import type { PageContext } from './layout.ts';

export function logLineHtml(c: PageContext, l: LogLine): Html {
  return html`<tr class="lv-${l.level}"><td>${c.time(Date.parse(l.at))}</td><td>${l.level}</td><td>${l.tenant ?? ''}</td><td>${l.target ?? ''}</td>
<td>${l.message}${l.submissionId ? html` <a href="/console/submissions/${l.submissionId}">${l.submissionId.slice(0, 8)}…</a>` : ''}</td></tr>`;
}

/** The live log: filter form, pause button (live-log.js), the kept lines newest first. */
export function liveLogBody(c: PageContext, f: LogFilter, lines: readonly LogLine[]): Html {
  const stream = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) stream.set(k, v);
  return html`<form class="filters" method="get" action="/console/log">
<label>${c.t.tenant}<input name="tenant" value="${f.tenant ?? ''}"></label>
<label>${c.t.target}<input name="target" value="${f.target ?? ''}"></label>
<label>${c.t.level}<select name="level"><option value="">${c.t.any}</option>${LOG_LEVELS.slice(0, 6).map((l) => html`<option${f.level === l ? html` selected` : ''}>${l}</option>`)}</select></label>
<div class="actions"><button type="submit">${c.t.filter}</button> <button type="button" id="pause" hidden data-pause="${c.t.pause}" data-resume="${c.t.resume}" aria-pressed="false">${c.t.pause}</button></div></form>
<p class="hint">${c.t.logHint}</p>
<table class="grid compact log" id="live-log" data-stream="/console/log/stream?${stream.toString()}"><thead><tr><th scope="col">${c.t.at}</th><th scope="col">${c.t.level}</th>
<th scope="col">${c.t.tenant}</th><th scope="col">${c.t.target}</th><th scope="col">${c.t.message}</th></tr></thead>
<tbody aria-live="polite">${[...lines].reverse().map((l) => logLineHtml(c, l))}</tbody></table>`;
}
