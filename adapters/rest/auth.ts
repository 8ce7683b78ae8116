import type { RestAuth } from './options.ts';

/** The request headers that authenticate at the back office. Their values are secrets: never log them. */
export function authHeaders(auth: RestAuth): Record<string, string> {
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
  }
}
