import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { z } from 'zod';
import { xta2OptionsSchema } from './options.ts';

// docs/xta2.md lists every option of the adapter: this keeps the table true to the schema.

describe('xta2 options in docs/xta2.md', () => {
  it('names every option, nested blocks by their dotted paths', () => {
    const doc = readFileSync(new URL('../../docs/xta2.md', import.meta.url), 'utf8');
    const schema = z.toJSONSchema(xta2OptionsSchema, { io: 'input' }) as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    const nested = new Set(['endpoints', 'tls', 'author', 'reader']);
    const paths = Object.entries(schema.properties).flatMap(([k, v]) =>
      nested.has(k) ? Object.keys(v.properties ?? {}).map((s) => `${k}.${s}`) : [k],
    );
    expect(paths.length).to.be.greaterThan(15);
    const missing = paths.filter((p) => !doc.includes(`\`${p}\``));
    expect(missing, 'options missing from docs/xta2.md').to.deep.equal([]);
  });
});
