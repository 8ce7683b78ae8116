import { randomBytes } from 'node:crypto';

// File names the batch job sees. Everything that ends up in a name passes through here, so no value
// (tenant, service, attachment name) can add a path separator, a leading dot or an unsafe character.

export const PLACEHOLDERS = ['tenant', 'service', 'deliveryId', 'date', 'time', 'ext'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export const DEFAULT_FILE_NAME = '{tenant}_{service}_{deliveryId}.{ext}';

/**
 * Literal characters a pattern may use: safe on every file system a legacy job may sit on
 * (ext4, NTFS/SMB, FAT), in every shell glob, and in every code page.
 */
const LITERAL = /^[A-Za-z0-9._+-]*$/;
const TOKEN = /\{([^{}]*)\}/g;
/** Leaves room for the temp prefix/suffix and attachment suffixes below NAME_MAX (255 bytes). */
const MAX_NAME = 200;

/** Why a pattern is unusable, one message per problem; empty when it is fine. Messages may echo the pattern: it is not secret. */
export function patternProblems(pattern: string): string[] {
  const problems: string[] = [];
  const names = [...pattern.matchAll(TOKEN)].map((m) => m[1]!);
  for (const n of names) {
    if (!(PLACEHOLDERS as readonly string[]).includes(n)) {
      problems.push(`unknown placeholder {${n}}; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`);
    }
  }
  // The delivery id is what keeps names unique and makes a retry find its own file.
  if (!names.includes('deliveryId')) problems.push('must contain {deliveryId}, which keeps file names unique');
  const literal = pattern.replace(TOKEN, '');
  if (/[/\\]/.test(literal)) problems.push('must not contain a path separator: the file goes into directory');
  else if (/[{}]/.test(literal)) problems.push('has an unmatched "{" or "}"');
  else if (!LITERAL.test(literal)) problems.push('may use only letters A-Z a-z, digits and . _ + - besides placeholders');
  // Dot files are what the batch job must ignore: the adapter's temp files are named that way.
  if (pattern.startsWith('.')) problems.push('must not start with "." (names starting with a dot are temp files)');
  if (literal.length > 120) problems.push('is too long');
  return problems;
}

export interface NameParts {
  tenant: string;
  service: string;
  deliveryId: string;
  ext: string;
  /** The attempt's time, for {date} and {time} (local time of the hub process). */
  at: Date;
}

/** A value as it may appear in a name: unsafe characters become `_`, no leading dot. */
export function safeValue(value: string): string {
  const s = value.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, (dots) => '_'.repeat(dots.length));
  return s === '' ? '_' : s;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function renderFileName(pattern: string, p: NameParts): string {
  const values: Record<Placeholder, string> = {
    tenant: safeValue(p.tenant),
    service: safeValue(p.service),
    deliveryId: safeValue(p.deliveryId),
    date: `${pad(p.at.getFullYear(), 4)}${pad(p.at.getMonth() + 1)}${pad(p.at.getDate())}`,
    time: `${pad(p.at.getHours())}${pad(p.at.getMinutes())}${pad(p.at.getSeconds())}`,
    ext: p.ext,
  };
  const name = pattern.replace(TOKEN, (_m, n: string) => values[n as Placeholder]);
  if (Buffer.byteLength(name) > MAX_NAME) throw new NameTooLongError(name.length);
  return name;
}

export class NameTooLongError extends Error {
  constructor(length: number) {
    super(`the file name would be ${length} characters long; at most ${MAX_NAME} are allowed`);
  }
}

/** Whether the pattern varies between attempts of one delivery ({date}, {time}). */
export function dependsOnTime(pattern: string): boolean {
  return /\{(date|time)\}/.test(pattern);
}

/** The pattern without a trailing `.{ext}`: the stem that attachment and zip names are built from. */
export function stemPattern(pattern: string): string {
  return pattern.endsWith('.{ext}') ? pattern.slice(0, -'.{ext}'.length) : pattern;
}

/** The pattern of the file the batch job picks up: the message itself, or with `zip` the archive. */
export function primaryPattern(pattern: string, attachments: 'none' | 'embedded' | 'beside' | 'zip'): string {
  return attachments === 'zip' ? `${stemPattern(pattern)}.zip` : pattern;
}

/**
 * Matches any name this delivery's pattern yields at any time: {date} and {time} become groups,
 * everything else is this delivery's value. A retry uses it to find the file an earlier attempt
 * wrote on another day or second, and `timeOfMatch` gives back that attempt's time.
 */
export function sameDeliveryMatcher(pattern: string, p: Omit<NameParts, 'at'>): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const seen = new Set<string>();
  let re = '';
  let last = 0;
  for (const m of pattern.matchAll(TOKEN)) {
    re += esc(pattern.slice(last, m.index));
    const n = m[1] as Placeholder;
    if (n === 'date' || n === 'time') {
      // A placeholder used twice must show the same value twice.
      re += seen.has(n) ? `\\k<${n}>` : `(?<${n}>\\d{${n === 'date' ? 8 : 6}})`;
      seen.add(n);
    } else {
      re += esc(n === 'ext' ? p.ext : safeValue(p[n]));
    }
    last = m.index! + m[0].length;
  }
  re += esc(pattern.slice(last));
  return new RegExp(`^${re}$`);
}

/** The attempt time a name matched by `sameDeliveryMatcher` was rendered with (fields not in the name: today's). */
export function timeOfMatch(m: RegExpMatchArray, today: Date): Date {
  const d = m.groups?.date;
  const t = m.groups?.time;
  return new Date(
    d ? Number(d.slice(0, 4)) : today.getFullYear(),
    d ? Number(d.slice(4, 6)) - 1 : today.getMonth(),
    d ? Number(d.slice(6, 8)) : today.getDate(),
    t ? Number(t.slice(0, 2)) : 0,
    t ? Number(t.slice(2, 4)) : 0,
    t ? Number(t.slice(4, 6)) : 0,
  );
}

const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9]|conin\$|conout\$)$/i;

const UMLAUTS: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue', Ä: 'Ae', Ö: 'Oe', Ü: 'Ue', ß: 'ss' };

/**
 * A citizen's attachment name made safe for any file system: the last path segment only, umlauts
 * spelled out, other accents dropped, anything else (control characters, bidi overrides, spaces) outside
 * [A-Za-z0-9._-] as `_`, no leading or trailing dot, no Windows device name, at most 100 characters with the
 * extension kept.
 */
export function sanitizeAttachmentName(filename: string): string {
  let s = filename.split(/[/\\]/).pop() ?? '';
  s = s.replace(/[äöüÄÖÜß]/g, (c) => UMLAUTS[c]!);
  s = s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  s = s
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    // Windows drops trailing dots, so `a.pdf.` and `a.pdf` would be one file there.
    .replace(/[._]+$/, '');
  if (s === '' || /^\.*$/.test(s)) s = 'attachment';
  // A device name (CON, NUL, COM1, …) opens the device on Windows and SMB shares, with any extension.
  if (RESERVED.test(s.split('.')[0]!)) s = `_${s}`;
  if (s.length > 100) {
    const dot = s.lastIndexOf('.');
    const ext = dot > 0 && s.length - dot <= 10 ? s.slice(dot) : '';
    s = s.slice(0, 100 - ext.length) + ext;
  }
  return s;
}

/** `<stem>.<n>-<filename>`, n counting from 1 in the message's order. */
export function attachmentFileName(stem: string, index: number, filename: string): string {
  return `${stem}.${index + 1}-${sanitizeAttachmentName(filename)}`;
}

/** A dot file beside the final name, which the batch job ignores; random, so concurrent writers never share one. */
export function tempName(name: string): string {
  return `.${name}.tmp-${randomBytes(6).toString('hex')}`;
}

/** A name the adapter itself could have produced: one path segment, not a dot file. Guards tokens from the store. */
export function isPlainFileName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !/[/\\\0]/.test(name) && !name.startsWith('.');
}
