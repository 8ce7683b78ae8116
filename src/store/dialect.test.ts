import { expect } from 'chai';
import { lockKey, sqlite } from './dialect.ts';

describe('dialect', () => {
  it("names a schedule's advisory lock by a key every hub version agrees on", () => {
    // During a rolling upgrade old and new instances run side by side: the key must not change with the code.
    expect(lockKey('schedule:nightly')).to.equal('-6827184952899215924');
  });

  it('runs SQLite without cross-instance locks: one process serves the file', async () => {
    const db = undefined as never;
    expect(await sqlite.exclusively(db, 'schedule:nightly', async () => 'ran')).to.deep.equal({ ran: true, value: 'ran' });
  });
});
