import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { hubKeys } from './hub-keys.ts';
import { addKey, dataFolderKeyFiles } from './key-files.ts';

/** A logger whose lines land in `lines`. */
function capturingLogger(): { logger: winston.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: winston.createLogger({ transports: [new winston.transports.Stream({ stream })] }), lines };
}

// The keys a starting hub takes (docs/keys.md), and AMTSBOTE_ENCRYPTION=off, which the benchmark's rows in clear
// rely on: a SQLite hub otherwise generates keys on its first start, and those rows would measure sealing.
describe('hub keys', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'amtsbote-hub-keys-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('are generated in a fresh SQLite data folder when nothing says otherwise', () => {
    const { logger } = capturingLogger();
    const keys = hubKeys({ env: {}, dataDir, postgres: false, logger });
    try {
      expect(keys?.currentKid).to.match(/^d-/);
      expect(existsSync(dataFolderKeyFiles(dataDir).data)).to.equal(true);
    } finally {
      keys?.close();
    }
  });

  it('stay off with AMTSBOTE_ENCRYPTION=off: none generated, a warning instead', () => {
    const { logger, lines } = capturingLogger();
    expect(hubKeys({ env: { AMTSBOTE_ENCRYPTION: 'off' }, dataDir, postgres: false, logger })).to.equal(undefined);
    expect(existsSync(path.join(dataDir, 'keys'))).to.equal(false);
    expect(lines.join('')).to.contain('encryption at rest is off: AMTSBOTE_ENCRYPTION=off');
  });

  it('are taken as usual with AMTSBOTE_ENCRYPTION=on', () => {
    const { logger } = capturingLogger();
    const keys = hubKeys({ env: { AMTSBOTE_ENCRYPTION: 'on' }, dataDir, postgres: false, logger });
    try {
      expect(keys).not.to.equal(undefined);
    } finally {
      keys?.close();
    }
  });

  it('refuse AMTSBOTE_ENCRYPTION=off beside keys, whose sealed rows would no longer open', () => {
    const { logger } = capturingLogger();
    const b64 = randomBytes(32).toString('base64');
    const fromEnv = { AMTSBOTE_ENCRYPTION: 'off', AMTSBOTE_DATA_KEYS: `k1:${b64}`, AMTSBOTE_INDEX_KEYS: `i1:${b64}` };
    expect(() => hubKeys({ env: fromEnv, dataDir, postgres: false, logger })).to.throw(/AMTSBOTE_DATA_KEYS/);
    addKey(dataFolderKeyFiles(dataDir).data, 'data');
    expect(() => hubKeys({ env: { AMTSBOTE_ENCRYPTION: 'off' }, dataDir, postgres: true, logger })).to.throw(/data\.keys/);
  });

  it('refuse a value of AMTSBOTE_ENCRYPTION other than on or off', () => {
    const { logger } = capturingLogger();
    expect(() => hubKeys({ env: { AMTSBOTE_ENCRYPTION: 'of' }, dataDir, postgres: false, logger })).to.throw(/on or off/);
    expect(existsSync(path.join(dataDir, 'keys'))).to.equal(false);
  });
});
