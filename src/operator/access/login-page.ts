import { fill, type Messages } from './messages.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface LoginView {
  m: Messages;
  csrf: string;
  next: string;
  username?: string;
  /** A message for the visitor: an error (role alert) or a note. */
  error?: string | undefined;
  note?: string | undefined;
  sso?: { label: string; href: string } | undefined;
}

/** The login page: one form, no script (the console's CSP allows none), usable with the keyboard alone. */
export function loginPage(v: LoginView): string {
  const { m } = v;
  const other = m.switchLanguageHref;
  return `<!doctype html>
<html lang="${m.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(m.title)}</title>
<link rel="stylesheet" href="/console/access.css">
</head>
<body>
<main class="login">
<h1>${esc(m.heading)}</h1>
<p>${esc(m.intro)}</p>
${v.error ? `<p class="error" role="alert" id="login-error">${esc(v.error)}</p>` : ''}${v.note ? `<p class="note" role="status">${esc(v.note)}</p>` : ''}
<form method="post" action="/console/login"${v.error ? ' aria-describedby="login-error"' : ''}>
<input type="hidden" name="_csrf" value="${esc(v.csrf)}">
<input type="hidden" name="next" value="${esc(v.next)}">
<label for="username">${esc(m.username)}</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="64" value="${esc(v.username ?? '')}"${v.username ? '' : ' autofocus'}>
<label for="password">${esc(m.password)}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${v.username ? ' autofocus' : ''}>
<button type="submit">${esc(m.submit)}</button>
</form>
${v.sso ? `<p class="or">${esc(m.or)}</p>\n<p><a class="button secondary" href="${esc(v.sso.href)}">${esc(fill(m.sso, { label: v.sso.label }))}</a></p>` : ''}
<p class="lang"><a href="/console/login?lang=${other}&amp;next=${encodeURIComponent(v.next)}" hreflang="${other}" lang="${other}">${esc(m.switchLanguage)}</a></p>
</main>
</body>
</html>
`;
}

/**
 * The login page's style: system fonts, contrast of at least 7:1 for text and 4.5:1 for controls (WCAG AA with
 * room), a focus ring that cannot be missed.
 */
export const LOGIN_CSS = `*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#eef1f4}
.login{max-width:24rem;margin:10vh auto;padding:2rem;background:#fff;border:1px solid #c5ccd3;border-radius:6px}
h1{font-size:1.3rem;margin:0 0 .5rem}
label{display:block;margin-top:1rem;font-weight:600}
input{width:100%;padding:.5rem;font:inherit;color:#1b1f24;background:#fff;border:1px solid #5c6670;border-radius:4px}
button,.button{display:inline-block;margin-top:1.25rem;padding:.55rem 1.2rem;font:inherit;font-weight:600;color:#fff;background:#0b4f8a;border:1px solid #0b4f8a;border-radius:4px;text-decoration:none;cursor:pointer}
.button.secondary{color:#0b4f8a;background:#fff}
a{color:#0b4f8a}
:focus-visible{outline:3px solid #b35c00;outline-offset:2px}
.error{padding:.5rem .75rem;color:#7d0010;background:#fdecee;border-left:4px solid #b00020}
.note{padding:.5rem .75rem;color:#1b1f24;background:#e6f0fa;border-left:4px solid #0b4f8a}
.or{margin:1rem 0 0;color:#4a535c}
.lang{margin-top:1.5rem;font-size:.9rem}
`;

/** The console pages' policy: nothing but this hub's stylesheets and forms; no script at all. */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
