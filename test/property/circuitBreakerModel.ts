import type { BreakerOptions, BreakerState } from '../../src/runtime/CircuitBreaker.js';

/**
 * A tiny reference model of the circuit breaker, written independently of the machine: it keeps every
 * outcome recorded while closed (no buckets) and applies the documented window rule at query time — an
 * outcome at `t` counts at `now` iff its bucket start `floor(t / L) * L` is after `now - windowMs`, with
 * `L = max(1, ceil(windowMs / 10))`.
 */
export class ReferenceBreaker {
  state: BreakerState = 'closed';
  consecutiveFailures = 0;
  probesInFlight = 0;
  halfOpenSuccesses = 0;
  openedAt: number | undefined = undefined;
  calls = 0;
  successes = 0;
  failures = 0;
  rejections = 0;
  stateChanges = 0;
  private outcomes: { t: number; ok: boolean }[] = [];

  constructor(readonly options: BreakerOptions) {}

  /** The decision for a call at `now`: admitted, or refused with the time it will next admit. */
  call(now: number): { ok: true } | { ok: false; retryAt: number } {
    const o = this.options;
    if (this.state === 'closed' || (this.state === 'halfOpen' && this.probesInFlight < o.halfOpenMaxProbes)) {
      if (this.state === 'halfOpen') this.probesInFlight++;
      this.calls++;
      return { ok: true };
    }
    this.rejections++;
    return { ok: false, retryAt: this.retryAt(now) ?? Number.NaN };
  }

  success(now: number): void {
    this.successes++;
    this.consecutiveFailures = 0;
    if (this.state === 'closed') this.outcomes.push({ t: now, ok: true });
    if (this.state === 'halfOpen' && this.probesInFlight > 0) {
      this.probesInFlight--;
      this.halfOpenSuccesses++;
      if (this.halfOpenSuccesses >= this.options.successThreshold) this.close();
    }
  }

  failure(now: number): void {
    this.failures++;
    this.consecutiveFailures++;
    if (this.state === 'closed') {
      this.outcomes.push({ t: now, ok: false });
      if (this.thresholdReached(now)) this.open(now);
    } else if (this.state === 'halfOpen' && this.probesInFlight > 0) {
      this.open(now);
    }
  }

  /** True when the closed circuit's counters reached a threshold (count or rate) at `now`. */
  thresholdReached(now: number): boolean {
    const o = this.options;
    const { total, failureRate } = this.window(now);
    return (
      this.consecutiveFailures >= o.failureThreshold ||
      (total >= o.minimumThroughput && failureRate >= o.failureRateThreshold)
    );
  }

  release(): void {
    if (this.state === 'halfOpen' && this.probesInFlight > 0) this.probesInFlight--;
  }

  reset(): void {
    if (this.state === 'closed') {
      this.consecutiveFailures = 0;
      this.outcomes = [];
    } else {
      this.close();
    }
  }

  /** Time moved to `now`: the recovery timer fires if it is due. */
  advance(now: number): void {
    if (
      this.state === 'open' &&
      this.openedAt !== undefined &&
      now >= this.openedAt + this.options.recoveryTimeoutMs
    ) {
      this.state = 'halfOpen';
      this.probesInFlight = 0;
      this.halfOpenSuccesses = 0;
      this.stateChanges++;
    }
  }

  window(now: number): { total: number; failureRate: number } {
    const { windowMs } = this.options;
    const length = Math.max(1, Math.ceil(windowMs / 10));
    const live = this.outcomes.filter(({ t }) => Math.floor(t / length) * length > now - windowMs);
    const failures = live.filter(({ ok }) => !ok).length;
    return { total: live.length, failureRate: live.length === 0 ? 0 : failures / live.length };
  }

  retryAt(now: number): number | undefined {
    if (this.state === 'open' && this.openedAt !== undefined)
      return this.openedAt + this.options.recoveryTimeoutMs;
    if (this.state === 'halfOpen' && this.probesInFlight >= this.options.halfOpenMaxProbes) return now;
    return undefined;
  }

  private open(now: number): void {
    this.state = 'open';
    this.openedAt = now;
    this.probesInFlight = 0;
    this.halfOpenSuccesses = 0;
    this.stateChanges++;
  }

  private close(): void {
    this.state = 'closed';
    this.consecutiveFailures = 0;
    this.probesInFlight = 0;
    this.halfOpenSuccesses = 0;
    this.openedAt = undefined;
    this.outcomes = [];
    this.stateChanges++;
  }
}
