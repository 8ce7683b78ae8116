import { XMLParser, XMLValidator, type X2jOptions } from 'fast-xml-parser';
import { checkXmlText } from './xml-guards.ts';

/**
 * The one way the hub reads XML it did not write: a portal's submission, a back office's answer, a WSDL, an
 * acknowledgement file, a simulator's request. The hardening is fixed here: no DOCTYPE (so no entity
 * declarations, no external entities, no billion laughs), only XML's five predefined entities, expansions
 * bounded, nesting bounded, values kept as the text they are ("01234" stays "01234"). What a caller chooses
 * is the shape of the result.
 */
export interface UntrustedXmlShape {
  /** Attributes dropped (default) or kept, under `attributeNamePrefix` + name. */
  ignoreAttributes?: boolean;
  attributeNamePrefix?: string;
  /** Where an element with attributes keeps its text (default `#text`). */
  textNodeName?: string;
  removeNSPrefix?: boolean;
  /** Siblings as an array in document order instead of an object by name. */
  preserveOrder?: boolean;
  /** Which elements are always arrays (by default only a repeated one is). */
  isArray?: X2jOptions['isArray'];
  trimValues?: boolean;
  commentPropName?: string;
  cdataPropName?: string;
  /** `decode` (default): the predefined entities become their characters; `keep`: left as written, for a caller that decodes itself. */
  entities?: 'decode' | 'keep';
  /**
   * Refuse a reference to any entity but the five predefined ones and character references: without a DOCTYPE
   * nothing else is declared, so the document is not well-formed (the parser would leave `&nbsp;` as text).
   */
  onlyPredefinedEntities?: boolean;
  /** Check well-formedness first (the parser alone forgives some faults); the error then names line and column. */
  validate?: boolean;
  /** Elements nested deeper are refused (default 64). */
  maxDepth?: number;
  /** Bounds on entity expansion (defaults 100 000 expansions, 100 000 characters). */
  maxEntityExpansions?: number;
  maxExpandedLength?: number;
}

export type UntrustedXmlFault =
  | 'doctype'
  | 'undefined-entity'
  | 'forbidden-character'
  | 'forbidden-name'
  | 'malformed'
  | 'too-deep'
  | 'too-many-entities';

/** Why the XML was not read. The message is ours, never the parser's and never a quote of the input. */
export class UntrustedXmlError extends Error {
  constructor(
    readonly fault: UntrustedXmlFault,
    message: string,
    /** Where a `validate` check found the document not well-formed. */
    readonly at?: { line: number; column: number; rule: string },
  ) {
    super(message);
  }
}

const DEFAULT_MAX_DEPTH = 64;
const parsers = new WeakMap<UntrustedXmlShape, XMLParser>();

/** Parses `text` with the given shape; throws UntrustedXmlError. Pass one shape object per use: its parser is built once. */
export function parseUntrustedXml(text: string, shape: UntrustedXmlShape = {}): unknown {
  if (/<!DOCTYPE|<!ENTITY/i.test(text))
    throw new UntrustedXmlError('doctype', 'the XML carries a DOCTYPE or entity declaration, which is not read');
  // Before the parser, which turns &#0; into "" and recurses over the tree: characters XML forbids, and depth.
  const guard = checkXmlText(text, { maxDepth: shape.maxDepth ?? DEFAULT_MAX_DEPTH });
  if (!guard.ok) throw new UntrustedXmlError(guard.kind === 'too-deep' ? 'too-deep' : 'forbidden-character', guard.detail);
  if (shape.onlyPredefinedEntities) {
    const unknown = /&(?!(?:lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9A-Fa-f]{1,6});)[^;\s<]{0,32};?/.exec(
      text.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ''),
    );
    if (unknown)
      throw new UntrustedXmlError(
        'undefined-entity',
        `undefined entity ${unknown[0].slice(0, 34)}; only &lt; &gt; &amp; &quot; &apos; and character references are allowed`,
      );
  }
  if (shape.validate) {
    const valid = XMLValidator.validate(text);
    if (valid !== true)
      throw new UntrustedXmlError('malformed', `not well-formed XML (line ${valid.err.line}, column ${valid.err.col})`, {
        line: valid.err.line,
        column: valid.err.col,
        rule: valid.err.msg,
      });
  }
  let parser = parsers.get(shape);
  if (!parser) parsers.set(shape, (parser = new XMLParser(parserOptions(shape))));
  try {
    return parser.parse(text) as unknown;
  } catch (e) {
    const message = (e as Error).message ?? '';
    // fast-xml-parser refuses names that are not data in JavaScript (`<__proto__>`, `<constructor>`): the sender's input.
    if (/\[SECURITY\]/.test(message))
      throw new UntrustedXmlError('forbidden-name', 'element and attribute names __proto__, constructor and prototype are not accepted');
    if (/nested tags/i.test(message))
      throw new UntrustedXmlError('too-deep', `elements nest deeper than ${shape.maxDepth ?? DEFAULT_MAX_DEPTH} levels`);
    if (/entit|expan/i.test(message)) throw new UntrustedXmlError('too-many-entities', 'the XML expands more entities than allowed');
    throw new UntrustedXmlError('malformed', 'not well-formed XML');
  }
}

function parserOptions(s: UntrustedXmlShape): Partial<X2jOptions> {
  return {
    ignoreAttributes: s.ignoreAttributes ?? true,
    ...(s.attributeNamePrefix !== undefined ? { attributeNamePrefix: s.attributeNamePrefix } : {}),
    ...(s.textNodeName !== undefined ? { textNodeName: s.textNodeName } : {}),
    ...(s.commentPropName !== undefined ? { commentPropName: s.commentPropName } : {}),
    ...(s.cdataPropName !== undefined ? { cdataPropName: s.cdataPropName } : {}),
    ...(s.isArray ? { isArray: s.isArray } : {}),
    removeNSPrefix: s.removeNSPrefix ?? false,
    preserveOrder: s.preserveOrder ?? false,
    trimValues: s.trimValues ?? true,
    parseTagValue: false,
    parseAttributeValue: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    htmlEntities: false,
    // The DOCTYPE check above leaves nothing to declare entities; these bound the predefined ones.
    processEntities:
      s.entities === 'keep'
        ? false
        : {
            enabled: true,
            maxEntityCount: 0,
            maxEntitySize: 0,
            maxTotalExpansions: s.maxEntityExpansions ?? 100_000,
            maxExpandedLength: s.maxExpandedLength ?? 100_000,
          },
    maxNestedTags: s.maxDepth ?? DEFAULT_MAX_DEPTH,
  };
}
