import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { PortalConfig } from '../config/schema.ts';
import type { Clock } from '../clock.ts';
import { intakeProblem } from './problems.ts';

export const TIMESTAMP_HEADER = 'x-amtsbote-timestamp';
export const SIGNATURE_HEADER = 'x-amtsbote-signature';

/** The signature a portal sends: HMAC-SHA256 over `<timestamp>.<body bytes>`, hex, as `sha256=<hex>`. */
export function signBody(secret: string, timestamp: string, body: Buffer): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/**
 * Optional request signing per portal (`signing` in its configuration): the body was sent by a holder of the
 * shared key, within the window of the hub clock, and not before (a replayed signature is refused while the
 * window could still accept it). Remembered signatures are per instance (docs/security.md).
 */
export class PortalSignatures {
  /** Signatures seen, with when they stop mattering. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly now: Clock) {}

  verify(portal: PortalConfig, req: Request, body: Buffer): void {
    const s = portal.signing;
    if (!s) return;
    const ts = req.get(TIMESTAMP_HEADER);
    const sig = req.get(SIGNATURE_HEADER);
    if (!ts || !sig) throw intakeProblem('signature-invalid', `send ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER}`);
    if (!/^\d{1,12}$/.test(ts)) throw intakeProblem('signature-invalid', `${TIMESTAMP_HEADER} must be Unix seconds`);
    const now = this.now();
    const windowMs = s.windowSeconds * 1000;
    if (Math.abs(now - Number(ts) * 1000) > windowMs)
      throw intakeProblem('signature-invalid', `the timestamp is more than ${s.windowSeconds} s from the hub's clock`);
    const want = Buffer.from(signBody(s.secret, ts, body));
    const got = Buffer.from(sig);
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw intakeProblem('signature-invalid', 'the signature does not match');
    this.forgetOld(now);
    const key = `${portal.id}:${sig}`;
    if (this.seen.has(key)) throw intakeProblem('signature-invalid', 'this signature was used before (a replay)');
    this.seen.set(key, Number(ts) * 1000 + windowMs);
  }

  private forgetOld(now: number): void {
    for (const [k, until] of this.seen) if (until < now) this.seen.delete(k);
  }
}
