import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { XDOMEA_XSD_DIR_ENV, xdomeaSchemaFile } from '../xdomea/schema.ts';

/** A case that cannot run on this machine (it needs files the project does not ship). */
class SkippedCase extends Error {}
import { compileMapping, MappingError, renderMessage, writeXml, type CompiledMapping, type XmlOptions } from '../engine.ts';
import { CaseFileError, findCaseFiles, loadCaseFile, type ExpectedAt, type GoldenCase } from './cases.ts';
import { compareJson, compareXml, projectJson, subsetXmlText, XmlCompareError, type Comparison } from './compare.ts';
import { jsonFileText, spliceExpected, xmlFileText } from './update.ts';
import type { GoldenConfig } from './config.ts';
import { checkedEnvelope, EnvelopeError, mappingInputFromEnvelope, readSubmissionFile, type MappingInput } from './input.ts';
import { XsdSession, XsdUnavailableError } from './xsd.ts';

// Fixed stand-ins for what the hub generates (UUIDv7 ids), so golden output is the same on every run.
export const GOLDEN_SUBMISSION_ID = '01960000-0000-7000-8000-000000000001';
export const GOLDEN_DELIVERY_ID = '01960000-0000-7000-8000-000000000002';
const FALLBACK_PORTAL = 'golden-portal';
const FALLBACK_TARGET = 'golden-target';
const DEFAULT_XML: XmlOptions = { declaration: true, indent: false };

export interface CaseResult {
  name: string;
  ok: boolean;
  line?: number;
  /** Why it failed: the error, or a unified diff of expected → actual. */
  details: string[];
  /** With `update`: the file this case's new expectation was written to (an expected file, or the case file). */
  updated?: string;
  /** Why the case could not run here (counts as passed): an xdomea case without the xdomea XSDs. */
  skipped?: string;
}

export interface FileResult {
  file: string;
  /** The mapping's id as the hub names it (relative to the mappings folder), when the file could be read. */
  mapping?: string;
  /** A problem with the file itself (YAML, schema, mapping does not compile): every case counts as failed. */
  error?: string;
  cases: CaseResult[];
  /** With `update`: the files written for this case file's cases, in the order written. */
  written: string[];
}

export interface GoldenReport {
  files: FileResult[];
  passed: number;
  failed: number;
  /** Cases whose expectation `update` rewrote (they pass now). */
  updated: number;
  /** Every file written, absolute; unchanged files are never rewritten. */
  written: string[];
}

export interface GoldenOptions {
  /** Case files, `.jsonata` files or folders. */
  paths: string[];
  /** The configuration: tenants, services, routes and targets as the hub sees them. Without one, inputs carry only keys. */
  config?: GoldenConfig;
  /** Only cases whose name matches. */
  grep?: RegExp;
  /** The format an adapter sends when its target names none (the built-in adapters' `defaultFormat`). */
  adapterFormats?: ReadonlyMap<string, 'json' | 'xml'>;
  /**
   * Write the actual output as the expectation of each case that does not match it (expectedFile, or the
   * inline `expected:`), as snapshot tests do. `expectError` cases and mapping errors are never rewritten.
   */
  update?: boolean;
  /** Called after each file, for output as the run goes. */
  onFile?(result: FileResult): void;
}

class CaseError extends Error {}

/** What the cases of one run share: compiled mappings, loaded schemas. */
export interface RunState {
  compiled: Map<string, CompiledMapping>;
  xsd: XsdSession;
  /** Expected files written in this run, with the case that wrote them: a twin case with other output must not overwrite them. */
  written: Map<string, { text: string; by: string }>;
}

export async function runGoldenTests(opts: GoldenOptions): Promise<GoldenReport> {
  // Each case file with the folder it was found under: outside the configured mappings folder, mapping ids
  // are relative to that folder, so they read (and match expectError) as they would in the hub.
  const files = new Map<string, string | undefined>();
  for (const p of opts.paths) {
    if (!existsSync(p)) throw new Error(`${p}: no such file or folder`);
    const abs = path.resolve(p);
    const root = statSync(abs).isDirectory() ? abs : undefined;
    for (const f of findCaseFiles(abs)) if (!files.has(f)) files.set(f, root);
  }
  const report: GoldenReport = { files: [], passed: 0, failed: 0, updated: 0, written: [] };
  const run: RunState = { compiled: new Map(), xsd: new XsdSession(), written: new Map() };
  try {
    for (const [file, searchRoot] of files) {
      const result = await runFile(file, searchRoot, opts, run);
      if (result.cases.length === 0 && !result.error && opts.grep) continue;
      report.files.push(result);
      if (result.error) report.failed += Math.max(1, result.cases.length);
      else for (const c of result.cases) c.updated ? report.updated++ : c.ok ? report.passed++ : report.failed++;
      report.written.push(...result.written);
      opts.onFile?.(result);
    }
  } finally {
    run.xsd.close();
  }
  return report;
}

/** The mapping's id and the folder it is compiled from: inside the configured mappings folder, the hub's own id. */
export function mappingId(file: string, config?: GoldenConfig, searchRoot?: string): { root: string; id: string; routed: boolean } {
  const inside = (dir: string) => {
    const rel = path.relative(dir, file);
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : undefined;
  };
  const routedId = config ? inside(config.mappingsDir) : undefined;
  if (routedId) return { root: config!.mappingsDir, id: routedId, routed: true };
  const id = searchRoot ? inside(searchRoot) : undefined;
  if (id) return { root: searchRoot!, id, routed: false };
  return { root: path.dirname(file), id: path.basename(file), routed: false };
}

async function runFile(file: string, searchRoot: string | undefined, opts: GoldenOptions, run: RunState): Promise<FileResult> {
  const { compiled } = run;
  let cf: ReturnType<typeof loadCaseFile>;
  try {
    cf = loadCaseFile(file);
  } catch (e) {
    return { file, error: e instanceof CaseFileError ? e.message : String(e), cases: [], written: [] };
  }
  const { root, id, routed } = mappingId(cf.mapping, opts.config, searchRoot);
  if (!existsSync(cf.mapping))
    return { file, mapping: id, error: `no mapping ${path.relative(process.cwd(), cf.mapping)} for these cases`, cases: [], written: [] };
  const key = `${root}\0${id}`;
  let mapping = compiled.get(key);
  if (!mapping) {
    try {
      mapping = compileMapping(root, id);
    } catch (e) {
      return { file, mapping: id, error: e instanceof MappingError ? e.describe() : String(e), cases: [], written: [] };
    }
    compiled.set(key, mapping);
  }
  const result: FileResult = { file, mapping: id, cases: [], written: [] };
  const inline: { at: ExpectedAt; value: unknown; format: 'json' | 'xml' }[] = [];
  for (const c of cf.cases) {
    if (opts.grep && !opts.grep.test(c.name)) continue;
    let verdict: Verdict;
    try {
      verdict = await runCase(c, path.dirname(file), mapping, routed, opts, run.xsd);
    } catch (e) {
      if (e instanceof SkippedCase) {
        result.cases.push({ name: c.name, ...(c.line !== undefined ? { line: c.line } : {}), ok: true, details: [], skipped: e.message });
        continue;
      }
      verdict = {
        details: (e instanceof CaseError || e instanceof EnvelopeError || e instanceof XmlCompareError || e instanceof XsdUnavailableError
          ? e.message
          : `unexpected error: ${(e as Error).stack ?? String(e)}`
        ).split('\n'),
      };
    }
    const base = { name: c.name, ...(c.line !== undefined ? { line: c.line } : {}) };
    const rw = verdict.rewrite;
    if (!rw) {
      result.cases.push({ ...base, ok: verdict.details.length === 0, details: verdict.details });
    } else if (rw.kind === 'inline') {
      inline.push(rw);
      result.cases.push({ ...base, ok: true, details: [], updated: file });
    } else {
      const prior = run.written.get(rw.file);
      if (prior && prior.text !== rw.text) {
        const shown = path.relative(path.dirname(file), rw.file);
        result.cases.push({
          ...base,
          ok: false,
          details: [
            `not updated: ${shown} was just written for case "${prior.by}", and this case's output differs from it:`,
            ...verdict.details,
          ],
        });
        continue;
      }
      if (!prior) {
        mkdirSync(path.dirname(rw.file), { recursive: true });
        writeFileSync(rw.file, rw.text);
        run.written.set(rw.file, { text: rw.text, by: c.name });
        result.written.push(rw.file);
      }
      result.cases.push({ ...base, ok: true, details: [], updated: rw.file });
    }
  }
  if (inline.length) {
    // From the end of the file to its start, so each value's offsets are still those the file was read with.
    let text = readFileSync(file, 'utf8');
    for (const r of inline.sort((a, b) => b.at.start - a.at.start)) text = spliceExpected(text, r.at, r.value, r.format);
    writeFileSync(file, text);
    result.written.push(file);
  }
  return result;
}

/** What a case's mapping produced: the message text, or the error the hub would record, and in which format. */
export interface CaseOutput {
  format: 'json' | 'xml';
  text?: string;
  /** The mapping's result before it was written as text. */
  body?: unknown;
  error?: string;
}

/** Builds the case's input as the hub would, runs the mapping (and the XSD, if the case names one). */
export async function caseOutput(
  c: GoldenCase,
  dir: string,
  mapping: CompiledMapping,
  routed: boolean,
  opts: GoldenOptions,
  xsd?: XsdSession,
): Promise<CaseOutput> {
  const config = opts.config;
  const raw = typeof c.input === 'string' ? readSubmissionFile(path.resolve(dir, c.input)) : structuredClone(c.input);
  for (const key of ['tenant', 'service', 'externalId', 'submittedAt'] as const) if (c[key] !== undefined) raw[key] = c[key];
  const envelope = checkedEnvelope(raw, typeof c.input === 'string' ? c.input : 'the inline input');

  // Looked up as the intake does: an unknown tenant or service never reaches a mapping in the hub.
  const tenant = config?.tenants.find((t) => t.key === envelope.tenant);
  const service = config?.services.find((s) => s.slug === envelope.service || s.leika === envelope.service);
  if (config && !tenant)
    throw new CaseError(
      `tenant ${envelope.tenant} is not in ${path.relative(process.cwd(), config.dir) || '.'}: the hub would refuse the submission`,
    );
  if (config && !service)
    throw new CaseError(
      `service ${envelope.service} is not in ${path.relative(process.cwd(), config.dir) || '.'}: the hub would refuse the submission`,
    );

  // The route step that uses this mapping for this tenant and service gives the target, its format and XML settings.
  const step =
    config && routed && tenant && service
      ? config.routes
          .filter((r) => r.tenants.includes(tenant.key) && (r.service === service.slug || r.service === service.leika))
          .flatMap((r) => r.targets)
          .find((t) => t.mapping === mapping.id)
      : undefined;
  const targetId = c.target ?? step?.target ?? FALLBACK_TARGET;
  const target = config?.targets[targetId];
  const targetFormat = c.format ?? target?.format ?? (target ? opts.adapterFormats?.get(target.adapter) : undefined) ?? 'json';
  // A pass-through target runs no mapping: there is nothing for a golden case to check.
  if (targetFormat === 'original')
    throw new CaseError(`target ${targetId} uses format original: it sends the inbound document unchanged and runs no mapping`);
  // An xdomea message is compared as the XML inside its container, validated against the real XSDs.
  const format = targetFormat === 'xdomea' ? 'xml' : targetFormat;
  const xdomeaSchema = targetFormat === 'xdomea' ? xdomeaSchemaFile() : undefined;
  if (targetFormat === 'xdomea' && !xdomeaSchema)
    throw new SkippedCase(`skipped: no xdomea 3.0.0 XSDs (set ${XDOMEA_XSD_DIR_ENV}, or ../shared/reference is absent)`);
  const xmlOptions = target?.xml ?? DEFAULT_XML;
  const portal =
    c.portal ??
    config?.portals.find((p) =>
      p.tenants.some((t) => t === '*' || t === envelope.tenant || (tenant?.parent !== undefined && t === tenant.parent)),
    )?.id ??
    FALLBACK_PORTAL;
  const deliveryId = c.deliveryId ?? GOLDEN_DELIVERY_ID;

  const input = mappingInputFromEnvelope(envelope, {
    tenant,
    service,
    submissionId: c.submissionId ?? GOLDEN_SUBMISSION_ID,
    portal,
    // A submission is stored the moment it arrives: the portal's time, in UTC, unless the case says otherwise.
    receivedAt: c.receivedAt ?? envelope.submittedAt,
    delivery: { id: deliveryId, idempotencyKey: deliveryId, target: targetId },
  });
  for (const [p, v] of Object.entries(c.set ?? {})) setPath(input, p, v);
  for (const p of c.unset ?? []) unsetPath(input, p);

  if (c.xsd && format !== 'xml') throw new CaseError(`xsd: the output is ${format}; a schema applies to format: xml`);

  let text: string | undefined;
  let body: unknown;
  let error: string | undefined;
  try {
    ({ text, body } = await renderMessage(mapping, input, targetFormat, xmlOptions, undefined, { xdomeaSchema }));
  } catch (e) {
    if (!(e instanceof MappingError)) throw e;
    error = e.describe();
  }
  if (text !== undefined && c.xsd) {
    const session = xsd ?? new XsdSession();
    let problems: string[];
    try {
      problems = await session.validate(path.resolve(dir, c.xsd), text);
    } catch (e) {
      if (e instanceof XsdUnavailableError) throw e;
      throw new CaseError(`xsd ${c.xsd}: ${(e as Error).message}`);
    } finally {
      if (!xsd) session.close();
    }
    if (problems.length) error = `XSD ${c.xsd}: ${problems.join('; ')}`;
  }
  return { format, ...(text !== undefined ? { text, body } : {}), ...(error !== undefined ? { error } : {}) };
}

/** What `update` writes instead of failing: an expected file's new text, or the new inline value. */
type Rewrite = { kind: 'file'; file: string; text: string } | { kind: 'inline'; at: ExpectedAt; value: unknown; format: 'json' | 'xml' };

interface Verdict {
  /** The failure's lines, or `[]` when the case passes. */
  details: string[];
  rewrite?: Rewrite;
}

/** Runs one case: passes, fails with its lines, or (with `update`) says what to write so that it passes. */
async function runCase(
  c: GoldenCase,
  dir: string,
  mapping: CompiledMapping,
  routed: boolean,
  opts: GoldenOptions,
  xsd: XsdSession,
): Promise<Verdict> {
  const expectedIsXml = c.expectedFile ? /\.xml$/i.test(c.expectedFile) : undefined;
  const { format, text, body, error } = await caseOutput(c, dir, mapping, routed, opts, xsd);
  if (expectedIsXml !== undefined && expectedIsXml !== (format === 'xml'))
    throw new CaseError(`expectedFile ${c.expectedFile} does not fit format: ${format}`);

  if (c.expectError !== undefined) {
    if (error === undefined) return { details: [`expected an error matching /${c.expectError}/, but the mapping succeeded`] };
    return { details: new RegExp(c.expectError).test(error) ? [] : [`expected an error matching /${c.expectError}/, got:`, `  ${error}`] };
  }
  if (error !== undefined) return { details: [error] };

  const mode = c.compare ?? 'exact';
  const labels = { expected: `expected${c.expectedFile ? ` (${c.expectedFile})` : ''}`, actual: `actual (${mapping.id})` };
  const expectedFile = c.expectedFile ? path.resolve(dir, c.expectedFile) : undefined;
  const compare = (expected: unknown): Comparison => {
    if (format === 'json') return compareJson(expected, JSON.parse(text!) as unknown, labels, mode);
    if (typeof expected !== 'string')
      throw new CaseError('format: xml needs the expected XML as a string (a YAML block scalar `expected: |`) or an expectedFile');
    return compareXml(expected, text!, labels, mode);
  };
  const readExpected = (): unknown =>
    !expectedFile ? c.expected : format === 'json' ? readJson(expectedFile, c.expectedFile!) : readText(expectedFile, c.expectedFile!);

  if (!opts.update) {
    const cmp = compare(readExpected());
    return { details: cmp.equal ? [] : cmp.diff };
  }
  // With update, an expectation that is missing or not even JSON/XML (a fresh `expected: TODO`) is written anew.
  let expected: unknown;
  let cmp: Comparison | undefined;
  try {
    expected = readExpected();
    cmp = compare(expected);
  } catch (e) {
    if (
      !(e instanceof CaseError || e instanceof XmlCompareError) ||
      (e instanceof XmlCompareError && !e.message.startsWith('the expected XML'))
    )
      throw e;
    expected = undefined;
  }
  if (cmp?.equal) return { details: [] };
  // A subset case keeps its subset: the actual values of the keys (elements, attributes) it names.
  const subset = mode === 'subset' && cmp !== undefined;
  const actualJson = format === 'json' ? (JSON.parse(text!) as unknown) : undefined;
  const value: unknown =
    format === 'json'
      ? subset
        ? projectJson(actualJson, expected)
        : actualJson
      : subset
        ? subsetXmlText(expected as string, text!)
        : writeXml(body, mapping.id, { declaration: false, indent: true });
  // The new expectation must pass: a rewrite that still fails would only hide the failure.
  if (!compare(value).equal)
    return { details: ['not updated: the rewritten expectation would still differ (please report this)', ...(cmp?.diff ?? [])] };
  if (expectedFile) {
    const previous = existsSync(expectedFile) ? readFileSync(expectedFile, 'utf8') : undefined;
    const fileText = format === 'json' ? jsonFileText(value) : xmlFileText(value as string, previous);
    // The diff from the old expectation: shown if the rewrite is refused (a twin case wrote the file just before).
    return { details: cmp?.diff ?? [], rewrite: { kind: 'file', file: expectedFile, text: fileText } };
  }
  if (!c.expectedAt) return { details: ['not updated: the inline expected value was not found in the case file', ...(cmp?.diff ?? [])] };
  return { details: [], rewrite: { kind: 'inline', at: c.expectedAt, value, format } };
}

function readText(file: string, shown: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new CaseError(`cannot read expectedFile ${shown}`);
  }
}

function readJson(file: string, shown: string): unknown {
  const text = readText(file, shown);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CaseError(`expectedFile ${shown} is not JSON: ${(e as Error).message}`);
  }
}

function segments(p: string): string[] {
  return p.replace(/\[(\d+)\]/g, '.$1').split('.');
}

function setPath(input: MappingInput, p: string, value: unknown): void {
  const keys = segments(p);
  let cur: Record<string, unknown> = input as unknown as Record<string, unknown>;
  keys.slice(0, -1).forEach((k, i) => {
    const next = cur[k];
    if (next === null || typeof next !== 'object') {
      // A missing step becomes a list when the next key is an index, else an object.
      cur[k] = /^\d+$/.test(keys[i + 1]!) ? [] : {};
    }
    cur = cur[k] as Record<string, unknown>;
  });
  cur[keys[keys.length - 1]!] = structuredClone(value);
}

function unsetPath(input: MappingInput, p: string): void {
  const keys = segments(p);
  let cur: unknown = input;
  for (const k of keys.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return;
    cur = (cur as Record<string, unknown>)[k];
  }
  if (cur === null || typeof cur !== 'object') return;
  const last = keys[keys.length - 1]!;
  if (Array.isArray(cur) && /^\d+$/.test(last)) cur.splice(Number(last), 1);
  else delete (cur as Record<string, unknown>)[last];
}

// --- output --------------------------------------------------------------------------------------------

/** One line per case (✓/✗ name), failures' details indented under them. */
export function formatFileResult(r: FileResult, cwd = process.cwd()): string[] {
  const shown = path.relative(cwd, r.file) || r.file;
  const lines = [`${shown}${r.mapping ? `  → ${r.mapping}` : ''}`];
  if (r.error) {
    lines.push(`  ✗ the case file cannot run:`);
    for (const l of r.error.split('\n')) lines.push(`      ${l}`);
    return lines;
  }
  for (const c of r.cases) {
    lines.push(
      `  ${c.updated ? '↻' : c.skipped ? '-' : c.ok ? '✓' : '✗'} ${c.name}${c.updated ? `  (wrote ${path.relative(cwd, c.updated) || c.updated})` : ''}${c.skipped ? `  (${c.skipped})` : ''}`,
    );
    if (!c.ok) {
      if (c.line !== undefined) lines.push(`      at ${shown}:${c.line}`);
      for (const l of c.details) lines.push(`      ${l}`);
    }
  }
  return lines;
}

export function formatSummary(report: GoldenReport): string {
  const files = `${report.files.length} file${report.files.length === 1 ? '' : 's'}`;
  const total = report.passed + report.failed + report.updated;
  return `${total} case${total === 1 ? '' : 's'} in ${files}: ${report.passed} passed${report.updated ? `, ${report.updated} updated` : ''}${report.failed ? `, ${report.failed} failed` : ''}`;
}
