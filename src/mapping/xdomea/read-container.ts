import { inflateRawSync } from 'node:zlib';

// Reads an xdomea container (a zip) back: for the demo DMS, which imports what the hub files, and for tests.
// Only what yazl writes and a DMS import needs: stored and deflated entries, no zip64, no encryption. The zip
// is untrusted to its reader, so sizes are capped before anything is inflated.

export class ContainerReadError extends Error {}

export interface ReadEntry {
  name: string;
  content: Buffer;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function readContainer(zip: Buffer, maxTotalBytes = 64 * 1024 * 1024): ReadEntry[] {
  let eocd = -1;
  // The end record is 22 bytes plus a comment of at most 65535.
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ContainerReadError('not a zip file (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ReadEntry[] = [];
  let total = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL) throw new ContainerReadError('broken central directory');
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + nameLength + extraLength + commentLength;
    if (flags & 0x1) throw new ContainerReadError('encrypted entries are not read');
    total += size;
    if (total > maxTotalBytes) throw new ContainerReadError(`the container holds more than ${maxTotalBytes} bytes`);
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== LOCAL) throw new ContainerReadError('broken local header');
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressed);
    let content: Buffer;
    if (method === 0) content = Buffer.from(data);
    else if (method === 8) content = inflateRawSync(data, { maxOutputLength: Math.max(1, size) });
    else throw new ContainerReadError(`compression method ${method} is not read`);
    if (content.length !== size) throw new ContainerReadError('an entry is not as long as the directory says');
    entries.push({ name, content });
  }
  return entries;
}
