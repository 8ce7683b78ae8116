import express from 'express';

/*
 * The body readers every API uses, with the limit it allows. They are per route, not app-wide, so a route
 * checks its caller's token and media type (401, 415) before it reads a byte of the body.
 */

/** The body as bytes, whatever its media type: the route chooses the parser (JSON or XML) itself. */
export function rawBody(limit: string): express.RequestHandler {
  return express.raw({ type: () => true, limit });
}

/** The body parsed as JSON, whatever the Content-Type says (operator tools send it loosely). */
export function jsonBody(limit: string): express.RequestHandler {
  return express.json({ limit, type: () => true });
}
