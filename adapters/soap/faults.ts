// Telling retryable from permanent failures, and describing them without ever copying a message body
// into an error or a log line: bodies carry citizens' data. Only a fault's code and its faultstring
// (one line, at most 200 characters) are shown.

import { classifyHttpStatus, classifyNetworkError, parseRetryAfter } from '../../src/sdk/index.ts';
import type { DeliveryResult } from '../../src/sdk/index.ts';
import { oneLine } from '../../src/sdk/index.ts';

// Re-exported for this adapter's modules, which import it from here.
export { oneLine };

export type Failure = Extract<DeliveryResult, { ok: false }>;

/** What the HTTP layer saw of the back office's answer (filled by SoapHttpClient). */
export interface Answer {
  status: number;
  statusText: string;
  headers: Record<string, unknown>;
}

/** A SOAP fault, 1.1 (`faultcode`/`faultstring`) or 1.2 (`Code/Value`, `Code/Subcode/Value`, `Reason/Text`). */
export interface SoapFault {
  code: string;
  subcode?: string;
  reason: string;
}

const REASON_MAX = 200;

/** `soap:Client.Authentication` → `Client`: 1.1 allows dotted refinements of the four standard codes. */
function baseCode(qname: string): string {
  const local = qname.slice(qname.lastIndexOf(':') + 1);
  return local.split('.', 1)[0]!;
}

/** Text of a node-soap value: a string, a number, or `{ attributes, $value }` for an element with attributes. */
function text(v: unknown): string {
  if (Array.isArray(v)) return text(v[0]);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object' && '$value' in v) return text((v as { $value: unknown }).$value);
  return '';
}

function field(obj: unknown, key: string): unknown {
  return obj && typeof obj === 'object' && Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/**
 * The fault in a node-soap parse result (`err.root` of a failed call, or what `xmlToObject` attaches when it
 * throws). node-soap's own message for it includes the fault's `detail` serialised as JSON, which may echo
 * the request: it is never used.
 */
export function faultOf(root: unknown): SoapFault | undefined {
  const fault = field(field(field(root, 'Envelope'), 'Body'), 'Fault');
  if (!fault || typeof fault !== 'object') return undefined;
  const code11 = field(fault, 'faultcode');
  if (code11 !== undefined) return { code: text(code11), reason: text(field(fault, 'faultstring')) };
  const code = field(fault, 'Code');
  if (code === undefined) return undefined;
  const subcode = text(field(field(code, 'Subcode'), 'Value'));
  const result: SoapFault = { code: text(field(code, 'Value')), reason: text(field(field(fault, 'Reason'), 'Text')) };
  if (subcode) result.subcode = subcode;
  return result;
}

/** WS-Security 1.0 fault codes (§12): in a 1.1 faultcode or a 1.2 Subcode. Retrying the same token cannot help. */
const WSS_CODES = new Set([
  'UnsupportedSecurityToken',
  'UnsupportedAlgorithm',
  'InvalidSecurity',
  'InvalidSecurityToken',
  'FailedAuthentication',
  'FailedCheck',
  'SecurityTokenUnavailable',
  'MessageExpired',
]);

/** Statuses that say "later" even when the fault code is one we do not know. */
const TRANSIENT_STATUSES = new Set([408, 429, 502, 503, 504]);

export function describeFault(f: SoapFault): string {
  const sub = f.subcode ? ` (${oneLine(f.subcode, 80)})` : '';
  const reason = oneLine(f.reason, REASON_MAX);
  return `SOAP fault ${oneLine(f.code, 80) || '(no code)'}${sub}${reason ? ': ' + reason : ''}`;
}

/**
 * The design's rule for SOAP: Client (1.1) / Sender (1.2) faults are the message's fault, permanent;
 * Server / Receiver faults are the back office's, retryable. A fault decides over the HTTP status it came with.
 */
export function classifyFault(f: SoapFault, answer: Answer | undefined, now: number): Failure {
  const base = baseCode(f.code);
  const sub = f.subcode ? baseCode(f.subcode) : '';
  let retryable: boolean;
  let errorKind: string;
  if (base === 'Client' || base === 'Sender') {
    retryable = false;
    errorKind = WSS_CODES.has(sub) ? 'soap-security-fault' : 'soap-client-fault';
  } else if (base === 'Server' || base === 'Receiver') {
    retryable = true;
    errorKind = 'soap-server-fault';
  } else if (WSS_CODES.has(base)) {
    retryable = false;
    errorKind = 'soap-security-fault';
  } else if (base === 'VersionMismatch' || base === 'MustUnderstand' || base === 'DataEncodingUnknown') {
    // The envelope itself does not fit the back office: configuration (soapVersion, headers), not luck.
    retryable = false;
    errorKind = 'soap-fault';
  } else {
    // A code from the back office's own namespace: only an HTTP status that says "later" makes it retryable.
    retryable = answer !== undefined && TRANSIENT_STATUSES.has(answer.status);
    errorKind = 'soap-fault';
  }
  const result: Failure = { ok: false, retryable, error: `back office answered with ${describeFault(f)}`, errorKind };
  if (answer) {
    result.httpStatus = answer.status;
    if (retryable) {
      const after = parseRetryAfter(headerString(answer.headers['retry-after']), now);
      if (after !== undefined) result.retryAfterMs = after;
    }
  }
  return result;
}

/** Whether a fault (or the status it came with) says the credentials were refused: for check() messages. */
export function refusesCredentials(f: SoapFault | undefined, status: number | undefined): boolean {
  if (status === 401 || status === 403) return true;
  if (!f) return false;
  if (WSS_CODES.has(baseCode(f.code)) || (f.subcode && WSS_CODES.has(baseCode(f.subcode)))) return true;
  // Back offices without WS-Security codes say it in words; a heuristic, so only check() uses it.
  return /authenti|credential|password|passwort|kennwort|unauthori[sz]ed|forbidden|access denied|security token/i.test(
    `${f.code} ${f.subcode ?? ''} ${f.reason}`,
  );
}

/**
 * A failed node-soap call, classified. `answer` is what came back over HTTP (none when the connection
 * failed); `timedOut` says the attempt's deadline ended it; `now` (the hub's clock) dates a Retry-After.
 */
export function classifyCallError(err: unknown, answer: Answer | undefined, timedOut: boolean, now: number): Failure {
  // `cause` lets the message name the endpoint's host and port when the error knows the request.
  if (timedOut) return asFailure(classifyNetworkError({ code: 'ETIMEDOUT', cause: err }));
  const fault = faultOf(field(err, 'root'));
  if (fault) return classifyFault(fault, answer, now);
  if (answer) {
    if (answer.status < 200 || answer.status >= 300) {
      const result = asFailure(
        classifyHttpStatus(answer.status, oneLine(answer.statusText, 100), { header: headerString(answer.headers['retry-after']), now }),
      );
      if (answer.status >= 300 && answer.status < 400) result.error += ' (redirects are not followed: configure the final URL as endpoint)';
      return result;
    }
    // A 2xx that is not a SOAP envelope (an HTML page from a proxy, a truncated answer): nobody can say
    // whether the case was filed, so it is not retried blindly; reconciliation and an operator decide.
    return {
      ok: false,
      retryable: false,
      error: `back office answered HTTP ${answer.status} with something that is not a SOAP envelope`,
      errorKind: 'soap-invalid-response',
      httpStatus: answer.status,
    };
  }
  return asFailure(classifyNetworkError(err));
}

function asFailure(r: DeliveryResult): Failure {
  if (r.ok) throw new Error('expected a failure');
  return r;
}

export function errorCode(err: unknown): string | undefined {
  const code = field(err, 'code');
  return typeof code === 'string' ? code : undefined;
}

export function headerString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
