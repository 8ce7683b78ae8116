import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { compileMapping, MappingError, renderMessage, type CompiledMapping, type XmlOptions } from '../engine.ts';
import { CaseFileError, findCaseFiles, loadCaseFile, type GoldenCase } from './cases.ts';
import { compareJson, compareXml, XmlCompareError, type Comparison } from './compare.ts';
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
}

export interface FileResult {
  file: string;
  /** The mapping's id as the hub names it (relative to the mappings folder), when the file could be read. */
  mapping?: string;
  /** A problem with the file itself (YAML, schema, mapping does not compile): every case counts as failed. */
  error?: string;
  cases: CaseResult[];
}

export interface GoldenReport {
  files: FileResult[];
  passed: number;
  failed: number;
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
  /** Called after each file, for output as the run goes. */
  onFile?(result: FileResult): void;
}

class CaseError extends Error {}

/** What the cases of one run share: compiled mappings, loaded schemas. */
export interface RunState {
  compiled: Map<string, CompiledMapping>;
  xsd: XsdSession;
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
  const report: GoldenReport = { files: [], passed: 0, failed: 0 };
  const run: RunState = { compiled: new Map(), xsd: new XsdSession() };
  try {
    for (const [file, searchRoot] of files) {
      const result = await runFile(file, searchRoot, opts, run);
      if (result.cases.length === 0 && !result.error && opts.grep) continue;
      report.files.push(result);
      if (result.error) report.failed += Math.max(1, result.cases.length);
      else for (const c of result.cases) c.ok ? report.passed++ : report.failed++;
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
  let cf;
  try {
    cf = loadCaseFile(file);
  } catch (e) {
    return { file, error: e instanceof CaseFileError ? e.message : String(e), cases: [] };
  }
  const { root, id, routed } = mappingId(cf.mapping, opts.config, searchRoot);
  if (!existsSync(cf.mapping)) return { file, mapping: id, error: `no mapping ${path.relative(process.cwd(), cf.mapping)} for these cases`, cases: [] };
  const key = `${root}\0${id}`;
  let mapping = compiled.get(key);
  if (!mapping) {
    try {
      mapping = compileMapping(root, id);
    } catch (e) {
      return { file, mapping: id, error: e instanceof MappingError ? e.describe() : String(e), cases: [] };
    }
    compiled.set(key, mapping);
  }
  const result: FileResult = { file, mapping: id, cases: [] };
  for (const c of cf.cases) {
    if (opts.grep && !opts.grep.test(c.name)) continue;
    let details: string[];
    try {
      details = await runCase(c, path.dirname(file), mapping, routed, opts, run.xsd);
    } catch (e) {
      details = (e instanceof CaseError || e instanceof EnvelopeError || e instanceof XmlCompareError || e instanceof XsdUnavailableError ? e.message : `unexpected error: ${(e as Error).stack ?? String(e)}`).split('\n');
    }
    result.cases.push({ name: c.name, ok: details.length === 0, ...(c.line !== undefined ? { line: c.line } : {}), details });
  }
  return result;
}

/** What a case's mapping produced: the message text, or the error the hub would record, and in which format. */
export interface CaseOutput {
  format: 'json' | 'xml';
  text?: string;
  error?: string;
}

/** Builds the case's input as the hub would, runs the mapping (and the XSD, if the case names one). */
export async function caseOutput(c: GoldenCase, dir: string, mapping: CompiledMapping, routed: boolean, opts: GoldenOptions, xsd?: XsdSession): Promise<CaseOutput> {
  const config = opts.config;
  const raw = typeof c.input === 'string' ? readSubmissionFile(path.resolve(dir, c.input)) : structuredClone(c.input);
  for (const key of ['tenant', 'service', 'externalId', 'submittedAt'] as const) if (c[key] !== undefined) raw[key] = c[key];
  const envelope = checkedEnvelope(raw, typeof c.input === 'string' ? c.input : 'the inline input');

  // Looked up as the intake does: an unknown tenant or service never reaches a mapping in the hub.
  const tenant = config?.tenants.find((t) => t.key === envelope.tenant);
  const service = config?.services.find((s) => s.slug === envelope.service || s.leika === envelope.service);
  if (config && !tenant) throw new CaseError(`tenant ${envelope.tenant} is not in ${path.relative(process.cwd(), config.dir) || '.'}: the hub would refuse the submission`);
  if (config && !service) throw new CaseError(`service ${envelope.service} is not in ${path.relative(process.cwd(), config.dir) || '.'}: the hub would refuse the submission`);

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
  const format = c.format ?? target?.format ?? (target ? opts.adapterFormats?.get(target.adapter) : undefined) ?? 'json';
  const xmlOptions = target?.xml ?? DEFAULT_XML;
  const portal =
    c.portal ?? config?.portals.find((p) => p.tenants.some((t) => t === '*' || t === envelope.tenant || (tenant?.parent !== undefined && t === tenant.parent)))?.id ?? FALLBACK_PORTAL;
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
  let error: string | undefined;
  try {
    text = (await renderMessage(mapping, input, format, xmlOptions)).text;
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
  return { format, ...(text !== undefined ? { text } : {}), ...(error !== undefined ? { error } : {}) };
}

/** Runs one case; the failure's lines, or `[]` when it passes. */
async function runCase(c: GoldenCase, dir: string, mapping: CompiledMapping, routed: boolean, opts: GoldenOptions, xsd: XsdSession): Promise<string[]> {
  const expectedIsXml = c.expectedFile ? /\.xml$/i.test(c.expectedFile) : undefined;
  const { format, text, error } = await caseOutput(c, dir, mapping, routed, opts, xsd);
  if (expectedIsXml !== undefined && expectedIsXml !== (format === 'xml')) throw new CaseError(`expectedFile ${c.expectedFile} does not fit format: ${format}`);

  if (c.expectError !== undefined) {
    if (error === undefined) return [`expected an error matching /${c.expectError}/, but the mapping succeeded`];
    return new RegExp(c.expectError).test(error) ? [] : [`expected an error matching /${c.expectError}/, got:`, `  ${error}`];
  }
  if (error !== undefined) return [error];

  const labels = { expected: `expected${c.expectedFile ? ` (${c.expectedFile})` : ''}`, actual: `actual (${mapping.id})` };
  let cmp: Comparison;
  if (format === 'json') {
    const expected = c.expectedFile ? readJson(path.resolve(dir, c.expectedFile), c.expectedFile) : c.expected;
    cmp = compareJson(expected, JSON.parse(text!) as unknown, labels);
  } else {
    const expected = c.expectedFile ? readText(path.resolve(dir, c.expectedFile), c.expectedFile) : c.expected;
    if (typeof expected !== 'string') throw new CaseError('format: xml needs the expected XML as a string (a YAML block scalar `expected: |`) or an expectedFile');
    cmp = compareXml(expected, text!, labels);
  }
  return cmp.equal ? [] : cmp.diff;
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
    lines.push(`  ${c.ok ? '✓' : '✗'} ${c.name}`);
    if (!c.ok) {
      if (c.line !== undefined) lines.push(`      at ${shown}:${c.line}`);
      for (const l of c.details) lines.push(`      ${l}`);
    }
  }
  return lines;
}

export function formatSummary(report: GoldenReport): string {
  const total = report.passed + report.failed;
  const files = `${report.files.length} file${report.files.length === 1 ? '' : 's'}`;
  return `${total} case${total === 1 ? '' : 's'} in ${files}: ${report.passed} passed${report.failed ? `, ${report.failed} failed` : ''}`;
}
