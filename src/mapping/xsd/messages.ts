// Turns libxml2's diagnostics into one-line messages that name the element and the rule but never the value:
// values are citizens' form data, and these messages end up in delivery errors, logs and the operator console.

/** One problem with a document, as the validator reports it. */
export interface XsdError {
  /** Line of the offending node (libxml2 reports no column for schema errors). */
  line: number;
  /** Local name of the offending element, when libxml2 names one. */
  element?: string;
  /** Where the element sits, e.g. `/xdomea:FVDaten.SGOErstellen.0604/xdomea:Kopf/xdomea:ProzessID`. */
  path?: string;
  /** One line: the element, the attribute if any, and the rule that failed. */
  message: string;
}

/** What libxml2-wasm puts into `XmlLibError.details`. */
export interface RawDetail {
  message: string;
  level?: number;
  line?: number;
  col?: number;
  file?: string;
  xpath?: string;
}

const MESSAGE_MAX = 400;
const ENUM_SHOWN = 12;

/** `{urn:x}Name` → `Name`. Only braces holding a URI (":" or "/") are namespaces; `{8}` in a pattern is not. */
function stripNamespaces(text: string): string {
  return text.replace(/\{[^{}\s']*[:/][^{}\s']*\}(?=[A-Za-z_])/g, '');
}

function localName(qname: string): string {
  const noNs = stripNamespaces(qname);
  const colon = noNs.lastIndexOf(':');
  return colon >= 0 ? noNs.slice(colon + 1) : noNs;
}

/** Collapses whitespace and control characters (a forged newline would forge a log line) and caps the length. */
export function flatten(text: string, max = MESSAGE_MAX): string {
  const flat = text.replace(/[\s\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

/** `'0101', '0102', …` → the first few allowed values and how many there are. */
function shortenSet(set: string): string {
  const items = set.split(/',\s*'/);
  if (items.length <= ENUM_SHOWN) return `{${set}}`;
  const shown = items.slice(0, ENUM_SHOWN).join("', '");
  return `{${shown}', … (${items.length} values)}`;
}

/**
 * Removes the offending value from the part after `Element '…': `. libxml2 quotes the value verbatim, so it can
 * hold quotes itself: every pattern anchors on the fixed text that follows the value, and is greedy, so the
 * whole value goes whatever it contains.
 */
function redactValue(rest: string): string {
  let m: RegExpExecArray | null;
  // "'abc' is not a valid value of the atomic type 'xs:date'." (also list, union and local types)
  if ((m = /^'[\s\S]*' (is not a valid value of [\s\S]*)$/.exec(rest))) return `the value ${m[1]}`;
  // "[facet 'enumeration'] The value 'x' is not an element of the set {'a', 'b'}."
  if ((m = /^\[facet 'enumeration'\] The value '[\s\S]*' is not an element of the set \{([\s\S]*)\}\.?$/.exec(rest))) {
    return `[facet 'enumeration'] the value is not one of ${shortenSet(m[1]!)}.`;
  }
  // "[facet 'pattern'] The value 'x' is not accepted by the pattern '…'." and every other
  // "The value|actual value|initial value|QName value|element content '…' <verb> …" form.
  if (
    (m =
      /^(\[facet '[A-Za-z]+'\] )?The (?:actual |initial |QName )?(?:value|element content) '[\s\S]*'( (?:is|has|must|does|of)\b[\s\S]*)$/.exec(
        rest,
      ))
  ) {
    return `${m[1] ?? ''}the value${m[2]}`;
  }
  // Identity constraints list the key values: "Duplicate key-sequence ['a', 'b'] in unique …".
  return rest.replace(/key-sequence \[[\s\S]*\] (in|of) /, 'key-sequence […] $1 ');
}

/** A schema-validity error from libxml2 → element, cleaned message. */
export function cleanValidityMessage(raw: string): { element?: string; message: string } {
  const text = raw.trim();
  const m = /^Element '([^']*)'(?:, attribute '([^']*)')?: ([\s\S]*)$/.exec(text);
  if (!m) return { message: flatten(stripNamespaces(redactValue(text))) };
  const element = localName(m[1]!);
  const attribute = m[2] === undefined ? '' : `, attribute '${localName(m[2])}'`;
  const rest = stripNamespaces(redactValue(m[3]!));
  return { element, message: flatten(`Element '${element}'${attribute}: ${rest}`) };
}

/** A well-formedness error from libxml2's parser. Only "Bytes: 0x…" (a piece of the text) needs to go. */
export function cleanParseMessage(raw: string): string {
  return flatten('not well-formed XML: ' + raw.replace(/Bytes: (0x[0-9A-Fa-f]{2}\s*)+/g, '').trim());
}

/** The details of a failed validation → at most `max` errors, in document order. */
export function validityErrors(details: RawDetail[], max: number): XsdError[] {
  return details
    .filter((d) => (d.level ?? 2) >= 2)
    .slice(0, max)
    .map((d) => {
      const { element, message } = cleanValidityMessage(d.message);
      const e: XsdError = { line: d.line ?? 0, message };
      if (element) e.element = element;
      if (d.xpath) e.path = d.xpath;
      return e;
    });
}

export function parseErrors(details: RawDetail[], max: number): XsdError[] {
  const errors = details.filter((d) => (d.level ?? 2) >= 2).slice(0, max);
  if (errors.length === 0) return [{ line: 0, message: 'not well-formed XML' }];
  return errors.map((d) => ({ line: d.line ?? 0, message: cleanParseMessage(d.message) }));
}
