// The back-office body of the backlog baseline and the graphile-worker anchor.

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
