// What adapter authors import.
export { defineAdapter, secret, isSecret, maskSecrets, filePath, resolveFilePaths } from './define-adapter.ts';
export type * from './types.ts';
export { classifyHttpStatus, parseRetryAfter, classifyNetworkError, hostAndPort, networkCode, networkEndpoint } from './http-errors.ts';
export { oneLine } from './text.ts';
export { checkHttpUrl } from './urls.ts';
export { tlsOptions, tlsAgentOptions, type TlsOptions } from './tls.ts';
