// Which element paths an XSD lets repeat, so the JSON shape makes them arrays even when a document has one:
// "arrays where the schema repeats an element". Read from the schema set once, when a channel is compiled.
//
// Followed: global and local elements, element refs, named and inline complex types, sequence, choice, all,
// group refs, complexContent extension (the base's content first) and restriction, maxOccurs on elements and on
// the groups around them, xs:include and xs:import by local schemaLocation. Not followed: substitution groups
// and xsi:type (a document may then hold elements the schema's paths do not name; list those in `arrays`).

import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { elementKey } from './xml-shape.ts';

const XS = 'http://www.w3.org/2001/XMLSchema';

export class XsdArraysError extends Error {
  override name = 'XsdArraysError';
}

/** One XSD element node: its attributes and, per XSD local name, its child nodes. */
interface Node {
  attrs: Record<string, string>;
  children: Map<string, Node[]>;
  /** The schema document it belongs to. */
  doc: SchemaDoc;
}

interface SchemaDoc {
  targetNamespace: string;
  qualified: boolean;
  /** Prefix → URI, as declared on the xs:schema element. */
  scope: Map<string, string>;
}

interface Globals {
  elements: Map<string, Node>;
  types: Map<string, Node>;
  groups: Map<string, Node>;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  preserveOrder: true,
  processEntities: false,
});

/**
 * The paths (in the JSON shape's keys, see xml-shape.ts) of every element under `root` that may occur more than
 * once. `namespaces` are the channel's prefixes, so the paths match what shapeXml writes.
 */
export function arrayPathsFromXsd(
  entryXsd: string,
  root: { namespace: string; element: string },
  namespaces: Readonly<Record<string, string>>,
  maxDepth = 64,
): string[] {
  const globals: Globals = { elements: new Map(), types: new Map(), groups: new Map() };
  loadSet(path.resolve(entryXsd), globals, new Set());
  const rootDecl = globals.elements.get(clark(root.namespace, root.element));
  if (!rootDecl) throw new XsdArraysError(`the schema ${entryXsd} declares no global element ${clark(root.namespace, root.element)}`);
  const key = elementKey(namespaces);
  const found = new Set<string>();
  const rootKey = key({ namespace: root.namespace, local: root.element });

  const walkElement = (decl: Node, at: string, repeated: boolean, depth: number, seen: ReadonlySet<Node>): void => {
    const ref = decl.attrs.ref;
    const target = ref ? globals.elements.get(resolveQName(ref, decl.doc)) : decl;
    if (!target) throw new XsdArraysError(`element ref ${ref} is not declared in the schema set`);
    const isGlobal = ref !== undefined;
    const namespace = isGlobal ? target.doc.targetNamespace : formOf(decl);
    const name = target.attrs.name;
    if (!name) return;
    const here = `${at}/${key({ namespace, local: name })}`;
    if (repeated) found.add(here);
    walkType(target, here, depth + 1, seen);
  };

  const walkType = (decl: Node, at: string, depth: number, seen: ReadonlySet<Node>): void => {
    if (depth > maxDepth) return;
    let type: Node | undefined = decl.children.get('complexType')?.[0];
    if (!type && decl.attrs.type) {
      const qn = resolveQName(decl.attrs.type, decl.doc);
      type = globals.types.get(qn);
      if (!type) return; // a simple or built-in type: text only
    }
    if (!type || seen.has(type)) return; // a recursive type: its paths below here repeat those above
    walkContent(type, at, false, depth, new Set([...seen, type]));
  };

  /** The particles of a complex type, group or model group; `repeated` when a group around them repeats. */
  const walkContent = (node: Node, at: string, repeated: boolean, depth: number, seen: ReadonlySet<Node>): void => {
    for (const [kind, list] of node.children) {
      for (const child of list) {
        const many = repeated || maxOccursAbove1(child);
        switch (kind) {
          case 'element':
            walkElement(child, at, many, depth, seen);
            break;
          case 'sequence':
          case 'choice':
          case 'all':
            walkContent(child, at, many, depth, seen);
            break;
          case 'group': {
            const g = child.attrs.ref ? globals.groups.get(resolveQName(child.attrs.ref, child.doc)) : child;
            if (!g) throw new XsdArraysError(`group ref ${child.attrs.ref} is not declared in the schema set`);
            walkContent(g, at, many, depth, seen);
            break;
          }
          case 'complexContent':
            walkContent(child, at, repeated, depth, seen);
            break;
          case 'extension':
          case 'restriction': {
            // An extension's content is its base's, then its own; a restriction restates the content it keeps.
            if (kind === 'extension' && child.attrs.base) {
              const base = globals.types.get(resolveQName(child.attrs.base, child.doc));
              if (base && !seen.has(base)) walkContent(base, at, repeated, depth, new Set([...seen, base]));
            }
            walkContent(child, at, repeated, depth, seen);
            break;
          }
          default:
            break; // attributes, annotations, simpleContent: no child elements
        }
      }
    }
  };

  walkType(rootDecl, rootKey, 1, new Set());
  return [...found].sort();
}

function clark(namespace: string, local: string): string {
  return `{${namespace}}${local}`;
}

function maxOccursAbove1(node: Node): boolean {
  const m = node.attrs.maxOccurs;
  return m === 'unbounded' || (m !== undefined && Number(m) > 1);
}

/** A local element's namespace: the target namespace when qualified (by `form` or `elementFormDefault`). */
function formOf(decl: Node): string {
  const form = decl.attrs.form;
  const qualified = form ? form === 'qualified' : decl.doc.qualified;
  return qualified ? decl.doc.targetNamespace : '';
}

function resolveQName(qname: string, doc: SchemaDoc): string {
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const local = colon < 0 ? qname : qname.slice(colon + 1);
  const ns = doc.scope.get(prefix) ?? (prefix === '' ? '' : undefined);
  if (ns === undefined) throw new XsdArraysError(`the prefix ${prefix} of ${qname} is not declared in its schema document`);
  return clark(ns, local);
}

/** Reads one schema document and those it includes or imports (local files only), into `globals`. */
function loadSet(file: string, globals: Globals, loaded: Set<string>, chameleonNamespace?: string): void {
  const real = fs.realpathSync(file);
  if (loaded.has(real)) return;
  loaded.add(real);
  const text = fs.readFileSync(real, 'utf8');
  if (/<!DOCTYPE/i.test(text)) throw new XsdArraysError(`${file}: DOCTYPE declarations are not allowed in schemas`);
  const top = (parser.parse(text) as Record<string, unknown>[]).find((n) => Object.keys(n).some((k) => localOf(k) === 'schema'));
  if (!top) throw new XsdArraysError(`${file} is not an XSD (no xs:schema element)`);
  const attrs = (top[':@'] as Record<string, string> | undefined) ?? {};
  const scope = new Map<string, string>();
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'xmlns') scope.set('', v);
    else if (k.startsWith('xmlns:')) scope.set(k.slice(6), v);
  }
  // A schema without a target namespace included by one with it takes the includer's (a chameleon include).
  const doc: SchemaDoc = {
    targetNamespace: attrs.targetNamespace ?? chameleonNamespace ?? '',
    qualified: attrs.elementFormDefault === 'qualified',
    scope,
  };
  const schemaKey = Object.keys(top).find((k) => localOf(k) === 'schema')!;
  const schema = toNode(top[schemaKey] as Record<string, unknown>[], attrs, doc, scope);
  for (const [kind, list] of schema.children) {
    for (const n of list) {
      const loc = n.attrs.schemaLocation;
      if ((kind === 'include' || kind === 'import' || kind === 'redefine') && loc) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(loc) && !loc.startsWith('file:'))
          throw new XsdArraysError(`${file}: ${loc} is not a local file (schemas are never fetched)`);
        loadSet(path.resolve(path.dirname(real), loc), globals, loaded, kind === 'import' ? undefined : doc.targetNamespace);
        if (kind === 'redefine') for (const [innerKind, inner] of n.children) for (const r of inner) register(r, globals, innerKind);
        continue;
      }
      register(n, globals, kind);
    }
  }
}

function register(n: Node, globals: Globals, kind: string): void {
  const name = n.attrs.name;
  if (!name) return;
  const k = clark(n.doc.targetNamespace, name);
  if (kind === 'element') globals.elements.set(k, n);
  else if (kind === 'complexType') globals.types.set(k, n);
  else if (kind === 'group') globals.groups.set(k, n);
}

function localOf(tag: string): string {
  const c = tag.indexOf(':');
  return c < 0 ? tag : tag.slice(c + 1);
}

/** fast-xml-parser's ordered nodes → XSD nodes keyed by XSD local name; non-XSD elements (appinfo content) dropped. */
function toNode(
  children: Record<string, unknown>[],
  attrs: Record<string, string>,
  doc: SchemaDoc,
  scope: ReadonlyMap<string, string>,
): Node {
  const node: Node = { attrs, children: new Map(), doc };
  for (const c of children) {
    const tag = Object.keys(c).find((k) => k !== ':@' && k !== '#text' && !k.startsWith('?'));
    if (!tag) continue;
    const colon = tag.indexOf(':');
    const ns = scope.get(colon < 0 ? '' : tag.slice(0, colon));
    if (ns !== XS) continue;
    const local = localOf(tag);
    if (local === 'annotation') continue;
    const child = toNode(c[tag] as Record<string, unknown>[], (c[':@'] as Record<string, string> | undefined) ?? {}, doc, scope);
    const list = node.children.get(local);
    if (list) list.push(child);
    else node.children.set(local, [child]);
  }
  return node;
}
