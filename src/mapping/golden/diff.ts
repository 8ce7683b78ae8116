/**
 * A unified-style line diff (`--- expected`, `+++ actual`, `@@ -a,b +c,d @@` hunks with context), for
 * showing where a mapping's output left its golden file. Line-based LCS after trimming the common head
 * and tail: golden mismatches are usually a few lines in a few hundred, so the middle stays small.
 */

type Op = { kind: ' ' | '-' | '+'; line: string };

/** Above this many cells (middle lines × middle lines) the middle is shown as removed-then-added, to bound memory. */
const MAX_CELLS = 4_000_000;

function editScript(a: string[], b: string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const ops: Op[] = a.slice(0, head).map((line) => ({ kind: ' ', line }));

  const n = am.length;
  const m = bm.length;
  if (n * m > MAX_CELLS) {
    for (const line of am) ops.push({ kind: '-', line });
    for (const line of bm) ops.push({ kind: '+', line });
  } else {
    // lcs[i][j]: length of the LCS of am[i..] and bm[j..], row-major in one array.
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] = am[i] === bm[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        ops.push({ kind: ' ', line: am[i]! });
        i++;
        j++;
      } else if (j < m && (i >= n || lcs[i * w + j + 1]! >= lcs[(i + 1) * w + j]!)) {
        ops.push({ kind: '+', line: bm[j]! });
        j++;
      } else {
        ops.push({ kind: '-', line: am[i]! });
        i++;
      }
    }
    // Within a changed block, show the removed lines before the added ones, as `diff -u` does.
    normaliseBlocks(ops, head);
  }
  for (const line of a.slice(a.length - tail)) ops.push({ kind: ' ', line });
  return ops;
}

function normaliseBlocks(ops: Op[], from: number): void {
  let k = from;
  while (k < ops.length) {
    if (ops[k]!.kind === ' ') {
      k++;
      continue;
    }
    let end = k;
    while (end < ops.length && ops[end]!.kind !== ' ') end++;
    const block = ops.slice(k, end);
    const sorted = [...block.filter((o) => o.kind === '-'), ...block.filter((o) => o.kind === '+')];
    ops.splice(k, block.length, ...sorted);
    k = end;
  }
}

/**
 * The diff of two texts as lines, or `[]` when they are equal. `context` lines of unchanged text
 * surround each change; changes closer than twice that share a hunk.
 */
export function unifiedDiff(expected: string, actual: string, labels = { expected: 'expected', actual: 'actual' }, context = 3): string[] {
  if (expected === actual) return [];
  const a = expected.split('\n');
  const b = actual.split('\n');
  const ops = editScript(a, b);
  const out = [`--- ${labels.expected}`, `+++ ${labels.actual}`];
  // Positions (in ops) of changed lines, grouped into hunks.
  const changed = ops.flatMap((o, idx) => (o.kind === ' ' ? [] : [idx]));
  let h = 0;
  while (h < changed.length) {
    const start = Math.max(0, changed[h]! - context);
    let last = changed[h]!;
    while (h + 1 < changed.length && changed[h + 1]! - last <= 2 * context) last = changed[++h]!;
    const end = Math.min(ops.length, last + context + 1);
    h++;
    // Line numbers (1-based) where the hunk starts on each side.
    let aLine = 1;
    let bLine = 1;
    for (let k = 0; k < start; k++) {
      if (ops[k]!.kind !== '+') aLine++;
      if (ops[k]!.kind !== '-') bLine++;
    }
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((o) => o.kind !== '+').length;
    const bCount = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${aCount === 0 ? aLine - 1 : aLine},${aCount} +${bCount === 0 ? bLine - 1 : bLine},${bCount} @@`);
    for (const o of hunk) out.push(o.kind + o.line);
  }
  return out;
}
