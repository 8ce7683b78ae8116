import type { HttpAuth } from './options.ts';

/**
 * The request headers that authenticate at the back office. Their values are secrets: never log them.
 * Static credentials only: an `oauth2` token is fetched at run time (see `OAuth2TokenSource` in oauth2.ts),
 * so asking for its headers here is a programming error and throws rather than sending no credentials.
 */
export function authHeaders(auth: HttpAuth): Record<string, string> {
  switch (auth.type) {
    case 'none':
      return {};
    case 'basic':
      // RFC 7617 with charset UTF-8, so umlauts in passwords survive.
      return { Authorization: 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64') };
    case 'bearer':
      return { Authorization: `Bearer ${auth.token}` };
    case 'api-key':
      return { [auth.header]: auth.value };
    case 'oauth2':
      throw new Error('oauth2 credentials are tokens fetched at run time: use OAuth2TokenSource, not authHeaders()');
  }
}

/** True when `authHeaders()` gives the credentials; false for auth that fetches tokens at run time. */
export function isStaticAuth(auth: HttpAuth): auth is Exclude<HttpAuth, { type: 'oauth2' }> {
  return auth.type !== 'oauth2';
}
