// An XTA 2 (2.1.1) server as a data centre runs one, built from the real XTA.wsdl with its schemas
// (xtaWsdlDir: AMTSBOTE_XTA_WSDL_DIR, else ../shared/reference/xta-2.1.1; the project does not ship the
// standard's files, and the hub's adapter needs none of them at run time) and served by node-soap: message boxes per account, createMessageID,
// sendMessage into the reader's box, transport reports, and the reader's getStatusList → getMessage → close.
//
// What it checks on every request, as a strict server does: the TLS client certificate (by its CN, against the
// accounts), the author an account may act as, the WS-Addressing headers (wsa:Action the WSDL's for the operation,
// wsa:MessageID, wsa:To the port's address, an anonymous ReplyTo), and the envelope against the WSDL's schemas
// with one libxml2 validator compiled at start (XOP resolved first: the schemas describe the infoset).
//
// node-soap dispatches and writes the answers; what it lacks is done in front of it: reading MTOM (it reads only
// plain envelopes) and SOAP 1.2's action from the Content-Type (it looks for the 1.1 SOAPAction header).

import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import * as soap from 'soap';
import { decodeBody, MtomError, resolveXop } from '../../../adapters/xta2/mtom.ts';
import { escapeXml, NS, OPERATIONS, operationOf, WSA_ANONYMOUS, type XtaOperation } from '../../../adapters/xta2/envelope.ts';
import { parseUntrustedXml } from '../../http/untrusted-xml.ts';
import { loadSchema, type CompiledSchema } from '../../mapping/xsd/index.ts';
import { PROJECT_ROOT } from '../../project-root.ts';
import type { Clock } from '../../clock.ts';

export const XTA_WSDL_DIR_ENV = 'AMTSBOTE_XTA_WSDL_DIR';
export const XTA_REFERENCE_DIR = path.resolve(PROJECT_ROOT, '..', 'shared', 'reference', 'xta-2.1.1');

/** The folder holding XTA.wsdl and its schemas, or undefined where there is none (a fresh clone). */
export function xtaWsdlDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env[XTA_WSDL_DIR_ENV] ? path.resolve(env[XTA_WSDL_DIR_ENV]!) : XTA_REFERENCE_DIR;
  return existsSync(path.join(dir, 'XTA.wsdl')) ? dir : undefined;
}

function requireWsdlDir(): string {
  const dir = xtaWsdlDir();
  if (!dir)
    throw new Error(
      `the XTA simulator needs the XTA 2.1.1 WSDL and its schemas: set ${XTA_WSDL_DIR_ENV} (or have ../shared/reference/xta-2.1.1)`,
    );
  return dir;
}

/**
 * Our entry into the WSDL's schemas (not part of the standard): a SOAP 1.2 envelope whose header blocks and body
 * are checked laxly, so every element XTA, OSCI, OSCI metadata or WS-Addressing declares is validated against its
 * declaration. Written beside nothing of the standard's: into a temporary folder, naming the schemas by path.
 */
function writeEnvelopeXsd(dir: string): string {
  const out = mkdtempSync(path.join(tmpdir(), 'amtsbote-xta-xsd-'));
  const at = (f: string) => escapeXml(path.join(dir, f));
  const XS = 'xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified"';
  writeFileSync(
    path.join(out, 'xta-all.xsd'),
    `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema ${XS} targetNamespace="http://xoev.de/transport/xta/211">
  <xs:include schemaLocation="${at('XTA-Webservice-Globale-Elemente.xsd')}"/>
  <xs:include schemaLocation="${at('XTA-Webservice-Exceptions.xsd')}"/>
</xs:schema>
`,
  );
  const entry = path.join(out, 'xta-envelope.xsd');
  writeFileSync(
    entry,
    `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema ${XS}>
  <xs:import namespace="http://www.w3.org/2003/05/soap-envelope" schemaLocation="${at('soap12-envelope.xsd')}"/>
  <xs:import namespace="http://xoev.de/transport/xta/211" schemaLocation="${escapeXml(path.join(out, 'xta-all.xsd'))}"/>
  <xs:import namespace="http://www.osci.eu/ws/2008/05/transport" schemaLocation="${at('OSCI2_02.xsd')}"/>
  <xs:import namespace="http://www.osci.eu/ws/2014/10/transport" schemaLocation="${at('OSCI_MessageMetaData_V2.02.xsd')}"/>
  <xs:import namespace="http://www.w3.org/2005/08/addressing" schemaLocation="${at('ws-addr.xsd')}"/>
</xs:schema>
`,
  );
  return entry;
}
/** The ports' paths; the WSDL's REPLACE_WITH_ACTUAL_URL is replaced by them. */
export const XTA_PATHS = { management: '/xta/management', send: '/xta/send', msgBox: '/xta/msgbox' } as const;
const PORT_PATH = { ManagementPort: XTA_PATHS.management, SendXtaPort: XTA_PATHS.send, MsgBoxPort: XTA_PATHS.msgBox } as const;

export interface XtaAccount {
  /** oscimeta Identifier of the account. */
  identifier: string;
  /** The CN of the client certificate allowed to act as this account; any verified certificate when absent. */
  certificateCn?: string;
}

export interface XtaContent {
  mediaType: string;
  filename?: string;
  content: Buffer;
}

export interface XtaStoredMessage {
  messageId: string;
  author: string;
  reader: string;
  service: string;
  /** The oscimeta:MessageMetaData as it came (or as deposited). */
  metadataXml: string;
  message: XtaContent;
  attachments: XtaContent[];
  /** oscimeta:MessageProperties by key code (the hub's idempotency key among them). */
  properties: Record<string, string>;
  /** Transport report status: 0 open, 1 green, 2 yellow, 3 red. */
  status: 0 | 1 | 2 | 3;
  reasons: string[];
  /** Closed by its reader: fetched for good. */
  closed: boolean;
  receivedAt: number;
}

export interface XtaRequestRecord {
  operation: XtaOperation;
  /** The envelope with XOP resolved. */
  envelope: string;
  contentType: string;
  /** MIME parts that came beside the envelope (MTOM). */
  parts: number;
  addressing: { action?: string; messageId?: string; to?: string; replyTo?: string };
  certificateCn?: string;
}

export type XtaBehaviour = 'accept' | 'retryable' | 'permanent' | 'refuse';

export interface XtaSimulatorOptions {
  accounts: XtaAccount[];
  /** PEM files; without them the simulator speaks plain HTTP (for a demo on one machine). */
  tls?: { cert: string; key: string; ca: string };
  host?: string;
  port?: number;
  clock: Clock;
  /** Status of a new message's transport report; default 1 (green). */
  initialStatus?: 0 | 1 | 2 | 3;
  serverIdentity?: string;
}

export interface XtaSimulator {
  url: string;
  endpoints: { management: string; send: string; msgBox: string };
  /** Every message held, sent or deposited, by id. */
  messages: Map<string, XtaStoredMessage>;
  /** Every request, in order. */
  requests: XtaRequestRecord[];
  /** Requests refused for their addressing, schema or certificate, with the reason. */
  refused: { operation: string | undefined; reason: string }[];
  /** How sendMessage answers from now on. */
  behave(b: XtaBehaviour): void;
  /** Answer sendMessage only after this long (the message is stored first, as when the answer is lost). */
  delaySendAnswer(ms: number): void;
  /**
   * Holds close requests unanswered and unapplied while on (a reader that dies meanwhile has closed nothing);
   * held requests whose reader is still connected are applied when it is turned off.
   */
  holdClose(on: boolean): void;
  /** Sets a message's transport report status (e.g. from open to green). */
  setStatus(messageId: string, status: 0 | 1 | 2 | 3, reason?: string): void;
  /** Puts a message into `reader`'s box, as another sender would: returns its id. */
  deposit(m: {
    author: string;
    reader: string;
    service: string;
    message: XtaContent;
    attachments?: XtaContent[];
    businessScenario?: string;
  }): string;
  /** Messages in a reader's box not yet closed. */
  box(reader: string): XtaStoredMessage[];
  close(): Promise<void>;
}

/** XTA's EmptyBody: node-soap writes `_xml` as the body verbatim, and a blank one as an empty Body. */
const EMPTY = { _xml: ' ' };

interface Fault {
  Fault: Record<string, unknown>;
}

function fault(code: 'Sender' | 'Receiver', exception: string, errorCode: string, reason: string): Fault {
  return {
    Fault: {
      Code: { Value: `soap:${code}` },
      Reason: { Text: { attributes: { 'xml:lang': 'de' }, $value: reason } },
      Detail: {
        $xml: `<xta:${exception} xmlns:xta="${NS.xta}"><xta:errorCode><code>${errorCode}</code><name>${escapeXml(reason)}</name></xta:errorCode></xta:${exception}>`,
      },
      statusCode: 500,
    },
  };
}

/** A warm validator: compiled once per process, shared by every simulator (the schema set is ~1 s to compile). */
let validator: CompiledSchema | undefined;
function envelopeValidator(): CompiledSchema {
  validator ??= loadSchema(writeEnvelopeXsd(requireWsdlDir()));
  return validator;
}

const SHAPE = { removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: '@', trimValues: true } as const;
type Obj = Record<string, unknown>;
const txt = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : typeof v === 'object' ? txt((v as Obj)['#text']) : String(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

interface Parsed {
  header: Obj;
  body: Obj;
}

/** The request as the middleware read it, for the operations. */
interface XtaRequest extends Request {
  xta?: {
    parsed: Parsed;
    envelope: string;
    responseHeaders: string[];
    cn: string | undefined;
    account: string | undefined;
    requestMessageId?: string;
  };
}

export async function startXtaSimulator(o: XtaSimulatorOptions): Promise<XtaSimulator> {
  const schema = envelopeValidator();
  const messages = new Map<string, XtaStoredMessage>();
  const requests: XtaRequestRecord[] = [];
  const refused: XtaSimulator['refused'] = [];
  const issued = new Set<string>();
  const boxRequests = new Map<string, string[]>();
  let behaviour: XtaBehaviour = 'accept';
  let sendDelayMs = 0;
  let closeHeld = false;
  const heldCloses: (() => void)[] = [];
  let counter = 0;
  const identity = o.serverIdentity ?? 'amtsbote-xta-simulator';
  const accounts = new Map(o.accounts.map((a) => [a.identifier, a]));

  const app = express();
  app.disable('x-powered-by');
  app.use(express.raw({ type: () => true, limit: '50mb' }));
  app.use((req: XtaRequest, res: Response, next: NextFunction) => {
    if (req.method !== 'POST') return next();
    const refuse = (operation: string | undefined, reason: string, status = 400, exception?: string) => {
      refused.push({ operation, reason });
      const detail = exception
        ? `<soap:Detail><xta:${exception} xmlns:xta="${NS.xta}"><xta:errorCode><code>9030</code><name>${escapeXml(reason)}</name></xta:errorCode></xta:${exception}></soap:Detail>`
        : '';
      res
        .status(status)
        .type('application/soap+xml; charset=utf-8')
        .send(
          `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${NS.soap}"><soap:Body><soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code>` +
            `<soap:Reason><soap:Text xml:lang="en">${escapeXml(reason)}</soap:Text></soap:Reason>${detail}</soap:Fault></soap:Body></soap:Envelope>`,
        );
    };
    const cn = certificateCn(req);
    // The handshake asks for a certificate but lets an unknown one through, so the refusal can be XTA's own fault.
    if (o.tls && !cn) return refuse(undefined, 'no client certificate signed by a CA this server trusts', 403, 'PermissionDeniedException');
    let envelope: string;
    let parts = 0;
    let action: string | undefined;
    try {
      const decoded = decodeBody(req.get('content-type'), Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      envelope = resolveXop(decoded.envelope, decoded.parts);
      parts = decoded.parts.size;
      action = decoded.action;
    } catch (e) {
      return refuse(undefined, e instanceof MtomError ? e.message : 'unreadable body');
    }
    let parsed: Parsed;
    try {
      const env = (parseUntrustedXml(envelope, SHAPE) as Obj).Envelope as Obj;
      parsed = { header: (env.Header ?? {}) as Obj, body: (env.Body ?? {}) as Obj };
    } catch {
      return refuse(undefined, 'the envelope is not well-formed XML');
    }
    const h = parsed.header;
    const addressing = {
      action: txt(h.Action),
      messageId: txt(h.MessageID),
      to: txt(h.To),
      replyTo: txt((h.ReplyTo as Obj | undefined)?.Address),
    };
    const operation = addressing.action ? operationOf(addressing.action) : undefined;
    if (operation)
      requests.push({
        operation,
        envelope,
        contentType: req.get('content-type') ?? '',
        parts,
        addressing,
        ...(cn ? { certificateCn: cn } : {}),
      });
    if (!operation) return refuse(undefined, `wsa:Action missing or not an XTA operation's: ${addressing.action ?? 'none'}`);
    const port = OPERATIONS[operation].port;
    if (req.path !== XTA_PATHS[port]) return refuse(operation, `${operation} belongs to the ${port} port`);
    if (action && action !== addressing.action) return refuse(operation, 'the Content-Type action differs from wsa:Action');
    if (!addressing.messageId) return refuse(operation, 'wsa:MessageID missing');
    if (addressing.to !== `${base}${req.path}`) return refuse(operation, `wsa:To is not this port's address (${base}${req.path})`);
    if (addressing.replyTo !== undefined && addressing.replyTo !== WSA_ANONYMOUS) return refuse(operation, 'wsa:ReplyTo must be anonymous');
    const valid = schema.validate(envelope);
    if (!valid.ok) return refuse(operation, `schema: ${valid.errors.map((e) => `${e.path ?? e.element ?? ''} ${e.message}`).join('; ')}`);
    const account =
      operation === 'sendMessage' ? partyId((h.MessageMetaData as Obj | undefined)?.Originators, 'Author') : partyId(h, 'Author');
    req.xta = { parsed, envelope, responseHeaders: [], cn, account, requestMessageId: addressing.messageId };
    // For node-soap: the plain envelope, and SOAP 1.2's action where it looks for SOAP 1.1's.
    req.body = Buffer.from(envelope, 'utf8');
    req.headers['content-type'] = 'application/soap+xml; charset=utf-8';
    req.headers.soapaction = addressing.action;
    res.locals.action = addressing.action;
    next();
  });

  /** The account the request acts as, if the certificate may act as it; else a PermissionDenied fault. */
  function authorised(req: XtaRequest): string {
    const a = req.xta?.account;
    const account = a ? accounts.get(a) : undefined;
    if (!account) throw fault('Sender', 'PermissionDeniedException', '9030', 'unknown account');
    if (o.tls && account.certificateCn && account.certificateCn !== req.xta?.cn)
      throw fault('Sender', 'PermissionDeniedException', '9030', 'the client certificate may not act for this account');
    return account.identifier;
  }

  const respond = (req: XtaRequest, ...headers: string[]) => req.xta?.responseHeaders.push(...headers);

  function report(m: XtaStoredMessage): Obj {
    return { _xml: transportReportXml(m, new Date(o.clock()).toISOString(), identity) };
  }

  const services = {
    XTAService: {
      ManagementPort: {
        checkAccountActive(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          authorised(req);
          return EMPTY;
        },
        createMessageId(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          authorised(req);
          const id = `urn:de:xta:messageid:${identity}:${randomUUID()}`;
          issued.add(id);
          return { _xml: `<wsa:MessageID xmlns:wsa="${NS.wsa}">${id}</wsa:MessageID>` };
        },
        getTransportReport(args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          const account = authorised(req);
          const id = txt(req.xta?.parsed.body.MessageID) ?? txt(args);
          const m = id ? messages.get(id) : undefined;
          if (!m || (m.author !== account && m.reader !== account))
            throw fault('Sender', 'InvalidMessageIDException', '9060', 'unknown message id');
          return report(m);
        },
        lookupService(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          authorised(req);
          throw fault('Receiver', 'XTAWSTechnicalProblemException', '9000', 'lookupService is not simulated');
        },
        cancelMessage(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          authorised(req);
          throw fault('Sender', 'CancelDeniedException', '9080', 'messages cannot be cancelled here');
        },
      },
      SendXtaPort: {
        async sendMessage(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          const account = authorised(req);
          const p = req.xta!.parsed;
          const meta = p.header.MessageMetaData as Obj;
          const id = txt((meta.MsgIdentification as Obj | undefined)?.MessageID);
          if (!id || !issued.has(id))
            throw fault('Sender', 'ParameterIsNotValidException', '9021', 'the message id was not created by this server');
          if (id !== req.xta!.requestMessageId)
            throw fault('Sender', 'ParameterIsNotValidException', '9021', 'wsa:MessageID differs from the metadata');
          if (messages.has(id)) throw fault('Sender', 'ParameterIsNotValidException', '9022', 'a message with this id was already sent');
          if (behaviour === 'retryable')
            throw fault('Receiver', 'XTAWSTechnicalProblemException', '9000', 'XTA-Server vorübergehend nicht verfügbar');
          if (behaviour === 'permanent')
            throw fault('Sender', 'MessageSchemaViolationException', '9013', 'Nachricht entspricht nicht dem Schema');
          const reader = partyId(meta.Destinations, 'Reader');
          if (!reader || !accounts.has(reader)) throw fault('Sender', 'ParameterIsNotValidException', '9020', 'unknown reader');
          const container = (p.body.GenericContentContainer as Obj).ContentContainer as Obj;
          messages.set(id, {
            messageId: id,
            author: account,
            reader,
            service: txt((meta.Qualifier as Obj).Service) ?? '',
            properties: Object.fromEntries(
              list((meta.MessageProperties as Obj | undefined)?.Property).map((p) => [
                txt(((p as Obj).Key as Obj)?.code) ?? '',
                txt((p as Obj).Value) ?? '',
              ]),
            ),
            metadataXml: metadataOf(req.xta!.envelope),
            message: content(container.Message),
            attachments: list(container.Attachment).map(content),
            status: behaviour === 'refuse' ? 3 : (o.initialStatus ?? 1),
            reasons: behaviour === 'refuse' ? ['Empfänger lehnt die Nachricht ab: Dienst unbekannt'] : [],
            closed: false,
            receivedAt: o.clock(),
          });
          // Stored before the answer: a delayed answer the sender gives up on still leaves the message here.
          if (sendDelayMs > 0) await new Promise((r) => setTimeout(r, sendDelayMs));
          return EMPTY;
        },
        sendMessageSync(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          authorised(req);
          throw fault('Sender', 'SyncAsyncException', '9070', 'synchronous sending is not offered');
        },
      },
      MsgBoxPort: {
        getStatusList(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          const account = authorised(req);
          const request = req.xta!.parsed.body.MsgBoxStatusListRequest as Obj;
          const max = Number((request as Obj)?.['@maxListItems'] ?? 100);
          const open = box(account);
          const listed = open.slice(0, max);
          const requestId = `urn:uuid:${randomUUID()}`;
          boxRequests.set(
            requestId,
            listed.map((m) => m.messageId),
          );
          respond(req, msgBoxResponse(requestId, open.length - listed.length, listed.length === 0));
          return { _xml: `<osci:MsgStatusList xmlns:osci="${NS.osci}">${listed.map((m) => m.metadataXml).join('')}</osci:MsgStatusList>` };
        },
        getMessage(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          const account = authorised(req);
          const selector = (req.xta!.parsed.body.MsgBoxFetchRequest as Obj | undefined)?.MsgSelector as Obj | undefined;
          const id = txt(list(selector?.MessageID)[0]);
          const m = id ? messages.get(id) : undefined;
          if (!m || m.reader !== account || m.closed)
            throw fault('Sender', 'InvalidMessageIDException', '9060', 'no such message in the box');
          const requestId = `urn:uuid:${randomUUID()}`;
          boxRequests.set(requestId, [m.messageId]);
          respond(req, m.metadataXml, msgBoxResponse(requestId, 0, false));
          const item = (el: string, c: XtaContent) =>
            `<xta:${el} contentType="${escapeXml(c.mediaType)}"${c.filename ? ` filename="${escapeXml(c.filename)}"` : ''}>${c.content.toString('base64')}</xta:${el}>`;
          return {
            _xml:
              `<xta:GenericContentContainer xmlns:xta="${NS.xta}"><xta:ContentContainer>${item('Message', m.message)}` +
              `${m.attachments.map((a) => item('Attachment', a)).join('')}</xta:ContentContainer></xta:GenericContentContainer>`,
          };
        },
        async close(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          const account = authorised(req);
          if (closeHeld) {
            const gone = await new Promise<boolean>((resolve) => {
              heldCloses.push(() => resolve(false));
              req.socket.once('close', () => resolve(true));
            });
            if (gone) throw fault('Receiver', 'XTAWSTechnicalProblemException', '9000', 'the reader went away');
          }
          const request = req.xta!.parsed.body.MsgBoxCloseRequest as Obj | undefined;
          const ids = list(request?.LastMsgReceived).map(txt);
          for (const id of ids) {
            const m = id ? messages.get(id) : undefined;
            if (!m || m.reader !== account) throw fault('Sender', 'InvalidMessageIDException', '9060', 'no such message in the box');
          }
          for (const id of ids) messages.get(id!)!.closed = true;
          return EMPTY;
        },
        getNextMessage(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          authorised(req);
          throw fault('Receiver', 'XTAWSTechnicalProblemException', '9000', 'getNextMessage is not simulated');
        },
        getNextStatusList(_args: unknown, _cb: unknown, _h: unknown, req: XtaRequest) {
          authorised(req);
          throw fault('Receiver', 'XTAWSTechnicalProblemException', '9000', 'getNextStatusList is not simulated');
        },
      },
    },
  };

  function box(reader: string): XtaStoredMessage[] {
    return [...messages.values()].filter((m) => m.reader === reader && !m.closed && m.status !== 3);
  }

  const server: http.Server = o.tls
    ? https.createServer({
        cert: readFileSync(o.tls.cert),
        key: readFileSync(o.tls.key),
        ca: readFileSync(o.tls.ca),
        requestCert: true,
        rejectUnauthorized: false,
      })
    : http.createServer();
  server.on('request', app);
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `${o.tls ? 'https' : 'http'}://${o.host ?? '127.0.0.1'}:${port}`;
  const wsdlFile = path.join(requireWsdlDir(), 'XTA.wsdl');
  let wsdl = readFileSync(wsdlFile, 'utf8');
  for (const [name, p] of Object.entries(PORT_PATH)) {
    wsdl = wsdl.replace(new RegExp(`(<port name="${name}"[\\s\\S]*?location=")REPLACE_WITH_ACTUAL_URL(")`), `$1${base}${p}$2`);
  }
  const soapServer = await new Promise<soap.Server>((resolve) => {
    const s: soap.Server = soap.listen(
      app as unknown as http.Server,
      {
        path: /^\/xta\/(management|send|msgbox)/ as unknown as string,
        services,
        xml: wsdl,
        uri: wsdlFile,
        forceSoap12Headers: true,
        callback: () => resolve(s),
      } as soap.IServerOptions,
    );
  });
  // Operations whose input is XTA's EmptyBody have no element node-soap could know them by: it falls back to the
  // action, so each method is also listed under its action.
  const definitions = (soapServer as unknown as { wsdl: soap.WSDL }).wsdl.definitions;
  for (const service of Object.values(definitions.services)) {
    for (const port of Object.values(service.ports)) {
      const b = port.binding as unknown as {
        methods: Record<string, { soapAction?: string; output?: { $name?: string } }>;
        topElements: Record<string, unknown>;
      };
      for (const [methodName, m] of Object.entries(b.methods)) {
        if (m.soapAction) b.topElements[m.soapAction] ??= { methodName, outputName: m.output?.$name ?? '' };
      }
    }
  }
  // Response headers: wsa:Action and wsa:RelatesTo, then what the operation added (metadata, MsgBoxResponse).
  soapServer.addSoapHeader(((_method: string, _args: unknown, _headers: unknown, req: XtaRequest) => {
    const x = req.xta;
    if (!x) return '';
    return (
      `<wsa:Action xmlns:wsa="${NS.wsa}">${escapeXml(String(req.headers.soapaction ?? ''))}</wsa:Action>` +
      (x.requestMessageId ? `<wsa:RelatesTo xmlns:wsa="${NS.wsa}">${escapeXml(x.requestMessageId)}</wsa:RelatesTo>` : '') +
      x.responseHeaders.join('')
    );
  }) as never);

  return {
    url: base,
    endpoints: { management: `${base}${XTA_PATHS.management}`, send: `${base}${XTA_PATHS.send}`, msgBox: `${base}${XTA_PATHS.msgBox}` },
    messages,
    requests,
    refused,
    behave: (b) => {
      behaviour = b;
    },
    holdClose(on) {
      closeHeld = on;
      if (!on) for (const release of heldCloses.splice(0)) release();
    },
    delaySendAnswer: (ms) => {
      sendDelayMs = ms;
    },
    setStatus(id, status, reason) {
      const m = messages.get(id);
      if (!m) throw new Error(`no message ${id}`);
      m.status = status;
      if (reason) m.reasons.push(reason);
    },
    deposit(d) {
      counter += 1;
      const id = `urn:de:xta:messageid:${identity}:deposit-${counter}-${randomUUID()}`;
      const metadataXml = depositMetadata(
        id,
        d.author,
        d.reader,
        d.service,
        d.businessScenario ?? 'urn:amtsbote:demo',
        d.message.content.length,
      );
      messages.set(id, {
        messageId: id,
        author: d.author,
        reader: d.reader,
        service: d.service,
        properties: {},
        metadataXml,
        message: d.message,
        attachments: d.attachments ?? [],
        status: 1,
        reasons: [],
        closed: false,
        receivedAt: o.clock(),
      });
      return id;
    },
    box,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function certificateCn(req: Request): string | undefined {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

function partyId(parent: unknown, element: 'Author' | 'Reader'): string | undefined {
  const p = (parent as Obj | undefined)?.[element] as Obj | undefined;
  return txt(p?.Identifier);
}

function content(v: unknown): XtaContent {
  const o = v as Obj;
  const filename = txt(o['@filename']);
  return {
    mediaType: txt(o['@contentType']) ?? 'application/octet-stream',
    ...(filename ? { filename } : {}),
    content: Buffer.from(txt(o['#text']) ?? txt(o) ?? '', 'base64'),
  };
}

/** The MessageMetaData element exactly as the sender wrote it, its namespaces declared on it. */
function metadataOf(envelope: string): string {
  const m = /<([\w.-]+:)?MessageMetaData\b[\s\S]*?<\/\1MessageMetaData>/.exec(envelope);
  if (!m) return '';
  const prefix = m[1] ? m[1].slice(0, -1) : '';
  const decl = prefix ? ` xmlns:${prefix}="${NS.meta}" xmlns:wsa="${NS.wsa}"` : '';
  return m[0].replace(/^<([\w.:-]+)/, `<$1${decl}`).replace(/(xmlns:[\w-]+="[^"]*")(\s+\1)+/g, '$1');
}

function depositMetadata(id: string, author: string, reader: string, service: string, scenario: string, size: number): string {
  return (
    `<oscimeta:MessageMetaData xmlns:oscimeta="${NS.meta}" xmlns:wsa="${NS.wsa}"><oscimeta:DeliveryAttributes/>` +
    `<oscimeta:Originators><oscimeta:Author><oscimeta:Identifier type="xoev">${escapeXml(author)}</oscimeta:Identifier></oscimeta:Author></oscimeta:Originators>` +
    `<oscimeta:Destinations><oscimeta:Reader><oscimeta:Identifier type="xoev">${escapeXml(reader)}</oscimeta:Identifier></oscimeta:Reader></oscimeta:Destinations>` +
    `<oscimeta:MsgIdentification><wsa:MessageID>${escapeXml(id)}</wsa:MessageID></oscimeta:MsgIdentification>` +
    `<oscimeta:Qualifier><oscimeta:Service>${escapeXml(service)}</oscimeta:Service>` +
    `<oscimeta:BusinessScenario><oscimeta:Undefined>${escapeXml(scenario)}</oscimeta:Undefined></oscimeta:BusinessScenario>` +
    `<oscimeta:MessageType listURI="urn:de:xoev:codeliste:nachrichtentyp" listVersionID="1.0" payloadSchema="urn:amtsbote:demo"><code>demo</code></oscimeta:MessageType>` +
    `</oscimeta:Qualifier><oscimeta:MsgSize>${Math.max(1, size)}</oscimeta:MsgSize></oscimeta:MessageMetaData>`
  );
}

function msgBoxResponse(requestId: string, pending: number, empty: boolean): string {
  const inner = empty
    ? `<osci:NoMessageAvailable reason="http://www.osci.eu/ws/2008/05/transport/MsgBox/reasons/NoMatch"/>`
    : `<osci:ItemsPending>${pending}</osci:ItemsPending>`;
  return `<osci:MsgBoxResponse xmlns:osci="${NS.osci}" MsgBoxRequestID="${escapeXml(requestId)}">${inner}</osci:MsgBoxResponse>`;
}

function transportReportXml(m: XtaStoredMessage, stamp: string, identity: string): string {
  const record = (el: string, reason: string) =>
    `<xta:${el}><xta:Timestamp>${stamp}</xta:Timestamp><xta:Code listURI="urn:de:xta:codeliste:record" listVersionID="1.0"><code>1</code></xta:Code><xta:Reason>${escapeXml(reason)}</xta:Reason></xta:${el}>`;
  const errors = m.status === 3 ? `<xta:ErrorList>${m.reasons.map((r) => record('Error', r)).join('')}</xta:ErrorList>` : '';
  const warnings = m.status === 2 ? `<xta:WarnList>${m.reasons.map((r) => record('Warning', r)).join('')}</xta:WarnList>` : '';
  return (
    `<xta:TransportReport xmlns:xta="${NS.xta}">${m.metadataXml}<xta:ReportTime>${stamp}</xta:ReportTime>` +
    `<xta:XTAServerIdentity>${escapeXml(identity)}</xta:XTAServerIdentity>` +
    `<xta:MessageStatus><xta:Status>${m.status}</xta:Status>${errors}${warnings}</xta:MessageStatus></xta:TransportReport>`
  );
}
