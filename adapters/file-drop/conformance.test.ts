import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAdapterConformance, xmlMessage, type ConformanceHarness } from '../../src/sdk/conformance.ts';
import fileDrop from './index.ts';
import { startSshd, type TestSshd } from './test-sshd.ts';

// The standard suite against a real folder: the "back office" is the directory itself. Its message
// files are what was filed (by the delivery id in their names), their bytes what was received. The
// suite calls the harness synchronously, so it works the folder with the synchronous fs calls.

/** The suite's own delivery ids (deliveryContext in src/sdk/conformance.ts): a fixed prefix and a counter. */
const SUITE_ID = /0190c0de-0000-7000-8000-(\d{12})/;
const suiteId = (n: number) => `0190c0de-0000-7000-8000-${String(n).padStart(12, '0')}`;
const PLANTED = 'a different case that was here first\n';

interface FolderBackOffice {
  /** Prepares the folder (and its server) and returns its path on this machine. */
  start(): Promise<string>;
  stop(): Promise<void>;
  options(dir: string): Record<string, unknown>;
  badCredentialOptions?(dir: string): Record<string, unknown>;
  secrets(): string[];
}

function folderHarness(backOffice: FolderBackOffice): ConformanceHarness {
  let dir = '';
  let planted: string[] = [];
  const received: Buffer[] = [];
  const seen = new Set<string>();

  const messageFiles = () =>
    (statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? readdirSync(dir) : [])
      .filter((n) => SUITE_ID.test(n) && !n.startsWith('.') && !planted.includes(n))
      .sort();

  /** Reads message files not seen before; names carry the suite's counter, so name order is write order. */
  function scan(): void {
    for (const n of messageFiles()) {
      if (seen.has(n)) continue;
      seen.add(n);
      received.push(readFileSync(join(dir, n)));
    }
  }

  function restore(): void {
    if (existsSync(`${dir}.away`)) {
      rmSync(dir, { force: true });
      renameSync(`${dir}.away`, dir);
    }
    for (const n of planted) {
      const p = join(dir, n);
      if (existsSync(p) && readFileSync(p, 'utf8') === PLANTED) rmSync(p);
    }
    planted = [];
  }

  return {
    async start() {
      dir = await backOffice.start();
      planted = [];
      received.length = 0;
      seen.clear();
    },
    async stop() {
      restore();
      await backOffice.stop();
    },
    options: () => backOffice.options(dir),
    ...(backOffice.badCredentialOptions ? { badCredentialOptions: () => backOffice.badCredentialOptions!(dir) } : {}),
    get secrets() {
      return backOffice.secrets();
    },
    behave(b) {
      restore();
      scan();
      if (b === 'retryable') {
        // A share that went away: the folder is replaced by a plain file (ENOTDIR) until the next behave().
        renameSync(dir, `${dir}.away`);
        writeFileSync(dir, 'the share is not mounted\n');
      } else if (b === 'permanent') {
        // A folder cannot refuse a message; the one permanent outcome a drop has is a name conflict: a
        // different file already under the name the delivery needs. The suite's ids come from a counter,
        // so such files are planted for the next ids after the newest seen (the 'retryable' test's id
        // left no file, hence a window), and removed again on the next behave().
        const newest = Math.max(0, ...[...seen].map((n) => Number(SUITE_ID.exec(n)?.[1] ?? 0)));
        for (let i = newest + 1; i <= newest + 50; i++) {
          const name = `05513000_conformance_${suiteId(i)}.xml`;
          if (existsSync(join(dir, name))) continue;
          writeFileSync(join(dir, name), PLANTED);
          planted.push(name);
        }
      }
    },
    // deliver() writes a file and reads no answer; the back office's verdict comes later as <name>.ok or .err
    // (or a move to done/ or error/), which the acknowledgement tests cover. No success can carry a refusal.
    refusal: { notApplicable: 'a folder gives no answer to deliver(); the verdict is the separate .ok/.err file' },
    filed: () => messageFiles().map((n) => ({ idempotencyKey: SUITE_ID.exec(n)![0] })),
    received: () => {
      scan();
      return received;
    },
    message: xmlMessage('<?xml version="1.0" encoding="UTF-8"?><sperrmuell><termin>2026-12-07</termin><stueck>3</stueck></sperrmuell>'),
  };
}

// --- a local folder ---
let localRoot = '';
describeAdapterConformance(
  fileDrop,
  folderHarness({
    async start() {
      localRoot = mkdtempSync(join(tmpdir(), 'amtsbote-conformance-'));
      mkdirSync(join(localRoot, 'drop'));
      return join(localRoot, 'drop');
    },
    async stop() {
      rmSync(localRoot, { recursive: true, force: true });
    },
    options: (dir) => ({ transport: { type: 'local', directory: dir } }),
    // A local folder has no credentials: the suite skips its bad-credential test.
    secrets: () => [],
  }),
);

// --- the same folder behind a real OpenSSH server, with a passphrase-protected key ---
describe('file-drop conformance over SFTP', () => {
  let sshd: TestSshd | undefined;
  before(async function () {
    this.timeout(30_000);
    const started = await startSshd();
    if ('unavailable' in started) {
      console.warn(`      SFTP conformance skipped: ${started.unavailable}`);
      return this.skip();
    }
    sshd = started;
  });
  after(async () => {
    await sshd?.stop();
  });

  const sftp = (dir: string, over: Record<string, unknown> = {}) => ({
    transport: {
      type: 'sftp',
      host: '127.0.0.1',
      port: sshd!.port,
      username: sshd!.username,
      privateKey: sshd!.encryptedKey,
      passphrase: sshd!.passphrase,
      hostKey: sshd!.hostKey,
      directory: dir,
      ...over,
    },
  });

  describeAdapterConformance(
    fileDrop,
    folderHarness({
      async start() {
        const dir = join(sshd!.root, 'conformance-drop');
        mkdirSync(dir, { recursive: true });
        return dir;
      },
      async stop() {},
      options: (dir) => sftp(dir),
      badCredentialOptions: (dir) => sftp(dir, { privateKey: sshd!.strangerKey, passphrase: undefined }),
      secrets: () => [sshd!.passphrase],
    }),
  );
});
