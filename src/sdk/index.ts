// What adapter authors import.
export { defineAdapter, secret, isSecret, maskSecrets } from './define-adapter.ts';
export type * from './types.ts';
export { classifyHttpStatus, parseRetryAfter, classifyNetworkError } from './http-errors.ts';
