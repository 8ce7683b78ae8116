import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode, isScalar, type Document } from 'yaml';
import type { ConfigProblem } from './errors.ts';

interface SourceFile {
  file: string;
  doc: Document;
  lines: LineCounter;
  text: string;
}

/** The configuration folder read as one object, remembering which file holds each top-level key. */
export interface RawConfig {
  value: Record<string, unknown>;
  /** Locates a key path in its file; for problems found after parsing. */
  locate(path: readonly (string | number)[]): Pick<ConfigProblem, 'file' | 'line' | 'column'>;
  /** The text of the plain value at a key path as the file writes it (`05513000`, not the number 5513000). */
  sourceAt(path: readonly (string | number)[]): string | undefined;
}

export function readConfigFolder(dir: string, problems: ConfigProblem[]): RawConfig {
  const value: Record<string, unknown> = {};
  const owner = new Map<string, SourceFile>();
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    names = readdirSync(dir)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort();
  } catch {
    problems.push({ file: dir, path: [], message: 'configuration folder not found' });
    return { value, locate: () => ({}), sourceAt: () => undefined };
  }
  if (names.length === 0) problems.push({ file: dir, path: [], message: 'no .yaml files in the configuration folder' });

  for (const name of names) {
    const file = path.join(dir, name);
    const lines = new LineCounter();
    const text = readFileSync(file, 'utf8');
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const pos = lines.linePos(e.pos[0]);
        problems.push({ file, line: pos.line, column: pos.col, path: [], message: `YAML: ${e.message.split('\n')[0]}` });
      }
      continue;
    }
    const content: unknown = doc.toJS();
    if (content === null || content === undefined) continue;
    if (typeof content !== 'object' || Array.isArray(content)) {
      problems.push({ file, path: [], message: 'expected a mapping of top-level keys (e.g. tenants:, routes:)' });
      continue;
    }
    const source = { file, doc, lines, text };
    for (const [key, v] of Object.entries(content)) {
      const first = owner.get(key);
      if (first) {
        problems.push({ file, path: [key], message: `also defined in ${first.file}; each top-level key belongs in one file` });
        continue;
      }
      owner.set(key, source);
      value[key] = v;
    }
  }

  return {
    value,
    locate(p) {
      const key = p[0];
      const src = typeof key === 'string' ? owner.get(key) : undefined;
      if (!src) return {};
      // Walk up to the deepest node that exists: a missing key is reported where its parent stands.
      for (let n = p.length; n > 0; n--) {
        const node = src.doc.getIn(p.slice(0, n), true);
        if (isNode(node) && node.range) {
          const pos = src.lines.linePos(node.range[0]);
          return { file: src.file, line: pos.line, column: pos.col };
        }
      }
      return { file: src.file };
    },
    sourceAt(p) {
      const key = p[0];
      const src = typeof key === 'string' ? owner.get(key) : undefined;
      const node = src?.doc.getIn(p, true);
      return src && isScalar(node) && node.range ? src.text.slice(node.range[0], node.range[1]) : undefined;
    },
  };
}
