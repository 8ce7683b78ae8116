/** Where in the mapping file an error is: 1-based line and column, as editors count. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A mapping that failed: permanent for the delivery, with JSONata's code and the place in the file for the sync log. */
export class MappingError extends Error {
  /** How the delivery's failure is recorded (`errorKind`). */
  readonly errorKind: string = 'mapping';

  constructor(
    message: string,
    readonly mapping: string,
    readonly code?: string,
    /** JSONata's character offset, just past the offending token. */
    readonly position?: number,
    readonly token?: string,
    readonly at?: SourcePosition,
  ) {
    super(message);
    this.name = 'MappingError';
  }

  /** "x.jsonata:12:7 (T2002): …" — never the input values. */
  describe(): string {
    const where = this.at ? `:${this.at.line}:${this.at.column}` : this.position !== undefined ? ` at position ${this.position}` : '';
    const code = this.code ? ` (${this.code})` : '';
    return `${this.mapping}${where}${code}: ${this.message}`;
  }
}
