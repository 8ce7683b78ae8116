// The xdomea code list Dateiformat 1.0 (urn:xoev-de:xdomea:codeliste:dateiformat, in the standard's
// code_lists/Dateiformat_1.0.xml), for the media types portals send. Anything else is 100 "Sonstiges" with
// the file's extension as SonstigerName, which the code list provides for exactly that.

export const DATEIFORMAT_LIST_URI = 'urn:xoev-de:xdomea:codeliste:dateiformat';
export const DATEIFORMAT_LIST_VERSION = '1.0';

const BY_MEDIA_TYPE: Record<string, string> = {
  'application/pdf': '018',
  'image/png': '019',
  'image/jpeg': '011',
  'image/tiff': '024',
  'image/bmp': '001',
  'text/plain': '045',
  'text/csv': '002',
  'text/html': '008',
  'application/xml': '030',
  'text/xml': '030',
  'application/rtf': '022',
  'application/msword': '003',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': '035',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': '036',
  'application/vnd.oasis.opendocument.text': '015',
  'application/vnd.oasis.opendocument.spreadsheet': '014',
};

export const SONSTIGES = '100';

export interface Dateiformat {
  code: string;
  /** Only with code 100: what the format is. */
  sonstigerName?: string;
}

export function dateiformat(mediaType: string, filename: string): Dateiformat {
  const essence = mediaType.split(';')[0]!.trim().toLowerCase();
  const code = BY_MEDIA_TYPE[essence];
  if (code) return { code };
  const dot = filename.lastIndexOf('.');
  const ext = dot > 0 ? filename.slice(dot + 1).toLowerCase() : '';
  return { code: SONSTIGES, sonstigerName: ext || essence || 'unbekannt' };
}
