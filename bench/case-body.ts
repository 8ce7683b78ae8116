// The back-office body of the backlog baseline and the graphile-worker anchor, and how both POST it.

import http from 'node:http';

/** A body shaped like the hub's message for the bench mapping (bench/mappings/sperrmuell.jsonata). */
export function caseBody(): string {
  return JSON.stringify({
    kind: 'sperrmuell',
    externalId: 'baseline',
    tenant: '05513000',
    service: '99050012104000',
    applicant: { name: 'Erika Mustermann', email: 'erika.mustermann@example.org', address: 'Musterweg 12a, 45879 Gelsenkirchen' },
    pickupDate: '2026-12-07',
    items: [
      { kind: 'furniture', quantity: 1 },
      { kind: 'furniture', quantity: 1 },
      { kind: 'furniture', quantity: 4 },
      { kind: 'mattress', quantity: 2 },
      { kind: 'carpet', quantity: 1 },
      { kind: 'electrical', quantity: 1 },
    ],
    itemCount: 6,
  });
}

/** POSTs one case to the back office with its own Idempotency-Key; resolves with the status. */
export function postCase(agent: http.Agent, url: URL, body: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'idempotency-key': key },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
