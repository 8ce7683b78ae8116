import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { describeEachDatabase } from './support/databases.ts';
import { amtsbote, PROJECT_ROOT } from './support/run.ts';
import { hashPassword, verifyPassword } from '../src/operator/access/passwords.ts';
import { accountPrincipal } from '../src/operator/access/accounts.ts';
import type { AuditRecord } from '../src/store/index.ts';

const TENANTS = [
  { key: '05513000', name: 'Gelsenkirchen' },
  { key: '05512000', name: 'Bottrop' },
  { key: '05562', name: 'Kreis Recklinghausen' },
  { key: '05562014', name: 'Gladbeck', parent: '05562' },
  { key: '05562008', name: 'Datteln', parent: '05562' },
];

describe('passwords', () => {
  it('are scrypt hashes with a salt of their own, checked in constant time', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).to.match(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(a).to.not.equal(b);
    expect(await verifyPassword('correct horse battery', a)).to.equal(true);
    expect(await verifyPassword('correct horse batterY', a)).to.equal(false);
    expect(await verifyPassword('correct horse battery', 'md5$abc')).to.equal(false);
  });

  it('a district scope covers its towns and nothing else', () => {
    const p = accountPrincipal({ name: 're', role: 'operator', tenants: ['05562'] }, TENANTS);
    expect([...(p.tenants as Set<string>)].sort()).to.deep.equal(['05562', '05562008', '05562014']);
    expect(accountPrincipal({ name: 'all', role: 'admin', tenants: ['*'] }, TENANTS).tenants).to.equal('all');
  });
});

describeEachDatabase('amtsbote user', ({ db, store }) => {
  let configDir: string;
  before(() => {
    configDir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-users-'));
    writeFileSync(path.join(configDir, 'tenants.yaml'), JSON.stringify({ tenants: TENANTS }));
  });
  after(() => rmSync(configDir, { recursive: true, force: true }));

  const where = () => {
    const o = db().options;
    return ['-c', configDir, ...(o.url ? ['--database-url', o.url, '--database-schema', o.schema!] : ['-d', path.dirname(o.sqliteFile!)])];
  };
  const user = (args: string[], env: Record<string, string> = {}) => amtsbote(['user', ...args, ...where()], { env });
  /** The command with the password on stdin, as `echo … | amtsbote user add …`. */
  const withStdin = (args: string[], input: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const env = { ...process.env };
      delete env.AMTSBOTE_NEW_PASSWORD;
      const c = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/amtsbote.js'), 'user', ...args, ...where()], { env });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('close', (code) => resolve({ code, stdout, stderr }));
      c.stdin.end(input);
    });

  it('adds accounts with a role and tenants, the password from the environment or stdin, never stored in clear', async function () {
    this.timeout(60_000);
    const a = await user(['add', 'ge-operator', '--role', 'operator', '--tenants', '05513000'], {
      AMTSBOTE_NEW_PASSWORD: 'gelsenkirchen-2026!',
    });
    expect(a.code, a.stderr).to.equal(0);
    const b = await withStdin(['add', 're-viewer', '--role', 'viewer', '--tenants', '05562'], 'recklinghausen-2026\n');
    expect(b.code, b.stderr).to.equal(0);
    const row = await store().access.account('ge-operator');
    expect(row).to.include({ role: 'operator' });
    expect(row!.tenants).to.deep.equal(['05513000']);
    expect(row!.passwordHash).to.match(/^scrypt\$/);
    expect(await verifyPassword('gelsenkirchen-2026!', row!.passwordHash)).to.equal(true);
    expect(await verifyPassword('recklinghausen-2026', (await store().access.account('re-viewer'))!.passwordHash)).to.equal(true);

    const list = await user(['list', '--json']);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((r) => r.name)).to.deep.equal(['ge-operator', 're-viewer']);
    expect(list.stdout).to.not.contain('scrypt');
  });

  it('refuses a taken name, an unknown role or tenant, a short password and a password given as an argument', async function () {
    this.timeout(60_000);
    const env = { AMTSBOTE_NEW_PASSWORD: 'long-enough-password' };
    const taken = await user(['add', 'ge-operator', '--role', 'viewer', '--tenants', '05513000'], env);
    expect([taken.code, taken.stderr]).to.deep.equal([2, 'amtsbote: an account ge-operator exists already\n']);
    const role = await user(['add', 'x1', '--role', 'root', '--tenants', '05513000'], env);
    expect(role.stderr).to.contain('--role');
    const tenant = await user(['add', 'x2', '--role', 'viewer', '--tenants', '05513000,09999999'], env);
    expect(tenant.stderr).to.contain('09999999');
    const short = await user(['add', 'x3', '--role', 'viewer', '--tenants', '05513000'], { AMTSBOTE_NEW_PASSWORD: 'short' });
    expect(short.stderr).to.contain('at least 12');
    const arg = await user(['add', 'x4', 'the-password-itself', '--role', 'viewer', '--tenants', '05513000'], env);
    expect(arg.code).to.not.equal(0);
    expect((await store().access.accounts()).map((r) => r.name)).to.deep.equal(['ge-operator', 're-viewer']);
  });

  it('changes a password and removes an account, each change in the audit trail', async function () {
    this.timeout(60_000);
    const p = await user(['passwd', 're-viewer'], { AMTSBOTE_NEW_PASSWORD: 'a-new-password-2027' });
    expect(p.code, p.stderr).to.equal(0);
    expect(await verifyPassword('a-new-password-2027', (await store().access.account('re-viewer'))!.passwordHash)).to.equal(true);
    const r = await user(['remove', 're-viewer']);
    expect(r.code, r.stderr).to.equal(0);
    expect(await store().access.account('re-viewer')).to.equal(undefined);
    const gone = await user(['remove', 're-viewer']);
    expect(gone.code).to.equal(2);

    const records: AuditRecord[] = [];
    for await (const x of store().audit.records()) records.push(x);
    const changes = records.filter((x) => x.action === 'account-changed').map((x) => [x.subject, x.detail?.change]);
    expect(changes).to.deep.equal([
      ['account:ge-operator', 'added'],
      ['account:re-viewer', 'added'],
      ['account:re-viewer', 'password'],
      ['account:re-viewer', 'removed'],
    ]);
    expect(records.every((x) => x.actor.startsWith('cli:'))).to.equal(true);
    expect(JSON.stringify(records)).to.not.match(/password-2027|recklinghausen-2026|gelsenkirchen-2026/);
    expect((await store().audit.verify()).ok).to.equal(true);
  });
});
