// File names inside the xdomea container. The standard names the message `{ProzessID}_{Nachrichtentyp}.xml`
// in `{ProzessID}_{Nachrichtentyp}.zip`, and each primary document `{UUID}_{name}.{ext}` (the XSD's
// stringDateinameType: a UUID, then anything). A citizen's file name becomes the `{name}` part, made safe for
// any DMS import folder.

const UMLAUTS: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue', Ä: 'Ae', Ö: 'Oe', Ü: 'Ue', ß: 'ss' };

/** The last path segment, umlauts spelled out, accents dropped, anything outside [A-Za-z0-9._-] as `_`, ≤ 100 characters. */
export function safeFileName(filename: string): string {
  let s = filename.split(/[/\\]/).pop() ?? '';
  s = s.replace(/[äöüÄÖÜß]/g, (c) => UMLAUTS[c]!);
  s = s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  s = s
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .replace(/_+$/, '');
  if (s === '' || /^\.*$/.test(s)) s = 'datei';
  if (s.length > 100) {
    const dot = s.lastIndexOf('.');
    const ext = dot > 0 && s.length - dot <= 10 ? s.slice(dot) : '';
    s = s.slice(0, 100 - ext.length) + ext;
  }
  return s;
}

/** `{uuid}_{safe name}`: what Primaerdokument/Dateiname holds and the container's entry is called. */
export function primaryFileName(uuid: string, filename: string): string {
  return `${uuid}_${safeFileName(filename)}`;
}

/** `FVDaten.SGOAblegen.0605` from the root element `xdomea:FVDaten.SGOAblegen.0605`, or null. */
export function messageTypeName(rootElement: string): string | null {
  const m = /^xdomea:([A-Za-z]+\.[A-Za-z]+\.\d{4})$/.exec(rootElement);
  return m ? m[1]! : null;
}

/** `{ProzessID}_{Nachrichtentyp}`: the stem of the message file and of the container. */
export function containerStem(prozessId: string, typeName: string): string {
  return `${prozessId}_${typeName}`;
}
