import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface ReceivedCase {
  path: string;
  idempotencyKey: string | undefined;
  contentType: string | undefined;
  body: string;
  reference: string;
}

/**
 * A real back office on 127.0.0.1 for hub tests: files one case per idempotency key (a repeat returns the
 * first case), and answers according to the `scenario` field of the body: `flaky-N` answers 503 the first N
 * times, `reject` answers 400, `slow` waits 1.5 s (under the fixture target's 2 s timeout).
 */
export class TestBackOffice {
  readonly cases: ReceivedCase[] = [];
  readonly requests: { path: string; idempotencyKey: string | undefined; status: number }[] = [];
  /** Idempotency keys as requests arrive, before any answer: tells a test a request is in the back office's hands. */
  readonly arrivals: (string | undefined)[] = [];
  private readonly byKey = new Map<string, ReceivedCase>();
  private readonly tries = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    const app = express();
    app.use(express.text({ type: () => true, limit: '50mb' }));
    app.post(['/cases', '/archive'], async (req, res) => {
      const key = req.get('idempotency-key');
      this.arrivals.push(key);
      const body = String(req.body ?? '');
      const scenario = /"scenario":"([^"]+)"/.exec(body)?.[1] ?? '';
      const tries = (this.tries.get(key ?? '') ?? 0) + 1;
      this.tries.set(key ?? '', tries);
      const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        this.requests.push({ path: req.path, idempotencyKey: key, status });
        res.status(status).set(headers).json(payload);
      };
      const flaky = /^flaky-(\d+)$/.exec(scenario);
      if (flaky && tries <= Number(flaky[1])) return answer(503, { title: 'down for maintenance' }, { 'Retry-After': '0' });
      if (scenario === 'throttle' && tries === 1) return answer(429, { title: 'too many requests' }, { 'Retry-After': '1' });
      if (scenario === 'reject') return answer(400, { title: 'Feld name fehlt' });
      if (scenario === 'slow') await new Promise((r) => setTimeout(r, 1500));
      const known = key ? this.byKey.get(key) : undefined;
      if (known) return answer(200, { caseId: known.reference, id: known.reference });
      const reference = `AZ-${String(this.cases.length + 1).padStart(5, '0')}`;
      const c = { path: req.path, idempotencyKey: key, contentType: req.get('content-type'), body, reference };
      this.cases.push(c);
      if (key) this.byKey.set(key, c);
      answer(201, { caseId: reference, id: reference });
    });
    app.get('/', (_req, res) => {
      res.json({ ok: true });
    });
    await new Promise<void>((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }
}
