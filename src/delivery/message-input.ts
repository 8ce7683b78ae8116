import type { ServiceConfig, TenantConfig } from '../config/schema.ts';
import type { Router } from '../routing/router.ts';
import type { ClaimedDelivery, MessageSource, StoredAttachment } from '../store/index.ts';

/** What every mapping receives (documented in docs/mappings.md). */
export interface MappingInput {
  submission: { id: string; externalId: string; portal: string; submittedAt: string; receivedAt: string };
  tenant: { key: string; name?: string; parent?: string };
  service: { slug: string; leika?: string; name?: string };
  applicant: unknown;
  data: unknown;
  attachments: { filename: string; mediaType: string; size: number; sha256: string; content: string }[];
  delivery: { id: string; idempotencyKey: string; target: string };
}

export interface MappingInputParts {
  submissionId: string;
  externalId: string;
  portal: string;
  submittedAt: string;
  /** When the hub stored the submission, epoch ms. */
  receivedAt: number;
  tenantKey: string;
  serviceKey: string;
  /** From the configuration; absent ones give `{ key }` / `{ slug }`. */
  tenant?: TenantConfig | undefined;
  service?: ServiceConfig | undefined;
  applicant: unknown;
  data: unknown;
  attachments: StoredAttachment[];
  delivery: { id: string; idempotencyKey: string; target: string };
}

/** The one place the mapping input is shaped: the worker and the golden tests both build it here. */
export function buildMappingInput(p: MappingInputParts): MappingInput {
  const { tenant, service } = p;
  return {
    submission: {
      id: p.submissionId,
      externalId: p.externalId,
      portal: p.portal,
      submittedAt: p.submittedAt,
      receivedAt: new Date(p.receivedAt).toISOString(),
    },
    tenant: tenant ? { key: tenant.key, name: tenant.name, ...(tenant.parent ? { parent: tenant.parent } : {}) } : { key: p.tenantKey },
    service: service ? { slug: service.slug, leika: service.leika, name: service.name } : { slug: p.serviceKey },
    applicant: p.applicant,
    data: p.data,
    attachments: p.attachments.map((a) => ({
      filename: a.filename,
      mediaType: a.mediaType,
      size: a.size,
      sha256: a.sha256,
      content: a.content.toString('base64'),
    })),
    delivery: { ...p.delivery },
  };
}

/** The mapping input of a claimed delivery, from its stored submission. */
export function mappingInput(router: Router, d: ClaimedDelivery, submissionId: string, src: MessageSource): MappingInput {
  const content = JSON.parse(src.content) as { applicant: unknown; data: unknown };
  return buildMappingInput({
    submissionId,
    externalId: src.externalId,
    portal: src.portalId,
    submittedAt: src.submittedAt,
    receivedAt: src.receivedAt,
    tenantKey: src.tenant,
    serviceKey: src.service,
    tenant: router.tenant(src.tenant),
    service: router.service(src.service),
    applicant: content.applicant,
    data: content.data,
    attachments: src.attachments,
    delivery: { id: d.id, idempotencyKey: d.idempotencyKey, target: d.targetId },
  });
}
