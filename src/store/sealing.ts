// Encryption at rest as the store sees it (docs/keys.md). The store seals personal values as it writes them and
// opens them as it reads them, so nothing above it handles ciphertext and nothing below it sees a personal value.
// The keys themselves live in src/security/ (field-crypto.ts); the store knows them only through `FieldKeys`,
// which a Keyring fulfils, so store/ keeps importing nothing but core/.

/** What a ciphertext is bound to: the row and column it belongs in (same shape as security/field-crypto). */
export interface Binding {
  tenant: string;
  submissionId: string;
  field: string;
}

/** The keys, as the store needs them. */
export interface FieldKeys {
  readonly currentKid: string;
  seal(plain: string, b: Binding): string;
  open(sealed: string, b: Binding): string;
  sealBytes(plain: Uint8Array, b: Binding): Buffer;
  openBytes(sealed: Uint8Array, b: Binding): Buffer;
  keyedHash(purpose: string, value: string): string;
  keyedHashMatches(stored: string, purpose: string, value: string): boolean;
}

/** Keyed-hash purpose of the resend comparison (submissions.body_hash). */
export const IDEMPOTENCY = 'idempotency';

// A sealed text value (field-crypto's text format). Free text written before encryption was switched on is told
// apart by this shape: a reason such as "v1.k1.abc" without a space is not something a back office writes.
const SEALED_TEXT = /^v1\.([A-Za-z0-9_-]{1,32})\.[A-Za-z0-9_-]+$/;

/** The key id of a sealed text value; undefined for plain text. */
export function sealedKid(value: string): string | undefined {
  return SEALED_TEXT.exec(value)?.[1];
}

/**
 * Seals and opens for the store, with encryption on (keys given) or off. With it off, values go in and come
 * out as they are; a sealed value then cannot be read and says so. With it on, a text value that is not sealed
 * is one written before (docs/keys.md: `amtsbote keys rotate` seals those) and is read as it is.
 */
export class Sealing {
  constructor(readonly keys?: FieldKeys) {}

  get on(): boolean {
    return this.keys !== undefined;
  }

  /** The key id new values are sealed with; null with encryption off (what `submissions.data_kid` records). */
  get kid(): string | null {
    return this.keys?.currentKid ?? null;
  }

  text(plain: string, b: Binding): string {
    return this.keys ? this.keys.seal(plain, b) : plain;
  }

  textOrNull(plain: string | null, b: Binding): string | null {
    return plain === null ? null : this.text(plain, b);
  }

  /** Opens free text (status reasons): sealed or, from before encryption, plain. */
  openText(stored: string, b: Binding): string {
    if (sealedKid(stored) === undefined) return stored;
    return this.need().open(stored, b);
  }

  openTextOrNull(stored: string | null, b: Binding): string | null {
    return stored === null ? null : this.openText(stored, b);
  }

  bytes(plain: Uint8Array, b: Binding): Buffer {
    return this.keys ? this.keys.sealBytes(plain, b) : Buffer.from(plain);
  }

  /**
   * Opens a submission's column by the row's `data_kid`: null means written in clear (before encryption or with
   * it off), so binary content needs no guess at its first byte.
   */
  openRowText(stored: string, kid: string | null, b: Binding): string {
    return kid === null ? stored : this.need().open(stored, b);
  }

  openRowBytes(stored: Uint8Array, kid: string | null, b: Binding): Buffer {
    return kid === null ? Buffer.from(stored) : this.need().openBytes(stored, b);
  }

  /** What `submissions.body_hash` holds: the intake's SHA-256 keyed with the index key, or as it is when off. */
  bodyHash(sha256: string): string {
    return this.keys ? this.keys.keyedHash(IDEMPOTENCY, sha256) : sha256;
  }

  /** Whether a stored body hash, keyed (`<kid>.<mac>`) or from before (hex), stands for this SHA-256. */
  sameBody(stored: string, sha256: string): boolean {
    if (!stored.includes('.')) return stored === sha256;
    return this.need().keyedHashMatches(stored, IDEMPOTENCY, sha256);
  }

  private need(): FieldKeys {
    if (!this.keys)
      throw new Error(
        'this value is encrypted, and no data key is configured: set AMTSBOTE_DATA_KEYS or AMTSBOTE_DATA_KEYS_FILE (docs/keys.md)',
      );
    return this.keys;
  }
}

/** The bindings of every sealed column: one place, so writer, reader and rotation agree. */
export const fields = {
  content: 'content',
  original: 'original',
  attachmentName: (position: number) => `attachment:${position}:filename`,
  attachmentContent: (position: number) => `attachment:${position}:content`,
  attachmentHash: (position: number) => `attachment:${position}:sha256`,
  historyReason: (deliveryId: string, statusKey: string, at: number) => `status_history.reason:${deliveryId}:${statusKey}:${at}`,
  deliveryReason: (deliveryId: string) => `delivery_status.reason:${deliveryId}`,
  submissionReason: 'submission_status.reason',
  outboxReason: (id: string) => `status_outbox.reason:${id}`,
  /** A status event's reason, by its case and the news's time (the event's `detail.at`). */
  eventReason: (deliveryId: string | null, at: string) => `events.reason:${deliveryId ?? ''}:${at}`,
} as const;
