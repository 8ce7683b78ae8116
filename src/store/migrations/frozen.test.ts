import { expect } from 'chai';
import { OPEN_STATES_SQL } from '../../core/states.ts';
import { allMigrations } from './index.ts';
import { DUE_INDEX_WHERE } from './0002-acknowledgements.ts';
import { TARGET_DUE_INDEX_WHERE } from './0004-target-policies.ts';

// Migrations are frozen: each runs the SQL text it was released with. These checks notice when today's code
// drifts from what the migrations wrote into existing databases.
describe('migrations', () => {
  it('keep their ids and their order: existing databases record them by name', () => {
    expect(allMigrations.map((m) => m.name)).to.deep.equal([
      '0001-core',
      '0002-acknowledgements',
      '0003-replay',
      '0004-target-policies',
      '0005-reconciliation',
      '0006-status-channel',
      '0007-portal-reconcile',
      '0008-prune',
      '0009-original-content',
      '0010-access',
      '0011-console-indexes',
      '0012-fit-connect-pickups',
      '0013-sealed-data',
      '0014-retention',
      '0015-delivery-memos',
    ]);
  });

  it('built the claim indexes on the open states the claim query still names', () => {
    // SQLite uses a partial index only when the query repeats its WHERE. A new open state changes
    // OPEN_STATES_SQL: then a new migration must rebuild deliveries_due and deliveries_target_due with it.
    expect(DUE_INDEX_WHERE).to.equal(OPEN_STATES_SQL);
    expect(TARGET_DUE_INDEX_WHERE).to.equal(OPEN_STATES_SQL);
  });
});
