import yazl from 'yazl';

/**
 * DOS time fields come from a Date's local-time getters, so a Date built from local fields gives the same
 * bytes in every time zone; the "UT" extra field (UTC seconds) would not, and is left out.
 */
const FIXED_MTIME = new Date(2000, 0, 1, 0, 0, 0);

export interface ContainerEntry {
  name: string;
  content: Buffer;
}

/**
 * The xdomea container: one zip of the message and its primary documents, byte for byte the same for the
 * same entries (fixed time stamps and mode, the message first and the files in name order, fixed
 * compression), so a retry builds the file an earlier attempt handed over.
 */
export function buildContainer(message: ContainerEntry, files: readonly ContainerEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of [message, ...sorted]) {
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
