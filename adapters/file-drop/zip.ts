import yazl from 'yazl';

/**
 * DOS time fields are read from a Date's local-time getters, so a Date built from local fields
 * gives the same bytes in every time zone. The "UT" extra field (UTC seconds) would not: it is left out.
 */
const FIXED_MTIME = new Date(2000, 0, 1, 0, 0, 0);

/**
 * One zip of the entries, byte for byte the same for the same entries: fixed time stamps and mode,
 * entries sorted by name, fixed compression level. A retry thus builds the file an earlier attempt
 * wrote, and the no-overwrite check can tell "mine" from "someone else's".
 */
export function buildZip(entries: { name: string; content: Buffer }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of sorted) {
    zip.addBuffer(e.content, e.name, { mtime: FIXED_MTIME, mode: 0o100644, compressionLevel: 6, forceDosTimestamp: true });
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.end();
  });
}
