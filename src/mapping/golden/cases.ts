import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Scalar } from 'yaml';
import { z } from 'zod';

/**
 * The golden-case file format (docs/mapping-tests.md). A file is a YAML list of cases, or an object
 * `{ mapping, cases }` when the mapping is not the file's namesake. Unknown keys are refused, so a typo
 * (`expectedFiel:`) fails instead of silently testing nothing.
 */

const quoted = (what: string) =>
  z.string({
    error: (i) =>
      typeof i.input === 'number'
        ? `${what} must be a quoted string ("${what === 'tenant' ? '05513000' : '…'}"): unquoted, YAML reads it as a number`
        : `${what} must be a string`,
  });

/** `data.items.0.kind` or `data.items[0].kind` */
const inputPath = z
  .string()
  .regex(/^[A-Za-z_$][\w$-]*((\.[\w$-]+)|(\[\d+\]))*$/, 'a path into the mapping input such as data.items[0].kind');

export const caseSchema = z
  .object({
    name: z.string().min(1),
    input: z.union([z.string().min(1), z.record(z.string(), z.unknown())], {
      error: 'input must be a path to a submission file (JSON or XML) or an inline submission object',
    }),
    // Envelope overrides, applied before validation and lookup, so tenant and service come from the configuration.
    tenant: quoted('tenant').optional(),
    service: quoted('service').optional(),
    externalId: quoted('externalId').optional(),
    submittedAt: quoted('submittedAt').optional(),
    // What the hub adds; fixed defaults keep the output the same on every run.
    submissionId: quoted('submissionId').optional(),
    portal: quoted('portal').optional(),
    receivedAt: z.iso.datetime({ offset: true }).optional(),
    target: quoted('target').optional(),
    deliveryId: quoted('deliveryId').optional(),
    // Edits of the finished mapping input: what a fixture lacks for one case, without a copy of the fixture.
    set: z.record(inputPath, z.unknown()).optional(),
    unset: z.array(inputPath).optional(),
    format: z.enum(['json', 'xml', 'xdomea']).optional(),
    expected: z.unknown().optional(),
    expectedFile: z
      .string()
      .regex(/\.(json|xml)$/i, 'a .json or .xml file')
      .optional(),
    // A .xsd file, or a WSDL whose embedded schemas (wsdl:types) are used.
    xsd: z.string().min(1).optional(),
    // subset: only the keys (JSON) or the attributes and elements (XML) that the expected message names are compared.
    compare: z.enum(['exact', 'subset']).optional(),
    expectError: z
      .string()
      .min(1)
      .refine((s) => {
        try {
          new RegExp(s);
          return true;
        } catch {
          return false;
        }
      }, 'a regular expression')
      .optional(),
  })
  .strict();

/** Where an inline `expected:` value stands in the case file's text, so `--update` can replace just that value. */
export interface ExpectedAt {
  /** Offsets of the value (not the key) in the file's text. */
  start: number;
  end: number;
  /** The end of the `expected` key: its `:` follows. */
  keyEnd: number;
  /** The column (0-based) of the `expected` key: a block value is indented two more. */
  keyColumn: number;
}

export type GoldenCase = z.output<typeof caseSchema> & { hasExpected: boolean; line?: number; expectedAt?: ExpectedAt };

export interface CaseFile {
  file: string;
  /** The mapping file the cases run against (absolute). */
  mapping: string;
  cases: GoldenCase[];
}

export class CaseFileError extends Error {}

const fileSchema = z.union([
  z.array(z.unknown()),
  z.object({ mapping: z.string().min(1).optional(), cases: z.array(z.unknown()) }).strict(),
]);

export function isCaseFile(file: string): boolean {
  return /\.cases\.ya?ml$/i.test(file) || (/\.ya?ml$/i.test(file) && path.basename(path.dirname(file)) === 'cases');
}

/** `x.cases.yaml` tests `x.jsonata` beside it; `cases/x.yaml` (or `cases/x.cases.yaml`) tests `../x.jsonata`. */
export function defaultMappingFor(file: string): string {
  const base = path.basename(file).replace(/(\.cases)?\.ya?ml$/i, '');
  const dir = path.dirname(file);
  const beside = path.join(dir, `${base}.jsonata`);
  if (path.basename(dir) === 'cases' && !existsSync(beside)) return path.join(dir, '..', `${base}.jsonata`);
  return beside;
}

export function loadCaseFile(file: string): CaseFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CaseFileError('cannot read the file');
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new CaseFileError(`line ${lines.linePos(e.pos[0]).line}: YAML: ${e.message.split('\n')[0]}`);
  }
  const top = fileSchema.safeParse(doc.toJS());
  if (!top.success) throw new CaseFileError('expected a list of cases, or { mapping, cases }');
  const list = Array.isArray(top.data) ? top.data : top.data.cases;
  const casesNode = Array.isArray(top.data) ? doc.contents : doc.get('cases', true);
  const mapping =
    !Array.isArray(top.data) && top.data.mapping ? path.resolve(path.dirname(file), top.data.mapping) : defaultMappingFor(file);
  if (list.length === 0) throw new CaseFileError('no cases in the file');

  const problems: string[] = [];
  const cases: GoldenCase[] = [];
  const names = new Set<string>();
  list.forEach((raw, i) => {
    const line = lineOf(doc, casesNode, i, lines);
    const at = `line ${line ?? '?'} (case ${i + 1})`;
    const r = caseSchema.safeParse(raw);
    if (!r.success) {
      for (const issue of r.error.issues) {
        const key = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
        problems.push(
          `${at}: ${key}${issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message}`,
        );
      }
      return;
    }
    const c = r.data;
    const hasExpected = !!raw && typeof raw === 'object' && 'expected' in raw;
    const expectations = [hasExpected, c.expectedFile !== undefined, c.expectError !== undefined].filter(Boolean).length;
    if (expectations !== 1) problems.push(`${at} "${c.name}": give exactly one of expected, expectedFile, expectError`);
    if (names.has(c.name)) problems.push(`${at}: a second case named "${c.name}"`);
    names.add(c.name);
    const expectedAt = hasExpected ? expectedValueAt(casesNode, i, lines) : undefined;
    cases.push({ ...c, hasExpected, ...(line !== undefined ? { line } : {}), ...(expectedAt ? { expectedAt } : {}) });
  });
  if (problems.length) throw new CaseFileError(problems.join('\n'));
  return { file, mapping, cases };
}

function lineOf(_doc: Document, seq: unknown, i: number, lines: LineCounter): number | undefined {
  if (!isSeq(seq)) return undefined;
  const item = seq.items[i];
  if (!isMap(item) || !item.range) return undefined;
  return lines.linePos(item.range[0]).line;
}

function expectedValueAt(seq: unknown, i: number, lines: LineCounter): ExpectedAt | undefined {
  if (!isSeq(seq)) return undefined;
  const item = seq.items[i];
  if (!isMap(item)) return undefined;
  const pair = item.items.find((p) => isScalar(p.key) && p.key.value === 'expected');
  const key = pair?.key as Scalar | undefined;
  const value = pair?.value as { range?: [number, number, number] } | null | undefined;
  if (!key?.range || !value?.range) return undefined;
  return { start: value.range[0], end: value.range[1], keyEnd: key.range[1], keyColumn: lines.linePos(key.range[0]).col - 1 };
}

const SKIP_DIRS = new Set(['node_modules', '.git']);

/**
 * The case files a path names: a case file itself; a `.jsonata` file's own cases; every case file under a
 * folder (sorted, so the output is stable).
 */
export function findCaseFiles(target: string): string[] {
  const st = statSync(target);
  if (st.isFile()) {
    if (/\.jsonata$/i.test(target)) {
      const base = target.replace(/\.jsonata$/i, '');
      const dir = path.dirname(target);
      const name = path.basename(base);
      return [
        `${base}.cases.yaml`,
        `${base}.cases.yml`,
        path.join(dir, 'cases', `${name}.yaml`),
        path.join(dir, 'cases', `${name}.cases.yaml`),
      ].filter((f) => existsSync(f));
    }
    return [target];
  }
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) walk(full);
      } else if (entry.isFile() && isCaseFile(full)) out.push(full);
    }
  };
  walk(target);
  return out;
}
