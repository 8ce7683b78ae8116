import type { z } from 'zod';

/**
 * A refinement for back-office URLs: absolute http(s), and no credentials in them — a URL is shown unmasked
 * wherever options, logs and check messages show it. `credentialsOption` names where credentials belong.
 */
export function checkHttpUrl(credentialsOption: string) {
  return (value: string, ctx: z.RefinementCtx): void => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL' });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL' });
    }
    if (url.username || url.password) {
      ctx.addIssue({ code: 'custom', message: `must not contain credentials; use ${credentialsOption} instead` });
    }
  };
}
