import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks: one call to the CSPRNG per 256 ids instead of one per id.
const POOL = Buffer.allocUnsafe(16 * 256);
let offset = POOL.length;

/**
 * UUID version 7 (RFC 9562): time-ordered, so ids sort by creation and index well,
 * with 74 random bits so two instances never collide.
 */
export function uuidv7(now: number = Date.now()): string {
  if (offset === POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const b = POOL.subarray(offset, offset + 16);
  offset += 16;
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
