import { xdomeaFunctions } from './xdomea/functions.ts';

// Functions mapping authors can call besides JSONata's own. Kept deterministic: no clock, no randomness,
// so the same submission always maps to the same bytes.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/** `$formatDate("2026-12-01", "DD.MM.YYYY")` → "01.12.2026"; works on the date part, so no time-zone shift. */
function formatDate(value: string | undefined, picture: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const m = ISO_DATE.exec(String(value));
  // The value is form data: the message names the rule, not the value.
  if (!m) throw new Error('$formatDate: the value is not an ISO date (YYYY-MM-DD…)');
  const [, y, mo, d] = m as unknown as [string, string, string, string];
  return picture.replace('YYYY', y).replace('MM', mo).replace('DD', d).replace('YY', y.slice(2));
}

/** `$code(value, {"a": "1"}, "fallback"?)`: a code-list lookup that fails loudly on an unknown value. */
function code(value: string | undefined, list: Record<string, unknown>, fallback?: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (Object.hasOwn(list, value)) return list[value];
  if (fallback !== undefined) return fallback;
  throw new Error(`$code: the value is not in the code list (${Object.keys(list).join(', ')})`);
}

// JSONata calls these with whatever the expression passes, hence `any`.
/** JSONata's clock and dice, replaced so a mapping that uses them fails at its first run instead of drifting. */
function nondeterministic(name: string) {
  return () => {
    throw new Error(
      `$${name}() is not available in mappings: the same submission must always map to the same message (use submission.receivedAt for a time)`,
    );
  };
}

export const mappingFunctions: Record<string, { implementation: (...args: any[]) => unknown; signature: string }> = {
  formatDate: { implementation: formatDate, signature: '<s-s:s>' },
  code: { implementation: code, signature: '<s-ox?:x>' },
  now: { implementation: nondeterministic('now'), signature: '<s?s?:s>' },
  millis: { implementation: nondeterministic('millis'), signature: '<:n>' },
  random: { implementation: nondeterministic('random'), signature: '<:n>' },
  ...xdomeaFunctions,
};
