import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/amtsbote.js', import.meta.url));

/** A hub running as a real child process (`amtsbote start`), as an operator would run it. */
export interface HubProcess {
  pid: number;
  url: string;
  proc: ChildProcess;
  /** Resolves when the process has ended, with its exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it wrote (stdout and stderr), for failure messages. */
  tail(): string;
  /** SIGTERM (a graceful stop), SIGKILL if it is not gone within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: the process dies at once, mid-whatever it was doing. */
  kill(): Promise<void>;
}

export interface HubProcessOptions {
  configDir: string;
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
  env?: Record<string, string>;
  /** How long to wait for the "hub started" line. */
  readyTimeoutMs?: number;
  /** A command that runs the hub, e.g. `['unshare', '--fork', '--pid', …]`: its arguments, then node's. */
  wrap?: string[];
}

const running = new Set<HubProcess>();
// A test that fails half-way must not leave hubs behind that keep claiming from a dropped schema.
process.on('exit', () => {
  for (const h of running) h.proc.kill('SIGKILL');
});

/**
 * Starts `node bin/amtsbote.js start` on a free port and resolves with its URL once it has logged
 * "hub started" (a JSON line on stdout: the configuration must have `log.console: true`).
 */
export function startHubProcess(o: HubProcessOptions): Promise<HubProcess> {
  const args = [BIN, 'start', '--config', o.configDir, '--data', o.dataDir, '--port', '0', '--no-simulators'];
  if (o.databaseUrl) args.push('--database-url', o.databaseUrl);
  if (o.databaseSchema) args.push('--database-schema', o.databaseSchema);
  const [command, ...prefix] = o.wrap?.length ? [...o.wrap, process.execPath] : [process.execPath];
  const proc = spawn(command!, [...prefix, ...args], { cwd: ROOT, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > 50) lines.shift();
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  createInterface({ input: proc.stderr! }).on('line', keep);
  const stdout = createInterface({ input: proc.stdout! });
  const gone = async (signal: NodeJS.Signals, graceMs: number) => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    running.delete(handle);
  };
  const handle: HubProcess = {
    pid: proc.pid!,
    url: '',
    proc,
    exited,
    tail: () => lines.join('\n'),
    stop: (graceMs = 10_000) => gone('SIGTERM', graceMs),
    kill: () => gone('SIGKILL', 0),
  };
  running.add(handle);
  return new Promise<HubProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      void handle.kill();
      reject(new Error(`hub process ${proc.pid} did not start within ${o.readyTimeoutMs ?? 30_000} ms:\n${handle.tail()}`));
    }, o.readyTimeoutMs ?? 30_000);
    stdout.on('line', (line) => {
      keep(line);
      if (handle.url || !line.includes('"hub started"')) return;
      try {
        const url = (JSON.parse(line) as { url?: string }).url;
        if (!url) return;
        handle.url = url;
        clearTimeout(timer);
        resolve(handle);
      } catch {
        // not a log line
      }
    });
    void exited.then(({ code, signal }) => {
      running.delete(handle);
      if (handle.url) return;
      clearTimeout(timer);
      reject(new Error(`hub process ${proc.pid} exited (${signal ?? `code ${code}`}) before it started:\n${handle.tail()}`));
    });
  });
}
