import type { CompiledSchema, XsdError } from '../xsd/index.ts';

/**
 * XSD validation for golden cases through src/mapping/xsd/. Imported on first use, not at start: it
 * instantiates libxml2 (WebAssembly), which a run without `xsd:` cases should not pay for.
 */

export class XsdUnavailableError extends Error {}

// The WSDL module loads libxml2 too: one import for both.
type XsdModule = typeof import('../xsd/index.ts') & typeof import('./wsdl.ts');

let loaded: Promise<XsdModule> | undefined;

function loadModule(): Promise<XsdModule> {
  loaded ??= Promise.all([import('../xsd/index.ts'), import('./wsdl.ts')])
    .then(([xsd, wsdl]) => ({ ...xsd, ...wsdl }))
    .catch((e: unknown) => {
      loaded = undefined;
      throw new XsdUnavailableError(`XSD validation is not available: src/mapping/xsd/ did not load (${(e as Error).message})`);
    });
  return loaded;
}

/**
 * Schemas loaded for one run: each compiled once, released when the run ends (the XSD module frees a
 * compiled set when its last handle is disposed).
 */
export class XsdSession {
  private readonly schemas = new Map<string, CompiledSchema>();

  /**
   * The problems the schema finds in `xml`, one line each; empty when it is valid. `xsdFile` is an XSD, or a
   * WSDL whose embedded schemas apply. Throws when the schema cannot be loaded.
   */
  async validate(xsdFile: string, xml: string): Promise<string[]> {
    const mod = await loadModule();
    let schema = this.schemas.get(xsdFile);
    if (!schema) {
      schema = mod.isWsdlFile(xsdFile) ? mod.loadWsdlSchemas(xsdFile) : mod.loadSchema(xsdFile);
      this.schemas.set(xsdFile, schema);
    }
    const result = schema.validate(xml);
    if (result.ok) return [];
    const shown = result.errors.map(describe);
    if (result.total > result.errors.length) shown.push(`… ${result.total - result.errors.length} more`);
    return shown;
  }

  close(): void {
    for (const s of this.schemas.values()) s.dispose();
    this.schemas.clear();
  }
}

function describe(e: XsdError): string {
  return `line ${e.line}: ${e.message}`;
}
