// Checks on XML text from outside, run before any parser sees it (parseUntrustedXml calls checkXmlText first).
// fast-xml-parser turns `&#0;` and `&#xD800;` into empty strings instead of refusing them, takes raw control
// characters, and builds and converts its tree recursively, so a deep document can overflow the stack. This
// pre-scan is one loop over the text; it refuses:
//
// - characters XML 1.0 forbids (§2.2 Char), written raw: C0 controls but tab, LF and CR; U+FFFE, U+FFFF;
//   surrogates without their other half (they can only come from a decoder that let them through);
// - character references to them (`&#0;`, `&#x1F;`, `&#xD800;`, `&#x110000;`) and references that are not
//   written as XML writes one (`&#;`, `&#x;`, `&#12a;`, no `;`);
// - elements nested deeper than `maxDepth`.
//
// It does not judge well-formedness otherwise: that stays with the parser. Where the text is not well-formed
// (a comment that never ends, say) the scan stops and leaves the refusal to the parser.

export type XmlGuardFailureKind = 'forbidden-character' | 'forbidden-reference' | 'too-deep';

export type XmlGuardResult =
  | { ok: true }
  | { ok: false; kind: XmlGuardFailureKind; detail: string; offset: number; line: number; column: number };

export interface XmlGuardOptions {
  /** Elements nested deeper than this are refused; the root is depth 1. Default 64. */
  maxDepth?: number;
}

export const DEFAULT_XML_MAX_DEPTH = 64;

/** XML 1.0 §2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF] */
export function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

const FORBIDDEN_RAW =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function checkXmlText(text: string, options: XmlGuardOptions = {}): XmlGuardResult {
  const maxDepth = options.maxDepth ?? DEFAULT_XML_MAX_DEPTH;
  const fail = (kind: XmlGuardFailureKind, detail: string, offset: number): XmlGuardResult => {
    const { line, column } = lineAndColumn(text, offset);
    return { ok: false, kind, detail: `${detail} (line ${line}, column ${column})`, offset, line, column };
  };

  const raw = FORBIDDEN_RAW.exec(text);
  if (raw) return fail('forbidden-character', `the character U+${hex(raw[0].charCodeAt(0))} is not allowed in XML`, raw.index);

  const n = text.length;
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x26 /* & */) {
      const r = checkReference(text, i);
      if (r) return fail('forbidden-reference', r, i);
      i++;
      continue;
    }
    if (c !== 0x3c /* < */) {
      i++;
      continue;
    }
    // Markup whose content holds no references and no elements is skipped whole.
    let next: number;
    if (text.startsWith('<!--', i)) next = skipTo(text, '-->', i + 4);
    else if (text.startsWith('<![CDATA[', i)) next = skipTo(text, ']]>', i + 9);
    else if (text.startsWith('<?', i)) next = skipTo(text, '?>', i + 2);
    else if (text.startsWith('<!', i)) next = skipDeclaration(text, i);
    else if (text.startsWith('</', i)) {
      next = skipTo(text, '>', i + 2);
      depth--;
    } else {
      // A start tag: attribute values may hold references and ">" inside their quotes.
      let j = i + 1;
      let quote = 0;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (quote) {
          if (d === quote) quote = 0;
          else if (d === 0x26) {
            const r = checkReference(text, j);
            if (r) return fail('forbidden-reference', r, j);
          }
        } else if (d === 0x22 || d === 0x27) quote = d;
        else if (d === 0x3e /* > */) break;
        else if (d === 0x3c) break; // not well-formed; the parser says so
      }
      if (j >= n) return { ok: true };
      if (text.charCodeAt(j - 1) !== 0x2f /* / */ && text.charCodeAt(j) === 0x3e) {
        depth++;
        if (depth > maxDepth) return fail('too-deep', `elements are nested deeper than ${maxDepth} levels`, i);
      }
      next = j + 1;
    }
    if (next === -1) return { ok: true };
    i = next;
  }
  return { ok: true };
}

/** Just past the next `end` from `from`, or -1. */
function skipTo(text: string, end: string, from: number): number {
  const at = text.indexOf(end, from);
  return at === -1 ? -1 : at + end.length;
}

/** `<!DOCTYPE …>` and the like: up to the ">" that ends it, past an internal subset in brackets. */
function skipDeclaration(text: string, i: number): number {
  let bracket = 0;
  let quote = 0;
  for (let j = i + 2; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (quote) {
      if (d === quote) quote = 0;
    } else if (d === 0x22 || d === 0x27) quote = d;
    else if (d === 0x5b) bracket++;
    else if (d === 0x5d) bracket--;
    else if (d === 0x3e && bracket <= 0) return j + 1;
  }
  return -1;
}

const CHAR_REF = /#(?:x([0-9A-Fa-f]+)|([0-9]+));/y;

/** Why the reference at `at` (an "&") is refused, or undefined when it is fine or not a character reference. */
function checkReference(text: string, at: number): string | undefined {
  if (text.charCodeAt(at + 1) !== 0x23 /* # */) return undefined; // a named entity: the parser's business
  CHAR_REF.lastIndex = at + 1;
  const r = CHAR_REF.exec(text);
  if (!r) return `${JSON.stringify(text.slice(at, at + 12).split(/[\s<]/)[0])} is not a character reference; write &#digits; or &#xhex;`;
  const digits = (r[1] ?? r[2]!).replace(/^0+(?=.)/, '');
  const cp = digits.length > 8 ? Number.POSITIVE_INFINITY : Number.parseInt(digits, r[1] !== undefined ? 16 : 10);
  if (!isXmlChar(cp)) return `the character reference ${shown(r[0])} names a character XML does not allow`;
  return undefined;
}

function shown(ref: string): string {
  return `&${ref.length > 14 ? `${ref.slice(0, 12)}…` : ref}`;
}

function hex(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0');
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) {
    line++;
    start = k + 1;
  }
  return { line, column: offset - start + 1 };
}
