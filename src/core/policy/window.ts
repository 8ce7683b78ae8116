/**
 * Delivery windows: when a back office takes deliveries, written as `<days> <HH:MM>-<HH:MM> [<time zone>]`,
 * e.g. `Mon-Fri 06:00-22:00 Europe/Berlin`, `Sat 08:00-12:00`, `Daily 22:00-06:00` (past midnight: the days are the
 * days it opens). Days in English or German (`Mo-Fr`), ranges and lists (`Mon,Wed,Fri`). The zone defaults to
 * Europe/Berlin, so summer and winter time are the municipality's.
 */

export interface DeliveryWindow {
  text: string;
  /** 0 = Monday … 6 = Sunday. */
  days: ReadonlySet<number>;
  /** Minutes after local midnight; `end` may be 1440, and below `start` for a window that runs past midnight. */
  start: number;
  end: number;
  timeZone: string;
}

const DAY_NAMES: Record<string, number> = {
  mon: 0,
  tue: 1,
  wed: 2,
  thu: 3,
  fri: 4,
  sat: 5,
  sun: 6,
  mo: 0,
  di: 1,
  mi: 2,
  do: 3,
  fr: 4,
  sa: 5,
  so: 6,
};

export const DEFAULT_WINDOW_ZONE = 'Europe/Berlin';

export function parseWindow(text: string): { ok: true; window: DeliveryWindow } | { ok: false; error: string } {
  const hint = 'write e.g. "Mon-Fri 06:00-22:00 Europe/Berlin"';
  const parts = text.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 3) return { ok: false, error: `a window is "<days> <from>-<to> [time zone]"; ${hint}` };
  const [dayText, timeText, zone = DEFAULT_WINDOW_ZONE] = parts as [string, string, string?];
  const days = parseDays(dayText);
  if (typeof days === 'string') return { ok: false, error: `${days}; ${hint}` };
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(timeText);
  if (!m) return { ok: false, error: `"${timeText}" is not a time range like 06:00-22:00` };
  const start = minutes(m[1]!, m[2]!);
  const end = minutes(m[3]!, m[4]!);
  if (start === undefined || end === undefined || start === 1440)
    return { ok: false, error: `"${timeText}": times run from 00:00 to 24:00` };
  if (start === end) return { ok: false, error: `"${timeText}" is empty: from and to are the same` };
  if (!isTimeZone(zone)) return { ok: false, error: `"${zone}" is not an IANA time zone such as Europe/Berlin` };
  return { ok: true, window: { text, days, start, end: end === 0 ? 1440 : end, timeZone: zone } };
}

function parseDays(text: string): ReadonlySet<number> | string {
  const lower = text.toLowerCase();
  if (lower === 'daily' || lower === 'täglich' || lower === '*') return new Set([0, 1, 2, 3, 4, 5, 6]);
  const days = new Set<number>();
  for (const item of lower.split(',')) {
    const [from, to, extra] = item.split('-');
    const a = DAY_NAMES[from ?? ''];
    const b = to === undefined ? a : DAY_NAMES[to];
    if (a === undefined || b === undefined || extra !== undefined)
      return `"${item}" is not a day or a day range (Mon, Mon-Fri, Mo-Fr, Daily)`;
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return days;
}

function minutes(h: string, m: string): number | undefined {
  const v = Number(h) * 60 + Number(m);
  return Number(m) < 60 && v <= 1440 ? v : undefined;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

interface LocalTime {
  y: number;
  mo: number;
  d: number;
  /** 0 = Monday. */
  wd: number;
  /** Minutes after local midnight. */
  min: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

function localTime(t: number, zone: string): LocalTime {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(t)) p[part.type] = part.value;
  return {
    y: Number(p.year),
    mo: Number(p.month),
    d: Number(p.day),
    wd: WEEKDAY[p.weekday!]!,
    min: Number(p.hour) * 60 + Number(p.minute),
  };
}

/** The instant a local wall-clock time names in a zone (the later reading in a DST gap or overlap is fine here). */
function zonedInstant(y: number, mo: number, d: number, min: number, zone: string): number {
  const wall = Date.UTC(y, mo - 1, d, 0, min);
  const offsetAt = (t: number) => {
    const l = localTime(t, zone);
    return Date.UTC(l.y, l.mo - 1, l.d, 0, l.min) - Math.floor(t / 60_000) * 60_000;
  };
  const first = wall - offsetAt(wall);
  return wall - offsetAt(first);
}

function isOpenIn(w: DeliveryWindow, t: number): boolean {
  const l = localTime(t, w.timeZone);
  if (w.start < w.end) return w.days.has(l.wd) && l.min >= w.start && l.min < w.end;
  return (w.days.has(l.wd) && l.min >= w.start) || (w.days.has((l.wd + 6) % 7) && l.min < w.end);
}

/** When the open period that contains `t` began. */
function openedAtIn(w: DeliveryWindow, t: number): number {
  const l = localTime(t, w.timeZone);
  const back = w.start < w.end || l.min >= w.start ? 0 : 1;
  return zonedInstant(l.y, l.mo, l.d - back, w.start, w.timeZone);
}

function nextOpeningIn(w: DeliveryWindow, t: number): number | undefined {
  const l = localTime(t, w.timeZone);
  for (let k = 0; k <= 8; k++) {
    if (!w.days.has((l.wd + k) % 7)) continue;
    const at = zonedInstant(l.y, l.mo, l.d + k, w.start, w.timeZone);
    if (at > t) return at;
  }
  return undefined;
}

/** A target's windows together: open when any is. No windows: always open. */
export class DeliveryWindows {
  readonly windows: readonly DeliveryWindow[];

  constructor(texts: readonly string[] | undefined) {
    this.windows = (texts ?? []).map((text) => {
      const parsed = parseWindow(text);
      if (!parsed.ok) throw new Error(`delivery window "${text}": ${parsed.error}`);
      return parsed.window;
    });
  }

  get always(): boolean {
    return this.windows.length === 0;
  }

  isOpen(t: number): boolean {
    return this.always || this.windows.some((w) => isOpenIn(w, t));
  }

  /** When the current open period began (the latest opening of the windows open at `t`); undefined when closed or always open. */
  openedAt(t: number): number | undefined {
    let at: number | undefined;
    for (const w of this.windows) if (isOpenIn(w, t)) at = Math.max(at ?? -Infinity, openedAtIn(w, t));
    return at;
  }

  /** The next time a window opens after `t`; undefined when always open. */
  nextOpening(t: number): number | undefined {
    let at: number | undefined;
    for (const w of this.windows) {
      const n = nextOpeningIn(w, t);
      if (n !== undefined) at = Math.min(at ?? Infinity, n);
    }
    return at;
  }

  /**
   * Since when a delivery due at `dueAt` has really been waiting: a delivery that fell due while the window was
   * closed counts from the opening, so the first attempt after it is not late.
   */
  dueSince(dueAt: number, now: number): number {
    if (this.always) return dueAt;
    if (!this.isOpen(now)) return now;
    return Math.max(dueAt, this.openedAt(now) ?? dueAt);
  }
}
