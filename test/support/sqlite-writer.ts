// A second (and third) process on one SQLite file, for test/sqlite-busy.test.ts:
//   node --import tsx test/support/sqlite-writer.ts <file> intake <n> <tag>   files n submissions, one at a time
//   node --import tsx test/support/sqlite-writer.ts <file> worker <n> <tag>   claims and completes deliveries until n are done
// Each write is a transaction of the real store that reads before it writes. Any error ends the process with
// its message on stderr and exit code 1.
import { openStore } from '../../src/store/index.ts';
import { uuidv7 } from '../../src/store/ids.ts';

const [file, role, count, tag] = process.argv.slice(2);
const n = Number(count);
const store = await openStore({ sqliteFile: file! });
const at = 1_000_000;
try {
  if (role === 'intake') {
    for (let i = 0; i < n; i++) {
      await store.createSubmission({
        id: uuidv7(at),
        portalId: 'portal-a',
        externalId: `${tag}-${i}`,
        tenant: '05513000',
        service: 'sperrmuell',
        submittedAt: new Date(at).toISOString(),
        receivedAt: at,
        bodyHash: `h-${tag}-${i}`,
        content: JSON.stringify({ applicant: { familyName: 'Mustermann' }, data: {} }),
        attachments: [],
        deliveries: [{ id: uuidv7(at), routeId: 'r1', targetId: 't', mappingId: 'm.jsonata' }],
      });
    }
  } else {
    for (let done = 0; done < n; ) {
      const claimed = await store.claimDue(`${tag}:${process.pid}`, at + 1, 60_000, 5);
      for (const d of claimed) {
        if (await store.completeAttempt(d, `${tag}:${process.pid}`, { outcome: 'delivered', finishedAt: at + 2, reference: `AZ-${d.id}` }))
          done++;
      }
      if (!claimed.length) await new Promise((r) => setImmediate(r));
    }
  }
} finally {
  await store.close();
}
