import { randomUUID } from 'node:crypto';
import { SubmissionApi } from '../../../src/intake/fit-connect/api.ts';
import { importDecryptionKey, importSigningKey } from '../../../src/intake/fit-connect/crypto.ts';
import type { Signer } from '../../../src/intake/fit-connect/receive.ts';
import { TokenSource } from '../../../src/intake/fit-connect/token.ts';
import { FitConnectSimulator, testKeys, type TestKeys } from './index.ts';

export const SUBSCRIBE_SCOPE = 'https://schema.fitko.de/fit-connect/oauth/scopes/subscribe-destinations';

/** A test clock: starts at an arbitrary instant, moves only when the test says. */
export class TestClock {
  constructor(private t = Date.UTC(2026, 10, 24, 9, 0, 0)) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface FitConnectFixture {
  sim: FitConnectSimulator;
  clock: TestClock;
  keys: TestKeys;
  destinationId: string;
  clientId: string;
  clientSecret: string;
  tokens: TokenSource;
  api: SubmissionApi;
  decryptionKey: CryptoKey;
  signer: Signer;
}

/**
 * A started simulator with one destination registered (its public encryption and signing keys, a subscriber
 * client with a secret), and the subscriber's pieces pointed at it, all on one test clock.
 */
export async function startFitConnect(
  o: { pageSize?: number; tokenLifetimeSeconds?: number; startAt?: number } = {},
): Promise<FitConnectFixture> {
  const clock = new TestClock(o.startAt);
  const keys = await testKeys();
  const sim = await new FitConnectSimulator({
    now: clock.now,
    ...(o.tokenLifetimeSeconds ? { tokenLifetimeSeconds: o.tokenLifetimeSeconds } : {}),
  }).start();
  const destinationId = randomUUID();
  const clientId = `subscriber-${destinationId.slice(0, 8)}`;
  const clientSecret = randomUUID();
  sim.addDestination({
    destinationId,
    clientId,
    clientSecret,
    scope: SUBSCRIBE_SCOPE,
    encryptionKey: keys.destination.encryption.publicJwk,
    signingKey: keys.destination.signing.publicJwk,
  });
  const tokens = new TokenSource({ tokenUrl: `${sim.url}/token`, clientId, clientSecret, scope: SUBSCRIBE_SCOPE, now: clock.now });
  const api = new SubmissionApi({ baseUrl: sim.url, tokens, ...(o.pageSize ? { pageSize: o.pageSize } : {}) });
  const dec = await importDecryptionKey(keys.destination.encryption.privateJwk);
  const sig = await importSigningKey(keys.destination.signing.privateJwk);
  if (!dec.ok || !sig.ok) throw new Error('test keys refused');
  return {
    sim,
    clock,
    keys,
    destinationId,
    clientId,
    clientSecret,
    tokens,
    api,
    decryptionKey: dec.key,
    signer: { key: sig.key, kid: sig.kid, now: clock.now },
  };
}
