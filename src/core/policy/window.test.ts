import { expect } from 'chai';
import { DeliveryWindows, parseWindow } from './window.ts';

const at = (iso: string) => Date.parse(iso);

describe('delivery windows', () => {
  const office = new DeliveryWindows(['Mon-Fri 06:00-22:00 Europe/Berlin']);

  it('opens and closes on the municipality’s wall clock, in winter and in summer', () => {
    // Tuesday 24 November 2026, CET (UTC+1).
    expect(office.isOpen(at('2026-11-24T04:59:00Z'))).to.equal(false);
    expect(office.isOpen(at('2026-11-24T05:00:00Z'))).to.equal(true);
    expect(office.isOpen(at('2026-11-24T20:59:00Z'))).to.equal(true);
    expect(office.isOpen(at('2026-11-24T21:00:00Z'))).to.equal(false);
    // Wednesday 1 July 2026, CEST (UTC+2).
    expect(office.isOpen(at('2026-07-01T03:59:00Z'))).to.equal(false);
    expect(office.isOpen(at('2026-07-01T04:00:00Z'))).to.equal(true);
    // Saturday.
    expect(office.isOpen(at('2026-11-28T10:00:00Z'))).to.equal(false);
  });

  it('knows when the current period opened and when the next one opens', () => {
    expect(office.openedAt(at('2026-11-24T09:15:00Z'))).to.equal(at('2026-11-24T05:00:00Z'));
    expect(office.openedAt(at('2026-11-24T22:00:00Z'))).to.equal(undefined);
    // Friday night → Monday morning.
    expect(office.nextOpening(at('2026-11-27T22:00:00Z'))).to.equal(at('2026-11-30T05:00:00Z'));
    // Across the change to summer time (Sunday 29 March 2026): Monday 06:00 is 04:00Z.
    expect(office.nextOpening(at('2026-03-27T22:00:00Z'))).to.equal(at('2026-03-30T04:00:00Z'));
  });

  it('runs past midnight when the end is before the start', () => {
    const night = new DeliveryWindows(['Daily 22:00-06:00']);
    expect(night.isOpen(at('2026-11-24T01:00:00Z'))).to.equal(true); // 02:00 local
    expect(night.openedAt(at('2026-11-24T01:00:00Z'))).to.equal(at('2026-11-23T21:00:00Z'));
    expect(night.isOpen(at('2026-11-24T12:00:00Z'))).to.equal(false);
    expect(night.nextOpening(at('2026-11-24T12:00:00Z'))).to.equal(at('2026-11-24T21:00:00Z'));
  });

  it('combines several windows, in German day names too', () => {
    const w = new DeliveryWindows(['Mo-Fr 07:00-16:00', 'Sa 08:00-12:00 UTC']);
    expect(w.isOpen(at('2026-11-28T09:00:00Z'))).to.equal(true);
    expect(w.isOpen(at('2026-11-28T12:30:00Z'))).to.equal(false);
    expect(w.nextOpening(at('2026-11-28T12:30:00Z'))).to.equal(at('2026-11-30T06:00:00Z'));
  });

  it('counts a delivery that fell due while closed as waiting only since the opening', () => {
    const dueFriday = at('2026-11-27T22:30:00Z');
    const mondayTen = at('2026-11-30T05:10:00Z');
    expect(office.dueSince(dueFriday, mondayTen)).to.equal(at('2026-11-30T05:00:00Z'));
    // Due while open: from when it fell due.
    expect(office.dueSince(at('2026-11-30T05:05:00Z'), mondayTen)).to.equal(at('2026-11-30T05:05:00Z'));
    expect(new DeliveryWindows(undefined).dueSince(dueFriday, mondayTen)).to.equal(dueFriday);
  });

  it('explains what is wrong with a window it cannot read', () => {
    const error = (t: string) => {
      const p = parseWindow(t);
      return p.ok ? undefined : p.error;
    };
    expect(error('Mon-Fri 6-22')).to.match(/not a time range like 06:00-22:00/);
    expect(error('Mon-Fry 06:00-22:00')).to.match(/"mon-fry" is not a day/);
    expect(error('Mon-Fri 06:00-22:00 Mars/Olympus')).to.match(/not an IANA time zone/);
    expect(error('Mon 08:00-08:00')).to.match(/empty/);
    expect(error('Mon 08:00-25:00')).to.match(/00:00 to 24:00/);
    expect(error('Mon-Fri 06:00-24:00')).to.equal(undefined);
  });
});
