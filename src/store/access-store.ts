import type { Kysely } from 'kysely';
import type { Database } from './tables.ts';

export interface AccountRow {
  name: string;
  passwordHash: string;
  role: string;
  tenants: string[];
  createdAt: number;
  updatedAt: number;
}

export interface SessionRow {
  idHash: string;
  principalId: string;
  via: string;
  account: string | null;
  displayName: string;
  role: string;
  tenants: string[] | 'all';
  createdAt: number;
  seenAt: number;
}

/** Local accounts, browser sessions (by the hash of their id) and the login throttle's counters. */
export class AccessStore {
  constructor(readonly db: Kysely<Database>) {}

  async account(name: string): Promise<AccountRow | undefined> {
    const r = await this.db.selectFrom('operator_accounts').selectAll().where('name', '=', name).executeTakeFirst();
    return r && accountOf(r);
  }

  async accounts(): Promise<AccountRow[]> {
    return (await this.db.selectFrom('operator_accounts').selectAll().orderBy('name').execute()).map(accountOf);
  }

  /** Creates the account; false when the name is taken. */
  async addAccount(a: { name: string; passwordHash: string; role: string; tenants: readonly string[] }, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('operator_accounts')
      .values({
        name: a.name,
        password_hash: a.passwordHash,
        role: a.role,
        tenants: JSON.stringify(a.tenants),
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Sets a new password and ends the account's sessions (a changed password logs every browser out). */
  async setPassword(name: string, passwordHash: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('operator_accounts')
        .set({ password_hash: passwordHash, updated_at: now })
        .where('name', '=', name)
        .executeTakeFirst();
      await trx.deleteFrom('operator_sessions').where('account', '=', name).execute();
      return Number(r.numUpdatedRows) > 0;
    });
  }

  /** Removes the account and its sessions. */
  async removeAccount(name: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('operator_sessions').where('account', '=', name).execute();
      const r = await trx.deleteFrom('operator_accounts').where('name', '=', name).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async createSession(s: SessionRow): Promise<void> {
    await this.db
      .insertInto('operator_sessions')
      .values({
        id_hash: s.idHash,
        principal_id: s.principalId,
        via: s.via,
        account: s.account,
        display_name: s.displayName,
        role: s.role,
        tenants: JSON.stringify(s.tenants),
        created_at: s.createdAt,
        seen_at: s.seenAt,
      })
      .execute();
  }

  async session(idHash: string): Promise<SessionRow | undefined> {
    const r = await this.db.selectFrom('operator_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    if (!r) return undefined;
    return {
      idHash: r.id_hash,
      principalId: r.principal_id,
      via: r.via,
      account: r.account,
      displayName: r.display_name,
      role: r.role,
      tenants: JSON.parse(r.tenants) as string[] | 'all',
      createdAt: Number(r.created_at),
      seenAt: Number(r.seen_at),
    };
  }

  async touchSession(idHash: string, now: number): Promise<void> {
    await this.db.updateTable('operator_sessions').set({ seen_at: now }).where('id_hash', '=', idHash).execute();
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom('operator_sessions').where('id_hash', '=', idHash).execute();
  }

  /** Drops sessions idle since before `idleBefore` or created before `createdBefore`. */
  async expireSessions(idleBefore: number, createdBefore: number): Promise<number> {
    const r = await this.db
      .deleteFrom('operator_sessions')
      .where((eb) => eb.or([eb('seen_at', '<', idleBefore), eb('created_at', '<', createdBefore)]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async throttle(keys: readonly string[]): Promise<{ key: string; failures: number; lastFailureAt: number }[]> {
    if (keys.length === 0) return [];
    const rows = await this.db
      .selectFrom('login_throttle')
      .selectAll()
      .where('key', 'in', [...keys])
      .execute();
    return rows.map((r) => ({ key: r.key, failures: Number(r.failures), lastFailureAt: Number(r.last_failure_at) }));
  }

  /** Counts a failed login against each key; a counter quiet since before `resetBefore` starts again at 1. */
  async recordFailure(keys: readonly string[], now: number, resetBefore: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const key of keys) {
        await trx
          .insertInto('login_throttle')
          .values({ key, failures: 1, last_failure_at: now })
          .onConflict((oc) =>
            oc.column('key').doUpdateSet((eb) => ({
              failures: eb
                .case()
                .when('login_throttle.last_failure_at', '<', resetBefore)
                .then(1)
                .else(eb('login_throttle.failures', '+', 1))
                .end(),
              last_failure_at: now,
            })),
          )
          .execute();
      }
    });
  }

  async clearFailures(keys: readonly string[]): Promise<void> {
    if (keys.length)
      await this.db
        .deleteFrom('login_throttle')
        .where('key', 'in', [...keys])
        .execute();
  }
}

function accountOf(r: Database['operator_accounts']): AccountRow {
  return {
    name: r.name,
    passwordHash: r.password_hash,
    role: r.role,
    tenants: JSON.parse(r.tenants) as string[],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
