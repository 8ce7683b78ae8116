// `amtsbote config check` runs every check `amtsbote start` runs, on real files: a configuration folder with
// a SOAP target (WSDL), an XML target (XSD) and a TLS target (certificate and key), broken one way at a time.
// `--connect` then asks real back offices on 127.0.0.1: one that works, one that refuses the credentials,
// and a closed port.
import { builtinAdapters } from '../adapters/index.ts';
import { systemClock } from '../src/clock.ts';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { checkConfig } from '../src/config/check.ts';
import { ConfigError, formatProblem } from '../src/config/errors.ts';
import { startHub } from '../src/hub.ts';
import { openStore } from '../src/store/index.ts';
import { HundesteuerBackOffice, WSDL_PATH } from '../adapters/soap/fixtures/back-office.ts';
import { makePki, opensslAvailable, type TestPki } from '../adapters/soap/fixtures/certs.ts';
import { TestBackOffice } from './support/backoffice.ts';
import { amtsbote as runAmtsbote, PROJECT_ROOT as root } from './support/run.ts';
import { FIXTURE_CONFIG } from './support/hub.ts';

const SOAP_USER = 'amtsbote';
const SOAP_PASSWORD = 'Hunde-Geheim-4711!';
const PASSPHRASE = 'Schlüssel-Passphrase-0815';

const amtsbote = (args: string[], env: NodeJS.ProcessEnv) => runAmtsbote(args, { env });

/** The test's targets, added to the fixture's: SOAP with WS-Security, XML with an XSD, REST over mutual TLS. */
const TARGETS = `
  dogtax-soap:
    adapter: soap
    timeoutMs: 2000
    options:
      wsdl: wsdl/hundesteuer.wsdl
      operation: Anmelden
      endpoint: \${env:SOAP_URL}
      security: { type: usernameToken, username: ${SOAP_USER}, password: "\${env:SOAP_PASSWORD}" }
  waste-xml:
    adapter: xml-http
    timeoutMs: 2000
    options:
      url: \${env:BACKOFFICE_URL}/xml
      schema: xsd/sperrmuell-auftrag.xsd
  tls-rest:
    adapter: rest
    timeoutMs: 2000
    options:
      url: https://127.0.0.1:9/cases
      tls: { cert: tls/client.crt, key: tls/client.key, passphrase: "\${env:TLS_PASSPHRASE}", ca: tls/ca.crt }
`;

describe('amtsbote config check: every check start runs', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let dir: string;
  let config: string;
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    BACKOFFICE_URL: 'http://127.0.0.1:9',
    TEST_PORTAL_A_TOKEN: 'portal-a-token-0123456789',
    DROP_DIR: dir,
    SOAP_URL: 'http://127.0.0.1:9/hundesteuer/soap11',
    SOAP_PASSWORD,
    TLS_PASSPHRASE: PASSPHRASE,
    ...extra,
  });

  before(function () {
    if (!opensslAvailable()) this.skip();
    pki = makePki(PASSPHRASE);
  });
  after(() => pki?.remove());

  beforeEach(() => {
    // The fixture configuration with its mappings, plus the files the new targets name.
    dir = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-check-'));
    cpSync(path.dirname(FIXTURE_CONFIG), dir, { recursive: true });
    config = path.join(dir, 'config');
    mkdirSync(path.join(config, 'wsdl'));
    copyFileSync(WSDL_PATH, path.join(config, 'wsdl', 'hundesteuer.wsdl'));
    cpSync(path.join(root, 'config', 'xsd'), path.join(config, 'xsd'), { recursive: true });
    mkdirSync(path.join(config, 'tls'));
    for (const [from, to] of [
      [pki.clientCert, 'client.crt'],
      [pki.clientKey, 'client.key'],
      [pki.caCert, 'ca.crt'],
    ] as const)
      copyFileSync(from, path.join(config, 'tls', to));
    edit((y) => y.replace('routes:', `${TARGETS.slice(1)}routes:`));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function edit(change: (yaml: string) => string): void {
    const file = path.join(config, 'targets.yaml');
    const before = readFileSync(file, 'utf8');
    const after = change(before);
    if (after === before) throw new Error('the edit changed nothing');
    writeFileSync(file, after);
  }

  it('is ok for the intact folder: WSDL, XSD and TLS files load, nothing is contacted', async () => {
    // SFTP and OAuth2 targets whose server counts every connection: building them must open none.
    let connections = 0;
    const listener = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
    const port = (listener.address() as AddressInfo).port;
    try {
      edit((y) =>
        y.replace(
          'routes:',
          [
            '  sftp-drop:',
            '    adapter: file-drop',
            '    timeoutMs: 2000',
            `    options: { transport: { type: sftp, host: 127.0.0.1, port: ${port}, username: drop, privateKey: tls/client.key, passphrase: "\${env:TLS_PASSPHRASE}", hostKey: "SHA256:${'A'.repeat(43)}", directory: in } }`,
            '  oauth-rest:',
            '    adapter: rest',
            '    timeoutMs: 2000',
            `    options: { url: "http://127.0.0.1:${port}/cases", auth: { type: oauth2, tokenUrl: "http://127.0.0.1:${port}/token", clientId: hub, clientSecret: s3cret-s3cret } }`,
            'routes:',
          ].join('\n'),
        ),
      );
      const r = await amtsbote(['config', 'check', config], env());
      expect(r.stderr).to.equal('');
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/: ok — 5 tenants, 2 services, 2 portals, 8 targets, 4 routes, 0 schedules\n$/);
      expect(connections, 'connections to the SFTP and token server').to.equal(0);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  const breaks: { name: string; change: (y: string) => string; target: string; message: RegExp }[] = [
    {
      name: 'a misspelt SOAP operation',
      change: (y) => y.replace('operation: Anmelden', 'operation: Anmeldn'),
      target: 'dogtax-soap',
      message:
        /soap adapter could not start: wsdl: no operation Anmeldn in Hundesteuer\/HundesteuerSoap11 of \S+\/config\/wsdl\/hundesteuer\.wsdl \(operations: Anmelden, Ping\)/,
    },
    {
      name: 'a missing WSDL',
      change: (y) => y.replace('wsdl: wsdl/hundesteuer.wsdl', 'wsdl: wsdl/hundesteuer-v2.wsdl'),
      target: 'dogtax-soap',
      message: /soap adapter could not start: wsdl: cannot read \S+\/config\/wsdl\/hundesteuer-v2\.wsdl \(ENOENT\)/,
    },
    {
      name: 'a missing XSD',
      change: (y) => y.replace('schema: xsd/sperrmuell-auftrag.xsd', 'schema: xsd/sperrmuell.xsd'),
      target: 'waste-xml',
      message: /xml-http adapter could not start: xml-http schema: schema \S+\/config\/xsd\/sperrmuell\.xsd not found/,
    },
    {
      name: 'a missing key file',
      change: (y) => y.replace('key: tls/client.key', 'key: tls/client-key.pem'),
      target: 'tls-rest',
      message: /rest adapter could not start: tls\.key: cannot read \S+\/config\/tls\/client-key\.pem \(ENOENT\)$/,
    },
  ];
  for (const b of breaks) {
    it(`exits 1 for ${b.name}, naming the target, its place in targets.yaml and the file`, async () => {
      edit(b.change);
      const r = await amtsbote(['config', 'check', config], env());
      expect(r.code, r.stdout + r.stderr).to.equal(1);
      expect(r.stdout).to.equal('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).to.match(/: 1 problem$/);
      expect(lines[1]).to.match(new RegExp(`^  \\S+/config/targets\\.yaml:\\d+:\\d+ targets\\.${b.target}\\.options: `));
      expect(lines[1]).to.match(b.message);
      expect(r.stderr, 'no stack').not.to.match(/at .*\.ts:\d+/);
    });
  }

  it('reports every broken target in one run, as start refuses the same folder', async () => {
    for (const b of breaks.slice(1)) edit(b.change);
    const r = await checkConfig(config, env(), { clock: systemClock, builtinAdapters });
    if (r.ok) throw new Error('expected problems');
    expect(r.problems.map((p) => /targets\.([\w-]+)\.options:/.exec(p)?.[1])).to.deep.equal(['dogtax-soap', 'waste-xml', 'tls-rest']);
    // start runs the same build: the same problems, before anything serves.
    const data = mkdtempSync(path.join(os.tmpdir(), 'amtsbote-check-data-'));
    try {
      const started = await startHub({ configDir: config, dataDir: data, env: env(), log: { console: false, file: false } }).then(
        async (hub) => {
          await hub.close();
          return [] as string[];
        },
        (e: unknown) => (e instanceof ConfigError ? e.problems.map(formatProblem) : [String(e)]),
      );
      expect(started).to.deep.equal(r.problems);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('prints a warning an adapter gives while it is built', async () => {
    edit((y) => y.replace('ca: tls/ca.crt }', 'ca: tls/ca.crt, rejectUnauthorized: false }'));
    const r = await amtsbote(['config', 'check', config], env());
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal(
      '  warning: targets.tls-rest: rest tls.rejectUnauthorized is false: the back office certificate is not verified\n',
    );
  });

  describe('--connect', () => {
    let soap: HundesteuerBackOffice;
    let rest: TestBackOffice;
    let closedUrl = '';
    before(async () => {
      soap = await new HundesteuerBackOffice({ users: { [SOAP_USER]: SOAP_PASSWORD } }).start();
      rest = await new TestBackOffice().start();
      // A port that was just free and is closed again: connecting to it is refused.
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
      closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
      await new Promise((resolve) => closed.close(resolve));
    });
    after(async () => {
      await soap?.stop();
      await rest?.stop();
    });

    beforeEach(() => {
      // Two more SOAP targets on the same back office: one with a wrong password, one on the closed port.
      edit((y) =>
        y.replace(
          'routes:',
          [
            '  dogtax-soap-wrong:',
            '    adapter: soap',
            '    timeoutMs: 2000',
            '    options: { wsdl: wsdl/hundesteuer.wsdl, operation: Anmelden, endpoint: "${env:SOAP_URL}", security: { type: usernameToken, username: amtsbote, password: not-the-password } }',
            '  dogtax-soap-closed:',
            '    adapter: soap',
            '    timeoutMs: 2000',
            `    options: { wsdl: wsdl/hundesteuer.wsdl, operation: Anmelden, endpoint: "${closedUrl}/hundesteuer/soap11" }`,
            'routes:',
          ].join('\n'),
        ),
      );
      // The TLS target is not part of this exercise.
      edit((y) => y.replace(/ {2}tls-rest:\n( {4}.*\n)+/, ''));
    });

    const connectEnv = () => env({ BACKOFFICE_URL: rest.url, SOAP_URL: soap.url11 });

    it('shows each target reachable, refused or unreachable, exits 1 unless all are reachable, and audits the check', async () => {
      // The hub's database, as a running hub left it: the check is recorded in its audit trail.
      const data = path.join(dir, 'data');
      mkdirSync(data);
      const sqliteFile = path.join(data, 'amtsbote.sqlite');
      await (await openStore({ sqliteFile })).close();
      const r = await amtsbote(['config', 'check', '--connect', '--data', data, config], connectEnv());
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stdout.split('\n')[0], r.stderr).to.match(/: ok — /);
      const rows = r.stdout
        .split('\n')
        .slice(2, -3)
        .map((l) => l.split(/\s{2,}/));
      expect(rows.map(([target, adapter, result]) => [target, adapter, result])).to.deep.equal([
        ['target', 'adapter', 'result'],
        ['backoffice', 'rest', 'reachable'],
        ['archive', 'rest', 'reachable'],
        ['dropbox', 'file-drop', 'reachable'],
        ['dogtax-soap', 'soap', 'reachable'],
        ['waste-xml', 'xml-http', 'reachable'],
        ['dogtax-soap-wrong', 'soap', 'refused'],
        ['dogtax-soap-closed', 'soap', 'unreachable'],
      ]);
      expect(rows[6]![3]).to.match(/^credentials rejected: http:\/\/127\.0\.0\.1:\d+\/hundesteuer\/soap11 answered /);
      const closed = new URL(closedUrl);
      expect(rows[7]![3]).to.equal(
        `cannot reach ${closedUrl}/hundesteuer/soap11: network error ECONNREFUSED: ${closed.hostname}:${closed.port} refused the connection (nothing listens there)`,
      );
      expect(r.stdout.trimEnd().split('\n').at(-1)).to.equal('5 of 7 targets reachable');
      expect(r.stdout + r.stderr, 'no secret').not.to.include(SOAP_PASSWORD);
      // Nothing was filed: check() never delivers.
      expect(soap.filed).to.deep.equal([]);
      expect(rest.cases).to.deep.equal([]);
      const store = await openStore({ sqliteFile });
      try {
        const records = [];
        for await (const rec of store.audit.records()) records.push(rec);
        expect(records.map((x) => [x.action, x.detail])).to.deep.equal([['config-check-connect', { targets: 7, reachable: 5 }]]);
        expect(records[0]!.actor).to.match(/^cli:/);
      } finally {
        await store.close();
      }
    });

    it('exits 0 when every target answers, and gives the same as JSON', async () => {
      edit((y) => y.replace(/ {2}dogtax-soap-wrong:\n( {4}.*\n)+ {2}dogtax-soap-closed:\n( {4}.*\n)+/, ''));
      const r = await amtsbote(['config', 'check', '--connect', '--json', '--data', path.join(dir, 'no-hub-here'), config], connectEnv());
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      // No hub database there: nothing is made, and stderr says the check went unrecorded.
      expect(r.stderr).to.match(/not recorded in an audit trail: no hub database/);
      const out = JSON.parse(r.stdout) as { ok: boolean; targets: { target: string; adapter: string; result: string; message: string }[] };
      expect(out.ok).to.equal(true);
      expect(out.targets.map((t) => `${t.target} ${t.result}`)).to.deep.equal([
        'backoffice reachable',
        'archive reachable',
        'dropbox reachable',
        'dogtax-soap reachable',
        'waste-xml reachable',
      ]);
      expect(out.targets.find((t) => t.target === 'dogtax-soap')?.message).to.match(/^reachable, credentials not refused: /);
    });
  });
});
