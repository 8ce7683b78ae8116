// Keys for FIT-Connect tests. 4096-bit RSA, as FIT-Connect requires, takes about 3 s per key pair on this
// machine's CPU: the three pairs a test run needs are made once, in parallel, and kept in memory for every
// test file of the run. Nothing is written to disk.

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
  cached ??= (async () => {
    const [encryption, signing, platformSigning] = await Promise.all([
      pair('RSA-OAEP-256', 'enc', ['wrapKey'], ['unwrapKey']),
      pair('PS512', 'sig', ['verify'], ['sign']),
      pair('PS512', 'sig', ['verify'], ['sign']),
    ]);
    return { destination: { encryption, signing }, platformSigning };
  })();
  return cached;
}

let serial = 0;

async function pair(alg: string, use: string, publicOps: string[], privateOps: string[]): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { modulusLength: 4096, extractable: true });
  const kid = `test-${use}-${++serial}`;
  return {
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use, key_ops: publicOps },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg, use, key_ops: privateOps },
  };
}
