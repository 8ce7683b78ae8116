// `npm run build`, run by `npm install` (prepare): compiles src/ and adapters/ to dist/ (tsconfig.build.json)
// so bin/amtsbote.js starts without transpiling. Type errors are `npm test`'s business (tsc --noEmit), so the
// emit skips the check. dist/BUILT carries the time the build started: bin/amtsbote.js runs dist/ only while
// no source is newer, so an edit made during or after a build never runs stale code. Without TypeScript
// installed (npm install --omit=dev) there is nothing to build and bin/ runs the sources through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url);
const started = new Date();
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.log('amtsbote build: TypeScript is not installed; bin/amtsbote.js runs the sources through tsx');
  process.exit(0);
}
const dist = new URL('dist/', root);
if (existsSync(dist)) rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noCheck'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('amtsbote build: tsc failed; bin/amtsbote.js runs the sources through tsx');
  process.exit(r.status ?? 1);
}
// tsc leaves some dynamic imports' `.ts` unrewritten (seen with --noCheck in adapters/xml-http): finish the job.
for (const f of readdirSync(dist, { recursive: true })) {
  if (!f.endsWith('.js')) continue;
  const file = new URL(f, dist);
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/import\((['"])(\.{1,2}\/[^'"]+)\.ts\1\)/g, 'import($1$2.js$1)');
  if (fixed !== text) writeFileSync(file, fixed);
}
mkdirSync(dist, { recursive: true });
const stamp = new URL('BUILT', dist);
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
