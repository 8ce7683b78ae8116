import type { Request, Response } from 'express';

/** The cookies of a request, by name (the first of a name wins; values URI-decoded). */
export function readCookies(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 1) continue;
    const name = part.slice(0, i).trim();
    if (out.has(name)) continue;
    try {
      out.set(name, decodeURIComponent(part.slice(i + 1).trim()));
    } catch {
      // A malformed value is as good as none.
    }
  }
  return out;
}

export interface CookieFlags {
  secure: boolean;
  sameSite: 'lax' | 'strict';
  /** Seconds; absent: a browser-session cookie. */
  maxAge?: number | undefined;
  path?: string;
}

/** Sets a cookie, always httpOnly: no script of a page ever reads a credential. */
export function setCookie(res: Response, name: string, value: string, f: CookieFlags): void {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${f.path ?? '/'}`,
    'HttpOnly',
    `SameSite=${f.sameSite === 'strict' ? 'Strict' : 'Lax'}`,
  ];
  if (f.secure) parts.push('Secure');
  if (f.maxAge !== undefined) parts.push(`Max-Age=${f.maxAge}`);
  res.append('Set-Cookie', parts.join('; '));
}

export function clearCookie(res: Response, name: string, f: Omit<CookieFlags, 'maxAge'>): void {
  setCookie(res, name, '', { ...f, maxAge: 0 });
}
