// oidc-provider 9 ships no types; the tests use its constructor, callback() and a few configuration keys.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown> & { findAccount?: (ctx: unknown, id: string) => Promise<unknown> });
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
