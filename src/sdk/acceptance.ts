// The acceptance rule: what in a back office's answer means "filed", "refused" or "refused for now".
// Many back offices never fault: they answer HTTP 200 with a result code inside. The HTTP status alone says
// only that the answer arrived, so every adapter that reads an answer (rest, xml-http, soap, …) judges it with
// this one rule, written per target in config as JSONata expressions over the parsed answer.
import jsonata from 'jsonata';
import { z } from 'zod';
import { oneLine } from './text.ts';
import type { DeliveryResult, OutboundMessage } from './types.ts';

/** The back office's error text in an attempt's error: one line, cut, so it stays a message and not a dump. */
export const ERROR_TEXT_MAX = 200;

const RULE_KEYS = ['accepted', 'retryable', 'error', 'reference'] as const;
type RuleKey = (typeof RULE_KEYS)[number];

/** A JSONata syntax error as `line:column: message`, or undefined when the source compiles. */
export function jsonataSyntaxError(source: string): string | undefined {
  try {
    jsonata(source);
    return undefined;
  } catch (e) {
    const err = e as { message?: string; position?: number };
    return `JSONata syntax error${err.position !== undefined ? ` at ${lineColumn(source, err.position)}` : ''}: ${err.message ?? String(e)}`;
  }
}

/** JSONata counts characters from 1 and points just past the bad token; people read line:column. */
function lineColumn(source: string, position: number): string {
  const before = source.slice(0, Math.max(0, position - 1));
  const lines = before.split('\n');
  return `${lines.length}:${lines[lines.length - 1]!.length + 1}`;
}

const expression = (what: string) =>
  z
    .string()
    .min(1)
    .superRefine((source, ctx) => {
      // Checked when the configuration loads, so `config check` and start-up name the target and the key.
      const problem = jsonataSyntaxError(source);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe(what);

/**
 * The option every answer-reading adapter offers as `acceptance`, one zod piece so the JSON Schema and the
 * docs describe it alike everywhere. Each value is a JSONata expression over the parsed answer (`$`), with
 * `$httpStatus` and `$mediaType` bound.
 */
export const acceptanceOption = z
  .object({
    accepted: expression('true when the back office filed the case, e.g. status = "0" or Ergebnis = "OK"'),
    retryable: expression(
      'for an answer that is not accepted: true when the refusal is temporary and a later attempt may succeed; default: permanent',
    ).optional(),
    error: expression(
      "the back office's error text for a refusal, e.g. errormessage or Meldung; it goes into the attempt's error, cut to 200 characters",
    ).optional(),
    reference: expression(
      "the back office's reference (Aktenzeichen) in an accepted answer; replaces the adapter's own reference option",
    ).optional(),
  })
  .strict()
  .describe("how to read the back office's answer: accepted, refused for now, or refused (see docs/acceptance.md)");

export type AcceptanceOptions = z.output<typeof acceptanceOption>;

/**
 * The rule of an HTTP target without `acceptance`: a 2xx is accepted unless it is recognisably a refusal, the
 * shapes REST back offices use (`{"ok": false, "error": …}`, `{"success": false, "message": …}`) or an HTML page
 * where a receipt belongs (a proxy's login or error page). Both are permanent: nobody can tell from them when a
 * retry would help, and a failed delivery is one an operator sees and can replay.
 */
export const HTTP_DEFAULT_ACCEPTANCE: AcceptanceOptions = {
  accepted: '$not($mediaType = "text/html" or ok = false or success = false)',
  error:
    '$mediaType = "text/html" ? "it answered with an HTML page, not a receipt" : [error, message, error.message][$type($) = "string"][0]',
};

/** The answer as the rule sees it: the parsed body plus what the HTTP layer knew. */
export interface ParsedAnswer {
  /** A JSON value, an XML document as an object (see parseAnswerXml), or the text when it is neither. */
  body: unknown;
  httpStatus?: number | undefined;
  /** `application/json`, `text/html`, …; '' when the answer had none. */
  mediaType?: string | undefined;
}

export type Verdict =
  /** `reference`: undefined when the rule has no reference expression (the adapter reads its own option). */
  | { accepted: true; reference: string | null | undefined }
  | { accepted: false; retryable: boolean; error: string; errorKind: 'refused' | 'acceptance-rule' };

export interface AcceptanceRule {
  judge(answer: ParsedAnswer, sent?: OutboundMessage): Promise<Verdict>;
}

/**
 * Compiles a rule once, at create() time. A rule that cannot compile throws with the key at fault; the hub
 * adds the target's id. Options parsed by `acceptanceOption` have already been checked, so this is a guard.
 */
export function compileAcceptance(options: AcceptanceOptions): AcceptanceRule {
  const compiled: Partial<Record<RuleKey, jsonata.Expression>> = {};
  for (const key of RULE_KEYS) {
    const source = options[key];
    if (source === undefined) continue;
    const problem = jsonataSyntaxError(source);
    if (problem) throw new Error(`acceptance.${key}: ${problem}`);
    compiled[key] = jsonata(source);
  }

  return {
    async judge(answer, sent) {
      const bindings = { httpStatus: answer.httpStatus, mediaType: answer.mediaType ?? '' };
      const run = async (key: RuleKey): Promise<unknown> => compiled[key]?.evaluate(answer.body ?? null, bindings);
      try {
        if (truthy(await run('accepted'))) {
          if (!compiled.reference) return { accepted: true, reference: undefined };
          return { accepted: true, reference: scalarText(await run('reference')) };
        }
        const retryable = truthy(await run('retryable'));
        const text = compiled.error ? scalarText(await run('error')) : null;
        const shown = text === null ? '' : oneLine(withoutFormData(text, sent), ERROR_TEXT_MAX);
        return {
          accepted: false,
          retryable,
          errorKind: 'refused',
          error: shown ? `back office refused the case: ${shown}` : 'back office refused the case (no error text in its answer)',
        };
      } catch (e) {
        // A rule that cannot read this answer (a type error, a function on the wrong value) cannot say the case
        // was filed. Permanent: the same answer fails the same way, and an operator must look at the rule.
        // JSONata's message may quote a value of the answer, so only its code is shown.
        const code = (e as { code?: unknown }).code;
        return {
          accepted: false,
          retryable: false,
          errorKind: 'acceptance-rule',
          error: `the acceptance rule failed on the answer${typeof code === 'string' ? ` (JSONata ${code})` : ''}`,
        };
      }
    },
  };
}

/** The verdict of a refusal as the delivery result the worker records. */
export function refusal(verdict: Extract<Verdict, { accepted: false }>, httpStatus?: number): Extract<DeliveryResult, { ok: false }> {
  const result: Extract<DeliveryResult, { ok: false }> = {
    ok: false,
    retryable: verdict.retryable,
    error: verdict.error,
    errorKind: verdict.errorKind,
  };
  if (httpStatus !== undefined) result.httpStatus = httpStatus;
  return result;
}

/** JSONata's own truthiness (`$boolean`): empty strings, 0, empty arrays and objects, null and nothing are false. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0 && Number.isFinite(v);
  if (Array.isArray(v)) return v.some(truthy);
  if (typeof v === 'function') return false;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return false;
}

/** A string or a number is text; an XML element with attributes keeps its text under `#text`. */
function scalarText(v: unknown): string | null {
  if (Array.isArray(v)) return v.length === 1 ? scalarText(v[0]) : null;
  if (v && typeof v === 'object' && Object.hasOwn(v, '#text')) return scalarText((v as Record<string, unknown>)['#text']);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  return null;
}

/** Values shorter than this are too common ("ja", "1") to be worth hiding, and hiding them would garble the text. */
const MIN_HIDDEN = 3;
const MAX_VALUES = 1000;

/**
 * The back office's text with every value of the message it was sent cut out: back offices like to quote the
 * field they refuse ("Rasse 'Dackel' unbekannt"), and the attempt's error is shown to operators and portals,
 * where form data has no place.
 */
export function withoutFormData(text: string, sent: OutboundMessage | undefined): string {
  if (!sent) return text;
  const values = new Set<string>();
  const add = (v: string) => {
    const t = v.trim();
    if (t.length >= MIN_HIDDEN && values.size < MAX_VALUES) values.add(t);
  };
  if (sent.format === 'json') walk(sent.body, add);
  else {
    for (const m of sent.text.matchAll(/>([^<]+)</g)) add(decodeXml(m[1]!));
    for (const m of sent.text.matchAll(/=\s*"([^"]*)"/g)) add(decodeXml(m[1]!));
  }
  let out = text;
  for (const v of [...values].sort((a, b) => b.length - a.length)) out = out.split(v).join('…');
  return out;
}

function walk(v: unknown, add: (s: string) => void, depth = 0): void {
  if (depth > 64) return;
  if (typeof v === 'string') add(v);
  else if (typeof v === 'number' && Number.isFinite(v)) add(String(v));
  else if (Array.isArray(v)) for (const x of v) walk(x, add, depth + 1);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x, add, depth + 1);
}

function decodeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
