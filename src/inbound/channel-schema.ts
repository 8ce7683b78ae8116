// The configuration of an inbound channel (docs/inbound.md): a zod-only leaf, so the hub's configuration schema
// can include it without loading the XML, XSD and mapping machinery that compiles a channel (channel.ts).

import { z } from 'zod';

const xmlDocument = z
  .object({
    kind: z.literal('xml'),
    root: z
      .object({
        namespace: z.string().describe("the root element's namespace URI; '' for none"),
        element: z.string().min(1).describe("the root element's local name, e.g. gewerbeanzeige.anmeldung.0100"),
      })
      .strict(),
    namespaces: z
      .record(z.string(), z.string().min(1))
      .refine((m) => new Set(Object.values(m)).size === Object.values(m).length, 'each namespace once')
      .default({})
      .describe("prefix → namespace URI: the names the mapping reads, whatever prefixes the document uses; '' for bare names"),
    arrays: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'element paths that are arrays even when the document has one, e.g. gew:anzeige/gew:taetigkeit; //gew:feld wherever a path ends so',
      ),
    xsd: z.string().min(1).optional().describe('the XSD to validate against, relative to the configuration folder'),
    arraysFromXsd: z
      .boolean()
      .default(true)
      .describe('make every element the XSD lets repeat (maxOccurs > 1) an array, besides those in arrays'),
  })
  .strict();

const jsonDocument = z
  .object({
    kind: z.literal('json'),
    jsonSchema: z.string().min(1).optional().describe('the JSON Schema to validate against, relative to the configuration folder'),
  })
  .strict();

export const inboundChannelSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes')
      .describe('the channel in the URL: POST /api/v1/inbound/{name}'),
    description: z.string().optional(),
    document: z.discriminatedUnion('kind', [xmlDocument, jsonDocument]),
    mapping: z
      .string()
      .min(1)
      .describe(
        'JSONata over the parsed document, relative to the mappings folder; yields tenant, service, externalId, submittedAt and optionally applicant and data',
      ),
  })
  .strict();

export type InboundChannelConfig = z.output<typeof inboundChannelSchema>;
