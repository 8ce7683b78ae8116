import type { Clock } from '../clock.ts';
import { PortalRateLimit } from './portal-rate-limit.ts';
import { PortalSignatures } from './portal-signature.ts';

/**
 * What every portal-facing route checks before it reads a document: the per-token rate limit and the optional
 * request signature. Made once per hub, so the envelope intake and the inbound channels share one budget and one
 * replay memory per portal (a portal cannot double its rate by using both routes).
 */
export interface PortalGuards {
  rateLimit: PortalRateLimit;
  signatures: PortalSignatures;
}

export function portalGuards(now: Clock): PortalGuards {
  return { rateLimit: new PortalRateLimit(now), signatures: new PortalSignatures(now) };
}
