import { createHash } from 'node:crypto';
import type { PortalConfig } from '../config/schema.ts';
import type { Router } from '../routing/router.ts';
import type { Store } from '../store/index.ts';
import { uuidv7 } from '../store/ids.ts';
import type { Envelope } from './envelope.ts';
import { HttpProblem, type FieldError } from '../http/problem.ts';

export type AcceptResult = { status: 'created' | 'duplicate'; id: string; deliveries: number };

/**
 * Checks a valid envelope against the configuration and stores it with one delivery per route target,
 * all in one transaction, received at `now` (the hub's clock). Throws HttpProblem for a 403, 409 or 422; writes
 * nothing then.
 */
export async function acceptSubmission(
  store: Store,
  router: Router,
  portal: PortalConfig,
  envelope: Envelope,
  now: number,
): Promise<AcceptResult> {
  const errors: FieldError[] = [];
  const tenant = router.tenant(envelope.tenant);
  const service = router.service(envelope.service);
  if (!tenant) errors.push({ pointer: '#/tenant', detail: `unknown tenant ${envelope.tenant}` });
  if (!service) errors.push({ pointer: '#/service', detail: `unknown service ${envelope.service}` });
  if (errors.length) throw new HttpProblem('invalid-submission', 'the tenant or service is not known to this hub', errors);
  if (!router.portalMaySubmit(portal, tenant!.key)) {
    throw new HttpProblem('tenant-not-allowed', `portal ${portal.id} may not submit for tenant ${tenant!.key}`);
  }
  const steps = router.steps(tenant!.key, service!.slug);
  if (!steps?.length) {
    throw new HttpProblem('invalid-submission', `no route for service ${service!.slug} in tenant ${tenant!.key} (${tenant!.name})`, [
      { pointer: '#/service', detail: `service ${service!.slug} is not offered through this hub for tenant ${tenant!.key}` },
    ]);
  }

  const attachments = envelope.attachments.map((a) => {
    const content = Buffer.from(a.content, 'base64');
    return { filename: a.filename, mediaType: a.mediaType, size: content.length, sha256: sha256(content), content };
  });
  const id = uuidv7(now);
  const result = await store.createSubmission({
    id,
    portalId: portal.id,
    externalId: envelope.externalId,
    tenant: tenant!.key,
    service: service!.slug,
    submittedAt: envelope.submittedAt,
    receivedAt: now,
    bodyHash: bodyHash(envelope, tenant!.key, service!.slug),
    content: JSON.stringify({ applicant: envelope.applicant, data: envelope.data }),
    attachments,
    deliveries: steps.map((s) => ({ id: uuidv7(now), routeId: s.route.id, targetId: s.target.id, mappingId: s.mapping.id })),
  });
  if (result.outcome === 'duplicate') {
    if (!result.sameBody) {
      throw new HttpProblem('external-id-conflict', `external id ${envelope.externalId} was first used for submission ${result.id} with a different body`);
    }
    return { status: 'duplicate', id: result.id, deliveries: 0 };
  }
  return { status: 'created', id: result.id, deliveries: steps.length };
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A hash of the envelope's meaning, not its bytes: keys sorted, the service by slug, so a portal that resends
 * the same application with other whitespace or key order is recognised as the same.
 */
export function bodyHash(e: Envelope, tenant: string, serviceSlug: string): string {
  return sha256(canonicalJson({ ...e, tenant, service: serviceSlug }));
}

/** JSON with object keys sorted at every level; the copy is stringified natively, which is much faster than by hand. */
function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}
