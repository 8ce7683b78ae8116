import type { OutboundMessage } from '../../sdk/types.ts';
import { MappingError } from '../errors.ts';
import { writeXml, type XmlOptions } from '../xml-writer.ts';
import { buildContainer, type ContainerEntry } from './container.ts';
import { containerStem, messageTypeName } from './names.ts';
import { FVDATEN_XSD_NAME, XDOMEA_NAMESPACE, xdomeaSchemaFile } from './schema.ts';

// Format `xdomea`: the mapping returns `{ "message": { "xdomea:FVDaten.….NNNN": … }, "files": [ … ] }`; the
// message is written as XML, validated once against the FVDaten XSD set, and packed with its files into the
// standard's container. A message the XSD refuses fails the delivery for good, nothing is sent.

/** The message violates the xdomea XSD: permanent, like a mapping error, but recorded as `schema`. */
export class XdomeaSchemaError extends MappingError {
  override readonly errorKind: string = 'schema';
}

/** What the renderer needs of a compiled mapping (engine.ts's CompiledMapping). */
export interface XdomeaMapping {
  id: string;
  evaluate(input: unknown): Promise<unknown>;
}

export type XdomeaMessage = Pick<OutboundMessage, 'format' | 'body' | 'text' | 'contentType' | 'bytes' | 'container'>;

interface FileSpec {
  name: string;
  mediaType?: string;
  content?: string;
  text?: string;
}

const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance';
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Every `xdomea:Primaerdokument/xdomea:Dateiname` in the message, in document order. */
function referencedFiles(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const n of node) referencedFiles(n, out);
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'xdomea:Primaerdokument') {
        for (const p of Array.isArray(value) ? value : [value]) {
          const name = isObject(p) ? p['xdomea:Dateiname'] : undefined;
          if (typeof name === 'string') out.push(name);
        }
      } else referencedFiles(value, out);
    }
  }
  return out;
}

function containerFiles(raw: unknown, id: string): ContainerEntry[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const seen = new Set<string>();
  return list.map((f, i) => {
    const where = `files[${i}]`;
    if (!isObject(f)) throw new MappingError(`${where} must be an object {name, content | text}`, id);
    const spec = f as unknown as FileSpec;
    if (typeof spec.name !== 'string' || spec.name === '' || /[/\\\0]/.test(spec.name) || spec.name.startsWith('.'))
      throw new MappingError(`${where}.name must be a plain file name (no path, no leading dot)`, id);
    if (seen.has(spec.name)) throw new MappingError(`${where}.name is given twice`, id);
    seen.add(spec.name);
    if (typeof spec.text === 'string' && spec.content === undefined) return { name: spec.name, content: Buffer.from(spec.text, 'utf8') };
    if (typeof spec.content === 'string' && spec.text === undefined && BASE64.test(spec.content))
      return { name: spec.name, content: Buffer.from(spec.content, 'base64') };
    throw new MappingError(`${where} needs exactly one of content (base64) or text`, id);
  });
}

/**
 * Compiles the FVDaten set now, so the first message does not wait. Answers the XSD it compiled, or undefined
 * when no schema set is configured or found (xdomeaSchemaFile).
 */
export async function warmXdomeaValidator(schemaFile: string | undefined = xdomeaSchemaFile()): Promise<string | undefined> {
  if (!schemaFile) return undefined;
  const { fvDatenSchema } = await import('./validator.ts');
  fvDatenSchema(schemaFile);
  return schemaFile;
}

/**
 * Runs an xdomea mapping and builds the container. `schemaFile` is the FVDaten entry XSD (default: the
 * configured set, xdomeaSchemaFile); the compiled set stays warm for the process. With no set at all the
 * message goes out unvalidated (the worker warned at start).
 */
export async function renderXdomea(
  mapping: XdomeaMapping,
  input: unknown,
  xml: XmlOptions,
  schemaFile: string | undefined = xdomeaSchemaFile(),
): Promise<XdomeaMessage> {
  const id = mapping.id;
  const result = await mapping.evaluate(input);
  if (!isObject(result) || !isObject(result.message))
    throw new MappingError('an xdomea mapping must produce {"message": {…}, "files": […]}', id);
  const roots = Object.keys(result.message).filter((k) => !k.startsWith('?'));
  const typeName = roots.length === 1 ? messageTypeName(roots[0]!) : null;
  // The standard requires the prefix `xdomea` (and a DMS may insist on it), not just the namespace.
  if (!typeName)
    throw new MappingError(
      'an xdomea message must be one element named xdomea:<Gruppe>.<Name>.<NNNN>, e.g. xdomea:FVDaten.SGOAblegen.0605',
      id,
    );
  if (!typeName.startsWith('FVDaten.'))
    throw new MappingError(
      'format xdomea writes FVDaten messages (Fachverfahrensdaten austauschen), e.g. xdomea:FVDaten.SGOAblegen.0605',
      id,
    );
  const given = result.message[roots[0]!] as Record<string, unknown>;
  if (!isObject(given) || given['@_xmlns:xdomea'] !== XDOMEA_NAMESPACE)
    throw new MappingError(`the message's root must declare xmlns:xdomea="${XDOMEA_NAMESPACE}"`, id);
  // A conforming xdomea message names its schema on the root (xdomea FAQ, "Konformität"); a mapping need not.
  const root = given['@_xsi:schemaLocation']
    ? given
    : {
        '@_xmlns:xdomea': XDOMEA_NAMESPACE,
        '@_xmlns:xsi': XSI_NAMESPACE,
        '@_xsi:schemaLocation': `${XDOMEA_NAMESPACE} ${FVDATEN_XSD_NAME}`,
        ...given,
      };
  const message = { [roots[0]!]: root };
  const files = containerFiles(result.files, id);
  const text = writeXml(message, id, xml);

  const verdict = schemaFile ? (await import('./validator.ts')).fvDatenSchema(schemaFile).validate(text) : undefined;
  if (verdict && !verdict.ok) {
    const shown = verdict.errors.map((e) => `line ${e.line}${e.path ? ` (${e.path})` : ''}: ${e.message}`);
    if (verdict.total > verdict.errors.length) shown.push(`… ${verdict.total - verdict.errors.length} more`);
    throw new XdomeaSchemaError(`the xdomea message violates ${FVDATEN_XSD_NAME}, nothing was sent: ${shown.join('; ')}`, id);
  }

  // Checked here too: without a schema set nothing else guarantees the Kopf and its ProzessID.
  const kopf = root['xdomea:Kopf'];
  const prozessId = isObject(kopf) ? kopf['xdomea:ProzessID'] : undefined;
  if (typeof prozessId !== 'string' || !/^[0-9a-f-]{36}$/i.test(prozessId))
    throw new MappingError('the message needs xdomea:Kopf/xdomea:ProzessID, a UUID (use $xdomeaKopf)', id);
  const stem = containerStem(prozessId, typeName);
  const referenced = referencedFiles(root);
  const names = new Set(files.map((f) => f.name));
  const missing = referenced.filter((n) => !names.has(n));
  if (missing.length) throw new MappingError(`Primaerdokument/Dateiname names ${missing.length} file(s) that files[] does not hold`, id);
  const unused = files.filter((f) => !referenced.includes(f.name)).map((f) => f.name);
  if (unused.length) throw new MappingError(`files[] holds ${unused.length} file(s) that no Primaerdokument/Dateiname names`, id);
  if (names.has(`${stem}.xml`)) throw new MappingError("files[] may not hold the message's own name", id);

  const bytes = await buildContainer({ name: `${stem}.xml`, content: Buffer.from(text, 'utf8') }, files);
  return {
    format: 'xml',
    body: message,
    text,
    contentType: 'application/zip',
    bytes,
    container: { name: `${stem}.zip`, messageName: `${stem}.xml`, files: files.map((f) => f.name) },
  };
}
