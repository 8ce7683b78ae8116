import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../project-root.ts';

// Where the xdomea 3.0.0 schema set is. The hub does not ship the standard's XSDs: a data centre takes them
// from XRepository (urn:xoev-de:xdomea:kosit:standard:xdomea_3.0.0) and names the folder in
// AMTSBOTE_XDOMEA_XSD_DIR; a development checkout and CI find the public reference set in ../shared/reference.
// Without either, messages are still built but go out unvalidated, and the worker says so at start.

export const XDOMEA_NAMESPACE = 'urn:xoev-de:xdomea:schema:3.0.0';
export const FVDATEN_XSD_NAME = 'xdomea-Nachrichten-FachverfahrensdatenAustauschen.xsd';
export const XDOMEA_XSD_DIR_ENV = 'AMTSBOTE_XDOMEA_XSD_DIR';

/** The shared reference (absent on a fresh clone; CI has it). */
export const REFERENCE_XDOMEA_DIR = path.resolve(PROJECT_ROOT, '..', 'shared', 'reference', 'xdomea-3.0.0');

/** The FVDaten entry XSD inside a folder laid out as the standard publishes it (`xdomea_3.0.0/…`, `xoev/…`). */
export function fvDatenXsd(dir: string): string {
  return path.join(dir, 'xdomea_3.0.0', FVDATEN_XSD_NAME);
}

/** The FVDaten XSD the hub validates against: the configured folder, else the reference set; undefined: none. */
export function xdomeaSchemaFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env[XDOMEA_XSD_DIR_ENV];
  if (configured) return fvDatenXsd(path.resolve(configured));
  const ref = fvDatenXsd(REFERENCE_XDOMEA_DIR);
  return existsSync(ref) ? ref : undefined;
}
