import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { eventually, PORTAL_A_TOKEN, startTestHub, submission, type TestHub } from './support/hub.ts';

const OPERATOR_TOKEN = 'operator-token-console-cli-0123456789';
const BIN = fileURLToPath(new URL('../bin/amtsbote.js', import.meta.url));

/** Runs the CLI; `until` ends a long-running one (log --follow) once its output holds what is awaited. */
function cli(args: string[], until?: (out: string) => boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, AMTSBOTE_OPERATOR_TOKEN: OPERATOR_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += String(c);
      if (until?.(stdout)) child.kill();
    });
    child.stderr.on('data', (c) => (stderr += String(c)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('amtsbote submissions and amtsbote log', function () {
  // Each CLI run starts a process (tsx when dist/ is older than the sources): slow on a loaded machine.
  this.timeout(120_000);
  let bo: TestBackOffice;
  let t: TestHub;
  let id: string;
  const db = () => ['-c', '/nonexistent', '-d', t.dataDir];

  before(async () => {
    bo = await new TestBackOffice().start();
    t = await startTestHub({ kind: 'sqlite', backOfficeUrl: bo.url, env: { AMTSBOTE_OPERATOR_TOKEN: OPERATOR_TOKEN } });
    const res = await t.fetch('/api/v1/submissions', {
      method: 'POST',
      token: PORTAL_A_TOKEN,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(submission({ externalId: 'cli-ext-1', data: { preferredDate: '2026-12-07', items: [], scenario: 'reject' } })),
    });
    id = ((await res.json()) as { id: string }).id;
    await eventually(async () => (await t.hub.store.getSubmission(id))?.deliveries[0]?.state === 'failed', 10_000);
  });
  after(async () => {
    await t?.stop(true);
    await bo?.stop();
  });

  it('searches by state and external id, as text and --json', async () => {
    const text = await cli(['submissions', 'search', '--state', 'failed', ...db()]);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.include(id).and.include('cli-ext-1').and.include('failed:http-400');
    const json = await cli(['submissions', 'search', '--external-id', 'cli-ext-1', '--json', ...db()]);
    expect(JSON.parse(json.stdout).submissions[0].id).to.equal(id);
    const bad = await cli(['submissions', 'search', '--from', 'yesterday', ...db()]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('--from');
  });

  it('shows the timeline by external id', async () => {
    const text = await cli(['submissions', 'show', 'cli-ext-1', ...db()]);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/attempt 1 backoffice failed HTTP 400/);
    const json = JSON.parse((await cli(['submissions', 'show', id, '--json', ...db()])).stdout);
    expect(json.submission.externalId).to.equal('cli-ext-1');
    expect((await cli(['submissions', 'show', 'nothing-like-it', ...db()])).code).to.equal(1);
  });

  it('follows the live log of the running hub', async () => {
    let id2 = '';
    const following = cli(
      ['log', '--follow', '--json', '--url', t.hub.url, '--tenant', '05513000'],
      (out) => id2 !== '' && out.includes(id2),
    );
    const res = await t.fetch('/api/v1/submissions', {
      method: 'POST',
      token: PORTAL_A_TOKEN,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(submission({ externalId: 'cli-ext-2' })),
    });
    id2 = ((await res.json()) as { id: string }).id;
    const r = await following;
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { tenant?: string; submissionId?: string });
    expect(lines.some((l) => l.submissionId === id2)).to.equal(true);
    expect(lines.every((l) => l.tenant === '05513000')).to.equal(true);
    expect(r.stdout).not.to.include('Mustermann');
  });
});
