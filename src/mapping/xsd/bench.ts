import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadSchema } from './index.ts';

/**
 * Validations per second of one ~5 KB document against a schema set that imports other schemas, in one thread.
 * The goal is ≥ 500/s. Uses the real xdomea 3.0.0 FVDaten schema set (5 files, includes plus an import
 * of the XÖV code schema) when ../shared/reference is there, else the project's own three-file fixture set.
 *
 *   node --import tsx src/mapping/xsd/bench.ts [seconds]
 */

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT_ROOT = path.resolve(HERE, '../../..');
export const XDOMEA_DIR = path.resolve(PROJECT_ROOT, '../shared/reference/xdomea-3.0.0/xdomea_3.0.0');
export const XDOMEA_FVDATEN_XSD = path.join(XDOMEA_DIR, 'xdomea-Nachrichten-FachverfahrensdatenAustauschen.xsd');
export const XDOMEA_SAMPLE = path.join(HERE, 'fixtures', 'xdomea-FVDaten.SGOErstellen.0604.xml');
export const FIXTURE_XSD = path.join(HERE, 'fixtures', 'hundeanmeldung.xsd');
export const FIXTURE_SAMPLE = path.join(HERE, 'fixtures', 'hundeanmeldung.xml');

export interface XsdBenchResult {
  validationsPerSecond: number;
  docBytes: number;
  /** Which schema set, and how many files it has. */
  schema: string;
}

/** Yield to the event loop this often, so timers and sockets of a surrounding bench runner are not starved. */
const SLICE_MS = 50;

export async function benchXsd({ seconds = 5 }: { seconds?: number } = {}): Promise<XsdBenchResult> {
  const xdomea = fs.existsSync(XDOMEA_FVDATEN_XSD);
  const schema = loadSchema(xdomea ? XDOMEA_FVDATEN_XSD : FIXTURE_XSD);
  try {
    const text = fs.readFileSync(xdomea ? XDOMEA_SAMPLE : FIXTURE_SAMPLE, 'utf8');
    const first = schema.validate(text);
    // A bench of a document that fails would measure the error path: refuse to report it.
    if (!first.ok) throw new Error(`bench document is not valid: ${first.errors.map((e) => e.message).join('; ')}`);

    // Warm-up: let V8 optimise the JS around the wasm calls before measuring.
    const warmEnd = performance.now() + Math.min(1000, seconds * 200);
    while (performance.now() < warmEnd) schema.validate(text);

    let count = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    let now = start;
    while (now < end) {
      const sliceEnd = Math.min(end, now + SLICE_MS);
      while (now < sliceEnd) {
        if (!schema.validate(text).ok) throw new Error('bench document became invalid');
        count++;
        now = performance.now();
      }
      await new Promise((resolve) => setImmediate(resolve));
      now = performance.now();
    }
    const elapsed = (now - start) / 1000;
    const name = xdomea ? 'xdomea 3.0.0 FachverfahrensdatenAustauschen' : 'fixture hundeanmeldung.xsd';
    return {
      validationsPerSecond: Math.round(count / elapsed),
      docBytes: Buffer.byteLength(text, 'utf8'),
      schema: `${name} (${schema.files.length} files: ${schema.files.map((f) => path.basename(f)).join(', ')})`,
    };
  } finally {
    schema.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const seconds = Number(process.argv[2] ?? 5);
  const r = await benchXsd({ seconds });
  console.log(`${r.validationsPerSecond} validations/s, ${r.docBytes} bytes, ${r.schema}`);
}
