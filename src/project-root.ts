import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The checkout's root folder (where package.json is), for files the hub ships beside its code: the demo's
 * WSDL, XSD and examples, the adapter templates. Found by walking up rather than by a fixed number of `..`,
 * because the same module runs from src/ (tsx) and from dist/src/ (compiled, see bin/amtsbote.js).
 */
export const PROJECT_ROOT = findRoot(import.meta.dirname);

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
