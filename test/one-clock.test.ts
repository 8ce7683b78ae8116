import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

// The hub runs on one clock (src/clock.ts), made once in hub.ts and handed to every part. A second reading of
// the machine's clock somewhere inside lets a delivery be stamped on one day and judged on another, and a test
// that moves the hub's clock then fails only when the calendar passes its date. This test keeps it that way.

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The one module that reads the machine's clock. */
const CLOCK_MODULE = 'src/clock.ts';

/** Code that is not the hub and keeps time of its own, so it may read the machine's clock directly. */
const OWN_CLOCK: Record<string, string> = {
  // A test back office (WS-Security UsernameToken): it checks `Created` against its own clock, as a real one does.
  'adapters/soap/fixtures/back-office.ts': 'a test back office, not the hub',
  // Test helpers: waiting for a simulator with a timeout, on the machine's time.
  'src/demo/simulator-test-helpers.ts': 'helpers of the simulator tests, not the hub',
};

/** Where a clock is made from the machine's: the hub itself, and processes or harnesses of their own. */
const MAKES_A_CLOCK: Record<string, string> = {
  'src/hub.ts': 'the hub: HubOptions.clock, else the machine clock',
  'src/cli/replay.ts': 'amtsbote replay: a process of its own',
  'src/cli/config-check.ts': 'amtsbote config check: a process of its own',
  'src/cli/reconcile.ts': 'amtsbote reconcile: a process of its own',
  'src/cli/targets.ts': 'amtsbote targets: a process of its own',
  'src/cli/prune.ts': 'amtsbote prune: a process of its own',
  'src/cli/audit.ts': 'amtsbote audit: a process of its own',
  'src/cli/user.ts': 'amtsbote user: a process of its own',
  'src/cli/purge.ts': 'amtsbote purge: a process of its own',
  'src/cli/keys.ts': 'amtsbote keys: a process of its own',
  // The simulators stand for back offices and a portal, which keep their own time, even when the hub starts them.
  'src/demo/index.ts': 'the demo back offices and portal, not the hub',
  // The conformance kit runs an adapter against real servers on 127.0.0.1, on their time.
  'src/sdk/conformance.ts': 'the adapter conformance kit, a test harness',
};

/** Each reading of the machine's clock in `source`: `Date.now`, `new Date()` and `Date()` without arguments. */
export function clockReads(source: string): { line: number; text: string }[] {
  const patterns = [/\bDate\s*\.\s*now\b/, /\bnew\s+Date\s*\(\s*\)/, /\bnew\s+Date\b(?!\s*\()/, /(?<![\w$.]|new\s)\bDate\s*\(\s*\)/];
  return matches(source, patterns);
}

/** Each use of the machine's clock as the sdk and src/clock.ts give it. */
export function systemClockUses(source: string): { line: number; text: string }[] {
  return matches(source, [/\bsystemClock\b/]);
}

function matches(source: string, patterns: RegExp[]): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  source.split('\n').forEach((text, i) => {
    if (patterns.some((p) => p.test(text))) out.push({ line: i + 1, text: text.trim() });
  });
  return out;
}

/** The hub's own code: every non-test .ts file under src/ and adapters/. */
function hubSources(): string[] {
  return ['src', 'adapters'].flatMap((dir) =>
    readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .map((f) => `${dir}/${f.split(path.sep).join('/')}`)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('/node_modules/')),
  );
}

function offenders(files: string[], find: (source: string) => { line: number; text: string }[], allowed: Record<string, string>): string[] {
  return files
    .filter((f) => !Object.hasOwn(allowed, f))
    .flatMap((f) => find(readFileSync(path.join(ROOT, f), 'utf8')).map((m) => `${f}:${m.line}: ${m.text}`));
}

describe('one clock for the whole hub', () => {
  const files = hubSources();

  it('finds what reads the machine clock, and nothing else', () => {
    expect(clockReads('const t = Date.now();').map((m) => m.line)).to.deep.equal([1]);
    expect(clockReads('const f = o.now ?? Date.now;')).to.have.length(1);
    expect(clockReads('let at = new Date();\nlet at2 = new Date;')).to.have.length(2);
    expect(clockReads('const s = Date();')).to.have.length(1);
    expect(clockReads('new Date(ms).toISOString(); Date.parse(s); new Date(clock()); myDate(); Dates()')).to.deep.equal([]);
  });

  it('reads the machine clock only in src/clock.ts and code that is not the hub', () => {
    expect(files).to.include.members([CLOCK_MODULE, 'src/hub.ts', 'src/intake/accept.ts', 'adapters/rest/index.ts']);
    expect(clockReads(readFileSync(path.join(ROOT, CLOCK_MODULE), 'utf8'))).to.have.length(1);
    expect(
      offenders(files, clockReads, { [CLOCK_MODULE]: 'the clock', ...OWN_CLOCK }),
      'take the clock you are handed (src/clock.ts) instead',
    ).to.deep.equal([]);
  });

  it('makes a clock from the machine clock only where a hub or a process of its own starts', () => {
    expect(
      offenders(files, systemClockUses, { [CLOCK_MODULE]: 'the clock', ...MAKES_A_CLOCK }),
      'take the clock you are handed instead of systemClock',
    ).to.deep.equal([]);
    // Each entry still makes one: the list does not outlive the code it describes.
    for (const f of Object.keys(MAKES_A_CLOCK)) expect(systemClockUses(readFileSync(path.join(ROOT, f), 'utf8')), f).to.not.deep.equal([]);
    for (const f of Object.keys(OWN_CLOCK)) expect(clockReads(readFileSync(path.join(ROOT, f), 'utf8')), f).to.not.deep.equal([]);
  });
});
