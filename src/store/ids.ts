import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks: one call to the CSPRNG per 256 ids instead of one per id.
const POOL = Buffer.allocUnsafe(16 * 256);
let offset = POOL.length;

// Ids made in the same millisecond count up in the 12 bits after the time (RFC 9562, method 1), so within one
// process ids sort in the order they were made: claims take a target's deliveries oldest first by id.
let lastMs = -1;
let counter = 0;

/**
 * UUID version 7 (RFC 9562): time-ordered, so ids sort by creation and index well,
 * with 62 random bits so two instances never collide. `now` is the hub's clock.
 */
export function uuidv7(now: number): string {
  if (offset === POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const b = POOL.subarray(offset, offset + 16);
  offset += 16;
  if (now > lastMs) {
    lastMs = now;
    // Start low in the millisecond so the counter rarely runs out.
    counter = b[6]! & 0x03;
  } else if (++counter > 0xfff) {
    lastMs += 1;
    counter = 0;
  }
  b.writeUIntBE(lastMs, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
