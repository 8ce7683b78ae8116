// The XTA simulator (src/demo/simulators/xta-server.ts) for tests: over TLS with client certificates made by
// openssl for this run, and two accounts, the hub's and a back office's.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemClock } from '../../../src/clock.ts';
import { startXtaSimulator, type XtaSimulator } from '../../../src/demo/simulators/xta-server.ts';

export * from '../../../src/demo/simulators/xta-server.ts';

/** The hub's account (author when sending, reader of its own box) and the back office's. */
export const HUB_ACCOUNT = 'gad:05513000-amtsbote';
export const BACKOFFICE_ACCOUNT = 'gad:05513000-dms';
export const KEY_PASSPHRASE = 'xta-Schlüssel-SECRET-42';

export interface XtaCertificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** The hub's client certificate (CN amtsbote-hub) and its key, encrypted with KEY_PASSPHRASE. */
  clientCert: string;
  clientKey: string;
  /** A client certificate from another CA: the simulator refuses its handshake. */
  strangerCert: string;
  strangerKey: string;
  remove(): void;
}

export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

export function makeXtaCertificates(): XtaCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), 'amtsbote-xta-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string) =>
    run(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  ca('ca');
  ca('other-ca');
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn, signer, ext] of [
    ['server', '127.0.0.1', 'ca', 'server'],
    ['client', 'amtsbote-hub', 'ca', 'client'],
    ['stranger', 'amtsbote-hub', 'other-ca', 'client'],
  ] as const) {
    run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.crt`,
      '-CAkey',
      `${signer}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${ext}.ext`,
    );
  }
  run('pkey', '-in', 'client.key', '-aes256', '-passout', `pass:${KEY_PASSPHRASE}`, '-out', 'client-enc.key');
  const f = (n: string) => path.join(dir, n);
  return {
    dir,
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client-enc.key'),
    strangerCert: f('stranger.crt'),
    strangerKey: f('stranger.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A simulator over TLS that knows the hub (by its certificate) and the back office. */
export function startTestXtaSimulator(certs: XtaCertificates, clock = systemClock): Promise<XtaSimulator> {
  return startXtaSimulator({
    accounts: [{ identifier: HUB_ACCOUNT, certificateCn: 'amtsbote-hub' }, { identifier: BACKOFFICE_ACCOUNT }],
    tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca },
    clock,
  });
}

/** xta2 target options pointing at the simulator, with the hub's certificate. */
export function xta2Options(sim: XtaSimulator, certs: XtaCertificates, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    endpoints: { management: sim.endpoints.management, send: sim.endpoints.send, msgBox: sim.endpoints.msgBox },
    tls: { cert: certs.clientCert, key: certs.clientKey, ca: certs.ca, passphrase: KEY_PASSPHRASE },
    author: { identifier: HUB_ACCOUNT, type: 'xoev', name: 'Amtsbote Gelsenkirchen' },
    reader: { identifier: BACKOFFICE_ACCOUNT, type: 'xoev', name: 'DMS Gelsenkirchen' },
    service: 'urn:xoev-de:xdomea:schema:3.0.0',
    businessScenario: { defined: { code: 'XDOMEA_FVDATEN', listUri: 'urn:de:dataport:codeliste:business.scenario', listVersionId: '1' } },
    messageType: {
      code: '0401',
      listUri: 'urn:xoev-de:xdomea:codeliste:nachrichtentyp',
      listVersionId: '3.0',
      payloadSchema: 'urn:xoev-de:xdomea:schema:3.0.0',
    },
    ...extra,
  };
}
