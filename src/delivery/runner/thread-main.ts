// A delivery thread (worker_threads): it builds from the configuration folder what the hub builds for rendering
// and sending (Router, adapters) and runs the in-process runner for the requests of the main thread's
// ThreadRunner (thread-pool.ts). It is a composition root of its own, like src/hub.ts, which is why it, and no
// other file of src/delivery/, imports the built-in adapters. The store stays on the main thread: the adapters'
// memo is a call back to it, and their log lines go to the main thread's logger.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import winston from 'winston';
import { builtinAdapters } from '../../../adapters/index.ts';
import type { Clock } from '../../clock.ts';
import { adapterRegistry } from '../../config/adapter-folders.ts';
import { closeAdapters, createAdapters } from '../../config/adapter-instances.ts';
import { loadConfig } from '../../config/load.ts';
import { warmXdomeaValidator } from '../../mapping/xdomea/render.ts';
import { Router } from '../../routing/router.ts';
import type { DeliveryMemo } from '../../sdk/types.ts';
import { InProcessRunner } from './in-process.ts';
import { LogRelay } from './log-relay.ts';
import { type FromThread, reviveSource, type ThreadData, type ToThread } from './protocol.ts';

const port = parentPort!;
const { configDir, now: startedAt } = workerData as ThreadData;
const post = (m: FromThread) => port.postMessage(m);

// The hub's one clock, as far as a thread can have it: each request carries the main thread's now(), and the
// thread counts on from there with its monotonic clock. A test's fake clock is therefore seen as it stood at
// the request, plus the real milliseconds the attempt has taken since; a move of the fake clock in the middle
// of an attempt reaches the thread with its next request. Until the first one, it counts from the main thread's
// now() when the thread was started.
let offset = startedAt - performance.now();
const clock: Clock = () => performance.now() + offset;
const follow = (now: number) => {
  offset = now - performance.now();
};

/** Memo calls waiting for the main thread's answer. */
const calls = new Map<number, { resolve: (v: string | undefined) => void; reject: (e: Error) => void }>();
let nextCall = 0;
function memoOf(id: number): DeliveryMemo {
  const call = (op: 'recall' | 'remember', key: string, value?: string) =>
    new Promise<string | undefined>((resolve, reject) => {
      const c = nextCall++;
      calls.set(c, { resolve, reject });
      post({ type: 'memo', call: c, id, op, key, ...(value !== undefined ? { value } : {}) });
    });
  return { recall: (key) => call('recall', key), remember: async (key, value) => void (await call('remember', key, value)) };
}

async function main(): Promise<void> {
  const config = loadConfig(configDir, { adapters: await adapterRegistry(configDir, builtinAdapters), env: process.env });
  const logger = winston.createLogger({ level: config.hub.log.level, transports: [new LogRelay(port)] });
  const router = new Router(config);
  const adapters = await createAdapters(config, (t) => logger.child({ target: t.id, adapter: t.adapter.type }), clock);
  // As the worker does before its first claim; a missing or broken set was reported there already.
  if ([...config.targets.values()].some((t) => t.format === 'xdomea')) await warmXdomeaValidator().catch(() => undefined);
  const runner = new InProcessRunner({ router, adapters });

  port.on('message', (m: ToThread) => {
    if (m.type === 'memo-answer') {
      const c = calls.get(m.call);
      calls.delete(m.call);
      if (m.error !== undefined) c?.reject(new Error(m.error));
      else c?.resolve(m.value);
    } else if (m.type === 'run') {
      follow(m.now);
      runner.run(m.delivery, reviveSource(m.source), memoOf(m.id)).then(
        (outcome) => post({ type: 'ran', id: m.id, outcome }),
        (e: Error) => post({ type: 'threw', id: m.id, error: e.message }),
      );
    } else if (m.type === 'ack') {
      follow(m.now);
      runner.acknowledgement(m.delivery).then(
        (ack) => post({ type: 'acked', id: m.id, ack }),
        (e: Error) => post({ type: 'threw', id: m.id, error: e.message }),
      );
    } else if (m.type === 'close') {
      // Sockets and watchers of the adapters; then nothing holds the thread and it ends.
      void closeAdapters(adapters).finally(() => port.close());
    }
  });
  post({ type: 'ready' });
}

main().catch((e: Error) => {
  post({ type: 'failed', error: e.message });
  port.close();
});
