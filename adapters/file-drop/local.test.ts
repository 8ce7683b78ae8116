import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { capturingLogger, jsonMessage, xmlMessage } from '../../src/sdk/conformance.ts';
import type { AdapterInstance, DeliveryContext, DeliveryResult, OutboundMessage } from '../../src/sdk/index.ts';
import fileDrop from './index.ts';
import { systemClock } from '../../src/clock.ts';
import { HOSTILE_NAMES } from './test-hostile-names.ts';

// Real folders under the system temp dir; the test plays the batch job where one is needed.

const CITIZEN = 'Erika Mustermann, Heidestraße 17';
const message = xmlMessage(`<?xml version="1.0" encoding="UTF-8"?><antrag><halter>${CITIZEN}</halter><rasse>Dackel</rasse></antrag>`);
const { logger, lines } = capturingLogger();
const instances: AdapterInstance[] = [];
let root: string;
let dir: string;
let seq = 0;

function ctx(over: Partial<DeliveryContext> = {}): DeliveryContext {
  seq++;
  const id = `0190c0de-1111-7000-8000-${String(seq).padStart(12, '0')}`;
  return { deliveryId: id, idempotencyKey: id, submissionId: 'sub-1', tenant: '05513000', service: 'hundeanmeldung', attempt: 1, ...over };
}

async function adapter(options: Record<string, unknown> = {}, timeoutMs = 5000): Promise<AdapterInstance> {
  const parsed = fileDrop.options.parse({ transport: { type: 'local', directory: dir }, ...options });
  const instance = await fileDrop.create(parsed, { clock: systemClock, targetId: 'drop-test', logger, timeoutMs });
  instances.push(instance);
  return instance;
}

const ls = async (d = dir) => (await readdir(d)).sort();
const okResult = (r: DeliveryResult) => {
  expect(r.ok, JSON.stringify(r)).to.equal(true);
  return r as Extract<DeliveryResult, { ok: true }>;
};
const fileOf = (r: DeliveryResult) => String(okResult(r).detail?.file);

function withAttachments(m: OutboundMessage): OutboundMessage {
  const a = (filename: string, content: Buffer) => ({
    filename,
    mediaType: 'application/octet-stream',
    size: content.length,
    sha256: '',
    content,
  });
  return { ...m, attachments: [a('Impfpass Größe.pdf', Buffer.from('%PDF-1.7 impfpass')), a('../foto.jpg', Buffer.alloc(5000, 0xff))] };
}

describe('file-drop local', () => {
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'amtsbote-drop-'));
    dir = join(root, 'drop');
    await mkdir(dir);
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((i) => i.close?.()));
    await chmod(dir, 0o755).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });
  after(() => {
    // Citizens' data never reaches the log.
    expect(lines.join('\n')).not.to.include('Mustermann');
  });

  describe('file-drop local: writing', () => {
    it('writes the message atomically under the default name, nothing else left behind', async () => {
      const a = await adapter();
      const c = ctx();
      const r = okResult(await a.deliver(message, c));
      const name = `05513000_hundeanmeldung_${c.deliveryId}.xml`;
      expect(r).to.deep.include({ reference: null });
      expect(r.awaitingAck).to.equal(undefined);
      expect(r.detail).to.deep.equal({ file: name });
      expect(await ls()).to.deep.equal([name]);
      expect(await readFile(join(dir, name), 'utf8')).to.equal(message.text);
    });

    it('writes a pass-through original byte for byte, also in ISO-8859-1', async () => {
      const bytes = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?>\r\n<anzeige>Stra\xdfe</anzeige>', 'latin1');
      const original: OutboundMessage = {
        ...xmlMessage(bytes.toString('latin1')),
        contentType: 'application/xml; charset=iso-8859-1',
        bytes,
      };
      const a = await adapter();
      const file = fileOf(await a.deliver(original, ctx()));
      expect((await readFile(join(dir, file))).equals(bytes)).to.equal(true);
    });

    it('names files by the pattern, {ext} from the message format', async () => {
      const a = await adapter({ fileName: 'HUND-{date}-{time}-{tenant}-{deliveryId}.{ext}' });
      const c = ctx();
      const name = fileOf(await a.deliver(jsonMessage({ rasse: 'Dackel' }), c));
      expect(name).to.match(new RegExp(`^HUND-\\d{8}-\\d{6}-05513000-${c.deliveryId}\\.json$`));
      const now = new Date();
      expect(name.slice(5, 13)).to.equal(
        `${now.getFullYear()}${String(now.getMonth() + 1).padStart(2, '0')}${String(now.getDate()).padStart(2, '0')}`,
      );
    });

    it('never overwrites: a different file under the name is a permanent failure and stays untouched', async () => {
      const a = await adapter();
      const c = ctx();
      const name = `05513000_hundeanmeldung_${c.deliveryId}.xml`;
      await writeFile(join(dir, name), 'somebody else');
      const r = await a.deliver(message, c);
      expect(r).to.deep.include({ ok: false, retryable: false, errorKind: 'conflict' });
      expect(await readFile(join(dir, name), 'utf8')).to.equal('somebody else');
      expect(await ls()).to.deep.equal([name]);
    });

    it('treats a retry that finds its own file as success, without a second file', async () => {
      const a = await adapter();
      const c = ctx();
      const first = okResult(await a.deliver(message, c));
      const second = okResult(await a.deliver(message, { ...c, attempt: 2 }));
      expect(second.detail).to.deep.equal({ file: first.detail!.file, alreadyThere: true });
      expect(await ls()).to.have.length(1);
    });

    it('finds an earlier attempt written at another time when the name has {date}/{time}', async () => {
      const a = await adapter({ fileName: '{date}_{time}_{deliveryId}.{ext}' });
      const c = ctx();
      const earlier = `20251231_235959_${c.deliveryId}.xml`;
      await writeFile(join(dir, earlier), message.text);
      const r = okResult(await a.deliver(message, { ...c, attempt: 2 }));
      expect(r.detail).to.deep.equal({ file: earlier, alreadyThere: true });
      expect(await ls()).to.deep.equal([earlier]);
      // The same name with other bytes is still a conflict.
      const c2 = ctx();
      await writeFile(join(dir, `20251231_235959_${c2.deliveryId}.xml`), 'other');
      expect(await a.deliver(message, c2)).to.deep.include({ ok: false, retryable: false, errorKind: 'conflict' });
    });

    it('lets concurrent attempts of one delivery end with one file and no temp files', async () => {
      const a = await adapter();
      const c = ctx();
      const results = await Promise.all([1, 2, 3, 4, 5].map((attempt) => a.deliver(message, { ...c, attempt })));
      for (const r of results) okResult(r);
      expect(await ls()).to.deep.equal([`05513000_hundeanmeldung_${c.deliveryId}.xml`]);
    });

    it('writes attachments beside the message as <stem>.<n>-<name>, sanitised', async () => {
      const a = await adapter({ attachments: 'beside' });
      const c = ctx();
      const stem = `05513000_hundeanmeldung_${c.deliveryId}`;
      const r = okResult(await a.deliver(withAttachments(message), c));
      expect(r.detail).to.deep.equal({
        file: `${stem}.xml`,
        files: [`${stem}.1-Impfpass_Groesse.pdf`, `${stem}.2-foto.jpg`, `${stem}.xml`],
      });
      expect(await ls()).to.deep.equal([`${stem}.1-Impfpass_Groesse.pdf`, `${stem}.2-foto.jpg`, `${stem}.xml`]);
      expect(await readFile(join(dir, `${stem}.2-foto.jpg`))).to.deep.equal(Buffer.alloc(5000, 0xff));
      // A retry after a crash between the attachments and the message completes the set.
      await rm(join(dir, `${stem}.xml`));
      okResult(await a.deliver(withAttachments(message), { ...c, attempt: 2 }));
      expect(await ls()).to.have.length(3);
    });

    it('zips message and attachments into one deterministic <stem>.zip', async () => {
      const a = await adapter({ attachments: 'zip' });
      const c = ctx();
      const stem = `05513000_hundeanmeldung_${c.deliveryId}`;
      expect(fileOf(await a.deliver(withAttachments(message), c))).to.equal(`${stem}.zip`);
      expect(await ls()).to.deep.equal([`${stem}.zip`]);
      const zip = join(dir, `${stem}.zip`);
      const { stdout } = await promisify(execFile)('unzip', ['-Z1', zip]);
      expect(stdout.trim().split('\n')).to.deep.equal([`${stem}.1-Impfpass_Groesse.pdf`, `${stem}.2-foto.jpg`, `${stem}.xml`]);
      const { stdout: body } = await promisify(execFile)('unzip', ['-p', zip, `${stem}.xml`]);
      expect(body).to.equal(message.text);
      // The retry builds the very same bytes, so it counts as the earlier attempt's file.
      const again = okResult(await a.deliver(withAttachments(message), { ...c, attempt: 2 }));
      expect(again.detail).to.deep.include({ alreadyThere: true });
    });

    it('delivers the message only with attachments: none, and says so', async () => {
      const a = await adapter();
      const r = okResult(await a.deliver(withAttachments(message), ctx()));
      expect(r.warning).to.match(/2 attachment\(s\) not delivered/);
      expect(await ls()).to.have.length(1);
    });

    it('writes only the message and stays quiet with attachments: embedded (the mapping carries them)', async () => {
      const a = await adapter({ attachments: 'embedded' });
      const r = okResult(await a.deliver(withAttachments(message), ctx()));
      expect(r.warning).to.equal(undefined);
      expect(await ls()).to.have.length(1);
    });

    it('calls a missing directory or a directory replaced by a file retryable, and recovers', async () => {
      const a = await adapter();
      await rename(dir, `${dir}.away`);
      expect(await a.deliver(message, ctx())).to.deep.include({ ok: false, retryable: true, errorKind: 'directory-missing' });
      await writeFile(dir, 'not a folder');
      expect(await a.deliver(message, ctx())).to.deep.include({ ok: false, retryable: true, errorKind: 'directory-missing' });
      await rm(dir);
      await rename(`${dir}.away`, dir);
      okResult(await a.deliver(message, ctx()));
    });
  });

  describe('file-drop local: acknowledgement by files', () => {
    it('is pending until the job writes <name>.ok, then accepted with the reference', async () => {
      const a = await adapter({ acknowledgement: { mode: 'files', timeoutMs: 60_000 } });
      const r = okResult(await a.deliver(message, ctx()));
      const name = String(r.detail!.file);
      expect(r.reference).to.equal(null);
      expect(r.awaitingAck).to.deep.equal({ token: name, timeoutMs: 60_000 });
      expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'pending' });
      // The batch job: takes the file, confirms with the Aktenzeichen.
      await rm(join(dir, name));
      await writeFile(join(dir, `${name}.ok`), 'HU-2026-0042\n');
      expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'accepted', reference: 'HU-2026-0042' });
    });

    it('is rejected with the first line of <name>.err, one line, at most 200 characters', async () => {
      const a = await adapter({ acknowledgement: { mode: 'files', timeoutMs: 60_000 } });
      const name = fileOf(await a.deliver(message, ctx()));
      await writeFile(join(dir, `${name}.err`), `\nPflichtfeld fehlt: Rasse ${'x'.repeat(300)}\nStacktrace …\n`);
      const ack = await a.acknowledgement!(name);
      expect(ack.state).to.equal('rejected');
      const error = (ack as { error: string }).error;
      expect(error).to.match(/^Pflichtfeld fehlt: Rasse x+…$/);
      expect(error).to.have.length(200);
    });

    it('reads the reference at referencePath from a JSON or XML .ok', async () => {
      const a = await adapter({ acknowledgement: { mode: 'files', timeoutMs: 60_000, referencePath: '/quittung/aktenzeichen' } });
      const one = fileOf(await a.deliver(message, ctx()));
      await writeFile(join(dir, `${one}.ok`), '{"quittung":{"aktenzeichen":"HU-1"}}\n');
      expect(await a.acknowledgement!(one)).to.deep.equal({ state: 'accepted', reference: 'HU-1' });
      const two = fileOf(await a.deliver(message, ctx()));
      await writeFile(join(dir, `${two}.ok`), '<quittung><aktenzeichen>HU-2</aktenzeichen></quittung>\n');
      expect(await a.acknowledgement!(two)).to.deep.equal({ state: 'accepted', reference: 'HU-2' });
    });

    it('waits for an .ok that may still be being written (no line end, just modified)', async () => {
      const a = await adapter({ acknowledgement: { mode: 'files', timeoutMs: 60_000 } });
      const name = fileOf(await a.deliver(message, ctx()));
      await writeFile(join(dir, `${name}.ok`), 'HU-20');
      expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'pending' });
      const past = new Date(Date.now() - 10_000);
      await utimes(join(dir, `${name}.ok`), past, past);
      expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'accepted', reference: 'HU-20' });
    });

    it('does not write again when a retry finds the job already answered', async () => {
      const a = await adapter({ acknowledgement: { mode: 'files', timeoutMs: 60_000 } });
      const c = ctx();
      const name = fileOf(await a.deliver(message, c));
      await rm(join(dir, name));
      await writeFile(join(dir, `${name}.ok`), 'HU-3\n');
      const again = okResult(await a.deliver(message, { ...c, attempt: 2 }));
      expect(again.awaitingAck?.token).to.equal(name);
      expect(await ls()).to.deep.equal([`${name}.ok`]);
    });

    it('throws a clean error while the folder cannot be read, so the hub asks again', async () => {
      const a = await adapter({
        transport: { type: 'local', directory: join(root, 'plain-file', 'drop') },
        acknowledgement: { mode: 'files', timeoutMs: 60_000 },
      });
      await writeFile(join(root, 'plain-file'), 'x');
      let error = '';
      await a.acknowledgement!('05513000_x_y.xml').catch((e: Error) => (error = e.message));
      expect(error).to.include('directory missing or not a directory (ENOTDIR)');
    });

    it('refuses tokens that are not its own file names', async () => {
      const a = await adapter({ acknowledgement: { mode: 'files', timeoutMs: 60_000 } });
      for (const token of ['../etc/passwd', '/etc/passwd', '.hidden', '']) {
        expect((await a.acknowledgement!(token)).state, token).to.equal('rejected');
      }
    });
  });

  describe('file-drop local: acknowledgement by folders', () => {
    it('is accepted when the job moves the file to done/ and rejected for error/', async () => {
      const a = await adapter({ acknowledgement: { mode: 'folders', timeoutMs: 120_000 } });
      await mkdir(join(dir, 'done'));
      await mkdir(join(dir, 'error'));
      const one = okResult(await a.deliver(message, ctx()));
      const name = String(one.detail!.file);
      expect(one.awaitingAck).to.deep.equal({ token: name, timeoutMs: 120_000 });
      expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'pending' });
      await rename(join(dir, name), join(dir, 'done', name));
      expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'accepted', reference: null });

      const two = fileOf(await a.deliver(message, ctx()));
      await rename(join(dir, two), join(dir, 'error', two));
      const ack = await a.acknowledgement!(two);
      expect(ack).to.deep.equal({ state: 'rejected', error: `${two} was moved to error/` });
    });

    it('does not drop the file again when a retry finds it in done/', async () => {
      const a = await adapter({ acknowledgement: { mode: 'folders', timeoutMs: 60_000 } });
      await mkdir(join(dir, 'done'));
      const c = ctx();
      const name = fileOf(await a.deliver(message, c));
      await rename(join(dir, name), join(dir, 'done', name));
      const again = okResult(await a.deliver(message, { ...c, attempt: 2 }));
      expect(again.detail).to.deep.include({ alreadyThere: true });
      expect(await ls()).to.deep.equal(['done']);
    });

    it('works with absolute done and error folders', async () => {
      const done = join(root, 'archive-ok');
      const error = join(root, 'archive-err');
      await mkdir(done);
      await mkdir(error);
      const a = await adapter({ acknowledgement: { mode: 'folders', done, error, timeoutMs: 60_000 } });
      expect((await a.check()).ok).to.equal(true);
      const name = fileOf(await a.deliver(message, ctx()));
      await rename(join(dir, name), join(done, name));
      expect(await a.acknowledgement!(name)).to.deep.equal({ state: 'accepted', reference: null });
    });
  });

  describe('file-drop local: check()', () => {
    it('passes on a writable directory and leaves no probe file', async () => {
      const r = await (await adapter()).check();
      expect(r.ok, r.message).to.equal(true);
      expect(await ls()).to.deep.equal([]);
    });

    it('fails on a missing directory', async () => {
      await rm(dir, { recursive: true });
      const r = await (await adapter()).check();
      expect(r).to.deep.include({ ok: false });
      expect(r.message).to.include('does not exist');
    });

    it('fails on a path below a file (ENOTDIR)', async () => {
      await writeFile(join(root, 'plain-file'), 'x');
      const a = await adapter({ transport: { type: 'local', directory: join(root, 'plain-file', 'drop') } });
      const r = await a.check();
      expect(r.ok).to.equal(false);
      expect(r.message).to.include('not a directory');
    });

    it('fails on a read-only directory', async function () {
      // root ignores permission bits: chmod cannot make a folder read-only for it.
      if (process.getuid?.() === 0) return this.skip();
      await chmod(dir, 0o555);
      const r = await (await adapter()).check();
      expect(r.ok).to.equal(false);
      expect(r.message).to.include('not writable');
    });

    it('fails when the acknowledgement folders are missing', async () => {
      const r = await (await adapter({ acknowledgement: { mode: 'folders', timeoutMs: 60_000 } })).check();
      expect(r.ok).to.equal(false);
      expect(r.message).to.include('acknowledgement folder');
    });
  });
});

describe('file-drop local: hostile attachment names stay in the folder', () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'amtsbote-drop-'));
    dir = join(root, 'drop');
    await mkdir(dir);
  });
  after(async () => {
    await Promise.all(instances.splice(0).map((i) => i.close?.()));
    await rm(root, { recursive: true, force: true });
  });

  it('writes every attachment as one plain file inside the drop folder', async () => {
    const a = await adapter({ attachments: 'beside' });
    const attachments = HOSTILE_NAMES.map((filename) => ({
      filename,
      mediaType: 'text/plain',
      size: 1,
      sha256: '',
      content: Buffer.from('x'),
    }));
    okResult(await a.deliver({ ...message, attachments }, ctx()));
    // Nothing beside the drop folder, nothing below it: every file is a plain name in it.
    expect(await readdir(root)).to.deep.equal(['drop']);
    const files = await ls();
    expect(files).to.have.length(HOSTILE_NAMES.length + 1);
    for (const f of files) {
      expect(f, f).to.match(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
      expect(f.split('-').pop()!.split('.')[0], f).not.to.match(/^(con|nul|prn|aux|com\d|lpt\d)$/i);
      expect(f).not.to.match(/\.$/);
    }
  });
});
