// What adapter authors import.
export { defineAdapter, secret, isSecret, maskSecrets, filePath, resolveFilePaths } from './define-adapter.ts';
export type * from './types.ts';
export { classifyHttpStatus, parseRetryAfter, classifyNetworkError } from './http-errors.ts';
