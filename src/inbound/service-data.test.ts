import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { JsonSchemaLoadError } from './json-schema.ts';
import { loadServiceSchemas, validateServiceData } from './service-data.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('inbound: form data validated per service', () => {
  const schemas = loadServiceSchemas({ hundeanmeldung: 'hundeanmeldung-daten.schema.json' }, fixtures);
  const good = { hund: { rasse: 'Labrador', geburtsdatum: '2025-06-01', chipnummer: '276098106012345' } };

  it('passes data that fits the service schema, and any data of a service without one', () => {
    expect(validateServiceData(schemas, 'hundeanmeldung', good)).to.deep.equal({ ok: true });
    expect(validateServiceData(schemas, 'sperrmuell', { anything: ['goes'] })).to.deep.equal({ ok: true });
  });

  it('refuses bad data with 422 and every offending path into the submission', () => {
    const r = validateServiceData(schemas, 'hundeanmeldung', {
      hund: { rasse: '', geburtsdatum: '2025-02-30', chipnummer: '12' },
      halter: { seit: 'gestern' },
    });
    if (r.ok) throw new Error('accepted');
    expect(r.status).to.equal(422);
    expect(r.errors).to.deep.equal([
      { path: '/data/hund/rasse', detail: 'must NOT have fewer than 1 characters' },
      { path: '/data/hund/geburtsdatum', detail: 'must match format "date"' },
      { path: '/data/hund/chipnummer', detail: 'must match pattern "^[0-9]{15}$"' },
      { path: '/data/halter/seit', detail: 'must match format "date"' },
    ]);
    expect(r.path).to.equal('/data/hund/rasse');
    expect(r.detail).to.equal(
      'the data does not fit the schema of service hundeanmeldung: /data/hund/rasse must NOT have fewer than 1 characters (and 3 more)',
    );
    // The values are form data: the answer names the rule only.
    expect(JSON.stringify(r)).not.to.include('gestern');
  });

  it('names a missing field at the field itself', () => {
    const r = validateServiceData(schemas, 'hundeanmeldung', { hund: { rasse: 'Mops', geburtsdatum: '2025-06-01' } });
    expect(r).to.deep.include({
      ok: false,
      status: 422,
      path: '/data/hund/chipnummer',
      errors: [{ path: '/data/hund/chipnummer', detail: 'required' }],
    });
  });

  it('fails at start-up for a schema that cannot be read', () => {
    expect(() => loadServiceSchemas({ hundeanmeldung: 'missing.schema.json' }, fixtures)).to.throw(
      JsonSchemaLoadError,
      /missing\.schema\.json cannot be read/,
    );
  });
});
