// A configured FIT-Connect destination made ready at start-up: its keys imported (and checked: 4096-bit RSA,
// the right key_ops, a kid), its token source and Submission API client, its submission schemas resolved to
// inbound channels. A problem stops the start with the key path at fault, like a broken channel does.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CryptoKey, JWK, JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../clock.ts';
import { ConfigError, type ConfigProblem } from '../../config/errors.ts';
import type { FitConnectDestinationConfig } from '../../config/fit-connect-schema.ts';
import type { LoadedConfig } from '../../config/load.ts';
import type { PortalConfig, ServiceConfig } from '../../config/schema.ts';
import type { InboundChannel } from '../../inbound/channel.ts';
import type { InboundSetup } from '../../inbound/setup.ts';
import type { Router } from '../../routing/router.ts';
import { SubmissionApi } from './api.ts';
import { importDecryptionKey, importSigningKey } from './crypto.ts';
import { platformKeys } from './event-log.ts';
import type { Signer } from './receive.ts';
import { TokenSource } from './token.ts';

export interface DestinationSchema {
  channel: InboundChannel;
  /** The service the configuration fixes for this schema, if it does. */
  service?: ServiceConfig | undefined;
}

export interface Destination {
  config: FitConnectDestinationConfig;
  /** The portal its submissions are stored under: `fit-connect-{name}`, for its tenant only. */
  portal: PortalConfig;
  api: SubmissionApi;
  decryptionKey: CryptoKey;
  signer: Signer;
  /** The platform's keys its submit-submission events are signed with. */
  platformKeys: JWTVerifyGetKey;
  /** By submissionSchema.schemaUri. */
  schemas: ReadonlyMap<string, DestinationSchema>;
  /** The service group, by slug. */
  services: ReadonlySet<string>;
}

/** The portal id FIT-Connect submissions of a destination are stored under (their external id is the platform's). */
export function destinationPortalId(name: string): string {
  return `fit-connect-${name}`;
}

/**
 * Builds every configured destination; throws ConfigError naming each key at fault. With `keys: false` (`config
 * check`) only the references are checked (tenant, services, channels), not the key files: the demo makes its
 * keys on its first start.
 */
export async function buildDestinations(
  config: LoadedConfig,
  router: Router,
  inbound: InboundSetup,
  now: Clock,
  o: { keys?: boolean } = {},
): Promise<Destination[]> {
  const problems: ConfigProblem[] = [];
  const problem = (p: (string | number)[], message: string) => problems.push({ ...config.locate(p), path: p, message });
  const built: Destination[] = [];
  const names = new Set<string>();
  const list = config.hub.fitConnect.destinations;
  for (const [i, d] of list.entries()) {
    const at = ['fitConnect', 'destinations', i];
    if (names.has(d.name)) problem([...at, 'name'], `destination ${d.name} is defined twice`);
    names.add(d.name);
    if (!router.tenant(d.tenant)) problem([...at, 'tenant'], `unknown tenant ${d.tenant}`);
    const services = new Set<string>();
    d.services.forEach((s, j) => {
      const found = router.service(s);
      if (found) services.add(found.slug);
      else problem([...at, 'services', j], `unknown service ${s}`);
    });
    const schemas = new Map<string, DestinationSchema>();
    for (const [j, s] of d.schemas.entries()) {
      const channel = inbound.channels.get(s.channel);
      const service = s.service ? router.service(s.service) : undefined;
      if (!channel) problem([...at, 'schemas', j, 'channel'], `no inbound channel ${s.channel}`);
      else if (s.service && !service) problem([...at, 'schemas', j, 'service'], `unknown service ${s.service}`);
      else if (service && !services.has(service.slug))
        problem([...at, 'schemas', j, 'service'], `service ${s.service} is not in the destination's services`);
      else schemas.set(s.schemaUri, { channel, service });
    }
    if (o.keys === false) continue;
    const dec = await importKey(d.decryptionKey, config.dir, importDecryptionKey);
    if (!dec.ok) problem([...at, 'decryptionKey'], dec.error);
    const sig = await importKey(d.signingKey, config.dir, importSigningKey);
    if (!sig.ok) problem([...at, 'signingKey'], sig.error);
    if (!dec.ok || !sig.ok) continue;
    const tokens = new TokenSource({ tokenUrl: d.tokenUrl, clientId: d.clientId, clientSecret: d.clientSecret, scope: d.scope, now });
    built.push({
      config: d,
      portal: {
        id: destinationPortalId(d.name),
        name: `FIT-Connect ${d.name}`,
        tenants: [d.tenant],
        // Never matches a bearer token: this portal exists for the store and the routing checks only.
        tokenHash: `sha256:${'0'.repeat(64)}`,
      },
      api: new SubmissionApi({ baseUrl: d.submissionApiUrl, tokens }),
      decryptionKey: dec.key,
      signer: { key: sig.key, kid: sig.kid, now },
      platformKeys: platformKeys(d.jwksUrl ?? `${d.submissionApiUrl.replace(/\/+$/, '')}/.well-known/jwks.json`),
      schemas,
      services,
    });
  }
  if (problems.length) throw new ConfigError(problems);
  return built;
}

type Imported = { ok: true; key: CryptoKey; kid: string } | { ok: false; error: string };

async function importKey(
  k: { jwk?: string | undefined; file?: string | undefined },
  configDir: string,
  importer: (jwk: JWK) => Promise<{ ok: true; key: CryptoKey; kid: string } | { ok: false; error: string }>,
): Promise<Imported> {
  let text: string;
  if (k.file) {
    const file = path.resolve(configDir, k.file);
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      return { ok: false, error: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}` };
    }
  } else text = k.jwk ?? '';
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    // The text is a private key: not a word of it in the message.
    return { ok: false, error: 'the key is not a JWK in JSON' };
  }
  try {
    return await importer(jwk);
  } catch {
    return { ok: false, error: 'the key could not be imported' };
  }
}
