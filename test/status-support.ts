// Helpers of the status back-channel's tests: a configuration with status maps, push tokens and a portal status
// callback, and a real portal on 127.0.0.1 that takes (or refuses) status updates.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import YAML from 'yaml';
import { FIXTURE_CONFIG } from './support/hub.ts';

export const PUSH_TOKEN = 'backoffice-push-token-0123456789';
export const ARCHIVE_PUSH_TOKEN = 'archive-push-token-0123456789';
export const CALLBACK_TOKEN = 'portal-callback-token-0123456789';

/**
 * The fixture configuration with: `backoffice` mapping "Rueckfrage Bauamt" and "ERLEDIGT_OK" and taking pushes with
 * PUSH_TOKEN; `archive` taking pushes with ARCHIVE_PUSH_TOKEN (no map of its own); portal-a's status callback at
 * `callbackUrl` (short back-off, so an outage is retried within milliseconds). Returns the folder.
 */
export function statusConfig(callbackUrl: string, extra: { retry?: Record<string, unknown> } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-status-config-'));
  const read = (f: string) => YAML.parse(readFileSync(path.join(FIXTURE_CONFIG, f), 'utf8')) as Record<string, any>;
  const hub = read('hub.yaml');
  hub.paths.mappings = path.resolve(FIXTURE_CONFIG, hub.paths.mappings);
  const registry = read('registry.yaml');
  registry.portals[0].statusCallback = {
    url: callbackUrl,
    token: CALLBACK_TOKEN,
    timeoutMs: 1000,
    retry: { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 1000, jitter: 0, ...extra.retry },
  };
  const targets = read('targets.yaml');
  targets.targets.backoffice.status = {
    map: { 'Rueckfrage Bauamt': 'ACTION_REQUIRED', ERLEDIGT_OK: 'COMPLETED' },
    push: { token: PUSH_TOKEN },
  };
  targets.targets.archive.status = { push: { token: ARCHIVE_PUSH_TOKEN } };
  for (const [f, v] of Object.entries({ 'hub.yaml': hub, 'registry.yaml': registry, 'targets.yaml': targets }))
    writeFileSync(path.join(dir, f), YAML.stringify(v));
  return dir;
}

export interface ReceivedUpdate {
  key: string;
  authorization: string | undefined;
  body: {
    submissionId: string;
    externalId: string;
    tenant: string;
    service: string;
    status: string;
    reason?: string;
    at: string;
    sequence: number;
  };
}

/** A portal's status-callback receiver: answers 503 while `down`, else 204; keeps every update it took, in order. */
export class TestPortal {
  down = false;
  readonly taken: ReceivedUpdate[] = [];
  /** Every request, taken or refused: [idempotency key, HTTP status]. */
  readonly requests: [string, number][] = [];
  private server: Server | undefined;
  url = '';

  async start(port = 0): Promise<this> {
    const app = express();
    app.use(express.json());
    app.post('/status', (req, res) => {
      const key = req.get('idempotency-key') ?? '';
      const status = this.down ? 503 : 204;
      this.requests.push([key, status]);
      if (status === 204 && !this.taken.some((t) => t.key === key))
        this.taken.push({ key, authorization: req.get('authorization'), body: req.body });
      res
        .status(status)
        .set(status === 503 ? { 'Retry-After': '0' } : {})
        .end();
    });
    await new Promise<void>((resolve) => (this.server = app.listen(port, '127.0.0.1', () => resolve())));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  /** Updates the portal took for one submission, in arrival order. */
  updatesOf(submissionId: string): ReceivedUpdate['body'][] {
    return this.taken.filter((t) => t.body.submissionId === submissionId).map((t) => t.body);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }
}
