/**
 * Summarizes a V8 CPU profile written by `BENCH_CPU_PROF=1 npm run bench`:
 *
 *   node --import tsx bench/profile-summary.ts bench/results/profiles/<stamp>/sqlite.cpuprofile [top]
 *
 * Prints self time by where the code lives (a package under node_modules, a folder of src/ or adapters/,
 * node's internals, native/GC/idle) and the functions with the most self time. The profile covers the whole
 * life of the process (start-up, warm-up, measurement, shutdown); "(idle)" is time the event loop waited.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

// Piped into head: stop quietly when the reader goes away.
process.stdout.on('error', () => process.exit(0));

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: bench/profile-summary.ts FILE.cpuprofile [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

/** Where a frame's code lives, coarse enough to add up. */
function bucket(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg ${nm[1]}`;
  const own = /\/(src\/[^/]+|adapters\/[^/]+|bench)\//.exec(url);
  if (own) return own[1]!;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  return url;
}

const selfByBucket = new Map<string, number>();
const selfByFn = new Map<string, number>();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]!);
  const dt = profile.timeDeltas[i] ?? 0;
  if (!node) continue;
  total += dt;
  const { url, functionName, lineNumber } = node.callFrame;
  const b = bucket(url, functionName);
  selfByBucket.set(b, (selfByBucket.get(b) ?? 0) + dt);
  const short = url ? url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|adapters|bench)\//, '$1/') : '';
  const fn = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
  selfByFn.set(fn, (selfByFn.get(fn) ?? 0) + dt);
}

const busy = total - (selfByBucket.get('(idle)') ?? 0);
const pct = (v: number, of: number) => `${((v / of) * 100).toFixed(1).padStart(5)}%`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
process.stdout.write(`${file}: ${ms(total).trim()} sampled, ${ms(busy).trim()} not idle\n\nself time by place (share of not-idle time)\n`);
for (const [b, t] of [...selfByBucket].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`  ${ms(t)}  ${b === '(idle)' ? '      ' : pct(t, busy)}  ${b}\n`);
}
process.stdout.write(`\ntop ${top} functions by self time\n`);
for (const [f, t] of [...selfByFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`  ${ms(t)}  ${f.startsWith('(idle)') ? '      ' : pct(t, busy)}  ${f}\n`);
}
