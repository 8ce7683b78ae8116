import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { systemClock } from '../clock.ts';
import { storeAuditTrail } from '../audit/store-trail.ts';
import { Accounts, AccountError } from '../operator/access/accounts.ts';
import { loadConfigIfPresent, openConfiguredStore, type DatabaseCommandOptions } from './database.ts';
import { osUser } from './os-user.ts';

/** Where a new password comes from: never an argument (it would show in `ps` and the shell's history). */
export const NEW_PASSWORD_ENV = 'AMTSBOTE_NEW_PASSWORD';

async function withAccounts<T>(o: DatabaseCommandOptions, fn: (a: Accounts, actor: string) => Promise<T>): Promise<T> {
  const config = await loadConfigIfPresent(o);
  const store = await openConfiguredStore(o, config);
  // A process of its own: its clock.
  const now = systemClock;
  try {
    return await fn(new Accounts(store.access, storeAuditTrail(store.audit, now), config?.hub.tenants ?? [], now), `cli:${osUser()}`);
  } catch (e) {
    if (e instanceof AccountError) {
      console.error(`amtsbote: ${e.message}`);
      process.exitCode = 2;
      return undefined as T;
    }
    throw e;
  } finally {
    await store.close();
  }
}

/** `amtsbote user add <name> --role R --tenants a,b`; the password from AMTSBOTE_NEW_PASSWORD or stdin. */
export async function userAdd(name: string, o: DatabaseCommandOptions & { role: string; tenants: string }): Promise<void> {
  const password = await newPassword();
  await withAccounts(o, async (a, actor) => {
    await a.add(actor, { name, password, role: o.role, tenants: o.tenants.split(',') });
    console.log(`account ${name} added (${o.role}; tenants ${o.tenants})`);
  });
}

export async function userList(o: DatabaseCommandOptions & { json?: boolean }): Promise<void> {
  await withAccounts(o, async (a) => {
    const rows = await a.list();
    if (o.json) {
      console.log(
        JSON.stringify(
          rows.map((r) => ({ name: r.name, role: r.role, tenants: r.tenants, createdAt: new Date(r.createdAt).toISOString() })),
        ),
      );
      return;
    }
    for (const r of rows) console.log([r.name, r.role, r.tenants.join(','), new Date(r.createdAt).toISOString()].join('\t'));
    if (!rows.length) console.log('no accounts');
  });
}

export async function userRemove(name: string, o: DatabaseCommandOptions): Promise<void> {
  await withAccounts(o, async (a, actor) => {
    await a.remove(actor, name);
    console.log(`account ${name} removed, its sessions ended`);
  });
}

export async function userPasswd(name: string, o: DatabaseCommandOptions): Promise<void> {
  const password = await newPassword();
  await withAccounts(o, async (a, actor) => {
    await a.passwd(actor, name, password);
    console.log(`password of ${name} changed, its sessions ended`);
  });
}

/** AMTSBOTE_NEW_PASSWORD, else asked twice without echo at a terminal, else the first line of stdin. */
async function newPassword(): Promise<string> {
  const fromEnv = process.env[NEW_PASSWORD_ENV];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    return text.split(/\r?\n/)[0] ?? '';
  }
  const first = await ask('New password: ');
  const again = await ask('Again: ');
  if (first !== again) throw new AccountError('the passwords differ');
  return first;
}

function ask(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const muted = new Writable({ write: (_c, _e, cb) => cb() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) =>
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    }),
  );
}
