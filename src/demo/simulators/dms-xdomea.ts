// A document management system (DMS) that imports xdomea 3.0 containers from a drop folder, as e-file
// systems do. Every `intervalMs` it reads the new `{ProzessID}_{Nachrichtentyp}.zip` files, checks each the
// way a DMS import does (the name, the message inside it against the FVDaten XSD, every primary document
// present and nothing else), files the Vorgang and answers beside the file with `<name>.ok` (the DMS's
// reference) or `<name>.err` (one line: what is wrong), the acknowledgement file-drop waits for.
import { parseUntrustedXml } from '../../http/untrusted-xml.ts';
import { ContainerReadError, readContainer } from '../../mapping/xdomea/read-container.ts';
import { xdomeaSchemaFile } from '../../mapping/xdomea/schema.ts';
import { fvDatenSchema } from '../../mapping/xdomea/validator.ts';
import { startAnswerFolder, type RunningAnswerFolder } from './answer-folder.ts';
import { pad6, type SimContext } from './common.ts';

/** What an injected failure writes into `.err`: the import service fell over, nothing is wrong with the file. */
export const DMS_FAILURE = 'Importdienst nicht verfügbar';
const COLLECTION = 'dms';
const CONTAINER_NAME = /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})_(FVDaten\.[A-Za-z]+\.\d{4})\.zip$/;

type Node = Record<string, unknown>;

function primaryFiles(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) primaryFiles(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Node)) {
      if (k === 'Primaerdokument') for (const p of Array.isArray(v) ? v : [v]) out.push(String((p as Node).Dateiname));
      else primaryFiles(v, out);
    }
  }
  return out;
}

export interface ContainerCheck {
  problems: string[];
  prozessId?: string;
  /** The receiving authority's key (Empfaenger/Behoerdenkennung/Behoerdenschluessel), when given. */
  ags?: string;
  message?: string;
}

/** The problems of one container, first one first; empty when the DMS can import it. Names rules, never values. */
export function checkContainer(name: string, zip: Buffer): ContainerCheck {
  const m = CONTAINER_NAME.exec(name);
  if (!m) return { problems: ['the file name is not {ProzessID}_FVDaten.<Name>.<NNNN>.zip'] };
  const [, prozessId, typeName] = m as unknown as [string, string, string];
  let entries: { name: string; content: Buffer }[];
  try {
    entries = readContainer(zip);
  } catch (e) {
    if (e instanceof ContainerReadError) return { problems: [`the container cannot be read: ${e.message}`] };
    throw e;
  }
  const messageName = `${prozessId}_${typeName}.xml`;
  const message = entries.find((e) => e.name === messageName);
  if (!message) return { problems: [`the container holds no ${typeName} message named like the container`] };
  // The DMS checks against the same XSD set the hub would use; without one it checks the container only.
  const xsd = xdomeaSchemaFile();
  const verdict = xsd ? fvDatenSchema(xsd).validate(message.content) : undefined;
  if (verdict && !verdict.ok) return { problems: verdict.errors.map((e) => `XSD: line ${e.line}: ${e.message}`) };
  const doc = parseUntrustedXml(message.content.toString('utf8'), { removeNSPrefix: true }) as Node;
  const root = doc[typeName] as Node | undefined;
  if (!root) return { problems: [`the message is not a ${typeName}`] };
  const kopf = root.Kopf as Node;
  if (String(kopf.ProzessID).toLowerCase() !== prozessId.toLowerCase())
    return { problems: ['Kopf/ProzessID differs from the ProzessID in the file name'] };
  const named = primaryFiles(root);
  const held = new Set(entries.filter((e) => e !== message).map((e) => e.name));
  const missing = named.filter((n) => !held.has(n)).length;
  if (missing) return { problems: [`${missing} Primaerdokument file(s) missing from the container`] };
  const extra = [...held].filter((n) => !named.includes(n)).length;
  if (extra) return { problems: [`${extra} file(s) in the container that no Primaerdokument names`] };
  const key = ((kopf.Empfaenger as Node | undefined)?.Behoerdenkennung as Node | undefined)?.Behoerdenschluessel as Node | undefined;
  return { problems: [], prozessId, message: message.content.toString('utf8'), ...(key ? { ags: String(key.code) } : {}) };
}

export interface DmsOptions {
  /** The import folder; relative paths resolve against the process's working directory. Created if missing. */
  directory: string;
  intervalMs: number;
}

export type RunningDms = RunningAnswerFolder;

export function startDmsXdomea(ctx: SimContext, opts: DmsOptions): Promise<RunningDms> {
  return startAnswerFolder(ctx, {
    ...opts,
    extension: '.zip',
    folder: 'import folder',
    failure: { text: DMS_FAILURE, label: 'import' },
    answer(name, zip) {
      const check = checkContainer(name, zip);
      if (!check.prozessId) {
        const more = check.problems.length > 1 ? ` (+${check.problems.length - 1} more)` : '';
        ctx.log(`${ctx.kind}: rejected ${name}`);
        return { err: `${check.problems[0]}${more}` };
      }
      // A DMS keys an import by its ProzessID: the same process again gets the first reference.
      let reference = ctx.book.findByKey(COLLECTION, check.prozessId)?.reference;
      if (!reference) {
        const year = new Date(ctx.now()).getFullYear();
        reference = `DMS-${check.ags ?? 'X'}-${year}-${pad6(ctx.book.next(`dms-${year}`))}`;
        ctx.book.add({
          kind: ctx.kind,
          dialect: 'xdomea-fvdaten',
          collection: COLLECTION,
          ags: check.ags ?? '',
          reference,
          idempotencyKey: check.prozessId,
          flow: ['importiert'],
          body: check.message,
        });
        ctx.log(`${ctx.kind}: filed ${reference}`);
      }
      return { ok: reference };
    },
  });
}
