import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { startHub, type Hub, type HubOptions } from '../../src/hub.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';

export const FIXTURE_CONFIG = fileURLToPath(new URL('../fixtures/config', import.meta.url));
export const PORTAL_A_TOKEN = 'portal-a-token-0123456789';
export const PORTAL_B_TOKEN = 'portal-b-token-0123456789';

export interface TestHub {
  hub: Hub;
  db: TestDatabase;
  /** The folder the fixture's file-drop target writes into (the test plays the batch job). */
  dropDir: string;
  /** Every log line the hub wrote, as JSON text. */
  logLines: string[];
  dataDir: string;
  /** Stops the hub; keeps the database (for restart tests) unless `drop` is true. */
  stop(drop?: boolean): Promise<void>;
  fetch(pathname: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
}

/** Starts a hub on the fixture configuration against a fresh (or the given) database, on a free port. */
export async function startTestHub(opts: {
  kind: 'sqlite' | 'postgres';
  backOfficeUrl: string;
  db?: TestDatabase;
  dataDir?: string;
  configDir?: string;
  worker?: HubOptions['worker'];
  clock?: HubOptions['clock'];
  env?: Record<string, string>;
  /** A fixed port (a test that must name the hub's URL in its configuration beforehand); default a free one. */
  port?: number;
  access?: HubOptions['access'];
}): Promise<TestHub> {
  const db = opts.db ?? (await createTestDatabase(opts.kind));
  const dataDir =
    opts.dataDir ?? (db.options.sqliteFile ? path.dirname(db.options.sqliteFile) : mkdtempSync(path.join(os.tmpdir(), 'amtsbote-data-')));
  const dropDir = path.join(dataDir, 'dropbox');
  mkdirSync(dropDir, { recursive: true });
  const logLines: string[] = [];
  const capture = new winston.transports.Stream({
    stream: new Writable({
      write(chunk, _enc, cb) {
        logLines.push(String(chunk));
        cb();
      },
    }),
  });
  const hub = await startHub({
    configDir: opts.configDir ?? FIXTURE_CONFIG,
    dataDir,
    port: opts.port ?? 0,
    databaseUrl: db.options.url,
    databaseSchema: db.options.schema,
    env: { ...process.env, BACKOFFICE_URL: opts.backOfficeUrl, TEST_PORTAL_A_TOKEN: PORTAL_A_TOKEN, DROP_DIR: dropDir, ...opts.env },
    ...(opts.worker ? { worker: opts.worker } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.access ? { access: opts.access } : {}),
    log: { console: false, file: false, transports: [capture] },
  });
  return {
    hub,
    db,
    dropDir,
    logLines,
    dataDir,
    async stop(drop = false) {
      await hub.close();
      if (drop) {
        await db.drop();
        if (!db.options.sqliteFile) rmSync(dataDir, { recursive: true, force: true });
      }
    },
    fetch(pathname, init = {}) {
      const { token = PORTAL_A_TOKEN, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      return fetch(hub.url + pathname, { ...rest, headers });
    },
  };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Posts a submission to the hub's API, expects its 202, and gives the submission's id. */
export async function postSubmission(t: TestHub, body: Record<string, unknown>): Promise<string> {
  const res = await t.fetch('/api/v1/submissions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).to.equal(202);
  return ((await res.json()) as { id: string }).id;
}

/** The submission as the API shows it, once it is delivered or failed. `V` is the part of the view a test reads. */
export function settledSubmission<V extends { status: string }>(t: TestHub, id: string, timeoutMs = 10_000): Promise<V> {
  return eventually(
    async () => {
      const v = (await (await t.fetch(`/api/v1/submissions/${id}`)).json()) as V;
      return (v.status === 'delivered' || v.status === 'failed') && v;
    },
    timeoutMs,
    `submission ${id} to settle`,
  );
}

/** A valid JSON submission for the fixture configuration. */
export function submission(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    externalId: `ext-${Math.random().toString(36).slice(2, 12)}`,
    tenant: '05513000',
    service: 'sperrmuell',
    submittedAt: '2026-11-24T09:30:00+01:00',
    applicant: {
      givenName: 'Erika',
      familyName: 'Mustermann',
      street: 'Musterweg',
      houseNumber: '1',
      postalCode: '45879',
      city: 'Gelsenkirchen',
    },
    data: { preferredDate: '2026-12-07', items: [{ kind: 'furniture', quantity: 2 }] },
    attachments: [],
    ...overrides,
  };
}
