import type { Request, Response } from 'express';
import { principalOf } from '../../operator/principal.ts';
import { de, type Messages } from '../messages/de.ts';
import { en } from '../messages/en.ts';
import { type Html, html } from './html.ts';

/** What every page renders with: the texts of the chosen language, times in local time, the CSRF token. */
export interface PageContext {
  t: Messages;
  lang: 'de' | 'en';
  time(ms: number | null | undefined): string;
  csrf: Html;
  principal: ReturnType<typeof principalOf>;
  path: string;
}

export const LANG_COOKIE = 'amtsbote_lang';

/** German unless the visitor chose English (`?lang=en` sets the cookie). */
export function langOf(req: Request): 'de' | 'en' {
  const q = req.query.lang;
  if (q === 'en' || q === 'de') return q;
  const m = new RegExp(`(?:^|;\\s*)${LANG_COOKIE}=(de|en)`).exec(req.headers.cookie ?? '');
  return (m?.[1] as 'de' | 'en' | undefined) ?? 'de';
}

export function contextOf(req: Request, res: Response): PageContext {
  const lang = langOf(req);
  const fmt = new Intl.DateTimeFormat(lang === 'de' ? 'de-DE' : 'en-GB', {
    dateStyle: 'short',
    timeStyle: 'medium',
    timeZone: 'Europe/Berlin',
  });
  const token = res.locals.csrfToken as string | undefined;
  return {
    t: lang === 'de' ? de : en,
    lang,
    time: (ms) => (ms === null || ms === undefined ? '—' : fmt.format(ms)),
    csrf: token ? html`<input type="hidden" name="_csrf" value="${token}">` : html``,
    principal: principalOf(res),
    path: req.baseUrl + req.path,
  };
}

const SECTIONS = [
  ['/console', 'overview'],
  ['/console/submissions', 'submissions'],
  ['/console/dead-letters', 'deadLetters'],
  ['/console/reconciliation', 'reconciliation'],
  ['/console/log', 'liveLog'],
  ['/console/targets', 'targets'],
] as const;

/** The page around `body`: navigation, who is signed in, the language switch. */
export function layout(c: PageContext, title: string, body: Html, section: (typeof SECTIONS)[number][1]): Html {
  const other = c.lang === 'de' ? 'en' : 'de';
  return html`<!doctype html>
<html lang="${c.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Amtsbote</title>
<link rel="stylesheet" href="/console/static/console.css">
<script type="module" src="/console/static/console.js"></script>
</head>
<body>
<a class="skip" href="#main">${c.t.skip}</a>
<header class="top">
  <a class="brand" href="/console">Amtsbote</a>
  <nav aria-label="${c.t.nav}"><ul>
    ${SECTIONS.map(([href, key]) => html`<li><a href="${href}"${key === section ? html` aria-current="page"` : ''}>${c.t[key]}</a></li>`)}
  </ul></nav>
  <div class="who">${c.t.signedInAs} <strong>${c.principal.name}</strong> (${c.principal.role}) ·
    <a href="?lang=${other}" hreflang="${other}" lang="${other}">${c.t.otherLang}</a></div>
</header>
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A state word as a badge whose colours meet WCAG AA on both themes (console.css). */
export function badge(state: string): Html {
  return html`<span class="badge s-${state.replace(/[^a-z-]/g, '')}">${state}</span>`;
}

export function send(res: Response, page: Html, status = 200): void {
  res.status(status).type('html').send(page.text);
}
