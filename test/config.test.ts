import { systemClock } from '../src/clock.ts';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { builtinAdapters } from '../adapters/index.ts';
import { loadConfig, hashToken } from '../src/config/load.ts';
import { ConfigError, formatProblem } from '../src/config/errors.ts';
import { checkConfig } from '../src/config/check.ts';
import { adapterRegistry } from '../src/config/adapter-folders.ts';
import { configJsonSchema } from '../src/config/json-schema.ts';
import { maskSecrets } from '../src/sdk/index.ts';
import { FIXTURE_CONFIG } from './support/hub.ts';

const BIN = fileURLToPath(new URL('../bin/amtsbote.js', import.meta.url));
const env = { BACKOFFICE_URL: 'http://127.0.0.1:9', TEST_PORTAL_A_TOKEN: 'portal-a-token-0123456789', DROP_DIR: '/tmp' };

/** A copy of the fixture configuration (and its mappings) that a test may break. */
function fixtureCopy(): { dir: string; config: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-config-'));
  cpSync(path.dirname(FIXTURE_CONFIG), dir, { recursive: true });
  return { dir, config: path.join(dir, 'config'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map(formatProblem);
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('loads the fixture, resolves ${env:…} and keeps only the token hash', () => {
    const c = loadConfig(FIXTURE_CONFIG, { adapters: builtinAdapters, env });
    expect(c.hub.tenants).to.have.length(5);
    const portal = c.hub.portals.find((p) => p.id === 'portal-a')!;
    expect(portal.token).to.equal(undefined);
    expect(portal.tokenHash).to.equal(hashToken('portal-a-token-0123456789'));
    const target = c.targets.get('backoffice')!;
    expect(target.options).to.include({ url: 'http://127.0.0.1:9/cases', method: 'POST' });
    expect(target.format).to.equal('json');
    expect(c.targets.get('archive')!.format).to.equal('xml');
  });

  it('names the file, line, key path and expectation of every problem', () => {
    const f = fixtureCopy();
    try {
      const targets = path.join(f.config, 'targets.yaml');
      writeFileSync(
        targets,
        readFileSync(targets, 'utf8')
          .replace('timeoutMs: 2000', 'timeoutMs: fast')
          .replace('referencePointer: /caseId', 'referencePointer: caseId'),
      );
      const routes = path.join(f.config, 'registry.yaml');
      writeFileSync(
        routes,
        readFileSync(routes, 'utf8').replace('{ key: "05512000", name: Bottrop }', '{ key: "5512000", name: Bottrop }'),
      );
      const problems = problemsOf(() => loadConfig(f.config, { adapters: builtinAdapters, env }));
      expect(problems).to.have.length(3);
      expect(problems[0]).to.equal(
        `${path.join(f.config, 'registry.yaml')}:5:12 tenants[3].key: an official key: 8-digit AGS of a municipality or 5-digit key of a district`,
      );
      expect(problems[1]).to.equal(`${targets}:4:16 targets.backoffice.timeoutMs: Invalid input: expected number, received string`);
      expect(problems[2]).to.match(/targets\.yaml:7:25 targets\.backoffice\.options\.referencePointer: /);
    } finally {
      f.cleanup();
    }
  });

  it('reports adapter options by target id and key path', () => {
    const f = fixtureCopy();
    try {
      const targets = path.join(f.config, 'targets.yaml');
      writeFileSync(
        targets,
        readFileSync(targets, 'utf8').replace('referencePointer: /caseId', 'referencePointer: /caseId\n      colour: blue'),
      );
      const problems = problemsOf(() => loadConfig(f.config, { adapters: builtinAdapters, env }));
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/targets\.yaml:\d+:\d+ targets\.backoffice\.options\.colour: unknown key/);
    } finally {
      f.cleanup();
    }
  });

  it('suggests the known key an unknown one was probably meant to be, in the hub and in adapter options', () => {
    const f = fixtureCopy();
    try {
      const hub = path.join(f.config, 'hub.yaml');
      writeFileSync(
        hub,
        readFileSync(hub, 'utf8')
          .replace('pollIntervalMs: 50', 'pollIntervallMs: 50')
          .replace('  console: false', '  consol: false\n  colour: true'),
      );
      const targets = path.join(f.config, 'targets.yaml');
      writeFileSync(targets, readFileSync(targets, 'utf8').replace('referencePointer: /caseId', 'refrencePointer: /caseId'));
      const problems = problemsOf(() => loadConfig(f.config, { adapters: builtinAdapters, env }));
      expect(problems).to.deep.equal([
        `${hub}:9:20 worker.pollIntervallMs: unknown key; did you mean "pollIntervalMs"?`,
        `${hub}:14:11 log.consol: unknown key; did you mean "console"?`,
        // Nothing close: the keys that are known there.
        `${hub}:15:11 log.colour: unknown key; known: level, file, console`,
        `${targets}:7:24 targets.backoffice.options.refrencePointer: unknown key; did you mean "referencePointer"?`,
      ]);
    } finally {
      f.cleanup();
    }
  });

  it('says to quote an AGS or LeiKa key that YAML read as a number', () => {
    const f = fixtureCopy();
    try {
      const registry = path.join(f.config, 'registry.yaml');
      writeFileSync(
        registry,
        readFileSync(registry, 'utf8')
          .replace('{ key: "05512000", name: Bottrop }', '{ key: 05512000, name: Bottrop }')
          .replace('leika: "99102013104000"', 'leika: 99102013104000')
          .replace('tenants: ["05512000"]', 'tenants: [05512000]'),
      );
      const problems = problemsOf(() => loadConfig(f.config, { adapters: builtinAdapters, env }));
      expect(problems).to.deep.equal([
        `${registry}:5:12 tenants[3].key: YAML reads 05512000 as the number 5512000, losing the leading zero; write it in quotes: '05512000'`,
        `${registry}:9:36 services[1].leika: YAML reads 99102013104000 as a number, where text is expected; write it in quotes: '99102013104000'`,
        `${registry}:19:15 portals[1].tenants[0]: YAML reads 05512000 as the number 5512000, losing the leading zero; write it in quotes: '05512000'`,
      ]);
    } finally {
      f.cleanup();
    }
  });

  it('reports an acceptance rule that does not compile by target id, key path and line:column', () => {
    const f = fixtureCopy();
    try {
      const targets = path.join(f.config, 'targets.yaml');
      writeFileSync(
        targets,
        readFileSync(targets, 'utf8').replace(
          'referencePointer: /caseId',
          'referencePointer: /caseId\n      acceptance: { accepted: \'status = "0" and (\' }',
        ),
      );
      const problems = problemsOf(() => loadConfig(f.config, { adapters: builtinAdapters, env }));
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(
        /targets\.yaml:\d+:\d+ targets\.backoffice\.options\.acceptance\.accepted: JSONata syntax error at 1:\d+: /,
      );
    } finally {
      f.cleanup();
    }
  });

  it('reports a missing environment variable without printing any secret', () => {
    const problems = problemsOf(() =>
      loadConfig(FIXTURE_CONFIG, { adapters: builtinAdapters, env: { BACKOFFICE_URL: 'http://x', DROP_DIR: '/tmp' } }),
    );
    expect(problems).to.deep.equal([
      `${path.join(FIXTURE_CONFIG, 'registry.yaml')}:13:12 portals[0].token: environment variable TEST_PORTAL_A_TOKEN is not set`,
    ]);
  });

  it('checks references: unknown tenants, services, targets and double routes', () => {
    const f = fixtureCopy();
    try {
      const targets = path.join(f.config, 'targets.yaml');
      writeFileSync(
        targets,
        readFileSync(targets, 'utf8')
          .replace('tenants: ["05562014"]', 'tenants: ["05562014", "05513000", "01001000"]')
          .replace('{ target: backoffice, mapping: broken.jsonata }', '{ target: nowhere, mapping: broken.jsonata }'),
      );
      const problems = problemsOf(() => loadConfig(f.config, { adapters: builtinAdapters, env })).join('\n');
      expect(problems).to.include('tenant 05513000 and service hundeanmeldung are already routed by route dogs');
      expect(problems).to.include('no tenant 01001000');
      expect(problems).to.include('no target nowhere');
    } finally {
      f.cleanup();
    }
  });

  it('names both services and where the first stands when a service key is used twice', () => {
    const f = fixtureCopy();
    try {
      const registry = path.join(f.config, 'registry.yaml');
      writeFileSync(
        registry,
        readFileSync(registry, 'utf8').replace(
          'services:\n',
          'services:\n  - { slug: hundesteuer, leika: "99102013104000", name: Hundesteuer Anmeldung }\n',
        ),
      );
      const problems = problemsOf(() => loadConfig(f.config, { adapters: builtinAdapters, env }));
      expect(problems).to.deep.equal([
        `${registry}:10:5 services[2]: service key 99102013104000 is used twice: by hundeanmeldung "Anmeldung eines Hundes" and by hundesteuer "Hundesteuer Anmeldung" at services[0] (${registry}:8)`,
      ]);
    } finally {
      f.cleanup();
    }
  });

  it('compiles every mapping at start-up and reports a syntax error with its position', async () => {
    const f = fixtureCopy();
    try {
      writeFileSync(path.join(f.dir, 'mappings', 'dog.jsonata'), '{ "a": data.( }');
      const r = await checkConfig(f.config, env, { clock: systemClock, builtinAdapters });
      expect(r.ok).to.equal(false);
      if (!r.ok)
        expect(r.problems.join('\n')).to.match(/targets\.yaml:\d+:\d+ routes\[1\]\.targets\[0\]\.mapping: dog\.jsonata:\d+:\d+ \(S0\d+\)/);
    } finally {
      f.cleanup();
    }
  });

  it('finds WSDL, XSD and other files of the configuration relative to its folder', () => {
    const demo = fileURLToPath(new URL('../config', import.meta.url));
    const c = loadConfig(demo, { adapters: builtinAdapters, env: {} });
    expect((c.targets.get('bottrop-hundesteuer')!.options as { wsdl: string }).wsdl).to.equal(
      path.join(demo, 'wsdl', 'hundesteuer-bottrop.wsdl'),
    );
    expect((c.targets.get('kreis-re-abfall-xml')!.options as { schema: string }).schema).to.equal(
      path.join(demo, 'xsd', 'sperrmuell-auftrag.xsd'),
    );
  });

  it('loads adapters from the folders paths.adapters names, and refuses a folder that is not there', async () => {
    const f = fixtureCopy();
    try {
      const extra = fileURLToPath(new URL('./fixtures/extra-adapters', import.meta.url));
      const hub = path.join(f.config, 'hub.yaml');
      writeFileSync(hub, readFileSync(hub, 'utf8').replace('  mappings: ../mappings', `  mappings: ../mappings\n  adapters: ["${extra}"]`));
      const targets = path.join(f.config, 'targets.yaml');
      writeFileSync(
        targets,
        readFileSync(targets, 'utf8').replace(
          'routes:',
          '  echo:\n    adapter: echo-office\n    timeoutMs: 2000\n    options: { token: "${env:ECHO_TOKEN:-echo-token-1234}" }\nroutes:',
        ),
      );
      const r = await checkConfig(f.config, env, { clock: systemClock, builtinAdapters });
      expect(r, JSON.stringify(r)).to.deep.include({ ok: true });
      const registry = await adapterRegistry(f.config, builtinAdapters);
      expect([...registry.keys()]).to.include.members(['rest', 'soap', 'xml-http', 'file-drop', 'echo-office']);
      writeFileSync(hub, readFileSync(hub, 'utf8').replace(extra, '/nowhere/adapters'));
      const problems = await adapterRegistry(f.config, builtinAdapters).then(
        () => [],
        (e: ConfigError) => e.problems.map(formatProblem),
      );
      expect(problems.join('\n')).to.match(/hub\.yaml:\d+:\d+ paths\.adapters\[0\]: adapter folder not found: \/nowhere\/adapters/);
    } finally {
      f.cleanup();
    }
  });

  it('masks secrets wherever options are shown', () => {
    const rest = builtinAdapters.get('rest')!;
    const opts = rest.options.parse({ url: 'https://x.example/api', auth: { type: 'basic', username: 'u', password: 'hunter2' } });
    expect(JSON.stringify(maskSecrets(rest.options, opts))).not.to.include('hunter2');
  });

  it('publishes a JSON Schema that completes adapter options and marks secrets', () => {
    const schema = JSON.stringify(configJsonSchema(builtinAdapters));
    expect(schema).to.include('"referencePointer"');
    expect(schema).to.include('"writeOnly":true');
    const committed = JSON.parse(readFileSync(fileURLToPath(new URL('../config/amtsbote.schema.json', import.meta.url)), 'utf8'));
    expect(committed, 'config/amtsbote.schema.json is stale: run npm run config:schema').to.deep.equal(configJsonSchema(builtinAdapters));
  });

  describe('amtsbote config check', function () {
    this.timeout(30_000);
    it('exits 0 on the demo configuration', () => {
      const out = execFileSync(process.execPath, [BIN, 'config', 'check', fileURLToPath(new URL('../config', import.meta.url))], {
        encoding: 'utf8',
      });
      expect(out).to.match(/ok — 13 tenants, 3 services, 1 portal,/);
    });
    it('exits 1 and lists the problems', () => {
      const r = spawnSync(process.execPath, [BIN, 'config', 'check', FIXTURE_CONFIG], {
        encoding: 'utf8',
        env: { ...process.env, BACKOFFICE_URL: '', TEST_PORTAL_A_TOKEN: '' },
      });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/environment variable TEST_PORTAL_A_TOKEN is not set/);
      expect(r.stderr).not.to.match(/at .*\.ts:\d+/);
    });
  });
});
