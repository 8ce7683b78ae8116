// XSD validation for adapters that check a message against the back office's schema before sending it.
// A module of its own, not part of index.ts: importing it loads the libxml2 WebAssembly module, so an adapter
// imports it (dynamically) only when a target names a schema.
export { loadSchema, SchemaLoadError, type CompiledSchema, type XsdError, type XsdResult } from '../mapping/xsd/index.ts';
