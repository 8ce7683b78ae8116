import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { z } from 'zod';
import { maskSecrets } from '../../src/sdk/index.ts';
import { firstLine, isSettled, referenceFrom, SETTLE_MS } from './ack.ts';
import { AuthError, classifyError, ConfigError, HostKeyMismatchError } from './errors.ts';
import fileDrop from './index.ts';
import {
  attachmentFileName,
  patternProblems,
  primaryPattern,
  renderFileName,
  sameDeliveryMatcher,
  sanitizeAttachmentName,
  stemPattern,
  timeOfMatch,
} from './naming.ts';
import { hostKeyFingerprint } from './sftp.ts';
import { buildZip } from './zip.ts';

const HOST_KEY = 'SHA256:' + 'A'.repeat(43);
const parse = (o: unknown) => fileDrop.options.safeParse(o);
const local = { type: 'local', directory: '/srv/drop' };

describe('file-drop options', () => {
  it('fills the defaults for a local folder', () => {
    const r = fileDrop.options.parse({ transport: local });
    expect(r).to.deep.equal({ transport: local, fileName: '{tenant}_{service}_{deliveryId}.{ext}', attachments: 'none' });
  });

  it('refuses unknown keys, at the top and inside the transport', () => {
    expect(parse({ transport: local, overwrite: true }).success).to.equal(false);
    expect(parse({ transport: { ...local, mode: 0o644 } }).success).to.equal(false);
  });

  for (const [pattern, problem] of [
    ['{tenant}_{deliveryID}.{ext}', 'unknown placeholder {deliveryID}'],
    ['{tenant}_{service}.{ext}', 'must contain {deliveryId}'],
    ['out/{deliveryId}.xml', 'path separator'],
    ['..\\{deliveryId}.xml', 'path separator'],
    ['.{deliveryId}.xml', 'must not start with'],
    ['{deliveryId}}.xml', 'unmatched'],
    ['{deliveryId} antrag.xml', 'may use only'],
  ] as const) {
    it(`refuses the file name pattern ${pattern} at start-up`, () => {
      const r = parse({ transport: local, fileName: pattern });
      expect(r.success).to.equal(false);
      expect(JSON.stringify(r.error?.issues)).to.include(problem);
    });
  }

  it('accepts every placeholder', () => {
    expect(patternProblems('{tenant}-{service}-{date}-{time}-{deliveryId}.{ext}')).to.deep.equal([]);
  });

  const sftp = { type: 'sftp', host: 'sftp.example', username: 'amtsbote', hostKey: HOST_KEY, directory: '/in' };

  it('wants an SFTP host key fingerprint and a credential, and masks the secrets', () => {
    expect(parse({ transport: { ...sftp, password: 'pw-SECRET' } }).success).to.equal(true);
    expect(parse({ transport: { ...sftp, password: 'pw', hostKey: undefined } }).success, 'hostKey is required').to.equal(false);
    expect(parse({ transport: { ...sftp, password: 'pw', hostKey: 'ab:cd:ef' } }).success, 'MD5 notation').to.equal(false);
    expect(parse({ transport: sftp }).success, 'no credential').to.equal(false);
    expect(parse({ transport: { ...sftp, password: 'pw', passphrase: 'x' } }).success, 'passphrase without key').to.equal(false);
    const parsed = fileDrop.options.parse({
      transport: { ...sftp, port: 2222, privateKey: '/etc/amtsbote/id_ed25519', passphrase: 'phrase-SECRET', password: 'pw-SECRET' },
    });
    const shown = JSON.stringify(maskSecrets(fileDrop.options, parsed));
    expect(shown).not.to.include('SECRET');
    expect(shown).to.include('/etc/amtsbote/id_ed25519');
    expect(parsed.transport).to.include({ port: 2222 });
    expect(fileDrop.options.parse({ transport: { ...sftp, password: 'pw' } }).transport).to.include({ port: 22 });
  });

  it('takes both acknowledgement modes and refuses done = error', () => {
    const files = fileDrop.options.parse({
      transport: local,
      acknowledgement: { mode: 'files', timeoutMs: 60_000, referencePath: '/quittung/az' },
    });
    expect(files.acknowledgement).to.deep.equal({ mode: 'files', timeoutMs: 60_000, referencePath: '/quittung/az' });
    const folders = fileDrop.options.parse({ transport: local, acknowledgement: { mode: 'folders' } });
    expect(folders.acknowledgement).to.deep.include({ mode: 'folders', done: 'done', error: 'error' });
    expect(parse({ transport: local, acknowledgement: { mode: 'folders', done: 'x', error: 'x' } }).success).to.equal(false);
    expect(parse({ transport: local, acknowledgement: { mode: 'folders', done: '../elsewhere' } }).success).to.equal(false);
    expect(parse({ transport: local, acknowledgement: { mode: 'mail' } }).success).to.equal(false);
  });

  it('converts to JSON Schema', () => {
    expect(() => z.toJSONSchema(fileDrop.options, { io: 'input', unrepresentable: 'any' })).not.to.throw();
  });
});

describe('file-drop naming', () => {
  const parts = { tenant: '05513000', service: 'hundeanmeldung', deliveryId: '0190c0de-aaaa-7000-8000-000000000001', ext: 'xml' };
  const at = new Date(2026, 11, 7, 9, 5, 3);

  it('renders every placeholder, date and time from the attempt', () => {
    expect(renderFileName('{tenant}_{service}_{date}_{time}_{deliveryId}.{ext}', { ...parts, at })).to.equal(
      '05513000_hundeanmeldung_20261207_090503_0190c0de-aaaa-7000-8000-000000000001.xml',
    );
  });

  it('keeps values from adding separators or a leading dot', () => {
    expect(renderFileName('{tenant}{service}_{deliveryId}', { ...parts, tenant: '../x', service: 'a/b c', at })).to.equal(
      '___xa_b_c_0190c0de-aaaa-7000-8000-000000000001',
    );
  });

  it('finds the name of an earlier attempt and its time', () => {
    const pattern = '{date}_{deliveryId}_{time}_{date}.{ext}';
    const re = sameDeliveryMatcher(pattern, parts);
    const earlier = renderFileName(pattern, { ...parts, at });
    const m = re.exec(earlier);
    expect(m, earlier).to.not.equal(null);
    expect(renderFileName(pattern, { ...parts, at: timeOfMatch(m!, new Date(at.getTime() + 86_400_000)) })).to.equal(earlier);
    expect(re.test(earlier.replace('0001', '0002')), 'another delivery').to.equal(false);
    expect(re.test('20261207_0190c0de-aaaa-7000-8000-000000000001_090503_20261208.xml'), 'two dates').to.equal(false);
  });

  it('derives stem and zip names from the pattern', () => {
    expect(stemPattern('{deliveryId}.{ext}')).to.equal('{deliveryId}');
    expect(stemPattern('{deliveryId}.xml')).to.equal('{deliveryId}.xml');
    expect(primaryPattern('{deliveryId}.{ext}', 'zip')).to.equal('{deliveryId}.zip');
    expect(primaryPattern('{deliveryId}.{ext}', 'beside')).to.equal('{deliveryId}.{ext}');
  });

  for (const [raw, safe] of [
    ['Lichtbild.jpg', 'Lichtbild.jpg'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\Erika\\Impfpass Größe.pdf', 'Impfpass_Groesse.pdf'],
    ['.htaccess', 'htaccess'],
    ['café über straße.png', 'cafe_ueber_strasse.png'],
    ['', 'attachment'],
    ['...', 'attachment'],
    ['a'.repeat(300) + '.pdf', 'a'.repeat(96) + '.pdf'],
    ['CON.pdf', '_CON.pdf'],
    ['nul', '_nul'],
    ['com1.tar.gz', '_com1.tar.gz'],
    ['Antrag.pdf. . .', 'Antrag.pdf'],
    ['tab\tnew\nline\u0000nul.pdf', 'tab_new_line_nul.pdf'],
    ['rechnung\u202Efdp.exe', 'rechnung_fdp.exe'],
  ] as const) {
    it(`sanitises the attachment name ${JSON.stringify(raw.slice(0, 40))}`, () => {
      expect(sanitizeAttachmentName(raw)).to.equal(safe);
    });
  }

  it('numbers attachments from 1', () => {
    expect(attachmentFileName('stem', 0, 'a b.pdf')).to.equal('stem.1-a_b.pdf');
  });
});

describe('file-drop error classification', () => {
  const where = '/srv/drop';
  const cases: [unknown, boolean, string][] = [
    [{ code: 'ENOSPC' }, true, 'disk-full'],
    [{ code: 'EACCES' }, true, 'permission'],
    [{ code: 'ENOENT' }, true, 'directory-missing'],
    [{ code: 'ENOTDIR' }, true, 'directory-missing'],
    [{ code: 'ETIMEDOUT' }, true, 'timeout'],
    [{ code: 'ECONNREFUSED' }, true, 'network'],
    [{ code: 'EIO' }, true, 'io'],
    [{ code: 'ENAMETOOLONG' }, false, 'invalid'],
    [Object.assign(new Error('No such file'), { code: 2 }), true, 'directory-missing'],
    [Object.assign(new Error('Permission denied'), { code: 3 }), true, 'permission'],
    [Object.assign(new Error('Failure'), { code: 4 }), true, 'io'],
    [new Error('Timed out while waiting for handshake'), true, 'timeout'],
    [new HostKeyMismatchError(HOST_KEY, 'SHA256:' + 'B'.repeat(43)), false, 'host-key'],
    [new AuthError('authentication failed'), false, 'auth'],
    [new ConfigError('bad key'), false, 'config'],
  ];
  for (const [err, retryable, kind] of cases) {
    it(`${kind} (${JSON.stringify((err as { code?: unknown }).code ?? (err as Error).message)}) is ${retryable ? 'retryable' : 'permanent'}`, () => {
      expect(classifyError(err, where)).to.deep.include({ ok: false, retryable, errorKind: kind });
    });
  }
});

describe('file-drop acknowledgement files', () => {
  const b = (s: string) => Buffer.from(s, 'utf8');

  it('takes the first non-empty line as the reference, one line, at most 200 characters', () => {
    expect(referenceFrom(b('\n  AZ-2026-0042  \r\nzweite Zeile\n'))).to.equal('AZ-2026-0042');
    expect(referenceFrom(b(''))).to.equal(null);
    expect(firstLine(b('x'.repeat(500)))).to.have.length(200);
  });

  it('reads the reference at referencePath from JSON and XML', () => {
    expect(referenceFrom(b('{"quittung":{"az":"HU-77"}}'), '/quittung/az')).to.equal('HU-77');
    expect(referenceFrom(b('{"list":[{"az":12}]}'), '/list/0/az')).to.equal('12');
    expect(referenceFrom(b('<?xml version="1.0"?><q:quittung xmlns:q="urn:x"><q:az>HU-78</q:az></q:quittung>'), '/quittung/az')).to.equal(
      'HU-78',
    );
    expect(referenceFrom(b('<quittung><az typ="neu">HU-79</az></quittung>'), '/quittung/az')).to.equal('HU-79');
    expect(referenceFrom(b('<quittung az="HU-80"/>'), '/quittung/@az')).to.equal('HU-80');
    expect(referenceFrom(b('{"quittung":{}}'), '/quittung/az')).to.equal(null);
    expect(referenceFrom(b('{broken'), '/quittung/az')).to.equal(null);
    expect(referenceFrom(b('{}'), '/__proto__')).to.equal(null);
  });

  it('waits for an ack file that may still be being written', () => {
    const now = Date.now();
    expect(isSettled(b('AZ-1\n'), now, now)).to.equal(true);
    expect(isSettled(b('AZ-1'), now, now)).to.equal(false);
    expect(isSettled(b(''), now, now)).to.equal(false);
    expect(isSettled(b('AZ-1'), now - SETTLE_MS, now)).to.equal(true);
  });
});

describe('file-drop zip and host key helpers', () => {
  const entries = [
    { name: 'b.xml', content: Buffer.from('<a/>') },
    { name: 'b.1-foto.jpg', content: Buffer.alloc(1000, 7) },
  ];

  it('builds the same zip bytes in any order and in any time zone', async function () {
    this.timeout(20_000);
    const here = await buildZip(entries);
    expect((await buildZip([...entries].reverse())).equals(here)).to.equal(true);
    // Another process in another zone: DOS time stamps are local time, a classic source of drift.
    const zone = new Date().getTimezoneOffset() === -540 ? 'America/New_York' : 'Asia/Tokyo';
    const script = `import { buildZip } from ${JSON.stringify(fileURLToPath(new URL('./zip.ts', import.meta.url)))};
      const z = await buildZip([{ name: 'b.xml', content: Buffer.from('<a/>') }, { name: 'b.1-foto.jpg', content: Buffer.alloc(1000, 7) }]);
      process.stdout.write((await import('node:crypto')).createHash('sha256').update(z).digest('hex'));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, TZ: zone },
    });
    expect(stdout).to.equal(createHash('sha256').update(here).digest('hex'));
  });

  it('computes OpenSSH fingerprints', () => {
    // SHA-256 of no bytes, base64 without its padding; real keys are checked against sshd in sftp.test.ts.
    expect(hostKeyFingerprint(Buffer.alloc(0))).to.equal('SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU');
  });
});
