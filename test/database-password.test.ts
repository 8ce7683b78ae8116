import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { TestBackOffice } from './support/backoffice.ts';
import { startTestHub } from './support/hub.ts';
import { createTestDatabase, PG_URL, postgresReachable } from './support/databases.ts';
import { withDatabasePassword } from '../src/config/database-password.ts';

const SECRET = 'pw-Zq8!x@y';
/** A password as a URL holds it without encoding. */
const URL_SECRET = 'pw-Zq8.x_y7';

describe('database password from the environment or a file, never the command line', () => {
  it('puts AMTSBOTE_DATABASE_PASSWORD or the content of AMTSBOTE_DATABASE_PASSWORD_FILE into the URL, in memory only', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'amtsbote-pw-')), 'pw');
    writeFileSync(file, `${SECRET}\n`);
    const fromFile = withDatabasePassword('postgres://hub@db:5432/amtsbote', { AMTSBOTE_DATABASE_PASSWORD_FILE: file });
    expect(new URL(fromFile.url!).password).to.equal(encodeURIComponent(SECRET));
    expect(decodeURIComponent(new URL(fromFile.url!).password)).to.equal(SECRET);
    expect(fromFile.warnings).to.deep.equal([]);
    const fromEnv = withDatabasePassword('postgres://hub@db/amtsbote', { AMTSBOTE_DATABASE_PASSWORD: SECRET });
    expect(decodeURIComponent(new URL(fromEnv.url!).password)).to.equal(SECRET);
    expect(() => withDatabasePassword('postgres://hub@db/a', { AMTSBOTE_DATABASE_PASSWORD_FILE: `${file}-missing` })).to.throw(
      /AMTSBOTE_DATABASE_PASSWORD_FILE: cannot read .* \(ENOENT\)/,
    );
    // SQLite has no password: nothing changes.
    expect(withDatabasePassword(undefined, { AMTSBOTE_DATABASE_PASSWORD: SECRET }).url).to.equal(undefined);
  });

  it('warns, without the password, when --database-url carries one', () => {
    const r = withDatabasePassword(`postgres://hub:${URL_SECRET}@db/amtsbote`, {}, true);
    expect(r.warnings).to.have.length(1);
    expect(r.warnings[0]).to.match(/--database-url carries a password.*AMTSBOTE_DATABASE_PASSWORD/);
    expect(r.warnings.join()).not.to.include(URL_SECRET);
  });

  it('masks the password in the process list (the process title) of the amtsbote command', () => {
    // A child that runs the mask, then reads its own command line as `ps` does.
    const cmdline = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "const m = await import('./src/config/database-password.ts'); const fs = await import('node:fs'); m.maskPasswordInProcessTitle(process.argv); console.log(fs.readFileSync('/proc/self/cmdline', 'utf8'))",
        '--',
        `--database-url=postgres://hub:${URL_SECRET}@db/amtsbote`,
      ],
      { encoding: 'utf8' },
    );
    expect(cmdline).not.to.include(URL_SECRET);
    expect(cmdline).to.include('postgres://hub:***@db/amtsbote');
  });

  it('a hub on PostgreSQL starts with the password from a file and never logs it', async function () {
    if (!process.env.CI && !(await postgresReachable())) this.skip();
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'amtsbote-pw-')), 'pw');
    writeFileSync(file, SECRET);
    const bo = await new TestBackOffice().start();
    const db = await createTestDatabase('postgres');
    // The test server trusts local connections, so any password connects: the URL with one stands for `--database-url`.
    const withPassword = {
      ...db,
      options: { ...db.options, url: PG_URL.replace('postgres://postgres@', `postgres://postgres:${URL_SECRET}@`) },
    };
    const t = await startTestHub({
      kind: 'postgres',
      backOfficeUrl: bo.url,
      db: withPassword,
      worker: { enabled: false },
      env: { AMTSBOTE_DATABASE_PASSWORD_FILE: file },
    });
    try {
      expect((await t.fetch('/readyz')).status).to.equal(200);
      expect(t.logLines.join('\n')).not.to.include(SECRET).and.not.to.include(URL_SECRET);
    } finally {
      await t.stop(true);
      await bo.stop();
    }
  });
});
