// What adapter authors import.
export { defineAdapter, secret, isSecret, maskSecrets, filePath, resolveFilePaths } from './define-adapter.ts';
export type * from './types.ts';
export { classifyHttpStatus, parseRetryAfter, classifyNetworkError, hostAndPort, networkCode, networkEndpoint } from './http-errors.ts';
export { oneLine } from './text.ts';
export { checkHttpUrl } from './urls.ts';
export { tlsOptions, tlsAgentOptions, type TlsOptions } from './tls.ts';
export {
  acceptanceOption,
  compileAcceptance,
  refusal,
  withoutFormData,
  jsonataSyntaxError,
  HTTP_DEFAULT_ACCEPTANCE,
  ERROR_TEXT_MAX,
  type AcceptanceOptions,
  type AcceptanceRule,
  type ParsedAnswer,
  type Verdict,
} from './acceptance.ts';
export { parseAnswer, parseAnswerXml, AnswerXmlError, mediaType, isJsonMediaType, isXmlMediaType } from './answer.ts';
export { parseUntrustedXml, UntrustedXmlError, type UntrustedXmlShape, type UntrustedXmlFault } from '../http/untrusted-xml.ts';
