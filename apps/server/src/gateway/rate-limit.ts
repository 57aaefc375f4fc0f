/**
 * New connections per source address: a token bucket of `perMinute` tokens refilled continuously, so an
 * office of machines behind one NAT address can all reconnect after a restart, spread by their backoff,
 * while one address opening connections in a loop is held to the rate.
 */
export class ConnectionRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMinute: number;

  constructor(perMinute: number) {
    this.perMinute = perMinute;
  }

  take(address: string, now = Date.now()): boolean {
    const b = this.buckets.get(address) ?? { tokens: this.perMinute, at: now };
    b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) / 60_000) * this.perMinute);
    b.at = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    this.buckets.set(address, b);
    return ok;
  }

  /** Forgets full buckets so the map holds only addresses that connected recently. */
  prune(now = Date.now()) {
    for (const [address, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 60_000) * this.perMinute >= this.perMinute) this.buckets.delete(address);
    }
  }
}
