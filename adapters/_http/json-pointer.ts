// RFC 6901 JSON pointers, read-only: enough to find the back office's reference in its answer.

/** `""` (the whole document) or `/token/token…` where `~` only appears as `~0` or `~1`. */
export const JSON_POINTER_PATTERN = /^(\/([^~/]|~[01])*)*$/;

export function isJsonPointer(pointer: string): boolean {
  return JSON_POINTER_PATTERN.test(pointer);
}

/** Splits a pointer into its unescaped reference tokens. */
export function parseJsonPointer(pointer: string): string[] {
  if (!isJsonPointer(pointer)) throw new Error('not an RFC 6901 JSON pointer');
  if (pointer === '') return [];
  // `~1` before `~0`, as RFC 6901 §4 says: otherwise `~01` would wrongly become `/`.
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value the pointer refers to, or `undefined` when any step is missing. */
export function resolveJsonPointer(document: unknown, pointer: string): unknown {
  let current: unknown = document;
  for (const token of parseJsonPointer(pointer)) {
    if (Array.isArray(current)) {
      // Array indices are decimal without leading zeros; `-` (past the end) never exists when reading.
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      const index = Number(token);
      if (index >= current.length) return undefined;
      current = current[index];
    } else if (current !== null && typeof current === 'object') {
      // Own properties only, so `/constructor` or `/__proto__` never reach Object.prototype.
      if (!Object.hasOwn(current, token)) return undefined;
      current = (current as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return current;
}
