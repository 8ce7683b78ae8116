// An inbound channel takes one kind of document as the portal sends it (an XÖV message by its root element, or
// JSON of a schema), checks it against its schema at the door, and reads tenant, service, external id and
// submitted-at from it with a JSONata mapping. The original bytes stay as they came: they are the submission's
// primary content. Nothing is stored here; a refusal says what to answer.

import path from 'node:path';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import { envelopeSchema, validateEnvelope } from '../intake/envelope.ts';
import type { InboundChannelConfig } from './channel-schema.ts';
import { compileMapping, MappingError, type CompiledMapping } from '../mapping/engine.ts';
import { loadSchema, type CompiledSchema } from '../mapping/xsd/index.ts';
import { charsetOf, DecodeError, decodeJson, decodeXml } from './decode.ts';
import { loadJsonSchema, type CompiledJsonSchema } from './json-schema.ts';
import { refuse, type Refusal } from './result.ts';
import { shapeXml, XmlShapeError, type XmlName } from './xml-shape.ts';
import { arrayPathsFromXsd } from './xsd-arrays.ts';

export { inboundChannelSchema, type InboundChannelConfig } from './channel-schema.ts';

/** A channel ready to receive: schema and mapping compiled once. */
export interface InboundChannel {
  config: InboundChannelConfig;
  mapping: CompiledMapping;
  xsd?: CompiledSchema;
  jsonSchema?: CompiledJsonSchema;
  /** XML: the listed array paths and, with an XSD, those it lets repeat. */
  arrays: readonly string[];
}

export interface ChannelPaths {
  mappingsDir: string;
  /** The configuration folder: schema paths are relative to it. */
  configDir: string;
}

/**
 * Compiles a channel at start-up. Throws MappingError, SchemaLoadError, XsdArraysError or JsonSchemaLoadError,
 * as `start` should.
 */
export function compileChannel(config: InboundChannelConfig, paths: ChannelPaths): InboundChannel {
  const channel: InboundChannel = { config, mapping: compileMapping(paths.mappingsDir, config.mapping), arrays: [] };
  const doc = config.document;
  if (doc.kind === 'xml') {
    const arrays = new Set(doc.arrays);
    if (doc.xsd) {
      const file = path.resolve(paths.configDir, doc.xsd);
      channel.xsd = loadSchema(file);
      if (doc.arraysFromXsd) for (const p of arrayPathsFromXsd(file, doc.root, doc.namespaces)) arrays.add(p);
    }
    channel.arrays = [...arrays];
  }
  if (doc.kind === 'json' && doc.jsonSchema) channel.jsonSchema = loadJsonSchema(path.resolve(paths.configDir, doc.jsonSchema));
  return channel;
}

/** A document the channel took: what the hub stores as a submission. */
export interface InboundSubmission {
  channel: string;
  tenant: string;
  service: string;
  externalId: string;
  submittedAt: string;
  /** When the hub received it, epoch ms, from the hub's clock. */
  receivedAt: number;
  applicant: Record<string, unknown>;
  /** What the mapping gave as data; the parsed document when it gave none. */
  data: Record<string, unknown>;
  /** The document exactly as it came, and its media type (with the charset the sender gave, if any). */
  content: { bytes: Buffer; mediaType: string };
  /** The parsed document: the JSON shape of XML (docs/inbound.md), or the JSON value. */
  parsed: unknown;
}

export type InboundResult = { ok: true; submission: InboundSubmission } | Refusal;

/**
 * The envelope the accept path takes for a received document, with the attachments its transport carried
 * (HTTP none, XTA and FIT-Connect their own) and, where the transport has one, its id as the external id.
 */
export function envelopeOf(
  doc: InboundSubmission,
  o: { attachments: { filename: string; mediaType: string; content: string }[]; externalId?: string },
): ReturnType<typeof validateEnvelope> {
  return validateEnvelope({
    tenant: doc.tenant,
    service: doc.service,
    externalId: o.externalId ?? doc.externalId,
    submittedAt: doc.submittedAt,
    applicant: doc.applicant,
    data: doc.data,
    attachments: o.attachments,
  });
}

const XML_TYPES = /^(application|text)\/xml$|^application\/[\w.-]+\+xml$/;
const JSON_TYPES = /^application\/json$|^application\/[\w.-]+\+json$/;

/** `Application/XML; Charset="UTF-8"` → `application/xml; charset=utf-8`: the essence, and the charset if any. */
export function normalizeMediaType(contentType: string | undefined): { essence: string; mediaType: string } {
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const charset = charsetOf(contentType);
  return { essence, mediaType: charset ? `${essence}; charset=${charset}` : essence };
}

/**
 * What a caller knows of the head besides the document (FIT-Connect: the destination's tenant, the platform's
 * submission id): `defaults` fill what the mapping leaves out, `overrides` replace what it gives.
 */
export interface KnownHead {
  defaults?: Partial<Record<'tenant' | 'service' | 'externalId' | 'submittedAt', string>>;
  overrides?: Partial<Record<'tenant' | 'service' | 'externalId' | 'submittedAt', string>>;
}

/** Receives one document on a channel: media type, encoding, well-formedness, root, schema, then the mapping. */
export async function receiveInbound(
  channel: InboundChannel,
  bytes: Uint8Array,
  contentType: string | undefined,
  clock: Clock,
  known: KnownHead = {},
): Promise<InboundResult> {
  const receivedAt = clock();
  const { essence, mediaType } = normalizeMediaType(contentType);
  const doc = channel.config.document;
  const accepted = doc.kind === 'xml' ? XML_TYPES : JSON_TYPES;
  if (!accepted.test(essence)) {
    return refuse(
      415,
      `channel ${channel.config.name} takes ${doc.kind === 'xml' ? 'application/xml (or text/xml, application/…+xml)' : 'application/json (or application/…+json)'}, not ${essence.slice(0, 80) || 'a body without Content-Type'}`,
    );
  }
  const read = doc.kind === 'xml' ? readXml(channel, doc, bytes, charsetOf(contentType)) : readJson(channel, bytes);
  if (!read.ok) return read;
  const mapped = await runMapping(channel, read.parsed, known);
  if (!mapped.ok) return mapped;
  return {
    ok: true,
    submission: {
      channel: channel.config.name,
      ...mapped.fields,
      receivedAt,
      // A copy: the caller's buffer may be reused (a pooled request body), the submission's content must not change.
      content: { bytes: Buffer.from(bytes), mediaType },
      parsed: read.parsed,
    },
  };
}

type Read = { ok: true; parsed: unknown } | Refusal;

function readXml(
  channel: InboundChannel,
  doc: Extract<InboundChannelConfig['document'], { kind: 'xml' }>,
  bytes: Uint8Array,
  charset: string | undefined,
): Read {
  let text: string;
  let shaped: ReturnType<typeof shapeXml>;
  try {
    text = decodeXml(bytes, charset);
    shaped = shapeXml(text, { namespaces: doc.namespaces, arrays: channel.arrays });
  } catch (e) {
    if (e instanceof DecodeError || e instanceof XmlShapeError) return refuse(400, e.message);
    throw e;
  }
  if (shaped.root.namespace !== doc.root.namespace || shaped.root.local !== doc.root.element) {
    return refuse(
      422,
      `the root element is ${clark(shaped.root)}; channel ${channel.config.name} takes ${clark({ namespace: doc.root.namespace, local: doc.root.element })}`,
      '/',
    );
  }
  if (channel.xsd) {
    const r = channel.xsd.validate(text);
    if (!r.ok) {
      // libxml2's paths use the document's prefixes, or `*[n]` for a default namespace: told in the channel's keys
      // instead, the same path whatever prefixes the portal chose, the one the mapping reads.
      const errors = r.errors.map((e) => ({ path: (e.path && shaped.pathOf(e.path)) ?? e.path ?? `line ${e.line}`, detail: e.message }));
      const more = r.total > 1 ? ` (and ${r.total - 1} more)` : '';
      return refuse(422, `the document does not fit its schema: ${errors[0]!.detail}${more}`, errors[0]!.path, errors);
    }
  }
  return { ok: true, parsed: shaped.value };
}

function readJson(channel: InboundChannel, bytes: Uint8Array): Read {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeJson(bytes));
  } catch (e) {
    if (e instanceof DecodeError) return refuse(400, e.message);
    // JSON.parse quotes a piece of the input in its message; that is form data, so it is not passed on.
    return refuse(400, 'the body is not valid JSON');
  }
  if (channel.jsonSchema) {
    const violations = channel.jsonSchema.validate(parsed);
    if (violations.length) {
      const first = violations[0]!;
      const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
      return refuse(422, `the document does not fit its schema: ${first.path || '/'} ${first.detail}${more}`, first.path, violations);
    }
  }
  return { ok: true, parsed };
}

/** `{uri}local`, or `local` without a namespace: how a name is told in messages, independent of prefixes. */
function clark(n: XmlName): string {
  return n.namespace ? `{${n.namespace}}${n.local}` : n.local;
}

const mappedFields = envelopeSchema
  .pick({ tenant: true, service: true, externalId: true, submittedAt: true })
  .extend({
    applicant: z.record(z.string(), z.unknown()).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

type Mapped =
  | { ok: true; fields: Pick<InboundSubmission, 'tenant' | 'service' | 'externalId' | 'submittedAt' | 'applicant' | 'data'> }
  | Refusal;

async function runMapping(channel: InboundChannel, parsed: unknown, known: KnownHead): Promise<Mapped> {
  let out: unknown;
  try {
    out = await channel.mapping.evaluate(parsed);
  } catch (e) {
    // Most often the document lacks what the mapping reads (a $code lookup of an unknown office, say).
    if (e instanceof MappingError) return refuse(422, `the inbound mapping could not read the document: ${e.describe()}`);
    throw e;
  }
  // JSONata returns its own array and object flavours; a JSON round trip gives plain values for zod and the store.
  const mappedValue = out === undefined ? undefined : (JSON.parse(JSON.stringify(out)) as unknown);
  const plain = isObject(mappedValue) ? { ...known.defaults, ...mappedValue, ...known.overrides } : mappedValue;
  if (!isObject(plain))
    return refuse(422, `the inbound mapping ${channel.mapping.id} must give an object with tenant, service, externalId and submittedAt`);
  const r = mappedFields.safeParse(plain, { reportInput: true });
  if (!r.success) {
    // The input rides along only to tell "missing" from "wrong"; the answer names the rule, never the value.
    const errors = r.error.issues.map((i) => {
      const at = '/' + i.path.map(String).join('/');
      if (i.code === 'unrecognized_keys')
        return { path: `${at === '/' ? '' : at}/${i.keys[0]}`, detail: `not a field the mapping can give (${i.keys.join(', ')})` };
      return { path: at, detail: i.code === 'invalid_type' && i.input === undefined ? 'required' : i.message };
    });
    const first = errors[0]!;
    return refuse(
      422,
      `the inbound mapping ${channel.mapping.id} gave no valid ${first.path.slice(1) || 'result'}: ${first.detail}`,
      first.path,
      errors,
    );
  }
  const { applicant, data, ...head } = r.data;
  return { ok: true, fields: { ...head, applicant: applicant ?? {}, data: data ?? (isObject(parsed) ? parsed : { value: parsed }) } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
