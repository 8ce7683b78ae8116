import http from 'node:http';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
// A namespace import: node-soap is CommonJS marked __esModule, so a default import is undefined when tsx
// compiles to CommonJS (as under mocha).
import * as soap from 'soap';
import type { Client } from 'soap';
import { compileAcceptance, defineAdapter, refusal } from '../../src/sdk/index.ts';
import type { CheckResult, DeliveryResult, OutboundMessage } from '../../src/sdk/index.ts';
import { responseContent } from './response.ts';
import {
  classifyCallError,
  describeFault,
  errorCode,
  faultOf,
  oneLine,
  refusesCredentials,
  type Answer,
  type Failure,
  type SoapFault,
} from './faults.ts';
import { SoapHttpClient, safeUrl, type Exchange, type SoapResponse } from './http-client.ts';
import { soapOptionsSchema, type SoapOptions } from './options.ts';
import { referenceAt } from './reference.ts';
import { tlsAgentOptions } from '../../src/sdk/index.ts';
import { readWsdlPorts, type WsdlPorts } from './wsdl.ts';

export { soapOptionsSchema, type SoapOptions } from './options.ts';

const VERSION = '1.0.0';

const ENVELOPE_NS = { '1.1': 'http://schemas.xmlsoap.org/soap/envelope/', '1.2': 'http://www.w3.org/2003/05/soap-envelope' } as const;

/** A node-soap operation in its callback form: `client[service][port][operation]`. */
type SoapCall = (
  args: object,
  callback: (err: unknown, result: unknown, rawResponse: unknown) => void,
  options: Exchange,
  extraHeaders: Record<string, string>,
) => void;

type Outcome =
  | { ok: true; raw: string; answer: Answer | undefined; durationMs: number }
  | { ok: false; failure: Failure; fault: SoapFault | undefined; answer: Answer | undefined; durationMs: number };

export default defineAdapter({
  type: 'soap',
  version: VERSION,
  description: 'Delivers each case as one call of a SOAP operation (node-soap), described by a local WSDL, to a back-office endpoint.',
  defaultFormat: 'xml',
  options: soapOptionsSchema,

  async create(options, ctx) {
    const { logger, timeoutMs, clock } = ctx;
    const started = performance.now();

    // Everything that can fail on a bad configuration runs before a socket or agent exists.
    const agentTls = tlsAgentOptions(options.tls);
    const wsdlPath = path.resolve(options.wsdl);
    const chosen = await choosePort(wsdlPath, options);
    if (options.soapVersion && chosen.detected && options.soapVersion !== chosen.detected) {
      logger.warn('soap: soapVersion overrides the binding in the WSDL', {
        port: chosen.port,
        soapVersion: options.soapVersion,
        binding: chosen.detected,
      });
    }

    // Per-target agents: connections are reused between deliveries to the same back office, the client
    // certificate stays with this target, and close() can release the sockets.
    const httpAgent = new http.Agent({ keepAlive: true });
    const httpsAgent = new https.Agent({ keepAlive: true, ...agentTls });
    const httpClient = new SoapHttpClient({ httpAgent, httpsAgent }, `Amtsbote-soap/${VERSION}`);

    let client: Client;
    try {
      client = await soap.createClientAsync(wsdlPath, {
        endpoint: options.endpoint,
        httpClient,
        forceSoap12Headers: chosen.soapVersion === '1.2',
        // node-soap caches parsed WSDLs process-wide by path and writes client options (the SOAP version
        // above) into the cached object: two targets on one WSDL would overwrite each other's.
        disableCache: true,
        wsdl_options: { overrideImportLocation: refuseRemoteImport },
      });
    } catch (err) {
      httpAgent.destroy();
      httpsAgent.destroy();
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`wsdl: cannot build a SOAP client from ${wsdlPath}: ${oneLine(reason, 300)}`);
    }

    // Compiled once. Without a rule, the presence of the operation's response element is what accepts.
    const rule = options.acceptance ? compileAcceptance(options.acceptance) : undefined;

    let call: SoapCall;
    let checkCall: SoapCall | undefined;
    let style: string;
    let responseElement: string | undefined;
    let service: string;
    let port: string;
    try {
      ({ service, port } = resolvePort(client, chosen, wsdlPath));
      ({ call, style, responseElement } = resolveOperation(client, service, port, options.operation, wsdlPath));
      if (options.checkOperation) checkCall = resolveOperation(client, service, port, options.checkOperation, wsdlPath).call;
    } catch (err) {
      httpAgent.destroy();
      httpsAgent.destroy();
      throw err;
    }

    let wsSecurity: soap.WSSecurity | undefined;
    if (options.security.type === 'usernameToken') {
      const { username, password, passwordType } = options.security;
      wsSecurity = new soap.WSSecurity(username, password, { passwordType, hasTimeStamp: true });
      client.setSecurity(wsSecurity);
      if (passwordType === 'PasswordText' && options.endpoint.toLowerCase().startsWith('http:')) {
        logger.warn('soap: a PasswordText token over plain http travels readable; use https or PasswordDigest', {
          endpoint: safeUrl(options.endpoint),
        });
      }
    }

    // The idempotency key of each call, found by its args object: node-soap builds the header while it
    // builds that call's envelope, so concurrent deliveries cannot see each other's keys.
    const keys = new WeakMap<object, string>();
    const idem = options.idempotency;
    if (idem.in === 'soapHeader') {
      client.addSoapHeader((_method: unknown, _location: unknown, _action: unknown, args: unknown) => {
        const key = args && typeof args === 'object' ? keys.get(args) : undefined;
        return key === undefined
          ? ''
          : `<${idem.prefix}:${idem.element} xmlns:${idem.prefix}="${idem.namespace}">${xmlEscape(key)}</${idem.prefix}:${idem.element}>`;
      });
    }

    if (style === 'rpc') {
      logger.warn('soap: the operation is rpc-style; only json messages can be sent to it', { operation: options.operation });
    }
    logger.info('soap client ready', {
      wsdl: wsdlPath,
      service,
      port,
      operation: options.operation,
      soapVersion: chosen.soapVersion,
      endpoint: safeUrl(options.endpoint),
      buildMs: Math.round(performance.now() - started),
    });

    /** One operation call under one deadline; always settles, never throws. */
    function invoke(fn: SoapCall, args: object, headers: Record<string, string>): Promise<Outcome> {
      const t0 = performance.now();
      const deadline = AbortSignal.timeout(timeoutMs);
      const exchange: Exchange = { signal: deadline, timeout: timeoutMs };
      return new Promise<Outcome>((resolve) => {
        let settled = false;
        // A last resort, before the worker's own hard stop (timeoutMs + 1 s): node-soap settles every call once
        // axios does, but a delivery must never hang.
        const guard = setTimeout(
          () => finish(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' }), undefined, true),
          timeoutMs + 500,
        );
        function finish(err: unknown, raw: unknown, forcedTimeout = false): void {
          if (settled) return;
          settled = true;
          clearTimeout(guard);
          // node-soap keeps the last envelope and answer on the client for debugging: a PasswordText token
          // and a citizen's case that would otherwise stay in memory (and heap dumps) until the next call.
          client.lastRequest = client.lastMessage = client.lastResponse = undefined;
          const durationMs = Math.round(performance.now() - t0);
          // node-soap takes an answer without a body for success whatever its status below 400 (a 302 to a
          // login page, say): only a 2xx is.
          const status = exchange.answer?.status;
          if (!err && status !== undefined && (status < 200 || status >= 300)) err = new Error(`HTTP ${status}`);
          if (err) {
            const failure = classifyCallError(err, exchange.answer, forcedTimeout || deadline.aborted, clock());
            const fault = faultOf(err && typeof err === 'object' && 'root' in err ? err.root : undefined);
            resolve({ ok: false, failure, fault, answer: exchange.answer, durationMs });
          } else {
            resolve({ ok: true, raw: typeof raw === 'string' ? raw : '', answer: exchange.answer, durationMs });
          }
        }
        exchange.crash = (err) => finish(err ?? new Error('response handling failed'), undefined);
        try {
          fn(args, (err, _result, raw) => finish(err, raw), exchange, headers);
        } catch (err) {
          // node-soap failed to build the request (it serialises synchronously): nothing was sent, and
          // the same message would fail the same way. Its message may quote values, so only the class.
          settled = true;
          clearTimeout(guard);
          const name = err instanceof Error ? err.name : 'Error';
          resolve({
            ok: false,
            failure: { ok: false, retryable: false, error: `node-soap could not build the request (${name})`, errorKind: 'soap-request' },
            fault: undefined,
            answer: undefined,
            durationMs: Math.round(performance.now() - t0),
          });
        }
      });
    }

    /** The operation's arguments from the mapped message, or why the message cannot be sent. */
    function argsFor(message: OutboundMessage): { args: object } | { failure: Failure } {
      const refuse = (error: string): { failure: Failure } => ({
        failure: { ok: false, retryable: false, error, errorKind: 'mapping-output' },
      });
      if (message.format === 'json') {
        const body = message.body;
        if (!body || typeof body !== 'object' || Array.isArray(body))
          return refuse('a json message for a SOAP operation must be an object (the operation input)');
        // A copy: node-soap reads special keys (attributes, $value, $xml) and must not touch the hub's message.
        return { args: structuredClone(body) as object };
      }
      if (style === 'rpc') return refuse('the operation is rpc-style: node-soap writes its wrapper element, so send a json message');
      const xml = stripProlog(message.text);
      if (!xml.startsWith('<')) return refuse('the xml message does not start with an element');
      if (/^<!DOCTYPE/i.test(xml)) return refuse('a DOCTYPE is not allowed inside a SOAP body');
      // `_xml`: node-soap puts the text into soap:Body as it is; the mapping controls the body fully.
      return { args: { _xml: xml } };
    }

    return {
      async deliver(message, dctx): Promise<DeliveryResult> {
        const meta = { deliveryId: dctx.deliveryId, attempt: dctx.attempt };
        const prepared = argsFor(message);
        if ('failure' in prepared) {
          logger.warn('soap message cannot be sent', { ...meta, errorKind: prepared.failure.errorKind });
          return prepared.failure;
        }
        if (idem.in === 'soapHeader') keys.set(prepared.args, dctx.idempotencyKey);
        const out = await invoke(call, prepared.args, { 'X-Amtsbote-Delivery': dctx.deliveryId });
        if (!out.ok) {
          logger.debug('soap delivery attempt failed', {
            ...meta,
            errorKind: out.failure.errorKind,
            httpStatus: out.answer?.status,
            retryable: out.failure.retryable,
            durationMs: out.durationMs,
          });
          if (out.failure.httpStatus !== undefined && out.failure.httpStatus >= 300 && out.failure.httpStatus < 400) {
            logger.warn('soap back office answered with a redirect; set endpoint to the final address', {
              ...meta,
              httpStatus: out.failure.httpStatus,
            });
          }
          return out.failure;
        }
        return accepted(out.raw, out.answer, message, meta, out.durationMs);
      },

      async check(): Promise<CheckResult> {
        const where = safeUrl(options.endpoint);
        if (!checkCall) return probe(where);
        const args = options.checkXml ? { _xml: stripProlog(options.checkXml) } : {};
        const out = await invoke(checkCall, args, {});
        if (out.ok)
          return {
            ok: true,
            message: `reachable, credentials accepted: ${options.checkOperation} at ${where} answered HTTP ${out.answer?.status ?? '?'}`,
          };
        if (refusesCredentials(out.fault, out.answer?.status)) {
          return { ok: false, refused: true, message: `credentials rejected: ${options.checkOperation} at ${where}: ${out.failure.error}` };
        }
        return { ok: false, message: `${options.checkOperation} at ${where} failed: ${out.failure.error}` };
      },

      async close(): Promise<void> {
        httpAgent.destroy();
        httpsAgent.destroy();
      },
    };

    /** A 2xx SOAP answer without a fault: its response element judged by the acceptance rule, then the reference read. */
    async function accepted(
      raw: string,
      answer: Answer | undefined,
      message: OutboundMessage,
      meta: Record<string, unknown>,
      durationMs: number,
    ): Promise<DeliveryResult> {
      const httpStatus = answer?.status;
      const base = httpStatus !== undefined ? { httpStatus } : {};
      const content = responseContent(raw, responseElement);
      if (!content.found) {
        // An empty soap:Body (or one with some other element) under a 2xx is no receipt: the case may or may not
        // be filed. Permanent, not retryable: it is a defect (the wrong operation, a back office bug) that repeats
        // on every attempt, so it belongs before an operator as a failed delivery, replayable once it is fixed,
        // rather than in silent retries; as with an answer that is no SOAP envelope at all.
        logger.warn('soap back office answered without the response element', {
          ...meta,
          httpStatus,
          expected: responseElement ?? 'any',
          durationMs,
        });
        return {
          ok: false,
          retryable: false,
          error: `back office answered ${httpStatus !== undefined ? `HTTP ${httpStatus} ` : ''}${content.why}`,
          errorKind: 'soap-no-response',
          ...base,
        };
      }
      let ruleReference: string | null | undefined;
      if (rule) {
        const verdict = await rule.judge({ body: content.value, httpStatus, mediaType: 'application/soap+xml' }, message);
        if (!verdict.accepted) {
          logger.warn('soap back office refused the case inside its response element', {
            ...meta,
            httpStatus,
            errorKind: verdict.errorKind,
            retryable: verdict.retryable,
            durationMs,
          });
          return refusal(verdict, httpStatus);
        }
        ruleReference = verdict.reference;
      }
      if (ruleReference !== undefined) {
        if (ruleReference !== null) return { ok: true, reference: ruleReference, ...base };
        return noReference('acceptance.reference', httpStatus, meta);
      }
      const pathToRef = options.referencePath;
      if (pathToRef === undefined) {
        logger.debug('soap delivery accepted', { ...meta, httpStatus, durationMs });
        return { ok: true, reference: null, ...base };
      }
      const reference = referenceAt(raw, pathToRef);
      if (reference !== null) {
        logger.debug('soap delivery accepted', { ...meta, httpStatus, durationMs, reference });
        return { ok: true, reference, ...base };
      }
      return noReference(pathToRef, httpStatus, meta);
    }

    function noReference(at: string, httpStatus: number | undefined, meta: Record<string, unknown>): DeliveryResult {
      // As in the REST adapter: the back office has filed the case. Failing here would dead-letter it and
      // a retry or replay would file it twice; reconciliation finds it, the warning shows the gap meanwhile.
      const warning = `back office accepted but gave no reference at ${at}`;
      logger.warn(`soap ${warning}`, { ...meta, httpStatus });
      return { ok: true, reference: null, ...(httpStatus !== undefined ? { httpStatus } : {}), warning };
    }

    /**
     * check() without checkOperation: POST an envelope with the security header, an empty body and an empty
     * SOAPAction, so no operation runs (a stack that dispatches by SOAPAction alone could otherwise call the
     * operation with empty arguments). A SOAP stack checks WS-Security before it looks at the body: a
     * refused token comes back as 401/403 or a WS-Security fault; any other fault (there is no operation to
     * run) shows the endpoint speaks SOAP and did not refuse the credentials.
     */
    async function probe(where: string): Promise<CheckResult> {
      const env = 'soap';
      const header = wsSecurity ? `<${env}:Header>${wsSecurity.toXML()}</${env}:Header>` : '';
      const xml = `<?xml version="1.0" encoding="utf-8"?><${env}:Envelope xmlns:${env}="${ENVELOPE_NS[chosen.soapVersion]}">${header}<${env}:Body/></${env}:Envelope>`;
      const headers: Record<string, string> =
        chosen.soapVersion === '1.2'
          ? { 'Content-Type': 'application/soap+xml; charset=utf-8' }
          : { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""' };
      const deadline = AbortSignal.timeout(timeoutMs);
      const exchange: Exchange = { signal: deadline, timeout: timeoutMs };
      const res = await new Promise<{ err: unknown; response?: SoapResponse }>((resolve) => {
        httpClient.request(
          options.endpoint,
          xml,
          (err, response) => resolve({ err, response }),
          headers,
          exchange as unknown as Record<string, unknown>,
        );
      });
      if (!res.response) {
        const failure = classifyCallError(res.err, undefined, deadline.aborted, clock());
        return { ok: false, message: `cannot reach ${where}: ${failure.error}` };
      }
      const { status, data } = res.response;
      let fault: SoapFault | undefined;
      let isSoap = false;
      try {
        const parsed: unknown = client.wsdl.xmlToObject(data);
        isSoap = Boolean(parsed && typeof parsed === 'object' && 'Body' in parsed);
      } catch (err) {
        fault = faultOf(err && typeof err === 'object' && 'root' in err ? err.root : undefined);
        isSoap = fault !== undefined;
      }
      const shown = fault ? `${describeFault(fault)} (HTTP ${status})` : `HTTP ${status}`;
      if (refusesCredentials(fault, status))
        return { ok: false, refused: true, message: `credentials rejected: ${where} answered ${shown}` };
      if ([408, 429, 502, 503, 504].includes(status) || (status >= 500 && !fault)) {
        return { ok: false, message: `back office unavailable: ${where} answered ${shown}` };
      }
      if (!isSoap) return { ok: false, message: `${where} answered HTTP ${status} without a SOAP envelope: is endpoint the SOAP address?` };
      const creds = wsSecurity ? 'credentials not refused' : 'no credentials configured';
      return { ok: true, message: `reachable, ${creds}: ${where} answered the empty probe with ${shown}` };
    }
  },
});

interface ChosenPort {
  service: string | undefined;
  port: string | undefined;
  soapVersion: '1.1' | '1.2';
  /** The version the WSDL's binding declares, when the port is in the WSDL file itself. */
  detected?: '1.1' | '1.2';
}

/** The port to use and its SOAP version, from the WSDL file (node-soap does not record the version). */
async function choosePort(wsdlPath: string, options: SoapOptions): Promise<ChosenPort> {
  let xml: string;
  try {
    xml = await readFile(wsdlPath, 'utf8');
  } catch (err) {
    throw new Error(`wsdl: cannot read ${wsdlPath} (${errorCode(err) ?? 'unreadable'})`);
  }
  let found: WsdlPorts = { soap: [], other: [] };
  try {
    found = readWsdlPorts(xml);
  } catch {
    // node-soap reports a broken WSDL with a better message.
  }
  const fits = (p: { service: string; port: string }) =>
    (!options.service || p.service === options.service) && (!options.port || p.port === options.port);
  const match = found.soap.find(fits);
  if (match)
    return { service: match.service, port: match.port, soapVersion: options.soapVersion ?? match.soapVersion, detected: match.soapVersion };
  if (options.soapVersion) return { service: options.service, port: options.port, soapVersion: options.soapVersion };
  const known = found.soap.map((p) => `${p.service}/${p.port} (SOAP ${p.soapVersion})`).join(', ') || 'none in this file';
  // The wanted port first: when it exists but is no SOAP port, that is the answer.
  const others = [...found.other.filter(fits), ...found.other.filter((p) => !fits(p))].map((p) => `${p.service}/${p.port}: ${p.reason}`);
  throw new Error(
    `wsdl: no SOAP port ${options.service ?? '*'}/${options.port ?? '*'} in ${wsdlPath} (SOAP ports: ${known}${others.length ? `; other ports: ${others.join('; ')}` : ''}); a port from an imported WSDL needs soapVersion`,
  );
}

function resolvePort(client: Client, chosen: ChosenPort, wsdlPath: string): { service: string; port: string } {
  const services = client.wsdl.definitions.services;
  const service = chosen.service ?? Object.keys(services)[0];
  const svc = service !== undefined && Object.hasOwn(services, service) ? services[service] : undefined;
  if (!service || !svc)
    throw new Error(`wsdl: no service ${chosen.service ?? ''} in ${wsdlPath} (services: ${Object.keys(services).join(', ') || 'none'})`);
  const port = chosen.port ?? Object.keys(svc.ports)[0];
  if (!port || !Object.hasOwn(svc.ports, port)) {
    throw new Error(
      `wsdl: no port ${chosen.port ?? ''} in service ${service} of ${wsdlPath} (ports: ${Object.keys(svc.ports).join(', ') || 'none'})`,
    );
  }
  return { service, port };
}

function resolveOperation(
  client: Client,
  service: string,
  port: string,
  operation: string,
  wsdlPath: string,
): { call: SoapCall; style: string; responseElement: string | undefined } {
  const methods = client.wsdl.definitions.services[service]!.ports[port]!.binding.methods;
  const method = Object.hasOwn(methods, operation) ? methods[operation] : undefined;
  if (!method)
    throw new Error(
      `wsdl: no operation ${operation} in ${service}/${port} of ${wsdlPath} (operations: ${Object.keys(methods).join(', ') || 'none'})`,
    );
  // node-soap also puts every operation on the client itself, where one named like a client method
  // (describe, setSecurity) or another port's operation would clash; service/port/operation does not.
  const fn: unknown = (client[service] as Record<string, Record<string, unknown>> | undefined)?.[port]?.[operation];
  if (typeof fn !== 'function')
    throw new Error(`wsdl: node-soap cannot address ${service}/${port}/${operation} (a name clash in the WSDL?)`);
  const style = method.style === 'rpc' ? 'rpc' : 'document';
  // document/literal: the output part's element (Quittung). rpc: the wrapper's name is a convention the
  // back office may not keep, so any element is taken for it.
  const output = (method as { output?: { $name?: unknown } }).output?.$name;
  return { call: fn as SoapCall, style, responseElement: style === 'document' && typeof output === 'string' ? output : undefined };
}

/** node-soap's hook for each wsdl/xsd import: a remote location would be fetched at start-up. */
function refuseRemoteImport(location: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !/^file:/i.test(location)) {
    throw new Error(
      `the WSDL imports ${safeUrl(location)}: keep every imported WSDL and schema as a local file and import it by a relative path`,
    );
  }
  return location;
}

/** The mapping's text without byte-order mark and XML declaration: it becomes part of the envelope. */
function stripProlog(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/^\s*<\?xml\s[^?]*\?>/, '')
    .trimStart();
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
