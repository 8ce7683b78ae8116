import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../project-root.ts';

// Where the xdomea 3.0.0 FVDaten schema set is. The hub ships its own copy (schemas/xdomea-3.0.0/, the five
// files the FVDaten messages need, unchanged), so it validates on a machine without ../shared; the golden
// tests prefer the reference folder when it is there, so a drift between the two shows.

export const XDOMEA_NAMESPACE = 'urn:xoev-de:xdomea:schema:3.0.0';
export const FVDATEN_XSD_NAME = 'xdomea-Nachrichten-FachverfahrensdatenAustauschen.xsd';

/** The project's copy: what the hub validates every message against before it is sent. */
export const PROJECT_XDOMEA_DIR = path.join(PROJECT_ROOT, 'schemas', 'xdomea-3.0.0');
/** The shared reference (absent on a fresh clone; CI has it). */
export const REFERENCE_XDOMEA_DIR = path.resolve(PROJECT_ROOT, '..', 'shared', 'reference', 'xdomea-3.0.0');

export function fvDatenXsd(dir: string): string {
  return path.join(dir, 'xdomea_3.0.0', FVDATEN_XSD_NAME);
}

/** The reference set when present, else the project copy: for tests, which say which one they used. */
export function testSchemaPath(): { path: string; reference: boolean } {
  const ref = fvDatenXsd(REFERENCE_XDOMEA_DIR);
  return existsSync(ref) ? { path: ref, reference: true } : { path: fvDatenXsd(PROJECT_XDOMEA_DIR), reference: false };
}
