import type { z } from 'zod';

/** One problem in the configuration, located by file, line and key path. */
export interface ConfigProblem {
  file?: string;
  line?: number;
  column?: number;
  path: (string | number)[];
  message: string;
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}` : '(configuration)';
  const key = p.path.length ? ` ${formatPath(p.path)}:` : '';
  return `${where}${key} ${p.message}`;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => '  ' + formatProblem(p)).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each
 * cost one, the typos people make in key names (`pollIntervallMs`, `tiemoutMs`).
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key closest to `key`, if it is close enough to be a typo (about one edit in three letters). */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    // Case is a typo too, but a cheaper one: `pollintervalms` is surely `pollIntervalMs`.
    const d = k.toLowerCase() === key.toLowerCase() ? 0.5 : editDistance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(1, Math.floor(Math.min(key.length, best?.length ?? 0) / 3)) ? best : undefined;
}

/** What a zod issue needs from its surroundings to be told in the user's terms. */
export interface IssueContext {
  /** Keys the object at the issue's path accepts. */
  knownKeys(path: readonly (string | number)[]): string[];
  /** The value the schema saw at a path. */
  valueAt(path: readonly (string | number)[]): unknown;
  /** The text the YAML file has at a path, where it is a plain value. */
  sourceAt(path: readonly (string | number)[]): string | undefined;
}

/**
 * A zod issue as problems in words. Each unknown key is its own problem, located at the key itself, with the
 * known key it was probably meant to be; a number where a key must be text says to quote it.
 */
export function explainIssue(issue: z.core.$ZodIssue, ctx: IssueContext): { path: (string | number)[]; message: string }[] {
  const path = issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
  if (issue.code === 'unrecognized_keys') {
    const known = ctx.knownKeys(path).filter((k) => !issue.keys.includes(k));
    return issue.keys.map((key) => {
      const near = nearestKey(key, known);
      const hint = near ? `; did you mean "${near}"?` : known.length && known.length <= 12 ? `; known: ${known.join(', ')}` : '';
      return { path: [...path, key], message: `unknown key${hint}` };
    });
  }
  const wantsText = (issue.code === 'invalid_type' && issue.expected === 'string') || issue.code === 'invalid_union';
  const value = ctx.valueAt(path);
  const hint = wantsText && typeof value === 'number' ? quoteHint(ctx.sourceAt(path), value) : undefined;
  return [{ path, message: hint ?? issue.message }];
}

/**
 * YAML reads 05513000 as the number 5513000: an AGS or LeiKa key written without quotes loses its leading
 * zero, or at least its type. The message shows the key as written, in the quotes that keep it.
 */
function quoteHint(source: string | undefined, value: number): string | undefined {
  if (source === undefined || !/^[+-]?[0-9][0-9_]*$/.test(source)) return undefined;
  const read = /^[+-]?0/.test(source) ? `as the number ${value}, losing the leading zero` : 'as a number, where text is expected';
  return `YAML reads ${source} ${read}; write it in quotes: '${source}'`;
}
