/**
 * The problems a subscriber names in a `reject-submission` event. FIT-Connect documents them on the page
 * "Einreichung überprüfen" (docs.fitko.de/fit-connect/docs/receiving/verification): each is an RFC 7807-style
 * object whose `type` (under https://schema.fitko.de/fit-connect/events/problems/) and `instance` the subscriber
 * MUST use exactly; the `title` SHOULD be taken as documented. `detail` never repeats form data.
 */

export const PROBLEM_BASE = 'https://schema.fitko.de/fit-connect/events/problems/';

/** What a problem is about: the metadata, the data, one attachment, the submission as a whole, or other. */
export type ProblemInstance = 'metadata' | 'data' | `attachment:${string}` | 'submission' | 'other';

export interface RejectProblem {
  type: string;
  title: string;
  detail: string;
  instance: ProblemInstance;
}

function make(slug: string, title: string) {
  return (instance: ProblemInstance, detail: string): RejectProblem => ({ type: PROBLEM_BASE + slug, title, detail, instance });
}

export const problems = {
  /** The JWE could not be decrypted: wrong key, wrong algorithm, or a changed ciphertext (the GCM tag fails). */
  encryptionIssue: make('encryption-issue', 'Entschlüsselungs-Fehler'),
  /** The decrypted metadata (or JSON data) is not well-formed. */
  syntaxViolation: make('syntax-violation', 'Syntax-Fehler'),
  /** The metadata does not follow the metadata schema. */
  schemaViolation: make('schema-violation', 'Schema-Fehler'),
  /** The metadata names a schema version this subscriber does not support. */
  unsupportedSchema: make('unsupported-schema', 'Nicht unterstütztes Schema'),
  /** The metadata describes data, but the submission carries none (or the other way round). */
  missingData: make('missing-data', 'Fachdatensatz fehlt'),
  /** The SHA-512 of the decrypted data or an attachment differs from the metadata's `hash`. */
  hashMismatch: make('hash-mismatch', 'Prüfsumme stimmt nicht'),
  /** The attachment ids of the submission and of the metadata differ. */
  attachmentsMismatch: make('attachments-mismatch', 'Anlagen stimmen nicht überein'),
  /** An authentication tag differs from the one the delivery service recorded in the event log. */
  incorrectAuthenticationTag: make('incorrect-authentication-tag', 'Authentication-Tag ungültig'),
};
