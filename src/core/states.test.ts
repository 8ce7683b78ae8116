import { expect } from 'chai';
import { DELIVERY_STATES, OPEN_STATES, OPEN_STATES_SQL } from './states.ts';

describe('delivery states', () => {
  it('names the open states in the SQL the claim and the partial indexes use', () => {
    const named = [...OPEN_STATES_SQL.matchAll(/'([a-z]+)'/g)].map((m) => m[1]);
    expect(named).to.have.members([...OPEN_STATES]);
    expect(OPEN_STATES_SQL).to.match(/^state in \('[a-z]+'(, '[a-z]+')*\)$/);
  });

  it('leaves exactly the finished states out of the open ones', () => {
    expect(DELIVERY_STATES.filter((s) => !(OPEN_STATES as readonly string[]).includes(s))).to.deep.equal(['delivered', 'failed']);
  });
});
