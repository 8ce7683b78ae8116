import type { AuditTrail } from '../audit/trail.ts';
import type { Store } from '../store/index.ts';
import { emptyProgress, ROTATED_TABLES, type RotationCursor, type RotationProgress } from '../store/rotation.ts';

export interface RotationReport extends RotationProgress {
  kid: string;
  passes: number;
  batches: number;
}

/**
 * Re-seals everything with the current data key (`amtsbote keys rotate`, docs/keys.md), in batches of `batch`
 * rows, each its own transaction, beside a running hub. A pass walks every sealed table once; another pass
 * follows while the last one still found rows, since a hub that had not yet read the new key file may have
 * sealed a few with the old key meanwhile. Stopped, it is resumed by running it again.
 */
export async function rotateKeys(
  store: Store,
  o: {
    batch: number;
    maxPasses?: number;
    onBatch?: (p: RotationProgress) => void;
    /** Where the rotation is recorded as `key-rotation` (key id and counts), with `actor`. */
    audit?: { trail: AuditTrail; actor: string } | undefined;
  },
): Promise<RotationReport> {
  const kid = store.sealing.kid;
  if (kid === null) throw new Error('no data key is configured: nothing to rotate to (docs/keys.md)');
  const total = { ...emptyProgress(), kid, passes: 0, batches: 0 };
  const maxPasses = o.maxPasses ?? 3;
  for (let pass = 0; pass < maxPasses; pass++) {
    total.passes++;
    const cursor: RotationCursor = {};
    let resealed = 0;
    while (ROTATED_TABLES.some((t) => cursor[t] !== 'done')) {
      const p = await store.rotation.step(cursor, o.batch);
      total.batches++;
      for (const t of ROTATED_TABLES) {
        total.resealed[t] += p.resealed[t];
        total.failed[t] += p.failed[t];
        resealed += p.resealed[t];
      }
      o.onBatch?.(p);
    }
    if (resealed === 0) break;
  }
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  await o.audit?.trail.record({
    actor: o.audit.actor,
    action: 'key-rotation',
    detail: { kid, passes: total.passes, resealed: sum(total.resealed), failed: sum(total.failed) },
  });
  return total;
}
