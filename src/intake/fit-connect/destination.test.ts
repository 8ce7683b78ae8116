import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { builtinAdapters } from '../../../adapters/index.ts';
import { ConfigError, formatProblem } from '../../config/errors.ts';
import { loadConfig } from '../../config/load.ts';
import { compileInbound } from '../../inbound/setup.ts';
import { Router } from '../../routing/router.ts';
import { testKeys } from '../../demo/simulators/fit-connect-keys.ts';
import { buildDestinations } from './destination.ts';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/fit-connect', import.meta.url));
const now = () => 0;

/** The destinations of the FIT-Connect test configuration, built as start builds them, from a copy that `edit` may change. */
describe('FIT-Connect destinations from the configuration', function () {
  this.timeout(60_000);
  let dir: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    const keys = await testKeys();
    dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-fc-config-'));
    cpSync(FIXTURE, dir, { recursive: true });
    // The fixture names the shared inbound fixtures relative to its own place.
    const file = path.join(dir, 'hub.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('../../../src/', `${path.resolve(FIXTURE, '../../../src')}/`));
    env = {
      FC_URL: 'http://127.0.0.1:9',
      FC_DESTINATION_ID: '6f1c2a4e-7b3d-4e5f-9a8b-0c1d2e3f4a5b',
      FC_CLIENT_ID: 'client',
      FC_CLIENT_SECRET: 'client-secret-do-not-show',
      FC_DECRYPTION_JWK: JSON.stringify(keys.destination.encryption.privateJwk),
      FC_SIGNING_JWK: JSON.stringify(keys.destination.signing.privateJwk),
      FC_CALLBACK_SECRET: 'callback-secret-0123456789',
      FC_POLL_CRON: '*/5 * * * *',
      BACKOFFICE_URL: 'http://127.0.0.1:9',
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const build = async (o: { keys?: boolean } = {}) => {
    const config = loadConfig(dir, { adapters: builtinAdapters, env });
    const router = new Router(config);
    return buildDestinations(config, router, compileInbound(config), now, o);
  };
  const problems = async (o: { keys?: boolean } = {}) => {
    try {
      await build(o);
    } catch (e) {
      if (e instanceof ConfigError) return e.problems.map(formatProblem);
      throw e;
    }
    return [];
  };
  const edit = (change: (yaml: string) => string) => {
    const file = path.join(dir, 'hub.yaml');
    writeFileSync(file, change(readFileSync(file, 'utf8')));
  };

  it('builds the destination with its keys, schemas and service group', async () => {
    const [d] = await build();
    expect(d!.config.name).to.equal('gelsenkirchen');
    expect(d!.portal).to.include({ id: 'fit-connect-gelsenkirchen' });
    expect([...d!.services]).to.deep.equal(['gewerbeanmeldung', 'hundeanmeldung', 'sperrmuell']);
    expect([...d!.schemas.keys()]).to.have.length(3);
  });

  it('names an unknown channel and service by their key paths', async () => {
    edit((y) =>
      y.replace('channel: xgewerbeanzeige }', 'channel: gibt-es-nicht }').replace('services: [gewerbeanmeldung,', 'services: [gewerbe,'),
    );
    const found = await problems({ keys: false });
    expect(found.some((p) => p.includes('fitConnect.destinations[0].services[0]: unknown service gewerbe'))).to.equal(true);
    expect(found.some((p) => p.includes('fitConnect.destinations[0].schemas[0].channel: no inbound channel gibt-es-nicht'))).to.equal(true);
  });

  it('refuses a key that is no JWK, or one for the wrong use, without showing it', async () => {
    env.FC_DECRYPTION_JWK = '{"kty": "RSA", "geheim": "do-not-show"';
    env.FC_SIGNING_JWK = env.FC_SIGNING_JWK!.replace('"sign"', '"verify"');
    const found = await problems();
    expect(found.some((p) => p.includes('decryptionKey: the key is not a JWK in JSON'))).to.equal(true);
    expect(found.some((p) => p.includes('signingKey: the signing key must have key_ops ["sign"]'))).to.equal(true);
    expect(found.join('\n')).not.to.include('do-not-show');
    // config check does not read keys; the references are fine.
    expect(await problems({ keys: false })).to.deep.equal([]);
  });
});
