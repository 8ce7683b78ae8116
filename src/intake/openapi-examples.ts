/** Examples of the submission API's description (openapi.ts): a request in JSON and in XML, and the answer to GET. */
import type { SubmissionAnswer } from './submission-answers.ts';

export const EXAMPLE_ID = '019a9f3c-6b2e-7d41-9c1a-4f2b8e0d7a13';

export const exampleEnvelope = {
  externalId: 'SP-2026-000123',
  tenant: '05513000',
  service: 'sperrmuell',
  submittedAt: '2026-11-24T09:30:00+01:00',
  applicant: {
    givenName: 'Erika',
    familyName: 'Mustermann',
    street: 'Musterweg',
    houseNumber: '1',
    postalCode: '45879',
    city: 'Gelsenkirchen',
  },
  data: { preferredDate: '2026-12-07', items: [{ kind: 'furniture', quantity: 2 }] },
  attachments: [{ filename: 'sperrmuell.jpg', mediaType: 'image/jpeg', content: '/9j/4AAQSkZJRgABAQ==' }],
};

export const exampleXml = `<?xml version="1.0" encoding="UTF-8"?>
<submission xmlns="urn:amtsbote:submission:1">
  <externalId>SP-2026-000124</externalId>
  <tenant>05562014</tenant>
  <service>99050012104000</service>
  <submittedAt>2026-11-24T09:30:00+01:00</submittedAt>
  <applicant>
    <givenName>Erika</givenName>
    <familyName>Mustermann</familyName>
    <postalCode>45964</postalCode>
    <city>Gladbeck</city>
  </applicant>
  <data>
    <preferredDate>2026-12-07</preferredDate>
    <express type="boolean">false</express>
    <items>
      <item><kind>furniture</kind><quantity type="number">2</quantity></item>
    </items>
  </data>
  <attachments>
    <item>
      <filename>sperrmuell.jpg</filename>
      <mediaType>image/jpeg</mediaType>
      <content>/9j/4AAQSkZJRgABAQ==</content>
    </item>
  </attachments>
</submission>
`;

export const exampleSubmission = {
  id: EXAMPLE_ID,
  externalId: 'SP-2026-000123',
  tenant: '05513000',
  service: 'sperrmuell',
  submittedAt: '2026-11-24T09:30:00+01:00',
  receivedAt: '2026-11-24T08:30:01.512Z',
  status: 'delivered',
  formData: 'held',
  purgedAt: null,
  caseStatus: { status: 'PROCESSING', reason: null, at: '2026-11-25T07:00:00.000Z', sequence: 2 },
  statusHistory: [
    {
      at: '2026-11-24T08:30:03.020Z',
      recordedAt: '2026-11-24T08:30:03.031Z',
      source: 'delivery',
      target: 'abfallwirtschaft',
      deliveryId: '019a9f3c-6b2f-7a02-8e55-0c7d3b91f4e6',
      backofficeStatus: null,
      status: 'RECEIVED',
      reason: null,
      effect: 'applied',
    },
    {
      at: '2026-11-25T07:00:00.000Z',
      recordedAt: '2026-11-25T07:00:00.412Z',
      source: 'push',
      target: 'abfallwirtschaft',
      deliveryId: '019a9f3c-6b2f-7a02-8e55-0c7d3b91f4e6',
      backofficeStatus: 'disponiert',
      status: 'PROCESSING',
      reason: null,
      effect: 'applied',
    },
  ],
  deliveries: [
    {
      id: '019a9f3c-6b2f-7a02-8e55-0c7d3b91f4e6',
      target: 'abfallwirtschaft',
      route: 'sperrmuell-gelsenkirchen',
      state: 'delivered',
      attempts: 2,
      nextAttemptAt: null,
      reference: 'AZ-2026-4711',
      lastError: null,
      lastErrorKind: null,
      deliveredAt: '2026-11-24T08:30:03.020Z',
      attemptLog: [
        {
          number: 1,
          startedAt: '2026-11-24T08:30:01.530Z',
          finishedAt: '2026-11-24T08:30:01.601Z',
          durationMs: 71,
          outcome: 'retry',
          error: 'HTTP 503: down for maintenance',
          errorKind: 'http-503',
          httpStatus: 503,
          reference: null,
        },
        {
          number: 2,
          startedAt: '2026-11-24T08:30:02.950Z',
          finishedAt: '2026-11-24T08:30:03.020Z',
          durationMs: 70,
          outcome: 'delivered',
          error: null,
          errorKind: null,
          httpStatus: 201,
          reference: 'AZ-2026-4711',
        },
      ],
    },
  ],
} satisfies SubmissionAnswer;
