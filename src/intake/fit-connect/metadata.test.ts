import { expect } from 'chai';
import { checkContentStructure, parseMetadata } from './metadata.ts';
import { PROBLEM_BASE } from './problems.ts';

const hash = 'ab'.repeat(64);
const attachmentId = '0b799252-deb9-42b0-98d3-c50d24bbafe0';
// Shaped as the metadata schema 1.0.0 and FIT-Connect's documentation examples shape it.
const valid = {
  $schema: 'https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json',
  publicServiceType: { identifier: 'urn:de:fim:leika:leistung:99102013104000', name: 'Hundeanmeldung' },
  contentStructure: {
    data: {
      hash: { type: 'sha512', content: hash },
      submissionSchema: { schemaUri: 'https://schema.fitko.de/fim/s00000092_1.0.schema.json', mimeType: 'application/json' },
    },
    attachments: [
      {
        attachmentId,
        hash: { type: 'sha512', content: hash },
        purpose: 'attachment',
        mimeType: 'application/pdf',
        filename: 'impfpass.pdf',
      },
    ],
  },
  replyChannel: { eMail: { address: 'buerger@example.org' } },
};
const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const clone = () => structuredClone(valid) as Record<string, any>;

describe('FIT-Connect metadata', () => {
  it('takes metadata of schema 1.x and keeps fields it does not model', () => {
    const result = parseMetadata(bytes(valid));
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    expect(result.metadata.contentStructure.data?.submissionSchema.schemaUri).to.equal(
      'https://schema.fitko.de/fim/s00000092_1.0.schema.json',
    );
    expect(result.metadata).to.have.nested.property('replyChannel.eMail.address');
  });

  it('rejects metadata without contentStructure as a schema violation of the metadata, naming the path', () => {
    const m = clone();
    delete m.contentStructure;
    const result = parseMetadata(bytes(m));
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.problems[0]).to.include({ type: `${PROBLEM_BASE}schema-violation`, instance: 'metadata' });
    expect(result.problems[0]!.detail).to.contain('contentStructure');
  });

  it('names every broken field of data and attachments, without their values', () => {
    const m = clone();
    m.contentStructure.data.hash.type = 'md5';
    m.contentStructure.data.submissionSchema.mimeType = 'text/csv';
    m.contentStructure.attachments[0].purpose = 'selfie';
    delete m.contentStructure.attachments[0].mimeType;
    const result = parseMetadata(bytes(m));
    if (result.ok) throw new Error('accepted');
    const detail = result.problems[0]!.detail;
    for (const path of [
      'contentStructure.data.hash.type',
      'contentStructure.data.submissionSchema.mimeType',
      'contentStructure.attachments.0.purpose',
      'contentStructure.attachments.0.mimeType',
    ]) {
      expect(detail).to.contain(path);
    }
    expect(detail).not.to.contain('selfie');
  });

  it('answers syntax-violation for metadata that is not JSON and unsupported-schema for a version 2', () => {
    const broken = parseMetadata(bytes('{"contentStructure":'));
    expect(broken.ok ? undefined : broken.problems[0]!.type).to.equal(`${PROBLEM_BASE}syntax-violation`);
    const m = clone();
    m.$schema = 'https://schema.fitko.de/fit-connect/metadata/2.0.0/metadata.schema.json';
    const v2 = parseMetadata(bytes(m));
    expect(v2.ok ? undefined : v2.problems[0]!.type).to.equal(`${PROBLEM_BASE}unsupported-schema`);
  });

  it('compares the metadata with the submission: attachment ids and the presence of data', () => {
    const parsed = parseMetadata(bytes(valid));
    if (!parsed.ok) throw new Error('refused');
    expect(checkContentStructure(parsed.metadata, { encryptedData: 'x.y.z.a.b', attachments: [attachmentId] })).to.deep.equal([]);
    const other = checkContentStructure(parsed.metadata, {
      encryptedData: 'x.y.z.a.b',
      attachments: ['25abf553-0e53-43b9-a14a-1581b32a9ee5'],
    });
    expect(other.map((p) => p.type)).to.deep.equal([`${PROBLEM_BASE}attachments-mismatch`]);
    const noData = checkContentStructure(parsed.metadata, { attachments: [attachmentId] });
    expect(noData[0]).to.include({ type: `${PROBLEM_BASE}missing-data`, instance: 'data' });
  });
});
