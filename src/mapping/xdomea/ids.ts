import { createHash } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * A name-based UUID (RFC 9562 version 5: SHA-1 of the namespace UUID's bytes and the name). The same delivery
 * and the same name give the same id on every attempt, so a retry builds the message byte for byte again,
 * and the DMS sees the same Vorgang and Dokument ids.
 */
export function nameUuid(namespace: string, name: string): string {
  if (!isUuid(namespace)) throw new Error('the namespace of a name-based UUID must be a UUID');
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
