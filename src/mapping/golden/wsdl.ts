import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ParseOption, XmlDocument, type XmlElement } from 'libxml2-wasm';
import { loadSchema, SchemaLoadError, type CompiledSchema } from '../xsd/index.ts';

/**
 * `xsd: some.wsdl` in a golden case: the schemas a WSDL embeds in `wsdl:types`, compiled as one schema set, so
 * a SOAP mapping's output (the operation's input element) is checked against the contract the back office
 * published, without a copy of its types as a separate .xsd.
 *
 * An embedded schema is not a document of its own: it may use prefixes declared on `wsdl:definitions`
 * (`type="tns:Person"`), import a sibling schema by namespace alone (`<xs:import namespace="…"/>`), and name
 * files relative to the WSDL. Each schema is therefore written out with every namespace in scope declared on
 * it and its references rewritten (siblings by namespace, files as absolute URLs), into a temporary folder
 * beside an entry schema that imports every namespace; `src/mapping/xsd/` compiles that set (local files
 * only) and the folder is removed. The output's root element is then validated against its global
 * declaration, whichever embedded schema holds it.
 */

const XS = 'http://www.w3.org/2001/XMLSchema';
const WSDL_NAMESPACES = ['http://schemas.xmlsoap.org/wsdl/', 'http://www.w3.org/ns/wsdl'];
const PARSE = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_BIG_LINES;

/** A WSDL by its name, or (for a WSDL saved as `.xml`) by its root element. */
export function isWsdlFile(file: string): boolean {
  if (/\.wsdl$/i.test(file)) return true;
  if (/\.xsd$/i.test(file)) return false;
  let head: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(4096);
      head = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
  return /<([\w.-]+:)?(definitions|description)[\s>]/.test(head) && WSDL_NAMESPACES.some((ns) => head.includes(ns));
}

/** The embedded schemas of `wsdlFile` as one compiled set. Throws `SchemaLoadError` naming the WSDL. */
export function loadWsdlSchemas(wsdlFile: string): CompiledSchema {
  const abs = path.resolve(wsdlFile);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(abs);
  } catch {
    throw new SchemaLoadError(`WSDL ${wsdlFile} not found`);
  }
  let doc: XmlDocument;
  try {
    doc = XmlDocument.fromBuffer(bytes, { url: abs, option: PARSE });
  } catch (e) {
    throw new SchemaLoadError(`WSDL ${wsdlFile} is not well-formed XML: ${(e as Error).message.split('\n')[0]}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'amtsbote-wsdl-'));
  try {
    const root = doc.root;
    if (!WSDL_NAMESPACES.includes(root.namespaceUri) || !['definitions', 'description'].includes(root.name)) {
      throw new SchemaLoadError(`${wsdlFile} is not a WSDL: its root element is {${root.namespaceUri}}${root.name}`);
    }
    const schemas = doc.find(
      `/*/*[local-name()='types' and (${WSDL_NAMESPACES.map((ns) => `namespace-uri()='${ns}'`).join(' or ')})]/xs:schema`,
      { xs: XS },
    ) as XmlElement[];
    if (schemas.length === 0) throw new SchemaLoadError(`WSDL ${wsdlFile} embeds no schema (no xsd:schema in wsdl:types)`);
    writeSchemaSet(schemas, path.dirname(abs), dir);
    try {
      return loadSchema(path.join(dir, ENTRY));
    } catch (e) {
      if (!(e instanceof SchemaLoadError)) throw e;
      throw new SchemaLoadError(inWsdlTerms(e.message, dir, wsdlFile));
    }
  } finally {
    doc.dispose();
    // Compiled, the set lives in memory: the files were only the way in.
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const ENTRY = 'wsdl-types.xsd';
const schemaFile = (i: number) => `schema-${i + 1}.xsd`;

function writeSchemaSet(schemas: XmlElement[], wsdlDir: string, dir: string): void {
  const tns = schemas.map((s) => s.attr('targetNamespace')?.value ?? '');
  // One file per namespace to import: the schema itself, or (several schemas share a namespace) one that includes them all.
  const byNamespace = new Map<string, string>();
  for (const ns of new Set(tns)) {
    const parts = tns.flatMap((t, i) => (t === ns ? [schemaFile(i)] : []));
    if (parts.length === 1) {
      byNamespace.set(ns, parts[0]!);
      continue;
    }
    const name = `namespace-${byNamespace.size + 1}.xsd`;
    const target = ns ? ` targetNamespace="${escapeAttr(ns)}"` : '';
    fs.writeFileSync(
      path.join(dir, name),
      `<xs:schema xmlns:xs="${XS}"${target}>\n${parts.map((p) => `  <xs:include schemaLocation="${p}"/>\n`).join('')}</xs:schema>\n`,
    );
    byNamespace.set(ns, name);
  }

  schemas.forEach((schema, i) => {
    // What the schema inherits from wsdl:definitions (and wsdl:types) becomes its own, so QName values resolve.
    const local = schema.nsDeclarations;
    for (const [prefix, uri] of Object.entries(schema.namespaces)) {
      if (prefix === 'xml' || prefix in local) continue;
      schema.addNsDeclaration(uri, prefix || undefined);
    }
    for (const ref of schema.find('xs:import | xs:include | xs:redefine | xs:override', { xs: XS }) as XmlElement[]) {
      const attr = ref.attr('schemaLocation');
      const location = attr?.value;
      const sibling = ref.name === 'import' ? byNamespace.get(ref.attr('namespace')?.value ?? '') : undefined;
      // Relative to the WSDL, as its author meant; a URL stays one (and is refused: schemas are never fetched).
      const wanted =
        sibling ?? (location && !/^[a-z][a-z0-9+.-]*:/i.test(location) ? pathToFileURL(path.resolve(wsdlDir, location)).href : undefined);
      if (wanted === undefined) continue;
      // An existing attribute keeps its node: libxml2-wasm's setAttr would add a second one in the default namespace.
      if (attr) attr.value = wanted;
      else ref.setAttr('schemaLocation', wanted);
    }
    // Blank lines in front keep libxml2's line numbers those of the WSDL.
    fs.writeFileSync(path.join(dir, schemaFile(i)), '\n'.repeat(Math.max(0, schema.line - 1)) + schema.toString() + '\n');
  });

  const refs = [...byNamespace].map(([ns, file]) =>
    ns ? `  <xs:import namespace="${escapeAttr(ns)}" schemaLocation="${file}"/>\n` : `  <xs:include schemaLocation="${file}"/>\n`,
  );
  fs.writeFileSync(path.join(dir, ENTRY), `<xs:schema xmlns:xs="${XS}">\n${refs.join('')}</xs:schema>\n`);
}

/** A compile error names the temporary files (by path, or relative to their folder): say "schema 2 of x.wsdl" instead. */
function inWsdlTerms(message: string, dir: string, wsdlFile: string): string {
  const folder = `(?:${[dir + path.sep, pathToFileURL(dir).href + '/'].map(escapeRegExp).join('|')})?`;
  return message
    .replace(new RegExp(`${folder}schema-(\\d+)\\.xsd`, 'g'), (_m, n: string) => `${wsdlFile} (schema ${n} of wsdl:types)`)
    .replace(new RegExp(`${folder}${escapeRegExp(ENTRY)}`, 'g'), `${wsdlFile} (wsdl:types)`);
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
