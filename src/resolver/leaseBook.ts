/**
 * Leases of lock-table sessions: a session holds its resources while it renews within `leaseMs`;
 * once it stops (its process died), the lease expires and the table revokes its holdings.
 * Pure bookkeeping: time is the `now` argument.
 */
export class LeaseBook {
  private readonly leases = new Map<string, { expiresAt: number; leaseMs: number }>();

  /** Starts (or restarts) a session's lease; `leaseMs` undefined = never expires. */
  start(session: string, leaseMs: number | undefined, now: number): void {
    const ms = leaseMs ?? Number.POSITIVE_INFINITY;
    this.leases.set(session, { expiresAt: now + ms, leaseMs: ms });
  }

  /** Extends a lease to `now + leaseMs`; false when the session is unknown (expired or idle). */
  renew(session: string, now: number): boolean {
    const lease = this.leases.get(session);
    if (!lease) return false;
    lease.expiresAt = now + lease.leaseMs;
    return true;
  }

  /** Removes and returns the sessions whose lease expired at `now`. */
  expire(now: number): string[] {
    const expired = [...this.leases].filter(([, l]) => l.expiresAt <= now).map(([s]) => s);
    for (const s of expired) this.leases.delete(s);
    return expired;
  }

  /** Whether the session has a lease (started and neither expired nor forgotten). */
  has(session: string): boolean {
    return this.leases.has(session);
  }

  /** Ends a session's lease without expiring it (the session went idle). */
  forget(session: string): void {
    this.leases.delete(session);
  }

  /** Earliest finite expiry, epoch ms. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const l of this.leases.values())
      if (Number.isFinite(l.expiresAt) && (next === undefined || l.expiresAt < next)) next = l.expiresAt;
    return next;
  }
}
