import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import winston from 'winston';
import { configSchema, type HubConfig } from '../config/schema.ts';
import { compileMapping, renderMessage } from '../mapping/engine.ts';
import type { AdapterDefinition, DeliveryContext, OutboundMessage } from '../sdk/types.ts';
import { exampleInput, type Example } from './example-input.ts';

export const root = path.resolve(import.meta.dirname, '../..');
export const configDir = path.join(root, 'config');
export const mappingsDir = path.join(root, 'mappings');
export const examplesDir = path.join(root, 'examples');

export const rawConfig: Record<string, unknown> = Object.assign(
  {},
  ...readdirSync(configDir)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => parseYaml(readFileSync(path.join(configDir, n), 'utf8')) as Record<string, unknown>),
);
export const config: HubConfig = configSchema.parse(rawConfig);

export const readExample = (name: string): Example => JSON.parse(readFileSync(path.join(examplesDir, name), 'utf8')) as Example;

let seq = 0;

export const mappingInput = (ex: Example, target: string) => exampleInput(config, ex, target, ++seq, '0196b000');

/** An example mapped to XML by `mapping`, as the hub renders it for a target with `format: xml`. */
export async function mapped(example: string, mapping: string, opts: { declaration?: boolean; edit?: (ex: Example) => void } = {}) {
  const ex = readExample(example);
  opts.edit?.(ex);
  const input = mappingInput(ex, mapping);
  const message = await renderMessage(compileMapping(mappingsDir, mapping), input, 'xml', {
    declaration: opts.declaration ?? true,
    indent: false,
  });
  return { ex, input, text: message.text, message, key: input.delivery.idempotencyKey };
}

/** What the hub hands an adapter for that message. */
export function outbound(m: Awaited<ReturnType<typeof mapped>>): OutboundMessage {
  return {
    ...m.message,
    attachments: m.input.attachments.map((a) => ({
      filename: a.filename,
      mediaType: a.mediaType,
      size: a.size,
      sha256: a.sha256,
      content: Buffer.from(a.content, 'base64'),
    })),
  };
}

export function deliveryContext(key: string, tenant: string): DeliveryContext {
  return {
    deliveryId: key.replace(/^idem-/, 'dlv-'),
    idempotencyKey: key,
    submissionId: 'sub-1',
    tenant,
    service: 'sperrmuell',
    attempt: 1,
  };
}

export const silent = winston.createLogger({ silent: true });

/** The adapter of that type, or undefined while a colleague's adapter does not load yet. */
export async function adapter(dir: string): Promise<AdapterDefinition | undefined> {
  try {
    return ((await import(`../../adapters/${dir}/index.ts`)) as { default: AdapterDefinition }).default;
  } catch {
    return undefined;
  }
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const FORM_DATA = /Mustermann|Musterfrau|Musterweg|Beispiel|Rocky|Staffordshire|2760000|Kleiderschrank|Waschmaschine|Kinderwagen/;
