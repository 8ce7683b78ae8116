/*
 * What an attachment's bytes say it is, by its first bytes ("magic numbers"), compared with the media type the
 * portal declared. A back office opens attachments by their declared type; a PDF that is really an executable
 * or an HTML page is refused at intake. Types not listed here are not judged, unless the bytes name another.
 */

export type Family = 'pdf' | 'png' | 'jpeg' | 'gif' | 'tiff' | 'webp' | 'zip' | 'ole' | 'executable' | 'html' | 'xml';

const SIGNATURES: { family: Family; test: (b: Buffer) => boolean }[] = [
  { family: 'pdf', test: (b) => b.subarray(0, 5).toString('latin1') === '%PDF-' },
  { family: 'png', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { family: 'jpeg', test: (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { family: 'gif', test: (b) => /^GIF8[79]a/.test(b.subarray(0, 6).toString('latin1')) },
  { family: 'tiff', test: (b) => ['II*\0', 'MM\0*'].includes(b.subarray(0, 4).toString('latin1')) },
  { family: 'webp', test: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
  { family: 'zip', test: (b) => b.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) },
  { family: 'ole', test: (b) => b.subarray(0, 8).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) },
  {
    family: 'executable',
    test: (b) => b.subarray(0, 2).toString('latin1') === 'MZ' || b.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])),
  },
  { family: 'html', test: (b) => /^\s*<(!doctype html|html|head|body|script|svg|iframe)\b/i.test(leadingText(b)) },
  { family: 'xml', test: (b) => /^\s*<\?xml\b/.test(leadingText(b)) },
];

/** The declared media types whose content we can judge, and the family their bytes must show. */
const DECLARED: Record<string, Family> = {
  'application/pdf': 'pdf',
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/tiff': 'tiff',
  'image/webp': 'webp',
  'application/zip': 'zip',
  // Office Open XML and OpenDocument files are zip archives.
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'zip',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'zip',
  'application/vnd.oasis.opendocument.text': 'zip',
  'application/vnd.oasis.opendocument.spreadsheet': 'zip',
  'application/msword': 'ole',
  'application/vnd.ms-excel': 'ole',
  'application/xml': 'xml',
  'text/xml': 'xml',
};

function leadingText(b: Buffer): string {
  const start = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  return b.subarray(start, start + 64).toString('latin1');
}

/** The family the bytes show, if any known one. */
export function sniff(content: Buffer): Family | undefined {
  return SIGNATURES.find((s) => s.test(content))?.family;
}

/**
 * Why the content does not fit the declared type, or undefined when it does (or cannot be judged). XML may come
 * without a declaration: then it only must not look like something else.
 */
export function contentMismatch(declared: string, content: Buffer): string | undefined {
  const want = DECLARED[declared.toLowerCase()];
  const got = sniff(content);
  if (got === 'executable' || got === 'html') return `the content is ${got === 'html' ? 'HTML' : 'an executable'}, not ${declared}`;
  if (want === undefined) return undefined;
  if (got === want) return undefined;
  if (want === 'xml' && got === undefined && /^\s*</.test(leadingText(content))) return undefined;
  return got ? `the content is ${got.toUpperCase()}, not ${declared}` : `the content does not look like ${declared}`;
}
