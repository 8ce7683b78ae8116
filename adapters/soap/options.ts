import { z } from 'zod';
import { acceptanceOption, checkHttpUrl, filePath, secret, tlsOptions } from '../../src/sdk/index.ts';

// Validation messages never echo the value: a bad value may be a credential (or a URL carrying one),
// and the config loader prints these messages as they are.

/** An XML name without a prefix (NCName), as WSDL names services, ports, operations and elements. */
const NCNAME = /^[A-Za-z_][\w.-]*$/;
const ncName = z.string().regex(NCNAME, 'must be an XML name (letters, digits, "_", "-", "."; no prefix)');

/** `Quittung.Aktenzeichen`, `Antwort.Akten.0.Zeichen`: local element names, a number indexes a repeated element. */
export const REFERENCE_PATH = /^[A-Za-z_][\w-]*(\.([A-Za-z_][\w-]*|\d+))*$/;

/** A local file. URLs are refused: the hub never fetches a WSDL (or anything it imports) at run time. */
const localPath = (what: string) =>
  filePath(
    z
      .string()
      .min(1)
      .superRefine((value, ctx) => {
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
          ctx.addIssue({
            code: 'custom',
            message: `must be the path of a local ${what} file, not a URL: download it (and everything it imports) once and keep it with the configuration`,
          });
        } else if (value.trimStart().startsWith('<') || value.includes('-----BEGIN')) {
          ctx.addIssue({ code: 'custom', message: `must be the path of a ${what} file, not its content` });
        }
      }),
  );

/** Message-level security (WS-Security in the SOAP header). Transport security is `tls`, beside it. */
export const securitySchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('none') }).strict(),
    z
      .object({
        type: z.literal('usernameToken'),
        username: z.string().min(1),
        password: secret(z.string().min(1)),
        passwordType: z
          .enum(['PasswordDigest', 'PasswordText'])
          .default('PasswordDigest')
          .describe('PasswordDigest sends Base64(SHA-1(nonce + created + password)); PasswordText sends the password itself'),
      })
      .strict(),
  ])
  .default({ type: 'none' });

export const tlsSchema = tlsOptions;

/** Prefixes the envelope uses itself; a header element must not redeclare them. */
const RESERVED_PREFIXES = new Set(['soap', 'xml', 'xmlns', 'xsi', 'wsse', 'wsu']);

export const idempotencySchema = z
  .discriminatedUnion('in', [
    z
      .object({
        in: z.literal('soapHeader'),
        element: ncName.default('IdempotencyKey'),
        namespace: z
          .string()
          .min(1)
          .regex(/^[^"<>&\s]+$/, 'must be a namespace URI (no quotes, angle brackets, "&" or spaces)')
          .default('urn:amtsbote:1'),
        prefix: ncName
          .refine((p) => !RESERVED_PREFIXES.has(p.toLowerCase()) && !p.toLowerCase().startsWith('xml'), 'names a prefix the envelope uses')
          .default('amt'),
      })
      .strict(),
    z.object({ in: z.literal('none') }).strict(),
  ])
  .prefault({ in: 'soapHeader' });

export const soapOptionsSchema = z
  .object({
    wsdl: localPath('WSDL').describe('path of the local WSDL file; a relative path is found in the configuration folder'),
    service: ncName.optional().describe('service in the WSDL; default: the first'),
    port: ncName.optional().describe('port of that service; default: its first SOAP port'),
    operation: ncName.describe('the operation that files one case'),
    endpoint: z.string().superRefine(checkHttpUrl('security')).describe("the URL the hub posts to; overrides the WSDL's soap:address"),
    soapVersion: z.enum(['1.1', '1.2']).optional().describe("SOAP 1.1 or 1.2; default: the port's binding in the WSDL"),
    security: securitySchema.describe('WS-Security in the SOAP header'),
    tls: tlsSchema.optional().describe('client certificate and private trust for an https:// endpoint'),
    referencePath: z
      .string()
      .regex(REFERENCE_PATH, 'must be a dot path of element names such as Quittung.Aktenzeichen')
      .optional()
      .describe("where the back office's reference sits in the answer: a dot path from the soap:Body's child, e.g. Quittung.Aktenzeichen"),
    acceptance: acceptanceOption.optional(),
    idempotency: idempotencySchema.describe('where the idempotency key goes'),
    checkOperation: ncName.optional().describe('a harmless operation of the same port that check() calls with the credentials'),
    checkXml: z
      .string()
      .min(1)
      .refine((v) => v.trimStart().startsWith('<'), 'must be the XML of the operation input element')
      .optional()
      .describe("checkOperation's input element as XML; default: node-soap writes an empty one"),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.tls && !o.endpoint.toLowerCase().startsWith('https:')) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'needs an https:// endpoint' });
    }
    if (o.acceptance?.reference && o.referencePath) {
      ctx.addIssue({ code: 'custom', path: ['acceptance', 'reference'], message: 'give the reference once: here or as referencePath' });
    }
    if (o.checkXml && !o.checkOperation) {
      ctx.addIssue({ code: 'custom', path: ['checkXml'], message: 'needs checkOperation' });
    }
    if (o.checkOperation && o.checkOperation === o.operation) {
      // check() runs on start-up and health probes: the delivering operation would file cases.
      ctx.addIssue({ code: 'custom', path: ['checkOperation'], message: 'must not be the operation that files cases' });
    }
  });

export type SoapOptions = z.output<typeof soapOptionsSchema>;
export type SoapSecurity = SoapOptions['security'];
export type SoapTls = NonNullable<SoapOptions['tls']>;
export type SoapIdempotency = SoapOptions['idempotency'];
