// Keys for the FIT-Connect simulator. 4096-bit RSA, as FIT-Connect requires, takes about 3 s per key pair on
// this machine's CPU: the three pairs a test run needs are made once, in parallel, and kept in memory for every
// test file of the run (testKeys). The demo makes its own once and keeps them in its data folder (generateKeys).

import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface KeyPair {
  publicJwk: JWK;
  privateJwk: JWK;
}

export interface DestinationKeys {
  /** Public key with key_ops ["wrapKey"] (senders encrypt with it), private with ["unwrapKey"]. */
  encryption: KeyPair;
  /** The destination's key for its SETs: private ["sign"], public ["verify"]. */
  signing: KeyPair;
}

export interface TestKeys {
  destination: DestinationKeys;
  /** The simulated delivery service's own key for the SETs it writes (published at /.well-known/jwks.json). */
  platformSigning: KeyPair;
}

let cached: Promise<TestKeys> | undefined;

export function testKeys(): Promise<TestKeys> {
  cached ??= generateKeys('test');
  return cached;
}

/** Three fresh pairs: the destination's encryption and signing keys and the platform's; kids start with `prefix`. */
export async function generateKeys(prefix: string): Promise<TestKeys> {
  const [encryption, signing, platformSigning] = await Promise.all([
    pair(prefix, 'RSA-OAEP-256', 'enc', ['wrapKey'], ['unwrapKey']),
    pair(prefix, 'PS512', 'sig', ['verify'], ['sign']),
    pair(prefix, 'PS512', 'sig', ['verify'], ['sign']),
  ]);
  return { destination: { encryption, signing }, platformSigning };
}

let serial = 0;

async function pair(prefix: string, alg: string, use: string, publicOps: string[], privateOps: string[]): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { modulusLength: 4096, extractable: true });
  const kid = `${prefix}-${use}-${++serial}`;
  return {
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use, key_ops: publicOps },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg, use, key_ops: privateOps },
  };
}
