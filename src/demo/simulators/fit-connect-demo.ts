// The demo's FIT-Connect platform: the simulator (fit-connect.ts) on a fixed port with one destination, the keys
// of that destination kept in a folder (made on the first start, 4096-bit, a few seconds), and an online service
// that sends an encrypted XGewerbeanzeige business registration every so often and calls the hub back.

import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import type { Clock } from '../../clock.ts';
import { PROJECT_ROOT } from '../../project-root.ts';
import { FitConnectSimulator } from './fit-connect.ts';
import { generateKeys, type KeyPair, type TestKeys } from './fit-connect-keys.ts';

export interface FitConnectDemoSpec {
  kind: 'fit-connect';
  port: number;
  keysDirectory: string;
  destinationId: string;
  clientId: string;
  clientSecret: string;
  scope?: string | undefined;
  callbackUrl?: string | undefined;
  callbackSecret?: string | undefined;
  schemaUri: string;
  submissions: number;
  submitEveryMs: number;
  /** The receiving office's drop folder, created if missing (the demo's Gewerbeamt reads files there). */
  officeFolder?: string | undefined;
}

const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'xoev', 'gewerbeanmeldung-gelsenkirchen.xml');
const FILES = {
  decryption: 'destination-decryption.private.jwk.json',
  encryption: 'destination-encryption.public.jwk.json',
  signing: 'destination-signing.private.jwk.json',
  verifying: 'destination-signing.public.jwk.json',
  platform: 'platform-signing.private.jwk.json',
  platformPublic: 'platform-signing.public.jwk.json',
} as const;

/** The keys in `dir`, made and written there (private ones readable by the owner only) when missing. */
export async function demoKeys(dir: string): Promise<TestKeys> {
  const file = (name: string) => path.join(dir, name);
  if (Object.values(FILES).every((f) => existsSync(file(f)))) {
    const read = (name: string) => JSON.parse(readFileSync(file(name), 'utf8')) as JWK;
    const kp = (pub: string, priv: string): KeyPair => ({ publicJwk: read(pub), privateJwk: read(priv) });
    return {
      destination: { encryption: kp(FILES.encryption, FILES.decryption), signing: kp(FILES.verifying, FILES.signing) },
      platformSigning: kp(FILES.platformPublic, FILES.platform),
    };
  }
  const keys = await generateKeys('demo');
  mkdirSync(dir, { recursive: true });
  const write = (name: string, jwk: JWK, secret: boolean) => {
    writeFileSync(file(name), `${JSON.stringify(jwk, null, 2)}\n`, { mode: secret ? 0o600 : 0o644 });
    if (secret) chmodSync(file(name), 0o600);
  };
  write(FILES.decryption, keys.destination.encryption.privateJwk, true);
  write(FILES.encryption, keys.destination.encryption.publicJwk, false);
  write(FILES.signing, keys.destination.signing.privateJwk, true);
  write(FILES.verifying, keys.destination.signing.publicJwk, false);
  write(FILES.platform, keys.platformSigning.privateJwk, true);
  write(FILES.platformPublic, keys.platformSigning.publicJwk, false);
  return keys;
}

export async function startFitConnectDemo(
  spec: FitConnectDemoSpec,
  ctx: { log: (msg: string) => void; now: Clock },
  host: string,
): Promise<{ url: string; port: number; close(): Promise<void>; sim: FitConnectSimulator }> {
  const keys = await demoKeys(path.resolve(spec.keysDirectory));
  if (spec.officeFolder) mkdirSync(path.resolve(spec.officeFolder), { recursive: true });
  const sim = await new FitConnectSimulator({ now: ctx.now, platformKey: keys.platformSigning, port: spec.port, host }).start();
  sim.addDestination({
    destinationId: spec.destinationId,
    clientId: spec.clientId,
    clientSecret: spec.clientSecret,
    scope: spec.scope ?? '',
    encryptionKey: keys.destination.encryption.publicJwk,
    signingKey: keys.destination.signing.publicJwk,
  });
  const template = readFileSync(EXAMPLE, 'utf8');
  let sent = 0;
  const submitOne = async () => {
    sent++;
    // Each registration its own message id, as an online service would write it.
    const content = template.replace(
      /<(\w+:)?nachrichtenUUID>[^<]*</,
      (_m, p: string | undefined) => `<${p ?? ''}nachrichtenUUID>${randomUUID()}<`,
    );
    const put = await sim.submit({
      destinationId: spec.destinationId,
      data: { content, mimeType: 'application/xml', schemaUri: spec.schemaUri },
    });
    ctx.log(`fit-connect: submission ${put.submissionId} (case ${put.caseId}) waiting at destination ${spec.destinationId}`);
    if (spec.callbackUrl && spec.callbackSecret) {
      const status = await sim.fireCallback({ url: spec.callbackUrl, secret: spec.callbackSecret, submissions: [put] }).catch(() => 0);
      ctx.log(`fit-connect: callback to the hub answered ${status || 'nothing (not reachable yet)'}`);
    }
  };
  const timer = setInterval(() => {
    if (sent >= spec.submissions) return clearInterval(timer);
    submitOne().catch((e: Error) => ctx.log(`fit-connect: submitting failed: ${e.message}`));
  }, spec.submitEveryMs);
  timer.unref();
  return {
    url: sim.url,
    port: Number(new URL(sim.url).port),
    sim,
    close: async () => {
      clearInterval(timer);
      await sim.stop();
    },
  };
}
