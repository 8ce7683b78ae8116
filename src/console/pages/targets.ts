import { type Html, html } from './html.ts';
import { badge, type PageContext } from './layout.ts';

export interface TargetView {
  id: string;
  adapter: string | null;
  options: unknown;
  breaker: { state: string; consecutiveFailures: number; lastError: string | null; retryAt: string | null };
  rateLimit: { maxInFlight: number | null; perMinute: number | null; burst: number | null; tokens: number | null };
  window: { windows: string[]; open: boolean; nextOpening: string | null } | null;
  queue: { waiting: number; failed: number } | null;
  check?: { result: string; message: string } | undefined;
}

export function targetsBody(c: PageContext, targets: TargetView[], mayCheck: boolean): Html {
  return html`${targets.map(
    (
      t,
    ) => html`<section class="target" id="t-${t.id}" aria-labelledby="h-${t.id}"><h2 id="h-${t.id}">${t.id} <small>${t.adapter ?? '—'}</small></h2>
<div class="cols">
<dl class="facts"><dt>${c.t.breaker}</dt><dd>${badge(t.breaker.state)} ${t.breaker.consecutiveFailures} ${t.breaker.lastError ? html`<span class="err">${t.breaker.lastError}</span>` : ''}</dd>
<dt>${c.t.rateBucket}</dt><dd>${t.rateLimit.perMinute === null && t.rateLimit.maxInFlight === null ? '—' : `${t.rateLimit.perMinute ?? '∞'}/min, burst ${t.rateLimit.burst ?? '—'}, in flight ≤ ${t.rateLimit.maxInFlight ?? '∞'}, tokens ${t.rateLimit.tokens ?? '—'}`}</dd>
<dt>${c.t.window}</dt><dd>${t.window ? html`${t.window.windows.join(', ')} — ${t.window.open ? c.t.open : c.t.closed}` : c.t.alwaysOpen}</dd>
<dt>${c.t.queue}</dt><dd>${t.queue ? `${c.t.waiting} ${t.queue.waiting}, ${c.t.failed} ${t.queue.failed}` : '—'}</dd></dl>
<div><h3>${c.t.configuration}</h3><pre class="config">${JSON.stringify(t.options, null, 2)}</pre></div></div>
${t.check ? html`<p class="notice" role="status">${c.t.checkResult}: ${badge(t.check.result)} ${t.check.message}</p>` : ''}
${mayCheck ? html`<form method="post" action="/console/targets/${t.id}/check">${c.csrf}<button type="submit">${c.t.checkConnection}</button></form>` : ''}
</section>`,
  )}`;
}
