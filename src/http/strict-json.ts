// A JSON reader for bodies from outside (portals, back offices). JSON.parse is the wrong tool there: it
// recurses (a 10 KB body of `[[[[…` overflows the stack and becomes a 500), lets the last of two equal keys
// win, turns bytes that are not UTF-8 into U+FFFD, turns `12345678901234567891` into another number and hands
// `__proto__` keys to code that may assign them to a plain object, where they vanish or change its prototype.
//
// This reader works on the raw bytes and is one loop with an explicit stack, so nothing recursive ever sees
// a document deeper than the limit. Choices, each refused with a kind the caller maps to its problem type:
//
// - Bytes that are not UTF-8 (overlong forms, surrogates, beyond U+10FFFF, cut-off sequences): `invalid-utf8`.
// - One UTF-8 byte order mark before the text is tolerated and skipped. RFC 8259 §8.1 lets a parser ignore it,
//   Windows tools (PowerShell 5, .NET's Encoding.UTF8) write it, and it carries no data, so refusing it would
//   only turn away honest portals. A BOM anywhere else is not whitespace and refused as `malformed`.
// - Nesting deeper than `maxDepth` (objects and arrays counted together): `too-deep`, found before the deeper
//   part is even looked at.
// - A key twice in one object: `duplicate-key` (RFC 8259 §4 leaves it open, I-JSON, RFC 7493 §2.3, forbids it).
// - Keys `__proto__`, `constructor` and `prototype`: `forbidden-key`. Keeping them as data would have to hold
//   in every consumer (schema validation, JSONata, hashing, the store, XML writing), and one `Object.assign` or
//   `obj[key] = v` anywhere makes them vanish again; refusing them here holds everywhere at once. No form of
//   a public authority has a field of these names.
// - Escapes `\u0000` and lone surrogates (`\uD800`): `invalid-unicode`. Neither is a character PostgreSQL text
//   or XML 1.0 can hold, so a stored or forwarded value would be altered or refused later (I-JSON §2.1).
// - Numbers follow JSON's grammar only (no `0x10`, `+1`, `01`, `.5`, `NaN`). A number that JavaScript cannot
//   hold as written is `number-out-of-range`: one that overflows to ±Infinity, and an integer literal that
//   would become another integer (beyond 2^53 and not exactly representable). Decimal fractions are kept as
//   the nearest double, as every JSON reader does; the schema decides what it accepts.

export type StrictJsonFailureKind =
  | 'invalid-utf8'
  | 'malformed'
  | 'too-deep'
  | 'duplicate-key'
  | 'forbidden-key'
  | 'invalid-unicode'
  | 'number-out-of-range';

/** The HTTP status each refusal deserves: 400 when the body is not JSON we can read, 422 when it is but says what we do not take. */
export const strictJsonStatus: Readonly<Record<StrictJsonFailureKind, 400 | 422>> = {
  'invalid-utf8': 400,
  malformed: 400,
  'too-deep': 400,
  'invalid-unicode': 400,
  'duplicate-key': 422,
  'forbidden-key': 422,
  'number-out-of-range': 422,
};

export type JsonPath = (string | number)[];

export type StrictJsonResult =
  | { ok: true; value: unknown }
  | {
      ok: false;
      kind: StrictJsonFailureKind;
      detail: string;
      /** Where in the document: keys and indexes from the root, as `pointer()` of src/http/problem.ts renders them. */
      path: JsonPath;
      /** Byte offset into the body (including a skipped BOM). */
      offset: number;
    };

export interface StrictJsonOptions {
  /** Objects and arrays nested deeper than this are refused. Default 64. */
  maxDepth?: number;
}

export const DEFAULT_MAX_DEPTH = 64;

/** The keys refused anywhere in a document. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

type Failure = Extract<StrictJsonResult, { ok: false }>;

/** Reads one JSON document from untrusted bytes. Never throws for any input. */
export function readStrictJson(bytes: Uint8Array, options: StrictJsonOptions = {}): StrictJsonResult {
  const bad = firstInvalidUtf8(bytes);
  if (bad !== -1) {
    return { ok: false, kind: 'invalid-utf8', detail: `the body is not valid UTF-8 (at byte ${bad})`, path: [], offset: bad };
  }
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', bom);
  const r = parseStrictJsonText(text, options);
  if (r.ok) return r;
  // Offsets from the text are in UTF-16 units; the caller sees bytes.
  return { ...r, offset: bom + Buffer.byteLength(text.slice(0, r.offset), 'utf8') };
}

/**
 * Byte offset of the first byte that is not part of well-formed UTF-8 (Unicode 15, table 3-7), or -1.
 * Our own loop rather than TextDecoder's `fatal`, because the answer should say where.
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0; // overlong
      if (c === 0xed) hi = 0x9f; // UTF-16 surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90; // overlong
      if (c === 0xf4) hi = 0x8f; // beyond U+10FFFF
    } else return i;
    if (i + need >= n) return i; // cut off at the end
    const second = b[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const cont = b[i + k]!;
      if (cont < 0x80 || cont > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** JSON's number grammar (RFC 8259 §6), anchored where it is used. */
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WHOLE_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * A number written as text (a JSON literal, an XML leaf with `type="number"`), read by JSON's grammar and
 * refused when JavaScript would change it: `0x10`, ` 1`, `1e999` and `12345678901234567891` are all refused.
 */
export function readJsonNumber(text: string): { ok: true; value: number } | { ok: false; detail: string } {
  if (!WHOLE_NUMBER.test(text)) return { ok: false, detail: `${quoteShort(text)} is not a number as JSON writes one` };
  return numberValue(text);
}

function numberValue(text: string): { ok: true; value: number } | { ok: false; detail: string } {
  const value = Number(text);
  if (!Number.isFinite(value)) return { ok: false, detail: `${quoteShort(text)} is too large for a number` };
  if (!Number.isSafeInteger(value) && /^-?[0-9]+$/.test(text) && BigInt(text) !== BigInt(value)) {
    return { ok: false, detail: `${quoteShort(text)} cannot be held exactly; send it as a string` };
  }
  return { ok: true, value };
}

function quoteShort(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

interface ObjectFrame {
  array: false;
  value: Record<string, unknown>;
  key: string;
}
interface ArrayFrame {
  array: true;
  value: unknown[];
}
type Frame = ObjectFrame | ArrayFrame;

/** Parses JSON text (already decoded) with the same rules as readStrictJson, minus the byte checks. */
export function parseStrictJsonText(text: string, options: StrictJsonOptions = {}): StrictJsonResult {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const n = text.length;
  const stack: Frame[] = [];
  let i = 0;

  const pathNow = (): JsonPath => stack.map((f) => (f.array ? f.value.length : f.key));
  const fail = (kind: StrictJsonFailureKind, detail: string, at: number, path: JsonPath = pathNow()): Failure => ({
    ok: false,
    kind,
    detail,
    path,
    offset: at,
  });
  const unexpected = (what: string): Failure =>
    i >= n
      ? fail('malformed', `the body is not valid JSON: it ends where ${what} should follow`, i)
      : fail('malformed', `the body is not valid JSON: ${describe(text, i)} at character ${i} where ${what} should be`, i);
  const skipWhitespace = (): void => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
    }
  };

  // Reads a string starting at the opening quote; returns the string or a failure, and moves i past it.
  const readString = (): string | Failure => {
    const start = i;
    i++;
    let out = '';
    let chunk = i;
    for (;;) {
      if (i >= n) return fail('malformed', `the body is not valid JSON: a string starting at character ${start} does not end`, start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(chunk, i);
        i++;
        return out;
      }
      if (c < 0x20)
        return fail(
          'malformed',
          `the body is not valid JSON: a control character (U+${hex4(c)}) in a string at character ${i}; write it escaped`,
          i,
        );
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(chunk, i);
      const e = text.charCodeAt(i + 1);
      let decoded: string | undefined;
      switch (e) {
        case 0x22:
          decoded = '"';
          break;
        case 0x5c:
          decoded = '\\';
          break;
        case 0x2f:
          decoded = '/';
          break;
        case 0x62:
          decoded = '\b';
          break;
        case 0x66:
          decoded = '\f';
          break;
        case 0x6e:
          decoded = '\n';
          break;
        case 0x72:
          decoded = '\r';
          break;
        case 0x74:
          decoded = '\t';
          break;
        case 0x75: {
          const unit = hexUnit(text, i + 2);
          if (unit < 0) return fail('malformed', `the body is not valid JSON: a \\u escape at character ${i} needs four hex digits`, i);
          if (unit === 0) return fail('invalid-unicode', `\\u0000 at character ${i}: NUL cannot be stored or forwarded`, i);
          if (unit >= 0xdc00 && unit <= 0xdfff)
            return fail('invalid-unicode', `\\u${hex4(unit)} at character ${i} is half of a surrogate pair without its first half`, i);
          if (unit >= 0xd800 && unit <= 0xdbff) {
            const low = text.charCodeAt(i + 6) === 0x5c && text.charCodeAt(i + 7) === 0x75 ? hexUnit(text, i + 8) : -1;
            if (low < 0xdc00 || low > 0xdfff)
              return fail('invalid-unicode', `\\u${hex4(unit)} at character ${i} is half of a surrogate pair without its second half`, i);
            out += String.fromCharCode(unit, low);
            i += 12;
          } else {
            out += String.fromCharCode(unit);
            i += 6;
          }
          chunk = i;
          continue;
        }
        default:
          return fail('malformed', `the body is not valid JSON: an unknown escape at character ${i}`, i);
      }
      out += decoded;
      i += 2;
      chunk = i;
    }
  };

  // The loop alternates between "a value is expected" and "a value just ended"; containers live on the stack.
  let value: unknown;
  expectValue: for (;;) {
    skipWhitespace();
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) {
        return fail('too-deep', `the body is nested deeper than ${maxDepth} levels`, i);
      }
      i++;
      skipWhitespace();
      if (c === 0x5b) {
        const arr: unknown[] = [];
        if (text.charCodeAt(i) === 0x5d) {
          i++;
          value = arr;
        } else {
          stack.push({ array: true, value: arr });
          continue;
        }
      } else {
        const obj: Record<string, unknown> = {};
        if (text.charCodeAt(i) === 0x7d) {
          i++;
          value = obj;
        } else {
          const frame: ObjectFrame = { array: false, value: obj, key: '' };
          stack.push(frame);
          const k = readKey(frame);
          if (typeof k !== 'string') return k;
          continue;
        }
      }
    } else if (c === 0x22) {
      const s = readString();
      if (typeof s !== 'string') return s;
      value = s;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) return unexpected('a value');
      const num = numberValue(m[0]);
      if (!num.ok) return fail('number-out-of-range', num.detail, i);
      i += m[0].length;
      value = num.value;
    } else if (text.startsWith('true', i)) {
      i += 4;
      value = true;
    } else if (text.startsWith('false', i)) {
      i += 5;
      value = false;
    } else if (text.startsWith('null', i)) {
      i += 4;
      value = null;
    } else {
      return unexpected('a value');
    }

    // A value ended: put it into its container, and close every container that ends here.
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) {
        skipWhitespace();
        if (i < n)
          return fail(
            'malformed',
            `the body is not valid JSON: ${describe(text, i)} at character ${i} after the end of the document`,
            i,
            [],
          );
        return { ok: true, value };
      }
      if (top.array) top.value.push(value);
      else top.value[top.key] = value; // safe: readKey refused the keys that assignment would not store as data
      skipWhitespace();
      const d = text.charCodeAt(i);
      if (d === 0x2c /* , */) {
        i++;
        if (!top.array) {
          const k = readKey(top);
          if (typeof k !== 'string') return k;
        }
        continue expectValue;
      }
      if (d === (top.array ? 0x5d : 0x7d)) {
        i++;
        stack.pop();
        value = top.value;
        continue;
      }
      return unexpected(top.array ? '"," or "]"' : '"," or "}"');
    }
  }

  // Reads `"key" :` into the frame, refusing duplicates and the keys that are not data in JavaScript.
  function readKey(frame: ObjectFrame): string | Failure {
    skipWhitespace();
    if (text.charCodeAt(i) !== 0x22) return unexpected('a key in quotes');
    const at = i;
    const k = readString();
    if (typeof k !== 'string') return k;
    frame.key = k;
    if (FORBIDDEN_KEYS.has(k)) return fail('forbidden-key', `the key ${JSON.stringify(k)} is not accepted`, at);
    if (Object.hasOwn(frame.value, k)) return fail('duplicate-key', `the key ${quoteShort(k)} appears twice in one object`, at);
    skipWhitespace();
    if (text.charCodeAt(i) !== 0x3a) return unexpected('":"');
    i++;
    return k;
  }
}

function hexUnit(text: string, at: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = text.charCodeAt(at + k);
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

function hex4(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0');
}

/** "\"x\"" for a printable character, "U+FEFF" for the rest: what an answer can show without echoing the body. */
function describe(text: string, at: number): string {
  const c = text.codePointAt(at)!;
  return c > 0x20 && c < 0x7f ? JSON.stringify(String.fromCharCode(c)) : `U+${hex4(c)}`;
}
