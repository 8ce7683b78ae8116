import type { Store } from '../../src/store/index.ts';
import type { DeliveryState } from '../../src/store/tables.ts';

/** One hub delivery as reconciliation tests and the benchmark plant it, with its submission. */
export interface SeedCase {
  id: string;
  targetId?: string;
  idempotencyKey?: string;
  state?: DeliveryState;
  reference?: string | null;
  backofficeStatus?: string | null;
  deliveredAt?: number | null;
  createdAt?: number;
  nextAttemptAt?: number;
  attempts?: number;
  leaseOwner?: string | null;
  leaseExpiresAt?: number | null;
  tenant?: string;
}

/**
 * Writes submissions and their deliveries straight into the store's tables, in one transaction per call and
 * multi-row statements: how tests and the benchmark put a hub's history in place without the intake path.
 */
export async function seedCases(store: Store, cases: readonly SeedCase[], now = Date.now()): Promise<void> {
  const rows = 400;
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < cases.length; i += rows) {
      const part = cases.slice(i, i + rows);
      await trx
        .insertInto('submissions')
        .values(
          part.map((c) => ({
            id: `s-${c.id}`,
            portal_id: 'portal-a',
            external_id: `ext-${c.id}`,
            tenant: c.tenant ?? '05513000',
            service: 'sperrmuell',
            submitted_at: '2026-11-24T09:30:00+01:00',
            received_at: c.createdAt ?? now - 3_600_000,
            body_hash: 'seed',
            content: '{}',
          })),
        )
        .execute();
      await trx
        .insertInto('deliveries')
        .values(
          part.map((c) => {
            const state = c.state ?? 'delivered';
            const created = c.createdAt ?? now - 3_600_000;
            return {
              id: c.id,
              submission_id: `s-${c.id}`,
              route_id: 'waste',
              target_id: c.targetId ?? 'office',
              mapping_id: 'waste.jsonata',
              idempotency_key: c.idempotencyKey ?? c.id,
              state,
              attempts: c.attempts ?? (state === 'queued' ? 0 : 1),
              next_attempt_at: c.nextAttemptAt ?? created,
              lease_owner: c.leaseOwner ?? null,
              lease_expires_at: c.leaseExpiresAt ?? null,
              reference: c.reference === undefined ? (state === 'delivered' ? `AZ-${c.id}` : null) : c.reference,
              created_at: created,
              updated_at: created,
              delivered_at: c.deliveredAt === undefined ? (state === 'delivered' ? created + 1000 : null) : c.deliveredAt,
              backoffice_status: c.backofficeStatus === undefined ? (state === 'delivered' ? 'eingegangen' : null) : c.backofficeStatus,
              backoffice_status_at: null,
            };
          }),
        )
        .execute();
    }
  });
}
