import { PORTAL_STATUSES, type PortalStatus } from './types.ts';

/**
 * A status word as compared: lower case, umlauts and ß spelled out, `_`, `-`, `.` and runs of spaces as one space.
 * "IN_BEARBEITUNG", "In Bearbeitung" and "in-bearbeitung" are one word; so are "Rückfrage" and "Rueckfrage".
 */
export function statusKey(word: string): string {
  return word
    .trim()
    .toLowerCase()
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/ß/g, 'ss')
    .replace(/[\s_.-]+/g, ' ')
    .trim();
}

/**
 * The built-in map of common back-office words (German and English), used after a target's own `status.map`
 * unless `status.defaults: false`. docs/status.md lists it. Deliberately left out: words that mean different things
 * in different offices (cancelled/storniert, on hold/ruht): a target that uses them maps them itself.
 */
export const DEFAULT_STATUS_WORDS: Record<PortalStatus, readonly string[]> = {
  RECEIVED: [
    'received',
    'eingegangen',
    'eingang',
    'new',
    'neu',
    'created',
    'angelegt',
    'registered',
    'registriert',
    'erfasst',
    'accepted',
    'angenommen',
    'open',
    'offen',
    'submitted',
  ],
  PROCESSING: [
    'processing',
    'in progress',
    'in bearbeitung',
    'bearbeitung',
    'in arbeit',
    'in pruefung',
    'pruefung',
    'under review',
    'assigned',
    'zugewiesen',
    'scheduled',
    'geplant',
    'disponiert',
    'terminiert',
  ],
  ACTION_REQUIRED: [
    'action required',
    'rueckfrage',
    'nachforderung',
    'unterlagen fehlen',
    'unterlagen nachreichen',
    'missing documents',
    'information requested',
    'mitwirkung erforderlich',
    'waiting for applicant',
    'wartet auf antragsteller',
  ],
  COMPLETED: [
    'completed',
    'complete',
    'done',
    'closed',
    'finished',
    'resolved',
    'approved',
    'erledigt',
    'abgeschlossen',
    'beschieden',
    'genehmigt',
    'bewilligt',
    'festgesetzt',
    'veranlagt',
    'abgeholt',
    'durchgefuehrt',
  ],
  REJECTED: ['rejected', 'declined', 'denied', 'refused', 'abgelehnt', 'zurueckgewiesen', 'versagt'],
};

const DEFAULT_MAP: ReadonlyMap<string, PortalStatus> = new Map(
  PORTAL_STATUSES.flatMap((status) => DEFAULT_STATUS_WORDS[status].map((w) => [statusKey(w), status] as const)),
);

/** A target's own words (`status.map` in its configuration), and whether the built-in ones apply after them. */
export interface StatusWords {
  map: Record<string, PortalStatus>;
  defaults: boolean;
}

/** Maps one target's back-office words to the portal's vocabulary; null for a word it does not know. */
export class StatusMap {
  private readonly own: Map<string, PortalStatus>;

  constructor(private readonly config: StatusWords = { map: {}, defaults: true }) {
    this.own = new Map(Object.entries(config.map).map(([word, status]) => [statusKey(word), status]));
  }

  map(word: string): PortalStatus | null {
    const key = statusKey(word);
    return this.own.get(key) ?? (this.config.defaults ? DEFAULT_MAP.get(key) : undefined) ?? null;
  }
}
