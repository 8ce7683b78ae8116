import type { Db } from './tables.ts';

// Adapters' durable notes about a delivery (DeliveryContext.memo): written once, read on every later attempt.

/** Another attempt wrote a different value under the key first; this attempt must not act on its own. */
export class MemoConflictError extends Error {
  override name = 'MemoConflictError';
}

export async function recallMemo(db: Db, deliveryId: string, key: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('delivery_memos')
    .select('value')
    .where('delivery_id', '=', deliveryId)
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.value;
}

/**
 * Keeps `value` under `key`, committed when this resolves. The first value stays: a second attempt running beside
 * the first (its lease ran out) that got another value gets MemoConflictError instead of overwriting.
 */
export async function rememberMemo(db: Db, deliveryId: string, key: string, value: string, now: number): Promise<void> {
  await db
    .insertInto('delivery_memos')
    .values({ delivery_id: deliveryId, key, value, created_at: now })
    .onConflict((oc) => oc.columns(['delivery_id', 'key']).doNothing())
    .execute();
  const kept = await recallMemo(db, deliveryId, key);
  if (kept !== value) throw new MemoConflictError(`another attempt of the delivery already holds ${key}`);
}
