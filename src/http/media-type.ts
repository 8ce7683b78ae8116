// Content-Type as RFC 9110 §8.3.1 writes it, not as a split on ";" reads it:
//
//   media-type = type "/" subtype parameters
//   parameters = *( OWS ";" OWS [ parameter ] )
//   parameter  = parameter-name "=" ( token / quoted-string )
//
// Type, subtype and parameter names are case-insensitive and come back in lower case; parameter values keep
// their case (charset's is compared case-insensitively by isUtf8Charset). A quoted value is unescaped, so
// `charset="utf-8"` and `charset=utf-8` are the same. A parameter named twice is refused: the two readings
// (first wins, last wins) would let a proxy and the hub disagree about the charset.

export interface MediaType {
  type: string;
  subtype: string;
  /** `type/subtype`, lower case: what to compare against. */
  essence: string;
  /** Parameter names in lower case; values unescaped, case kept. */
  parameters: ReadonlyMap<string, string>;
}

export type MediaTypeResult = { ok: true; mediaType: MediaType } | { ok: false; detail: string };

/** RFC 9110 §5.6.2 tchar. */
const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;
const OWS = /[ \t]*/y;

export function parseMediaType(header: string | undefined): MediaTypeResult {
  if (header === undefined || header.trim() === '') return { ok: false, detail: 'Content-Type is missing' };
  const s = header;
  let i = 0;
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(s);
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  const ows = (): void => {
    OWS.lastIndex = i;
    i += OWS.exec(s)![0].length;
  };
  const bad = (what: string): MediaTypeResult => ({ ok: false, detail: `Content-Type is not a media type: ${what} at character ${i}` });

  ows();
  const type = token();
  if (!type) return bad('a type is expected');
  if (s[i] !== '/') return bad('"/" is expected');
  i++;
  const subtype = token();
  if (!subtype) return bad('a subtype is expected');
  const parameters = new Map<string, string>();
  for (;;) {
    ows();
    if (i >= s.length) break;
    if (s[i] !== ';') return bad('";" is expected');
    i++;
    ows();
    if (i >= s.length || s[i] === ';') continue; // empty parameters are allowed by the grammar
    const name = token()?.toLowerCase();
    if (!name) return bad('a parameter name is expected');
    if (s[i] !== '=') return bad(`"=" is expected after ${name}`);
    i++;
    let value: string | undefined;
    if (s[i] === '"') {
      value = '';
      i++;
      for (;;) {
        if (i >= s.length) return bad('the quoted value does not end');
        const c = s.charCodeAt(i);
        if (c === 0x22) {
          i++;
          break;
        }
        if (c === 0x5c) {
          // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
          const next = s.charCodeAt(i + 1);
          if (!(next === 0x09 || (next >= 0x20 && next !== 0x7f && next <= 0xff)))
            return bad('a backslash must escape a visible character');
          value += s[i + 1];
          i += 2;
          continue;
        }
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
        if (!(c === 0x09 || (c >= 0x20 && c !== 0x7f && c <= 0xff))) return bad('a control character in the quoted value');
        value += s[i];
        i++;
      }
    } else {
      value = token();
      if (value === undefined) return bad(`a value is expected for ${name}`);
    }
    if (parameters.has(name)) return { ok: false, detail: `Content-Type names the parameter ${name} twice` };
    parameters.set(name, value);
  }
  const t = type.toLowerCase();
  const st = subtype.toLowerCase();
  return { ok: true, mediaType: { type: t, subtype: st, essence: `${t}/${st}`, parameters } };
}

/**
 * True when the media type declares no charset or UTF-8. `utf8` (unregistered, but what many clients send)
 * counts as UTF-8, as the intake has always taken it.
 */
export function isUtf8Charset(mediaType: MediaType): boolean {
  const charset = mediaType.parameters.get('charset')?.toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}
