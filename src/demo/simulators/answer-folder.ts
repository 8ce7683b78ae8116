// A batch job that polls a folder and answers each file beside it, as legacy back offices and DMS imports do:
// `<file>.ok` with a reference, or `<file>.err` with the first problem. The Dorsten batch job and Bottrop's
// DMS differ only in what a file must hold and how they file it (`answer`).

import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SimContext } from './common.ts';

export interface AnswerFolderOptions {
  /** The folder; relative paths resolve against the process's working directory. Created if missing. */
  directory: string;
  intervalMs: number;
  /** The files it takes, e.g. `.xml`. */
  extension: string;
  /** What the log calls the folder, e.g. "drop folder". */
  folder: string;
  /** The answer to the share `ctx.failureRate` of files, and the log line's word for the job. */
  failure: { text: string; label: string };
  /** A file's answer: its reference (`.ok`) or its problem (`.err`); logs what it filed, never the content. */
  answer(name: string, content: Buffer): { ok: string } | { err: string };
}

export interface RunningAnswerFolder {
  directory: string;
  url: string;
  close(): Promise<void>;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Writes beside the file under a dot name first, so nobody (the hub included) reads half an acknowledgement. */
async function writeAck(dir: string, name: string, content: string): Promise<void> {
  const tmp = path.join(dir, `.${name}.tmp`);
  await writeFile(tmp, content + '\n');
  await rename(tmp, path.join(dir, name));
}

export async function startAnswerFolder(ctx: SimContext, opts: AnswerFolderOptions): Promise<RunningAnswerFolder> {
  const dir = path.resolve(opts.directory);
  await mkdir(dir, { recursive: true });
  /** Files already answered in this run; on a restart the `.ok` / `.err` beside a file says the same. */
  const done = new Set<string>();

  async function processFile(name: string): Promise<void> {
    let content: Buffer;
    try {
      content = await readFile(path.join(dir, name));
    } catch (err) {
      // Gone since the listing (someone cleaned up): nothing to answer. Anything else: try again next round.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') done.add(name);
      return;
    }
    if (ctx.failureRate > 0 && ctx.random() < ctx.failureRate) {
      await writeAck(dir, `${name}.err`, opts.failure.text);
      done.add(name);
      ctx.log(`${ctx.kind}: ${opts.failure.label} failed on ${name}`);
      return;
    }
    const a = opts.answer(name, content);
    await ('ok' in a ? writeAck(dir, `${name}.ok`, a.ok) : writeAck(dir, `${name}.err`, a.err));
    done.add(name);
  }

  async function scan(): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      // Dot files are writers' temp files (the file-drop adapter's and this job's own); .ok/.err are answers.
      if (name.startsWith('.') || !name.endsWith(opts.extension) || done.has(name)) continue;
      if ((await exists(path.join(dir, `${name}.ok`))) || (await exists(path.join(dir, `${name}.err`)))) {
        done.add(name);
        continue;
      }
      if (closed) return;
      await processFile(name);
    }
  }

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  // One scan at a time: the next is scheduled when the last has finished, however long it took.
  const tick = () => {
    timer = undefined;
    running = scan()
      .catch((err: NodeJS.ErrnoException) => ctx.log(`${ctx.kind}: scan of the ${opts.folder} failed (${err.code ?? err.name})`))
      .finally(() => {
        running = undefined;
        if (!closed) timer = setTimeout(tick, opts.intervalMs);
      });
  };
  tick();

  return {
    directory: dir,
    url: pathToFileURL(dir).href,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
