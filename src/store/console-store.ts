import type { Db } from './tables.ts';
import {
  groupedCounts,
  searchSubmissions,
  type GroupCount,
  type SearchCursor,
  type SearchPage,
  type SubmissionSearch,
} from './console-search.ts';
import { overview, type Overview } from './console-overview.ts';
import { deliveriesInScope, formData, resolveSubmissionIds, timeline, type Timeline } from './console-timeline.ts';
import type { Sealing } from './sealing.ts';

export type * from './console-search.ts';
export type * from './console-overview.ts';
export type * from './console-timeline.ts';

/**
 * The operator console's reads (pages, its JSON API and `amtsbote submissions`). Every method takes the
 * asker's tenant restriction (Principal's `tenantRestriction`): undefined for all tenants, a list for those.
 */
export class ConsoleStore {
  constructor(
    private readonly db: Db,
    private readonly sealing: Sealing,
  ) {}

  search(f: SubmissionSearch, limit: number, after?: SearchCursor): Promise<SearchPage> {
    return searchSubmissions(this.db, f, limit, after);
  }

  groupedCounts(f: SubmissionSearch): Promise<GroupCount[]> {
    return groupedCounts(this.db, f);
  }

  overview(tenants: readonly string[] | undefined, dayStart: number): Promise<Overview> {
    return overview(this.db, tenants, dayStart);
  }

  timeline(id: string, tenants: readonly string[] | undefined): Promise<Timeline | undefined> {
    return timeline(this.db, this.sealing, id, tenants);
  }

  resolve(idOrExternal: string, tenants: readonly string[] | undefined): Promise<string[]> {
    return resolveSubmissionIds(this.db, idOrExternal, tenants);
  }

  deliveriesInScope(
    ids: readonly string[],
    tenants: readonly string[] | undefined,
  ): Promise<Map<string, { state: string; tenant: string }>> {
    return deliveriesInScope(this.db, ids, tenants);
  }

  formData(id: string, tenants: readonly string[] | undefined): Promise<unknown | undefined> {
    return formData(this.db, this.sealing, id, tenants);
  }
}
