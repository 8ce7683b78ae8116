import { createHash } from 'node:crypto';
import type { PortalConfig, ServiceConfig, TenantConfig } from '../config/schema.ts';
import type { RouteStep, Router } from '../routing/router.ts';
import type { OriginalContent, Store } from '../store/index.ts';
import { uuidv7 } from '../store/ids.ts';
import type { Envelope } from './envelope.ts';

/** Why a valid envelope is not taken in, and each reason's wording (the intake API's problem titles use it). */
export const refusalTitles = {
  'invalid-submission': 'The submission is not valid',
  'tenant-not-allowed': 'This portal may not submit for this tenant',
  'external-id-conflict': 'This external id was already used for a different submission',
} as const;

export type RefusalKind = keyof typeof refusalTitles;

/** One field a refusal is about: its path in the envelope, e.g. `['service']`. */
export interface RefusedField {
  path: (string | number)[];
  detail: string;
}

export type AcceptResult =
  | { ok: true; status: 'created' | 'duplicate'; id: string; deliveries: number }
  | { ok: false; kind: RefusalKind; detail: string; fields: RefusedField[] };

/**
 * Checks a valid envelope against the configuration and stores it with one delivery per route target,
 * all in one transaction, received at `now` (the hub's clock). A refusal (unknown tenant or service, a tenant
 * the portal may not submit for, an external id reused for another body) writes nothing. `original` is the
 * document an inbound channel received, stored beside the envelope's content for the pass-through format.
 */
export async function acceptSubmission(
  store: Store,
  router: Router,
  portal: PortalConfig,
  envelope: Envelope,
  now: number,
  original?: OriginalContent,
): Promise<AcceptResult> {
  const admitted = admit(router, portal, envelope);
  if (!admitted.ok) return admitted;
  const { tenant, service, steps } = admitted;

  const attachments = envelope.attachments.map((a) => {
    const content = Buffer.from(a.content, 'base64');
    return { filename: a.filename, mediaType: a.mediaType, size: content.length, sha256: sha256(content), content };
  });
  const id = uuidv7(now);
  const result = await store.createSubmission({
    id,
    portalId: portal.id,
    externalId: envelope.externalId,
    tenant: tenant.key,
    service: service.slug,
    submittedAt: envelope.submittedAt,
    receivedAt: now,
    bodyHash: bodyHash(envelope, tenant.key, service.slug),
    content: JSON.stringify({ applicant: envelope.applicant, data: envelope.data }),
    ...(original ? { original } : {}),
    attachments,
    deliveries: steps.map((s) => ({ id: uuidv7(now), routeId: s.route.id, targetId: s.target.id, mappingId: s.mapping.id })),
  });
  if (result.outcome === 'duplicate') {
    if (!result.sameBody) {
      return refused(
        'external-id-conflict',
        `external id ${envelope.externalId} was first used for submission ${result.id} with a different body`,
      );
    }
    return { ok: true, status: 'duplicate', id: result.id, deliveries: 0 };
  }
  return { ok: true, status: 'created', id: result.id, deliveries: steps.length };
}

/** What the configuration says about a valid envelope from this portal: its tenant, service and route steps. */
export type Admission =
  | { ok: true; tenant: TenantConfig; service: ServiceConfig; steps: RouteStep[] }
  | Extract<AcceptResult, { ok: false }>;

/**
 * The configuration's checks, storing nothing: tenant and service known, the tenant allowed for the portal,
 * a route for the pair. acceptSubmission runs them; a caller with checks of its own between these and storing
 * (the inbound route's service data) runs them first.
 */
export function admit(router: Router, portal: PortalConfig, envelope: Envelope): Admission {
  const fields: RefusedField[] = [];
  const tenant = router.tenant(envelope.tenant);
  const service = router.service(envelope.service);
  if (!tenant) fields.push({ path: ['tenant'], detail: `unknown tenant ${envelope.tenant}` });
  if (!service) fields.push({ path: ['service'], detail: `unknown service ${envelope.service}` });
  if (!tenant || !service) return refused('invalid-submission', 'the tenant or service is not known to this hub', fields);
  if (!router.portalMaySubmit(portal, tenant.key)) {
    return refused('tenant-not-allowed', `portal ${portal.id} may not submit for tenant ${tenant.key}`);
  }
  const steps = router.steps(tenant.key, service.slug);
  if (!steps?.length) {
    return refused('invalid-submission', `no route for service ${service.slug} in tenant ${tenant.key} (${tenant.name})`, [
      { path: ['service'], detail: `service ${service.slug} is not offered through this hub for tenant ${tenant.key}` },
    ]);
  }
  return { ok: true, tenant, service, steps };
}

function refused(kind: RefusalKind, detail: string, fields: RefusedField[] = []): Extract<AcceptResult, { ok: false }> {
  return { ok: false, kind, detail, fields };
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
