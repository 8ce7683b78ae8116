import { expect } from 'chai';
import { describeEachDatabase } from './support/databases.ts';
import { uuidv7, type NewSubmission } from '../src/store/index.ts';
import { MemoConflictError } from '../src/store/memos.ts';

// DeliveryContext.memo's store side (migration 0015): a note is committed when remember resolves, the first value
// under a key stays, and the notes go with their delivery.

function submission(at: number): NewSubmission {
  return {
    id: uuidv7(at),
    portalId: 'portal-a',
    externalId: `memo-${at}`,
    tenant: '05513000',
    service: 'hundeanmeldung',
    submittedAt: new Date(at).toISOString(),
    receivedAt: at,
    bodyHash: `h-${at}`,
    content: '{"applicant":{},"data":{}}',
    attachments: [],
    deliveries: [{ id: uuidv7(at), routeId: 'r1', targetId: 'dms-xta', mappingId: 'm.jsonata' }],
  };
}

describeEachDatabase('delivery memos', ({ store }) => {
  it('keeps the first value under a key, per delivery, and refuses a different second one', async () => {
    const s = submission(2_000_000);
    await store().createSubmission(s);
    const d = s.deliveries[0]!.id;
    expect(await store().recallMemo(d, 'xta2.messageId')).to.equal(undefined);
    await store().rememberMemo(d, 'xta2.messageId', 'urn:de:xta:messageid:1', 2_000_001);
    expect(await store().recallMemo(d, 'xta2.messageId')).to.equal('urn:de:xta:messageid:1');
    // The same value again (an attempt repeating itself) is fine; another is a conflict and changes nothing.
    await store().rememberMemo(d, 'xta2.messageId', 'urn:de:xta:messageid:1', 2_000_002);
    let conflict: unknown;
    await store()
      .rememberMemo(d, 'xta2.messageId', 'urn:de:xta:messageid:2', 2_000_003)
      .catch((e: unknown) => (conflict = e));
    expect(conflict).to.be.instanceOf(MemoConflictError);
    expect(await store().recallMemo(d, 'xta2.messageId')).to.equal('urn:de:xta:messageid:1');
  });

  it('are deleted with their delivery', async () => {
    const s = submission(3_000_000);
    await store().createSubmission(s);
    const d = s.deliveries[0]!.id;
    await store().rememberMemo(d, 'k', 'v', 3_000_001);
    await store().db.deleteFrom('submissions').where('id', '=', s.id).execute();
    expect(await store().recallMemo(d, 'k')).to.equal(undefined);
  });
});
