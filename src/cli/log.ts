import { InvalidArgumentError } from 'commander';
import { OPERATOR_TOKEN_ENV } from '../operator/operator-auth.ts';
import type { LogLine } from '../console/log-tap.ts';

export interface LogCommandOptions {
  follow?: boolean;
  url: string;
  tenant?: string;
  target?: string;
  level?: string;
  json?: boolean;
}

/**
 * `amtsbote log`: the running hub's sync log from GET /api/v1/console/log (server-sent events) with the operator
 * token of the environment. Without --follow it prints the lines the hub kept and ends.
 */
export async function log(o: LogCommandOptions): Promise<void> {
  const token = process.env[OPERATOR_TOKEN_ENV];
  if (!token) throw new InvalidArgumentError(`set ${OPERATOR_TOKEN_ENV} to the hub's operator token`);
  const q = new URLSearchParams();
  for (const k of ['tenant', 'target', 'level'] as const) if (o[k]) q.set(k, o[k]!);
  const res = await fetch(`${o.url.replace(/\/$/, '')}/api/v1/console/log?${q}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok || !res.body) {
    const p = (await res.json().catch(() => ({}))) as { detail?: string; errors?: { pointer: string; detail: string }[] };
    throw new Error(`the hub answered ${res.status}: ${p.errors?.map((e) => `${e.pointer}: ${e.detail}`).join('; ') ?? p.detail ?? ''}`);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    text += decoder.decode(value, { stream: true });
    for (let i = text.indexOf('\n\n'); i >= 0; i = text.indexOf('\n\n')) {
      const block = text.slice(0, i);
      text = text.slice(i + 2);
      // The comment after the kept lines: without --follow, that is all.
      if (block.startsWith(': live') && !o.follow) {
        await reader.cancel();
        return;
      }
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (data) print(JSON.parse(data) as LogLine, o.json);
    }
  }
}

function print(l: LogLine, json: boolean | undefined): void {
  if (json) {
    console.log(JSON.stringify(l));
    return;
  }
  const ids = [l.tenant, l.target, l.submissionId].filter(Boolean).join(' ');
  const extra = Object.entries(l.fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(`${l.at} ${l.level.padEnd(5)} ${l.message}${ids ? `  [${ids}]` : ''}${extra ? `  ${extra}` : ''}`);
}
