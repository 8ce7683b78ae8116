import type { Request, Response } from 'express';
import de from './messages.de.json' with { type: 'json' };
import en from './messages.en.json' with { type: 'json' };
import { readCookies, setCookie } from './cookies.ts';

export type Messages = typeof de;
export type Lang = 'de' | 'en';
const ALL: Record<Lang, Messages> = { de, en };

/** The language cookie: German unless the visitor chose English (`?lang=en`), remembered for a year. */
export const LANG_COOKIE = 'amtsbote_lang';

export function languageOf(req: Request, res: Response, secure: boolean): Lang {
  const asked = req.query.lang;
  if (asked === 'de' || asked === 'en') {
    setCookie(res, LANG_COOKIE, asked, { secure, sameSite: 'lax', maxAge: 365 * 86_400 });
    return asked;
  }
  return readCookies(req).get(LANG_COOKIE) === 'en' ? 'en' : 'de';
}

export function messages(lang: Lang): Messages {
  return ALL[lang];
}

/** A message with `{name}` placeholders filled in. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}
