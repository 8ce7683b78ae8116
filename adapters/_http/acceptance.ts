import {
  compileAcceptance,
  HTTP_DEFAULT_ACCEPTANCE,
  type AcceptanceOptions,
  type AcceptanceRule,
  type ParsedAnswer,
} from '../../src/sdk/index.ts';

/**
 * An HTTP target's acceptance rule: its own, or HTTP_DEFAULT_ACCEPTANCE. The default is answered in plain code
 * for the answers it cannot refuse — not an HTML page, and not an object or list that could hold `ok` or
 * `success` — which is nearly every receipt; JSONata's evaluation of it was ~12 µs of each delivery
 * (bench/per-delivery.ts). Every other answer goes to the JSONata rule, so refusals and their texts stay its own.
 */
export function acceptanceRule(options: AcceptanceOptions | undefined): AcceptanceRule {
  if (options) return compileAcceptance(options);
  const rule = compileAcceptance(HTTP_DEFAULT_ACCEPTANCE);
  return {
    judge(answer, sent) {
      return plainReceipt(answer) ? Promise.resolve({ accepted: true, reference: undefined }) : rule.judge(answer, sent);
    },
  };
}

/** Whether the default rule can only accept this answer: `ok` and `success` of a scalar are nothing in JSONata. */
function plainReceipt(answer: ParsedAnswer): boolean {
  if (answer.mediaType === 'text/html') return false;
  const body = answer.body;
  if (body === null || body === undefined || typeof body !== 'object') return true;
  if (Array.isArray(body)) return false;
  return !Object.hasOwn(body, 'ok') && !Object.hasOwn(body, 'success');
}
