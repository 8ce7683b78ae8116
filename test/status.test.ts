import { createHash } from 'node:crypto';
import { expect } from 'chai';
import winston from 'winston';
import Transport from 'winston-transport';
import { describeEachDatabase } from './support/databases.ts';
import { uuidv7 } from '../src/store/ids.ts';
import { StatusRecorder } from '../src/status/recorder.ts';
import { StatusMap, statusKey } from '../src/core/status/mapping.ts';
import { combineStatuses } from '../src/core/status/combine.ts';
import { portalSchema, targetStatusSchema } from '../src/config/schema.ts';

describe('status mapping', () => {
  it('normalises words: case, umlauts, underscores and dashes', () => {
    expect(statusKey('  IN_BEARBEITUNG ')).to.equal('in bearbeitung');
    expect(statusKey('In-Bearbeitung')).to.equal('in bearbeitung');
    expect(statusKey('Rückfrage')).to.equal(statusKey('Rueckfrage'));
  });

  it("uses the target's map first (case-insensitive), then the built-in German and English words", () => {
    const m = new StatusMap({ map: { 'Akte ruht': 'PROCESSING', Erledigt: 'REJECTED' }, defaults: true });
    expect(m.map('AKTE RUHT')).to.equal('PROCESSING');
    expect(m.map('erledigt'), 'the target overrides the default').to.equal('REJECTED');
    expect(m.map('in Bearbeitung')).to.equal('PROCESSING');
    expect(m.map('Rückfrage')).to.equal('ACTION_REQUIRED');
    expect(m.map('abgelehnt')).to.equal('REJECTED');
    expect(m.map('completed')).to.equal('COMPLETED');
    expect(m.map('veranlagt'), 'the dog-tax demo word').to.equal('COMPLETED');
    expect(m.map('storniert'), 'ambiguous words are left to the target').to.equal(null);
  });

  it('without defaults knows only its own words', () => {
    const m = new StatusMap({ map: { fertig: 'COMPLETED' }, defaults: false });
    expect(m.map('Fertig')).to.equal('COMPLETED');
    expect(m.map('erledigt')).to.equal(null);
  });
});

describe('status configuration', () => {
  it('keeps only the hash of a push token', () => {
    const parsed = targetStatusSchema.parse({ push: { token: 'push-token-0123456789' } });
    expect(parsed.push).to.deep.equal({ tokenHash: 'sha256:' + createHash('sha256').update('push-token-0123456789').digest('hex') });
    expect(JSON.stringify(parsed)).not.to.include('push-token-0123456789');
    expect(targetStatusSchema.safeParse({ push: {} }).success, 'a token or a hash is needed').to.equal(false);
    expect(targetStatusSchema.safeParse({ map: { erledigt: 'DONE' } }).success, 'only portal statuses').to.equal(false);
  });

  it('gives a status callback generous retry defaults', () => {
    const p = portalSchema.parse({
      id: 'p',
      name: 'P',
      tokenHash: 'sha256:' + '0'.repeat(64),
      tenants: ['*'],
      statusCallback: { url: 'https://portal.example/status' },
    });
    expect(p.statusCallback).to.deep.include({ timeoutMs: 10_000 });
    expect(p.statusCallback!.retry).to.include({ maxAttempts: 100, baseDelayMs: 2000 });
  });
});

describe('combining the statuses of several deliveries', () => {
  const s = (status: any, at: number, reason: string | null = null) => ({ status, at, reason });
  it('is nothing until some back office has a status', () => {
    expect(combineStatuses([null, null])).to.equal(null);
  });
  it('is REJECTED if any office rejected, with its reason', () => {
    expect(combineStatuses([s('COMPLETED', 5), s('REJECTED', 3, 'Rasse nicht zulässig')])).to.deep.equal(
      s('REJECTED', 3, 'Rasse nicht zulässig'),
    );
  });
  it('is ACTION_REQUIRED if any office waits for the citizen', () => {
    expect(combineStatuses([s('COMPLETED', 5), s('ACTION_REQUIRED', 3, 'Foto fehlt')])!.status).to.equal('ACTION_REQUIRED');
  });
  it('is otherwise the least advanced; an office without a status counts as RECEIVED', () => {
    expect(combineStatuses([s('COMPLETED', 5), s('PROCESSING', 3)])).to.deep.equal(s('PROCESSING', 3));
    expect(combineStatuses([s('COMPLETED', 5), s('COMPLETED', 7)])).to.deep.equal(s('COMPLETED', 7));
    expect(combineStatuses([s('COMPLETED', 5), null])).to.deep.equal(s('RECEIVED', 5));
  });
});

class Lines extends Transport {
  readonly lines: { level: string; message: string; [k: string]: unknown }[] = [];
  override log(info: any, next: () => void): void {
    this.lines.push(info);
    next();
  }
}

const T0 = Date.parse('2026-11-24T10:00:00Z');

describeEachDatabase('status recorder', ({ store }) => {
  let recorder: StatusRecorder;
  let lines: Lines;
  let queued = 0;
  const callback = {
    url: 'http://127.0.0.1:9/status',
    timeoutMs: 1000,
    retry: { baseDelayMs: 10, maxDelayMs: 10, maxAttempts: 3, jitter: 0 },
  };
  const config = {
    targets: {
      backoffice: { status: { map: { 'Rueckfrage Bauamt': 'ACTION_REQUIRED' }, defaults: true } },
      archive: { status: { map: {}, defaults: true } },
    },
    portals: [{ id: 'portal-a', statusCallback: callback }, { id: 'portal-b' }],
  } as never;

  before(() => {
    lines = new Lines();
    recorder = new StatusRecorder({
      store: store(),
      config,
      logger: winston.createLogger({ transports: [lines] }),
      onQueued: () => queued++,
      now: () => T0 + 60_000,
    });
  });

  /** A submission with one delivery per target, delivered with reference `<target>-<n>`. */
  let n = 0;
  async function submission(
    targets: string[],
    portalId = 'portal-a',
  ): Promise<{ id: string; deliveries: { id: string; reference: string }[] }> {
    const id = uuidv7(T0);
    const deliveries = targets.map((t) => ({
      id: uuidv7(T0),
      routeId: 'r',
      targetId: t,
      mappingId: 'm.jsonata',
      reference: `${t.toUpperCase()}-${++n}`,
    }));
    await store().createSubmission({
      id,
      portalId,
      externalId: `ext-${id}`,
      tenant: '05513000',
      service: 'sperrmuell',
      submittedAt: '2026-11-24T09:30:00+01:00',
      receivedAt: T0,
      bodyHash: 'h',
      content: '{}',
      attachments: [],
      deliveries,
    });
    for (const d of deliveries)
      await store()
        .db.updateTable('deliveries')
        .set({ state: 'delivered', reference: d.reference, delivered_at: T0 })
        .where('id', '=', d.id)
        .execute();
    return { id, deliveries };
  }
  const view = (id: string) => recorder.statusStore.view(id);
  const outbox = (id: string) => recorder.statusStore.outbox(id);

  it('finds the case by reference, maps the word, keeps the delivery current and queues the update', async () => {
    const s = await submission(['backoffice']);
    const before = queued;
    const r = await recorder.record({
      targetId: 'backoffice',
      reference: s.deliveries[0]!.reference,
      status: 'In Bearbeitung',
      at: T0 + 1000,
      source: 'poll',
    });
    expect(r).to.include({
      recorded: true,
      outcome: 'applied',
      portalStatus: 'PROCESSING',
      submissionId: s.id,
      deliveryId: s.deliveries[0]!.id,
      forwarded: true,
      sequence: 1,
    });
    expect(queued).to.equal(before + 1);
    const d = await store()
      .db.selectFrom('deliveries')
      .select(['backoffice_status', 'backoffice_status_at'])
      .where('id', '=', s.deliveries[0]!.id)
      .executeTakeFirstOrThrow();
    expect(d).to.deep.equal({ backoffice_status: 'In Bearbeitung', backoffice_status_at: T0 + 1000 });
    const v = await view(s.id);
    expect(v.current).to.deep.equal({ status: 'PROCESSING', reason: null, at: T0 + 1000, sequence: 1 });
    expect(v.history).to.have.length(1);
    expect(v.history[0]).to.include({ source: 'poll', backofficeStatus: 'In Bearbeitung', portalStatus: 'PROCESSING', effect: 'applied' });
    const rows = await outbox(s.id);
    expect(rows.map((o) => [o.sequence, o.status, o.state])).to.deep.equal([[1, 'PROCESSING', 'pending']]);
    const events = (await store().events(s.id)).map((e) => e.type);
    expect(events).to.include.members(['status.recorded', 'status.changed']);
  });

  it('finds the case by idempotency key and by delivery id', async () => {
    const s = await submission(['backoffice']);
    const key = s.deliveries[0]!.id;
    expect(
      await recorder.record({ targetId: 'backoffice', idempotencyKey: key, status: 'eingegangen', at: T0, source: 'reconciliation' }),
    ).to.include({ outcome: 'applied', portalStatus: 'RECEIVED' });
    expect(
      await recorder.record({
        targetId: 'backoffice',
        deliveryId: key,
        status: 'Rueckfrage Bauamt',
        reason: 'Foto fehlt',
        at: T0 + 1,
        source: 'poll',
      }),
    ).to.include({ outcome: 'applied', portalStatus: 'ACTION_REQUIRED', sequence: 2 });
    expect((await view(s.id)).current).to.deep.include({ status: 'ACTION_REQUIRED', reason: 'Foto fehlt' });
  });

  it('answers unknown-case for a case of another target or no case at all, writing nothing', async () => {
    const s = await submission(['backoffice']);
    expect(
      await recorder.record({ targetId: 'archive', reference: s.deliveries[0]!.reference, status: 'erledigt', at: T0, source: 'poll' }),
    ).to.deep.equal({ recorded: false, outcome: 'unknown-case' });
    expect(await recorder.record({ targetId: 'backoffice', reference: 'NOPE', status: 'erledigt', at: T0, source: 'poll' })).to.deep.equal({
      recorded: false,
      outcome: 'unknown-case',
    });
    expect((await view(s.id)).history).to.have.length(0);
    expect(lines.lines.some((l) => l.message === 'status for a case the hub does not know' && l.reference === 'NOPE')).to.equal(true);
  });

  it('keeps older news in the history without moving the status back', async () => {
    const s = await submission(['backoffice']);
    const ref = s.deliveries[0]!.reference;
    await recorder.record({ targetId: 'backoffice', reference: ref, status: 'erledigt', at: T0 + 5000, source: 'push' });
    const r = await recorder.record({ targetId: 'backoffice', reference: ref, status: 'in Bearbeitung', at: T0 + 1000, source: 'poll' });
    expect(r).to.include({ recorded: true, outcome: 'older' });
    const v = await view(s.id);
    expect(v.current!.status).to.equal('COMPLETED');
    expect(v.history.map((h) => [h.backofficeStatus, h.effect])).to.deep.equal([
      ['in Bearbeitung', 'older'],
      ['erledigt', 'applied'],
    ]);
    const d = await store()
      .db.selectFrom('deliveries')
      .select('backoffice_status')
      .where('id', '=', s.deliveries[0]!.id)
      .executeTakeFirstOrThrow();
    expect(d.backoffice_status).to.equal('erledigt');
    expect((await outbox(s.id)).map((o) => o.status)).to.deep.equal(['COMPLETED']);
  });

  it('is idempotent: the same (case, status, at) is a duplicate, the same status later is unchanged', async () => {
    const s = await submission(['backoffice']);
    const ref = s.deliveries[0]!.reference;
    await recorder.record({ targetId: 'backoffice', reference: ref, status: 'in Bearbeitung', at: T0, source: 'push' });
    expect(await recorder.record({ targetId: 'backoffice', reference: ref, status: 'IN_BEARBEITUNG', at: T0, source: 'poll' })).to.include({
      recorded: false,
      outcome: 'duplicate',
    });
    expect(
      await recorder.record({ targetId: 'backoffice', reference: ref, status: 'in Bearbeitung', at: T0 + 10, source: 'poll' }),
    ).to.include({ recorded: false, outcome: 'unchanged' });
    expect((await view(s.id)).history).to.have.length(1);
    expect(await outbox(s.id)).to.have.length(1);
  });

  it('records an unmapped word with a warning, keeps it as the back office word, forwards nothing', async () => {
    const s = await submission(['backoffice']);
    const r = await recorder.record({
      targetId: 'backoffice',
      reference: s.deliveries[0]!.reference,
      status: 'Wiedervorlage',
      at: T0,
      source: 'push',
    });
    expect(r).to.include({ recorded: true, outcome: 'unmapped' });
    expect(r.portalStatus).to.equal(undefined);
    const v = await view(s.id);
    expect(v.current).to.equal(null);
    expect(v.history[0]).to.include({ backofficeStatus: 'Wiedervorlage', portalStatus: null, effect: 'unmapped' });
    const d = await store()
      .db.selectFrom('deliveries')
      .select('backoffice_status')
      .where('id', '=', s.deliveries[0]!.id)
      .executeTakeFirstOrThrow();
    expect(d.backoffice_status).to.equal('Wiedervorlage');
    expect(await outbox(s.id)).to.have.length(0);
    expect(lines.lines.some((l) => l.level === 'warn' && l.message.includes('"Wiedervorlage"'))).to.equal(true);
  });

  it('recordDelivered gives RECEIVED once, and never moves a case the back office reported on', async () => {
    const s = await submission(['backoffice']);
    const deliveryId = s.deliveries[0]!.id;
    expect(await recorder.recordDelivered({ deliveryId, at: T0, source: 'delivery' })).to.include({
      recorded: true,
      outcome: 'applied',
      portalStatus: 'RECEIVED',
      sequence: 1,
    });
    expect(await recorder.recordDelivered({ deliveryId, at: T0, source: 'delivery' })).to.include({
      recorded: false,
      outcome: 'unchanged',
    });
    await recorder.record({ targetId: 'backoffice', deliveryId, status: 'in Bearbeitung', at: T0 + 1, source: 'push' });
    expect(await recorder.recordDelivered({ deliveryId, at: T0 + 2, source: 'acknowledgement' })).to.include({
      recorded: false,
      outcome: 'unchanged',
      portalStatus: 'PROCESSING',
    });
    const v = await view(s.id);
    expect(v.history.map((h) => [h.source, h.backofficeStatus, h.portalStatus])).to.deep.equal([
      ['delivery', null, 'RECEIVED'],
      ['push', 'in Bearbeitung', 'PROCESSING'],
    ]);
  });

  it('combines several deliveries into the one status the portal sees', async () => {
    const s = await submission(['backoffice', 'archive']);
    const [a, b] = s.deliveries as [{ id: string; reference: string }, { id: string; reference: string }];
    await recorder.recordDelivered({ deliveryId: a.id, at: T0, source: 'delivery' });
    await recorder.record({ targetId: 'backoffice', reference: a.reference, status: 'erledigt', at: T0 + 1, source: 'push' });
    expect((await view(s.id)).current!.status, 'the archive has no status yet').to.equal('RECEIVED');
    await recorder.record({ targetId: 'archive', reference: b.reference, status: 'in Bearbeitung', at: T0 + 2, source: 'push' });
    expect((await view(s.id)).current!.status).to.equal('PROCESSING');
    await recorder.record({ targetId: 'archive', reference: b.reference, status: 'abgeschlossen', at: T0 + 3, source: 'push' });
    expect((await view(s.id)).current!.status).to.equal('COMPLETED');
    expect((await outbox(s.id)).map((o) => [o.sequence, o.status])).to.deep.equal([
      [1, 'RECEIVED'],
      [2, 'PROCESSING'],
      [3, 'COMPLETED'],
    ]);
  });

  it('queues nothing for a portal without a status callback, but keeps the status', async () => {
    const s = await submission(['backoffice'], 'portal-b');
    const r = await recorder.record({
      targetId: 'backoffice',
      reference: s.deliveries[0]!.reference,
      status: 'abgelehnt',
      reason: 'Unterlagen unvollständig',
      at: T0,
      source: 'push',
    });
    expect(r).to.include({ outcome: 'applied', forwarded: false, sequence: 1 });
    expect((await view(s.id)).current).to.deep.include({ status: 'REJECTED', reason: 'Unterlagen unvollständig' });
    expect(await outbox(s.id)).to.have.length(0);
  });

  it('writes a batch all or nothing', async () => {
    const s = await submission(['backoffice']);
    const ref = s.deliveries[0]!.reference;
    const results = await recorder.recordAll([
      { targetId: 'backoffice', reference: ref, status: 'eingegangen', at: T0, source: 'push' },
      { targetId: 'backoffice', reference: ref, status: 'in Bearbeitung', at: T0 + 1, source: 'push' },
      { targetId: 'backoffice', reference: 'NOPE', status: 'erledigt', at: T0 + 2, source: 'push' },
    ]);
    expect(results.map((r) => r.outcome)).to.deep.equal(['applied', 'applied', 'unknown-case']);
    expect((await outbox(s.id)).map((o) => o.status)).to.deep.equal(['RECEIVED', 'PROCESSING']);
  });
});
