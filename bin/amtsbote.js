#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ (`npm run build`, done by `npm install`) while no source is newer than
// the build; otherwise the TypeScript sources through tsx, so a fresh clone without a build, or a source edited
// since, still runs, and never stale code. AMTSBOTE_FROM_SOURCE=1 forces the sources.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url);

/** Whether a file or folder under `dir` changed after `than` (ms); stops at the first. */
function newerThan(dir, than) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = new URL(e.name + (e.isDirectory() ? '/' : ''), dir);
    if (statSync(p).mtimeMs > than || (e.isDirectory() && newerThan(p, than))) return true;
  }
  return false;
}

function distIsFresh() {
  if (process.env.AMTSBOTE_FROM_SOURCE === '1') return false;
  try {
    const built = statSync(new URL('dist/BUILT', root)).mtimeMs;
    // Folders count too: a deleted or renamed source changes its folder's time.
    return !['src/', 'adapters/'].some((d) => statSync(new URL(d, root)).mtimeMs > built || newerThan(new URL(d, root), built));
  } catch {
    return false;
  }
}

if (distIsFresh()) {
  await import('../dist/src/cli/index.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
