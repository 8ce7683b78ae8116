import { expect } from 'chai';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/api-description.ts';
import type { ResponseObject } from '../../src/http/openapi/types.ts';

// ajv and ajv-formats are CommonJS: under NodeNext the default import is module.exports.
const AjvClass = (Ajv2020 as unknown as { default: typeof Ajv2020.default }).default;
const addFormatsFn = (addFormats as unknown as { default: typeof addFormats.default }).default;
const ajv = new AjvClass({ strict: false, allErrors: true });
addFormatsFn(ajv);
const DOC_ID = 'https://amtsbote.invalid/openapi.json';
ajv.addSchema({ ...openApiDocument, $id: DOC_ID });
const seg = (x: string) => encodeURIComponent(x.replace(/~/g, '~0').replace(/\//g, '~1'));

/** Checks a real answer against the OpenAPI document (status, content type and body); returns the body. */
export async function documented(res: Response, path: string, method: 'get' | 'post' = 'post'): Promise<any> {
  const status = String(res.status);
  const text = await res.text();
  const what = `${method.toUpperCase()} ${path} ${status}`;
  const r = openApiDocument.paths[path]?.[method]?.responses[status] as ResponseObject | undefined;
  if (!r) expect.fail(`${what} is not documented: ${text}`);
  const ct = (res.headers.get('content-type') ?? '').split(';')[0]!;
  expect(r.content, what).to.have.property(ct);
  const v = ajv.compile({ $ref: `${DOC_ID}#/paths/${seg(path)}/${method}/responses/${status}/content/${seg(ct)}/schema` });
  const body: unknown = JSON.parse(text);
  if (!v(body)) expect.fail(`${what} does not match the document: ${ajv.errorsText(v.errors)}\n${text}`);
  return body;
}
