import type { CaseStatus } from '../sdk/types.ts';

/**
 * The back office's side of a comparison, held compactly so a million cases fit in well under 100 MB: keys and
 * references as UTF-8 in large shared buffers, everything else in typed arrays, and two open-addressing hash
 * tables (by idempotency key, by reference) of record numbers. A million `{ reference, status, key }` objects in
 * a Map would take several times as much, and the back office's listing can only be read once.
 */
export class BackofficeIndex {
  private static readonly CHUNK = 8 * 1024 * 1024;
  private readonly chunks: Buffer[] = [];
  private chunkUsed = BackofficeIndex.CHUNK;
  private n = 0;
  /**
   * Where record i's bytes start: chunk * CHUNK + offset. Bytes: u16 key length, key, u16 reference length,
   * reference. A key in the hub's own form (a lower-case UUID) is kept as its 16 bytes under the length UUID_MARK.
   */
  private loc = new Float64Array(1024);
  private keyHash = new Uint32Array(1024);
  private refHash = new Uint32Array(1024);
  private statusId = new Uint32Array(1024);
  private flags = new Uint8Array(1024);
  private keyTable = new Int32Array(2048);
  private refTable = new Int32Array(2048);
  private readonly words: string[] = [];
  private readonly wordIds = new Map<string, number>();
  /** Rare extras kept aside: reasons, and the other references of a key the back office holds twice. */
  private readonly reasons = new Map<number, string>();
  private readonly extraRefs = new Map<number, string[]>();
  private readonly scratch = Buffer.allocUnsafe(4 * 65_536);
  /** Listed records that added nothing: the same case listed again. */
  repeats = 0;

  get size(): number {
    return this.n;
  }

  /** Bytes held by the buffers and tables (not the strings handed out). */
  get bytes(): number {
    return (
      this.chunks.length * BackofficeIndex.CHUNK +
      this.loc.byteLength +
      this.keyHash.byteLength * 3 +
      this.flags.byteLength +
      this.keyTable.byteLength * 2
    );
  }

  add(c: CaseStatus): void {
    const key = c.idempotencyKey ?? '';
    const ref = c.reference;
    const kh = key ? hash(key) : 0;
    const rh = hash(ref);
    if (key) {
      const first = this.lookup(this.keyTable, kh, key, 0);
      if (first >= 0) {
        // The same key again: the same case listed twice (same reference), or one key filed as two cases.
        const known = this.reference(first);
        if (known === ref || this.extraRefs.get(first)?.includes(ref)) {
          this.repeats++;
          return;
        }
        this.flags[first]! |= DUPLICATED;
        const extras = this.extraRefs.get(first) ?? [];
        extras.push(ref);
        this.extraRefs.set(first, extras);
        return;
      }
    } else if (this.lookup(this.refTable, rh, ref, 1) >= 0) {
      this.repeats++;
      return;
    }
    const i = this.n++;
    if (i === this.loc.length) this.grow();
    this.loc[i] = this.write(key, ref);
    this.keyHash[i] = kh;
    this.refHash[i] = rh;
    this.statusId[i] = this.word(c.status);
    this.flags[i] = key ? HAS_KEY : 0;
    if (c.reason) this.reasons.set(i, c.reason);
    // Linear probing stays short up to three quarters full.
    if (this.n * 4 > this.keyTable.length * 3) this.rehash(this.keyTable.length * 2);
    if (key) insert(this.keyTable, kh, i);
    insert(this.refTable, rh, i);
  }

  findByKey(key: string): number {
    return this.lookup(this.keyTable, hash(key), key, 0);
  }

  findByReference(ref: string): number {
    return this.lookup(this.refTable, hash(ref), ref, 1);
  }

  key(i: number): string | undefined {
    return this.flags[i]! & HAS_KEY ? this.field(i, 0) : undefined;
  }

  reference(i: number): string {
    return this.field(i, 1);
  }

  status(i: number): string {
    return this.words[this.statusId[i]!]!;
  }

  reason(i: number): string | undefined {
    return this.reasons.get(i);
  }

  /** The other references under record i's idempotency key, when the back office holds it more than once. */
  duplicates(i: number): string[] | undefined {
    return this.flags[i]! & DUPLICATED ? this.extraRefs.get(i) : undefined;
  }

  markSeen(i: number): void {
    this.flags[i]! |= SEEN;
  }

  seen(i: number): boolean {
    return (this.flags[i]! & SEEN) !== 0;
  }

  /** Records no hub case claimed, in listing order. */
  *unseen(): Generator<number> {
    for (let i = 0; i < this.n; i++) if (!(this.flags[i]! & SEEN)) yield i;
  }

  private word(w: string): number {
    let id = this.wordIds.get(w);
    if (id === undefined) {
      id = this.words.push(w) - 1;
      this.wordIds.set(w, id);
    }
    return id;
  }

  private write(key: string, ref: string): number {
    const uuid = UUID.test(key);
    const kb = uuid ? 16 : Buffer.byteLength(key);
    const rb = Buffer.byteLength(ref);
    if (kb >= UUID_MARK || rb > UUID_MARK) throw new Error('a back-office key or reference longer than 64 KB');
    const need = 4 + kb + rb;
    if (this.chunkUsed + need > BackofficeIndex.CHUNK) {
      this.chunks.push(Buffer.allocUnsafe(BackofficeIndex.CHUNK));
      this.chunkUsed = 0;
    }
    const c = this.chunks.length - 1;
    const buf = this.chunks[c]!;
    const start = this.chunkUsed;
    let p = start;
    const kl = uuid ? buf.write(key.replace(/-/g, ''), p + 2, 'hex') : buf.write(key, p + 2);
    buf.writeUInt16LE(uuid ? UUID_MARK : kl, p);
    p += 2 + kl;
    const rl = buf.write(ref, p + 2);
    buf.writeUInt16LE(rl, p);
    this.chunkUsed = p + 2 + rl;
    return c * BackofficeIndex.CHUNK + start;
  }

  /** Field 0 (key) or 1 (reference) of record i. */
  private field(i: number, which: 0 | 1): string {
    const { buf, p, len, uuid } = this.locate(i, which);
    if (!uuid) return buf.toString('utf8', p, p + len);
    const h = buf.toString('hex', p, p + 16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  private locate(i: number, which: 0 | 1): { buf: Buffer; p: number; len: number; uuid: boolean } {
    const at = this.loc[i]!;
    const buf = this.chunks[Math.floor(at / BackofficeIndex.CHUNK)]!;
    let p = at % BackofficeIndex.CHUNK;
    let len = buf.readUInt16LE(p);
    const uuid = len === UUID_MARK;
    if (uuid) len = 16;
    if (which === 1) {
      p += 2 + len;
      return { buf, p: p + 2, len: buf.readUInt16LE(p), uuid: false };
    }
    return { buf, p: p + 2, len, uuid };
  }

  private lookup(table: Int32Array, h: number, s: string, which: 0 | 1): number {
    // Compared as stored: a UUID key as its 16 bytes (a UUID never equals a key stored as text, nor the reverse).
    const asUuid = which === 0 && UUID.test(s);
    const len = asUuid ? this.scratch.write(s.replace(/-/g, ''), 0, 'hex') : this.scratch.write(s, 0);
    const mask = table.length - 1;
    const hashes = which === 0 ? this.keyHash : this.refHash;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const v = table[slot]!;
      if (v === 0) return -1;
      const i = v - 1;
      if (hashes[i] !== h) continue;
      const f = this.locate(i, which);
      if (f.uuid === asUuid && f.len === len && f.buf.compare(this.scratch, 0, len, f.p, f.p + len) === 0) return i;
    }
  }

  private grow(): void {
    const cap = this.loc.length * 2;
    const g = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.loc = g(this.loc, (n) => new Float64Array(n));
    this.keyHash = g(this.keyHash, (n) => new Uint32Array(n));
    this.refHash = g(this.refHash, (n) => new Uint32Array(n));
    this.statusId = g(this.statusId, (n) => new Uint32Array(n));
    this.flags = g(this.flags, (n) => new Uint8Array(n));
  }

  private rehash(size: number): void {
    this.keyTable = new Int32Array(size);
    this.refTable = new Int32Array(size);
    for (let i = 0; i < this.n - 1; i++) {
      if (this.flags[i]! & HAS_KEY) insert(this.keyTable, this.keyHash[i]!, i);
      insert(this.refTable, this.refHash[i]!, i);
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Stands for "16 bytes of UUID" where a key's length goes; no text key is that long. */
const UUID_MARK = 0xffff;
const HAS_KEY = 1;
const SEEN = 2;
const DUPLICATED = 4;

function insert(table: Int32Array, h: number, i: number): void {
  const mask = table.length - 1;
  let slot = h & mask;
  while (table[slot] !== 0) slot = (slot + 1) & mask;
  table[slot] = i + 1;
}

/** FNV-1a over UTF-16 code units, mixed at the end so the low bits spread well for masking. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}
