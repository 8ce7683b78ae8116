import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { httpProblem, PROBLEM_TYPE_BASE } from './problem-details.ts';

/*
 * Node's HTTP parser refuses some requests before express sees them (smuggling shapes, NUL or bare CR in a
 * header, an oversized header block, a request that takes too long). By default Node answers those with a bare
 * `400 Bad Request`; here the answer is problem+json like every other. What cannot be answered: a socket the
 * client already closed or reset, and a request refused after the hub began its answer (docs/security.md).
 */

type ParserProblem = 'malformed-request' | 'request-timeout' | 'header-too-large';
const BY_CODE: Record<string, ParserProblem> = { HPE_HEADER_OVERFLOW: 'header-too-large', ERR_HTTP_REQUEST_TIMEOUT: 'request-timeout' };

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** The bytes of the answer to one parser error: a complete HTTP/1.1 response that closes the connection. */
export function parserErrorResponse(code: string | undefined): string {
  const type = (code && BY_CODE[code]) || 'malformed-request';
  const p = { type, ...httpProblem.types[type] };
  // The parser's code names the rule broken, never a byte of the request.
  const body = JSON.stringify({
    type: PROBLEM_TYPE_BASE + p.type,
    title: p.title,
    status: p.status,
    ...(code ? { detail: `refused by the HTTP parser (${code})` } : {}),
  });
  return [
    `HTTP/1.1 ${p.status} ${REASONS[p.status]}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'",
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Answers the HTTP parser's refusals with problem+json where the socket can still take an answer. */
export function answerParserErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A reset or closed socket cannot be answered; neither can one whose answer has begun (headers went out).
    const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (err.code === 'ECONNRESET' || !socket.writable || answering) {
      socket.destroy();
      return;
    }
    socket.end(parserErrorResponse(err.code));
  });
}
