import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { FitConnectFixture } from './fit-connect-simulator/fixture.ts';

// What the FIT-Connect hub tests share: the fixture configuration, the environment it reads, a back office.

export const fixture = (name: string) => readFileSync(new URL(`../../src/inbound/fixtures/${name}`, import.meta.url));
export const FIM_SCHEMA = 'https://schema.fitko.de/fim/s00000092_1.0.schema.json';
export const CONFIG = fileURLToPath(new URL('../fixtures/fit-connect', import.meta.url));
export const GEWERBE_SCHEMA = 'https://schema.example/xgewerbeanzeige/1.4/gewerbeanmeldung.xsd';
export const CALLBACK_SECRET = 'fit-connect-callback-secret-0123456789';

/** A back office that keeps each request's body as bytes. */
export class RawBackOffice {
  readonly received: { contentType: string | undefined; body: Buffer }[] = [];
  private server: Server | undefined;
  url = '';
  async start(): Promise<this> {
    const app = express();
    app.post('/gewerbe', express.raw({ type: () => true }), (req, res) => {
      this.received.push({ contentType: req.get('content-type'), body: req.body as Buffer });
      res.status(201).json({ caseId: `GEW-${this.received.length}` });
    });
    await new Promise<void>((resolve) => (this.server = app.listen(0, '127.0.0.1', () => resolve())));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The environment the fixture configuration reads: the simulator's URL, the destination's ids and keys. */
export function fitConnectEnv(f: FitConnectFixture, pollCron: string): Record<string, string> {
  return {
    FC_URL: f.sim.url,
    FC_DESTINATION_ID: f.destinationId,
    FC_CLIENT_ID: f.clientId,
    FC_CLIENT_SECRET: f.clientSecret,
    FC_DECRYPTION_JWK: JSON.stringify(f.keys.destination.encryption.privateJwk),
    FC_SIGNING_JWK: JSON.stringify(f.keys.destination.signing.privateJwk),
    FC_CALLBACK_SECRET: CALLBACK_SECRET,
    FC_POLL_CRON: pollCron,
  };
}

export const gewerbeData = () => ({
  content: fixture('gewerbeanmeldung.xml'),
  mimeType: 'application/xml' as const,
  schemaUri: GEWERBE_SCHEMA,
});
