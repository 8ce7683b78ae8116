// Test support for the demo's tests: the sample submissions of examples/ and the mapping input the hub would
// give them, with made-up ids.
import { createHash } from 'node:crypto';
import type { HubConfig } from '../config/schema.ts';
import { buildMappingInput, type MappingInput } from '../delivery/message-input.ts';

/** A JSON sample of examples/, as a portal would send it. */
export interface Example {
  externalId: string;
  tenant: string;
  service: string;
  submittedAt: string;
  applicant: Record<string, unknown>;
  data: Record<string, unknown>;
  attachments?: { filename: string; mediaType: string; content: string }[];
}

/** The mapping input of an example, built as the worker builds it; `idPrefix` keeps ids of test files apart. */
export function exampleInput(config: HubConfig, ex: Example, target: string, n: number, idPrefix: string): MappingInput {
  return buildMappingInput({
    submissionId: `${idPrefix}-0000-7000-8000-${String(n).padStart(12, '0')}`,
    externalId: ex.externalId,
    portal: 'emscher-lippe-portal',
    submittedAt: ex.submittedAt,
    receivedAt: Date.parse('2026-03-02T08:15:01.000Z'),
    tenantKey: ex.tenant,
    serviceKey: ex.service,
    tenant: config.tenants.find((t) => t.key === ex.tenant),
    service: config.services.find((s) => s.slug === ex.service || s.leika === ex.service),
    applicant: ex.applicant,
    data: ex.data,
    attachments: (ex.attachments ?? []).map((a) => {
      const bytes = Buffer.from(a.content, 'base64');
      return {
        filename: a.filename,
        mediaType: a.mediaType,
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        content: bytes,
      };
    }),
    delivery: { id: `dlv-${idPrefix}-${n}`, idempotencyKey: `idem-${idPrefix}-${n}-${ex.externalId}`, target },
  });
}
