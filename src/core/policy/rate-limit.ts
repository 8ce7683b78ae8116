/**
 * A token bucket per target, kept in the store so every instance draws from the same one: `perMinute` tokens
 * flow in evenly, at most `burst` wait unused. One attempt takes one token, so attempts are spaced 60/perMinute
 * seconds apart after a burst, and no minute sees more than perMinute + burst - 1.
 */
export interface RateSettings {
  perMinute: number;
  burst: number;
}

/** Tokens in the bucket at `now`; a bucket never used (`tokensAt` null) is full. */
export function tokensAt(tokens: number, tokensAt: number | null, now: number, r: RateSettings): number {
  if (tokensAt === null) return r.burst;
  return Math.min(r.burst, tokens + (Math.max(0, now - tokensAt) * r.perMinute) / 60_000);
}

/** When the bucket holding `tokens` (< 1) next has a whole token. */
export function nextTokenAt(tokens: number, now: number, r: RateSettings): number {
  return now + Math.ceil(((1 - tokens) * 60_000) / r.perMinute);
}
