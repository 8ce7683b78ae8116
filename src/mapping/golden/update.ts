import { stringify } from 'yaml';
import type { ExpectedAt } from './cases.ts';

/**
 * `amtsbote mapping test --update`: the texts that replace a failing case's expectation, as a snapshot tool
 * writes them. Only the expectation is rewritten (an expected file, or the `expected:` value inside the case
 * file), so the change is one reviewable hunk in git.
 */

// An XML file's declaration and leading comments (often: which mapping and example the file belongs to).
const PROLOGUE = /^\uFEFF?(?:\s*(?:<\?xml[^>]*\?>|<!--[\s\S]*?-->))*\s*/;

/** A new expected XML file: the old file's prologue (declaration, comments) kept, then the new element. */
export function xmlFileText(element: string, previous: string | undefined): string {
  const body = element.replace(PROLOGUE, '').trimEnd() + '\n';
  const prologue = previous?.match(PROLOGUE)?.[0].trimEnd();
  return `${prologue || '<?xml version="1.0" encoding="UTF-8"?>'}\n${body}`;
}

/** A new expected JSON file: two-space indentation, the mapping's key order, a final newline. */
export function jsonFileText(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/**
 * The case file with one inline `expected:` value replaced: XML as a literal block (`expected: |`), JSON as
 * YAML, on the key's line when it fits in one line, else as an indented block below it.
 */
export function spliceExpected(text: string, at: ExpectedAt, value: unknown, format: 'json' | 'xml'): string {
  const pad = ' '.repeat(at.keyColumn + 2);
  const block = (lines: string[]) => lines.map((l) => (l ? pad + l : '')).join('\n');
  let rendered: string;
  if (format === 'xml' && typeof value === 'string') {
    rendered = ` |\n${block(value.replace(PROLOGUE, '').trimEnd().split('\n'))}`;
  } else {
    const yaml = stringify(value, { lineWidth: 0 }).trimEnd();
    const oneLine = !yaml.includes('\n') && (!value || typeof value !== 'object' || Object.keys(value).length === 0);
    rendered = oneLine ? ` ${yaml}` : `\n${block(yaml.split('\n'))}`;
  }
  // From just after `expected:` (whatever layout the old value had) to the old value's end, keeping what followed it.
  const colon = text.indexOf(':', at.keyEnd);
  const old = text.slice(colon + 1, at.end);
  const trailing = old.match(/\s*$/)![0];
  return (
    text.slice(0, colon + 1) + rendered + (trailing.includes('\n') ? trailing.slice(trailing.indexOf('\n')) : trailing) + text.slice(at.end)
  );
}
