import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { CompactEncrypt, CompactSign, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { testKeys, type KeyPair } from './fit-connect-keys.ts';

export { testKeys, type DestinationKeys, type KeyPair, type TestKeys } from './fit-connect-keys.ts';

/**
 * A FIT-Connect delivery service (Zustelldienst) on 127.0.0.1 for tests, following the documented Submission
 * API v1 as a subscriber meets it: OAuth2 client credentials at /token, the waiting submissions with offset
 * and limit, a submission's encrypted metadata and data, its attachments as JWE, each case's event log, and
 * the platform's own signing key at /.well-known/jwks.json. Encryption and signatures are real: a test puts a
 * submission in with `submit()` (encrypted, as a sender would, with the destination's public key), and the
 * simulator checks every SET posted to a case (PS512 signature with the destination's registered key, its
 * claims, and the authentication tags of what was submitted) before it records an accept or reject.
 */

const EVENTS = 'https://schema.fitko.de/fit-connect/events/';
const METADATA_SCHEMA = 'https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json';
const CALLBACK_TYPE = 'https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface SimulatorDestination {
  destinationId: string;
  clientId: string;
  clientSecret: string;
  /** The scope the client must ask for (when it asks for one). */
  scope: string;
  /** Public, key_ops ["wrapKey"]: what senders encrypt with. */
  encryptionKey: JWK;
  /** Public, the key the destination's SETs are verified with. */
  signingKey: JWK;
}

export interface SubmitInput {
  destinationId: string;
  data?: { content: string | Buffer; mimeType: 'application/json' | 'application/xml'; schemaUri: string };
  attachments?: { content: string | Buffer; mimeType: string; purpose?: 'form' | 'attachment' | 'report'; filename?: string }[];
  /** Ways a submission can be broken on its way, for tests of the subscriber's checks. */
  tamper?: {
    /** Changes the data JWE's ciphertext after encryption: decryption must fail (the GCM tag does not match). */
    dataCiphertext?: boolean;
    /** Writes the SHA-512 of other bytes into the metadata's data hash. */
    dataHash?: boolean;
    /** Writes a wrong hash for the attachment at this index. */
    attachmentHash?: number;
    /** Records other authentication tags in the platform's submit-submission event than the parts have. */
    eventTags?: boolean;
    /** Changes the metadata before it is encrypted. */
    metadata?: (metadata: Record<string, unknown>) => void;
  };
}

export interface SimulatedSubmission {
  submissionId: string;
  caseId: string;
  destinationId: string;
  encryptedMetadata: string;
  encryptedData: string | undefined;
  attachments: Map<string, string>;
  tags: { metadata: string; data?: string; attachments: Record<string, string> };
  state: 'submitted' | 'accepted' | 'rejected';
  problems: unknown[];
}

export interface SimulatorOptions {
  /** The platform's clock (milliseconds), shared with the test so tokens expire when the test says. */
  now: () => number;
  tokenLifetimeSeconds?: number;
  /** The platform's own signing key; default the test run's (fit-connect-keys.ts). */
  platformKey?: KeyPair;
  /** Default 0 (a free port) on 127.0.0.1. */
  port?: number;
  host?: string;
}

export class FitConnectSimulator {
  url = '';
  readonly submissions = new Map<string, SimulatedSubmission>();
  readonly eventLogs = new Map<string, string[]>();
  /** SETs the simulator refused, with why: a test of a broken SET asserts on these. */
  readonly refusedEvents: { caseId: string; reason: string }[] = [];
  readonly requests: { method: string; path: string; status: number }[] = [];
  tokensIssued = 0;
  private readonly destinations = new Map<string, SimulatorDestination>();
  private readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();
  private failures: number[] = [];
  private server: Server | undefined;
  private platformKey: KeyPair | undefined;
  private holding = false;
  /** Event posts held unanswered (holdEvents). */
  readonly held: Response[] = [];

  constructor(private readonly options: SimulatorOptions) {}

  async start(): Promise<this> {
    this.platformKey = this.options.platformKey ?? (await testKeys()).platformSigning;
    const app = express();
    app.use((req, res, next) => {
      res.on('finish', () => this.requests.push({ method: req.method, path: req.originalUrl.split('?')[0]!, status: res.statusCode }));
      const status = this.failures.shift();
      if (status !== undefined) return void problem(res, status, 'simulated outage');
      next();
    });
    app.post('/token', express.urlencoded({ extended: false }), (req, res) => this.token(req, res));
    app.get('/.well-known/jwks.json', (_req, res) => {
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = this.platformKey!.publicJwk;
      res.json({ keys: [pub] });
    });
    const api = express.Router();
    api.use((req, res, next) => this.authorise(req, res, next));
    api.get('/submissions', (req, res) => this.list(req, res));
    api.get('/submissions/:id', (req, res) => {
      const s = this.visible(req, res);
      if (!s) return;
      res.json({
        destinationId: s.destinationId,
        submissionId: s.submissionId,
        caseId: s.caseId,
        serviceType: { identifier: 'urn:de:fim:leika:leistung:99102013104000', name: 'Hundeanmeldung' },
        encryptedMetadata: s.encryptedMetadata,
        ...(s.encryptedData ? { encryptedData: s.encryptedData } : {}),
        attachments: [...s.attachments.keys()],
      });
    });
    api.get('/submissions/:id/attachments/:attachmentId', (req, res) => {
      const s = this.visible(req, res);
      if (!s) return;
      const jwe = s.attachments.get(String(req.params.attachmentId));
      if (!jwe) return void problem(res, 404, 'attachment not found');
      res.type('application/jose').send(jwe);
    });
    api.get('/cases/:caseId/events', (req, res) => {
      const log = this.caseFor(req, res);
      if (log) res.json({ eventLog: log });
    });
    api.post('/cases/:caseId/events', express.text({ type: () => true }), (req, res) => void this.postEvent(req, res));
    app.use('/v1', api);
    await new Promise<void>((resolve) => {
      this.server = app.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.url = `http://${this.options.host ?? '127.0.0.1'}:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  addDestination(d: SimulatorDestination): void {
    this.destinations.set(d.destinationId, d);
  }

  /** Revokes every access token issued so far, as the platform may before a token's expiry. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  /** The next `count` requests, whatever they are, get `status` (e.g. 503) before they reach the API. */
  failNext(count: number, status: number): void {
    for (let i = 0; i < count; i++) this.failures.push(status);
  }

  /** Puts a submission in as a sender would: metadata with SHA-512 hashes, everything encrypted with JWE. */
  async submit(input: SubmitInput): Promise<SimulatedSubmission> {
    const destination = this.destinations.get(input.destinationId);
    if (!destination) throw new Error(`unknown destination ${input.destinationId}`);
    const key = await encryptionKey(destination.encryptionKey);
    const attachments = (input.attachments ?? []).map((a) => ({ ...a, id: randomUUID(), bytes: Buffer.from(a.content) }));
    const metadata: Record<string, unknown> = {
      $schema: METADATA_SCHEMA,
      publicServiceType: { identifier: 'urn:de:fim:leika:leistung:99102013104000', name: 'Hundeanmeldung' },
      contentStructure: {
        ...(input.data
          ? {
              data: {
                hash: {
                  type: 'sha512',
                  content: sha512(input.tamper?.dataHash ? Buffer.from('other bytes') : Buffer.from(input.data.content)),
                },
                submissionSchema: { schemaUri: input.data.schemaUri, mimeType: input.data.mimeType },
              },
            }
          : {}),
        attachments: attachments.map((a, i) => ({
          attachmentId: a.id,
          hash: { type: 'sha512', content: sha512(input.tamper?.attachmentHash === i ? Buffer.from('other bytes') : a.bytes) },
          purpose: a.purpose ?? 'attachment',
          mimeType: a.mimeType,
          ...(a.filename ? { filename: a.filename } : {}),
        })),
      },
    };
    input.tamper?.metadata?.(metadata);
    const encryptedMetadata = await encrypt(Buffer.from(JSON.stringify(metadata)), key, destination.encryptionKey.kid!);
    let encryptedData = input.data ? await encrypt(Buffer.from(input.data.content), key, destination.encryptionKey.kid!) : undefined;
    if (encryptedData && input.tamper?.dataCiphertext) encryptedData = changeCiphertext(encryptedData);
    const encryptedAttachments = new Map<string, string>();
    for (const a of attachments) encryptedAttachments.set(a.id, await encrypt(a.bytes, key, destination.encryptionKey.kid!));

    const s: SimulatedSubmission = {
      submissionId: randomUUID(),
      caseId: randomUUID(),
      destinationId: input.destinationId,
      encryptedMetadata,
      encryptedData,
      attachments: encryptedAttachments,
      tags: {
        metadata: tag(encryptedMetadata),
        ...(encryptedData ? { data: tag(encryptedData) } : {}),
        attachments: Object.fromEntries([...encryptedAttachments].map(([id, jwe]) => [id, tag(jwe)])),
      },
      state: 'submitted',
      problems: [],
    };
    this.submissions.set(s.submissionId, s);
    // The delivery service records the submission in the case's event log, signed with its own key.
    const m = s.tags.metadata;
    const recorded = input.tamper?.eventTags ? { ...s.tags, metadata: (m[0] === 'A' ? 'B' : 'A') + m.slice(1) } : s.tags;
    this.eventLogs.set(s.caseId, [await this.platformSet(s, 'submit-submission', { authenticationTags: recorded })]);
    return s;
  }

  /**
   * Sends a new-submissions callback to `url` as the platform does, or a broken one: a forged HMAC (signed
   * with another secret) or a timestamp `ageSeconds` old. Answers the receiver's HTTP status.
   */
  async fireCallback(o: {
    url: string;
    secret: string;
    submissions: SimulatedSubmission[];
    forge?: boolean;
    ageSeconds?: number;
  }): Promise<number> {
    const body = JSON.stringify({
      type: CALLBACK_TYPE,
      submissions: o.submissions.map((s) => ({ destinationId: s.destinationId, submissionId: s.submissionId, caseId: s.caseId })),
    });
    const timestamp = String(Math.floor(this.options.now() / 1000) - (o.ageSeconds ?? 0));
    const secret = o.forge ? `${o.secret}-but-not-quite` : o.secret;
    const authentication = createHmac('sha512', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
    const res = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'callback-authentication': authentication, 'callback-timestamp': timestamp },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  }

  private token(req: Request, res: Response): void {
    const form = (req.body ?? {}) as Record<string, string | undefined>;
    if (form.grant_type !== 'client_credentials') return void res.status(400).json({ error: 'unsupported_grant_type' });
    const destination = [...this.destinations.values()].find((d) => d.clientId === form.client_id);
    if (!destination || destination.clientSecret !== form.client_secret) return void res.status(401).json({ error: 'invalid_client' });
    if (form.scope !== undefined && form.scope !== destination.scope) return void res.status(400).json({ error: 'invalid_scope' });
    const token = randomUUID();
    const lifetime = this.options.tokenLifetimeSeconds ?? 1800;
    this.tokens.set(token, { clientId: destination.clientId, expiresAt: this.options.now() + lifetime * 1000 });
    this.tokensIssued++;
    res.json({ access_token: token, token_type: 'Bearer', expires_in: lifetime, scope: destination.scope });
  }

  private authorise(req: Request, res: Response, next: NextFunction): void {
    const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    const known = token ? this.tokens.get(token) : undefined;
    if (!known || this.options.now() >= known.expiresAt) return void problem(res, 401, 'invalid or expired access token');
    res.locals.clientId = known.clientId;
    next();
  }

  private mayRead(res: Response, destinationId: string): boolean {
    return this.destinations.get(destinationId)?.clientId === res.locals.clientId;
  }

  private list(req: Request, res: Response): void {
    const destinationId = String(req.query.destinationId ?? '');
    const offset = Number(req.query.offset ?? 0);
    const limit = Number(req.query.limit ?? 100);
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1 || limit > 500)
      return void problem(res, 400, 'offset and limit out of range');
    if (!this.mayRead(res, destinationId)) return void problem(res, 403, 'not a destination of this client');
    const waiting = [...this.submissions.values()].filter((s) => s.destinationId === destinationId && s.state === 'submitted');
    const page = waiting
      .slice(offset, offset + limit)
      .map((s) => ({ destinationId: s.destinationId, submissionId: s.submissionId, caseId: s.caseId }));
    res.json({ offset, count: page.length, totalCount: waiting.length, submissions: page });
  }

  private visible(req: Request, res: Response): SimulatedSubmission | undefined {
    const s = this.submissions.get(String(req.params.id));
    if (!s || !this.mayRead(res, s.destinationId)) return void problem(res, 404, 'submission not found');
    return s;
  }

  private caseFor(req: Request, res: Response): string[] | undefined {
    const caseId = String(req.params.caseId);
    const s = [...this.submissions.values()].find((x) => x.caseId === caseId);
    if (!s || !this.mayRead(res, s.destinationId)) return void problem(res, 404, 'case not found');
    return this.eventLogs.get(caseId) ?? [];
  }

  /**
   * While on, a posted SET is neither answered nor recorded: the subscriber waits on it, as on a platform that
   * is slow to answer, and a test can kill it in that moment. Turning it off drops the held requests unanswered.
   */
  holdEvents(on: boolean): void {
    this.holding = on;
    if (!on) for (const res of this.held.splice(0)) res.socket?.destroy();
  }

  private async postEvent(req: Request, res: Response): Promise<void> {
    const caseId = String(req.params.caseId);
    if (!this.caseFor(req, res)) return;
    if (this.holding) return void this.held.push(res);
    if (!/^application\/jose\b/i.test(req.get('content-type') ?? '')) return void problem(res, 415, 'a SET is sent as application/jose');
    const refuse = (reason: string) => {
      this.refusedEvents.push({ caseId, reason });
      problem(res, 422, reason);
    };
    const set = String(req.body ?? '');
    const s = [...this.submissions.values()].find((x) => x.caseId === caseId)!;
    const destination = this.destinations.get(s.destinationId)!;
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(set) as Record<string, unknown>;
    } catch {
      return refuse('not a JWS in compact serialization');
    }
    if (header.typ !== 'secevent+jwt') return refuse('typ must be secevent+jwt');
    if (header.alg !== 'PS512') return refuse('alg must be PS512');
    if (header.kid !== destination.signingKey.kid) return refuse('kid is not the signing key registered for the destination');
    let claims: Record<string, unknown>;
    try {
      const { payload } = await compactVerify(set, await importJWK(destination.signingKey, 'PS512'), { algorithms: ['PS512'] });
      claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    } catch {
      return refuse('signature does not verify with the destination signing key');
    }
    if (typeof claims.jti !== 'string' || !UUID.test(claims.jti)) return refuse('jti must be a UUID');
    if (claims.iss !== s.destinationId) return refuse('iss must be the destination id');
    if (typeof claims.iat !== 'number' || claims.iat > this.options.now() / 1000 + 60) return refuse('iat missing or in the future');
    if (claims.sub !== `submission:${s.submissionId}`) return refuse('sub must be submission:{submissionId}');
    if (claims.txn !== `case:${caseId}`) return refuse('txn must be case:{caseId}');
    const events = claims.events as Record<string, Record<string, unknown>> | undefined;
    const names = events && typeof events === 'object' ? Object.keys(events) : [];
    if (names.length !== 1) return refuse('events must hold exactly one event');
    if (s.state !== 'submitted') return refuse(`the submission is already ${s.state}`);
    const event = names[0]!;
    const payload = events![event]!;
    if (event === `${EVENTS}accept-submission`) {
      const tags = payload.authenticationTags as { metadata?: unknown; data?: unknown; attachments?: Record<string, unknown> } | undefined;
      if (!tags || tags.metadata !== s.tags.metadata) return refuse('authenticationTags.metadata does not match the submitted metadata');
      if (tags.data !== s.tags.data) return refuse('authenticationTags.data does not match the submitted data');
      const want = s.tags.attachments;
      const got = tags.attachments ?? {};
      if (Object.keys(got).length !== Object.keys(want).length || Object.entries(want).some(([id, t]) => got[id] !== t)) {
        return refuse('authenticationTags.attachments do not match the submitted attachments');
      }
      s.state = 'accepted';
    } else if (event === `${EVENTS}reject-submission`) {
      const found = payload.problems;
      if (!Array.isArray(found) || found.length === 0) return refuse('a rejection names its problems');
      if (
        found.some(
          (p) =>
            !p ||
            typeof p !== 'object' ||
            !String((p as Record<string, unknown>).type).startsWith(`${EVENTS}problems/`) ||
            typeof (p as Record<string, unknown>).instance !== 'string',
        )
      ) {
        return refuse('each problem needs a documented type and an instance');
      }
      s.state = 'rejected';
      s.problems = found;
    } else {
      return refuse(`a subscriber does not post ${event}`);
    }
    this.eventLogs.get(caseId)!.push(set);
    res.status(200).end();
  }

  private platformSet(s: SimulatedSubmission, event: string, payload: Record<string, unknown>): Promise<string> {
    const claims = {
      jti: randomUUID(),
      iss: this.url,
      iat: Math.floor(this.options.now() / 1000),
      sub: `submission:${s.submissionId}`,
      txn: `case:${s.caseId}`,
      events: { [`${EVENTS}${event}`]: payload },
    };
    return importJWK(this.platformKey!.privateJwk, 'PS512').then((key) =>
      new CompactSign(Buffer.from(JSON.stringify(claims)))
        .setProtectedHeader({ alg: 'PS512', typ: 'secevent+jwt', kid: this.platformKey!.privateJwk.kid! })
        .sign(key),
    );
  }
}

/** A sender refuses a key not meant for wrapping; WebCrypto then wants the key for "encrypt". */
async function encryptionKey(jwk: JWK) {
  if (!jwk.key_ops?.includes('wrapKey')) throw new Error('the destination encryption key must have key_ops ["wrapKey"]');
  const { key_ops: _ops, use: _use, ...rest } = jwk;
  return importJWK(rest, 'RSA-OAEP-256');
}

function encrypt(bytes: Buffer, key: Awaited<ReturnType<typeof encryptionKey>>, kid: string): Promise<string> {
  return new CompactEncrypt(bytes).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid }).encrypt(key);
}

/** Changes the first ciphertext character: the AES-GCM tag no longer fits, as after tampering on the way. */
function changeCiphertext(jwe: string): string {
  const parts = jwe.split('.');
  const c = parts[3]!;
  parts[3] = (c[0] === 'A' ? 'B' : 'A') + c.slice(1);
  return parts.join('.');
}

function tag(jwe: string): string {
  return jwe.slice(jwe.lastIndexOf('.') + 1);
}

function sha512(bytes: Buffer): string {
  return createHash('sha512').update(bytes).digest('hex');
}

function problem(res: Response, status: number, title: string): void {
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', title, status }));
}
