/**
 * The submission the benchmark sends: a realistic bulky-waste application (~1.5 KB of JSON, no attachments)
 * for the bench configuration (tenant 05513000, service sperrmuell). Only the external id changes between
 * requests, so each request is a new submission rather than an idempotent repeat.
 */
export const BENCH_TENANT = '05513000';
export const BENCH_SERVICE = 'sperrmuell';

const ID_SLOT = '__EXTERNAL_ID__';

function envelope(externalId: string): Record<string, unknown> {
  return {
    externalId,
    tenant: BENCH_TENANT,
    service: BENCH_SERVICE,
    submittedAt: '2026-11-24T09:30:00+01:00',
    applicant: {
      salutation: 'Frau',
      givenName: 'Erika',
      familyName: 'Mustermann',
      birthDate: '1964-08-12',
      email: 'erika.mustermann@example.org',
      phone: '+49 209 1234567',
      address: { street: 'Musterweg', houseNumber: '12a', postalCode: '45879', city: 'Gelsenkirchen', district: 'Altstadt', country: 'DE' },
    },
    data: {
      preferredDate: '2026-12-07',
      alternativeDate: '2026-12-14',
      pickupLocation: { sameAsApplicant: true, placement: 'Gehweg vor dem Haus', floor: 'Erdgeschoss', access: 'frei zugänglich' },
      items: [
        { kind: 'furniture', description: 'Kleiderschrank, zerlegt', quantity: 1, volumeM3: 1.5 },
        { kind: 'furniture', description: 'Sofa (Dreisitzer)', quantity: 1, volumeM3: 1.2 },
        { kind: 'furniture', description: 'Stühle, Holz', quantity: 4, volumeM3: 0.4 },
        { kind: 'mattress', description: 'Matratze 90x200', quantity: 2, volumeM3: 0.6 },
        { kind: 'carpet', description: 'Teppich, gerollt', quantity: 1, volumeM3: 0.3 },
        { kind: 'electrical', description: 'Stehlampe', quantity: 1, volumeM3: 0.1 },
      ],
      totalVolumeM3: 4.1,
      containsHazardousWaste: false,
      remarks: 'Bitte vor 9 Uhr abholen; die Möbel stehen ab dem Vorabend an der Straße. Zufahrt über den Hof möglich.',
      consent: { privacyNotice: true, feesAccepted: true, acceptedAt: '2026-11-24T09:29:41+01:00' },
      payment: { method: 'invoice', iban: null },
      channel: { portal: 'bench', formVersion: '2026.3', language: 'de' },
    },
    attachments: [],
  };
}

/** The JSON body split around the external id, so a body is built by concatenation only. */
export function bodyTemplate(): { prefix: string; suffix: string; bytes: number } {
  const text = JSON.stringify(envelope(ID_SLOT));
  const at = text.indexOf(ID_SLOT);
  const prefix = text.slice(0, at);
  const suffix = text.slice(at + ID_SLOT.length);
  return { prefix, suffix, bytes: Buffer.byteLength(prefix + suffix) };
}
