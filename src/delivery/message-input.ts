import type { Router } from '../routing/router.ts';
import type { ClaimedDelivery, MessageSource } from '../store/store.ts';

/**
 * What every mapping receives (documented in docs/mappings.md):
 * { submission, tenant, service, applicant, data, attachments, delivery }.
 */
export function mappingInput(router: Router, d: ClaimedDelivery, submissionId: string, src: MessageSource) {
  const content = JSON.parse(src.content) as { applicant: unknown; data: unknown };
  const tenant = router.tenant(src.tenant);
  const service = router.service(src.service);
  return {
    submission: {
      id: submissionId,
      externalId: src.externalId,
      portal: src.portalId,
      submittedAt: src.submittedAt,
      receivedAt: new Date(src.receivedAt).toISOString(),
    },
    tenant: tenant ? { key: tenant.key, name: tenant.name, ...(tenant.parent ? { parent: tenant.parent } : {}) } : { key: src.tenant },
    service: service ? { slug: service.slug, leika: service.leika, name: service.name } : { slug: src.service },
    applicant: content.applicant,
    data: content.data,
    attachments: src.attachments.map((a) => ({ filename: a.filename, mediaType: a.mediaType, size: a.size, sha256: a.sha256, content: a.content.toString('base64') })),
    delivery: { id: d.id, idempotencyKey: d.idempotencyKey, target: d.targetId },
  };
}
