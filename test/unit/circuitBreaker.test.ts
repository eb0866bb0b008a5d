import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  WINDOW_BUCKETS,
  bucketLength,
  recordOutcome,
  windowStats,
} from '../../src/machines/slidingWindow.js';
import {
  CircuitBreaker,
  breakerOptionsSchema,
  circuitOpenError,
  type BreakerOptionsInput,
  type BreakerStateChange,
} from '../../src/runtime/CircuitBreaker.js';
import { PatternError, PatternValidationError, isCircuitOpenError } from '../../src/core/errors.js';

const T0 = 1_000_000;

function setup(options: BreakerOptionsInput = {}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const breaker = new CircuitBreaker('agent-a', options, clock);
  return { clock, breaker };
}

/** Admits and fails `n` calls. */
function failCalls(breaker: CircuitBreaker, n: number): void {
  for (let i = 0; i < n; i++) {
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
    breaker.recordFailure();
  }
}

describe('breakerOptionsSchema', () => {
  it('fills the documented defaults', () => {
    expect(breakerOptionsSchema.parse({})).toEqual({
      failureThreshold: 5,
      failureRateThreshold: 0.5,
      minimumThroughput: 10,
      windowMs: 60_000,
      recoveryTimeoutMs: 5_000,
      halfOpenMaxProbes: 1,
      successThreshold: 1,
    });
  });
});

describe('CircuitBreaker constructor', () => {
  it('starts closed with zeroed metrics', () => {
    const { breaker } = setup();
    expect(breaker.agentId).toBe('agent-a');
    expect(breaker.state).toBe('closed');
    expect(breaker.metrics()).toEqual({
      state: 'closed',
      calls: 0,
      successes: 0,
      failures: 0,
      rejections: 0,
      failureRate: 0,
      consecutiveFailures: 0,
      stateChanges: 0,
      probesInFlight: 0,
      meanDurationMs: 0,
    });
  });

  it.each([
    [{ failureThreshold: 0 }, 'CircuitBreaker.options.failureThreshold'],
    [{ failureRateThreshold: 1.5 }, 'CircuitBreaker.options.failureRateThreshold'],
    [{ failureRateThreshold: 0 }, 'CircuitBreaker.options.failureRateThreshold'],
    [{ minimumThroughput: 2.5 }, 'CircuitBreaker.options.minimumThroughput'],
    [{ windowMs: 0 }, 'CircuitBreaker.options.windowMs'],
    [{ recoveryTimeoutMs: -1 }, 'CircuitBreaker.options.recoveryTimeoutMs'],
    [{ halfOpenMaxProbes: 0 }, 'CircuitBreaker.options.halfOpenMaxProbes'],
    [{ successThreshold: 0 }, 'CircuitBreaker.options.successThreshold'],
  ])('rejects %o naming %s', (options, field) => {
    let caught: unknown;
    try {
      new CircuitBreaker('a', options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PatternValidationError);
    expect((caught as PatternValidationError).details.field).toBe(field);
    expect((caught as PatternValidationError).message).toContain(field);
  });

  it('rejects unknown options and an empty agent id', () => {
    expect(() => new CircuitBreaker('a', { threshold: 3 } as BreakerOptionsInput)).toThrow(/threshold/);
    expect(() => new CircuitBreaker('')).toThrow(PatternValidationError);
    expect(() => new CircuitBreaker('')).toThrow(/CircuitBreaker\.agentId/);
  });
});

describe('closed state', () => {
  it('opens on failureThreshold consecutive failures, not before', () => {
    const { breaker } = setup({ failureThreshold: 3 });
    failCalls(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.metrics().consecutiveFailures).toBe(2);
    failCalls(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(breaker.metrics()).toMatchObject({ calls: 3, failures: 3, openedAt: T0, retryAt: T0 + 5_000 });
  });

  it('a success resets the consecutive count', () => {
    const { breaker } = setup({ failureThreshold: 3, minimumThroughput: 100 });
    failCalls(breaker, 2);
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
    breaker.recordSuccess(40);
    expect(breaker.metrics().consecutiveFailures).toBe(0);
    failCalls(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.metrics()).toMatchObject({ successes: 1, failures: 4, meanDurationMs: 40 });
  });

  it('opens on the failure rate once minimumThroughput outcomes are in the window', () => {
    const { breaker } = setup({ failureThreshold: 100, failureRateThreshold: 0.5, minimumThroughput: 4 });
    breaker.recordSuccess(1);
    breaker.recordFailure();
    breaker.recordSuccess(1);
    expect(breaker.state).toBe('closed');
    expect(breaker.metrics().failureRate).toBeCloseTo(1 / 3);
    breaker.recordFailure(); // 2 of 4 = 0.5
    expect(breaker.state).toBe('open');
  });

  it('forgets outcomes that left the window', () => {
    const { breaker, clock } = setup({
      failureThreshold: 100,
      failureRateThreshold: 0.5,
      minimumThroughput: 4,
      windowMs: 10_000,
    });
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.metrics().failureRate).toBe(1);
    clock.increment(10_000);
    expect(breaker.metrics().failureRate).toBe(0);
    breaker.recordSuccess(1);
    breaker.recordSuccess(1);
    breaker.recordSuccess(1);
    breaker.recordFailure(); // 1 of 4 in the window: stays closed
    expect(breaker.state).toBe('closed');
    expect(breaker.metrics().failureRate).toBe(0.25);
  });
});

describe('open state', () => {
  it('rejects every call with the end of the recovery timeout', () => {
    const { breaker, clock } = setup({ failureThreshold: 1, recoveryTimeoutMs: 5_000 });
    failCalls(breaker, 1);
    clock.increment(4_999);
    expect(breaker.tryAcquire()).toEqual({ ok: false, retryAt: T0 + 5_000 });
    expect(breaker.tryAcquire()).toEqual({ ok: false, retryAt: T0 + 5_000 });
    expect(breaker.metrics()).toMatchObject({ state: 'open', calls: 1, rejections: 2 });
  });

  it('half-opens after recoveryTimeoutMs on the injected clock', () => {
    const { breaker, clock } = setup({ failureThreshold: 1, recoveryTimeoutMs: 5_000 });
    failCalls(breaker, 1);
    clock.increment(4_999);
    expect(breaker.state).toBe('open');
    clock.increment(1);
    expect(breaker.state).toBe('halfOpen');
    expect(breaker.metrics().retryAt).toBeUndefined();
    expect(breaker.metrics().openedAt).toBe(T0);
  });

  it('counts late outcomes of calls admitted before the break without moving', () => {
    const { breaker } = setup({ failureThreshold: 1 });
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
    failCalls(breaker, 1);
    breaker.recordSuccess(10);
    expect(breaker.metrics()).toMatchObject({ state: 'open', successes: 1, failures: 1 });
  });
});

describe('halfOpen state', () => {
  function halfOpen(options: BreakerOptionsInput = {}) {
    const env = setup({ failureThreshold: 1, recoveryTimeoutMs: 1_000, ...options });
    failCalls(env.breaker, 1);
    env.clock.increment(1_000);
    expect(env.breaker.state).toBe('halfOpen');
    return env;
  }

  it('admits at most halfOpenMaxProbes at once and refuses the rest with now', () => {
    const { breaker } = halfOpen({ halfOpenMaxProbes: 2, successThreshold: 3 });
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
    expect(breaker.tryAcquire()).toEqual({ ok: false, retryAt: T0 + 1_000 });
    expect(breaker.metrics()).toMatchObject({ probesInFlight: 2, rejections: 1, retryAt: T0 + 1_000 });
    breaker.recordSuccess(5);
    expect(breaker.state).toBe('halfOpen');
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
  });

  it('closes after successThreshold probe successes and clears the counters', () => {
    const { breaker } = halfOpen({ successThreshold: 2 });
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
    breaker.recordSuccess(1);
    expect(breaker.state).toBe('halfOpen');
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
    breaker.recordSuccess(3);
    expect(breaker.state).toBe('closed');
    const metrics = breaker.metrics();
    expect(metrics).toMatchObject({
      consecutiveFailures: 0,
      failureRate: 0,
      probesInFlight: 0,
      stateChanges: 3,
    });
    expect(metrics.openedAt).toBeUndefined();
  });

  it('reopens on a probe failure with a new openedAt', () => {
    const { breaker, clock } = halfOpen();
    clock.increment(250);
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.metrics()).toMatchObject({ openedAt: T0 + 1_250, retryAt: T0 + 2_250 });
  });

  it('release frees a probe slot without an outcome', () => {
    const { breaker } = halfOpen();
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
    expect(breaker.tryAcquire().ok).toBe(false);
    breaker.release();
    expect(breaker.metrics().probesInFlight).toBe(0);
    expect(breaker.state).toBe('halfOpen');
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
  });

  it('ignores outcomes that arrive while no probe is in flight', () => {
    const { breaker } = halfOpen();
    breaker.recordFailure();
    breaker.recordSuccess(1);
    breaker.release();
    expect(breaker.state).toBe('halfOpen');
    expect(breaker.metrics()).toMatchObject({ probesInFlight: 0, successes: 1, failures: 2 });
  });
});

describe('generations (late outcomes)', () => {
  function halfOpen() {
    const env = setup({ failureThreshold: 1, recoveryTimeoutMs: 1_000, halfOpenMaxProbes: 1 });
    const old = env.breaker.tryAcquire();
    const oldest = env.breaker.tryAcquire();
    failCalls(env.breaker, 1);
    env.clock.increment(1_000);
    expect(env.breaker.state).toBe('halfOpen');
    if (!old.ok || !oldest.ok) throw new Error('expected admitted permits');
    return { ...env, old: old.generation, oldest: oldest.generation };
  }

  it('a late success of a call admitted before the break does not close while the probe runs', () => {
    const { breaker, old } = halfOpen();
    const probe = breaker.tryAcquire();
    expect(probe.ok).toBe(true);
    breaker.recordSuccess(5, old);
    expect(breaker.state).toBe('halfOpen');
    expect(breaker.metrics()).toMatchObject({ probesInFlight: 1, successes: 1 });
    // the probe slot is still taken: no extra call is admitted
    expect(breaker.tryAcquire().ok).toBe(false);
    if (!probe.ok) throw new Error('unreachable');
    breaker.recordSuccess(5, probe.generation);
    expect(breaker.state).toBe('closed');
  });

  it('a late failure does not reopen a half-open breaker and the probe success still closes it', () => {
    const { breaker, old } = halfOpen();
    const probe = breaker.tryAcquire();
    if (!probe.ok) throw new Error('expected a probe');
    breaker.recordFailure(old);
    expect(breaker.state).toBe('halfOpen');
    expect(breaker.metrics()).toMatchObject({ failures: 2, probesInFlight: 1 });
    breaker.recordSuccess(3, probe.generation);
    expect(breaker.state).toBe('closed');
  });

  it('a late release does not free the probe slot of the current episode', () => {
    const { breaker, old } = halfOpen();
    expect(breaker.tryAcquire().ok).toBe(true);
    breaker.release(old);
    expect(breaker.metrics().probesInFlight).toBe(1);
    expect(breaker.tryAcquire().ok).toBe(false);
  });

  it('a late failure after the breaker closed again does not count toward the new streak', () => {
    const { breaker, oldest } = halfOpen();
    const probe = breaker.tryAcquire();
    if (!probe.ok) throw new Error('expected a probe');
    breaker.recordSuccess(1, probe.generation);
    expect(breaker.state).toBe('closed');
    breaker.recordFailure(oldest);
    expect(breaker.state).toBe('closed');
    expect(breaker.metrics()).toMatchObject({ consecutiveFailures: 0, failureRate: 0, failures: 2 });
  });

  it('an outcome with the current generation moves the breaker as an anonymous one does', () => {
    const { breaker } = setup({ failureThreshold: 2 });
    const a = breaker.tryAcquire();
    const b = breaker.tryAcquire();
    if (!a.ok || !b.ok) throw new Error('expected permits');
    expect(a.generation).toBe(b.generation);
    breaker.recordFailure(a.generation);
    breaker.recordFailure(b.generation);
    expect(breaker.state).toBe('open');
  });
});

describe('hooks', () => {
  it('onStateChange reports every change with time; onBreak only entries into open', () => {
    const { breaker, clock } = setup({ failureThreshold: 1, recoveryTimeoutMs: 100 });
    const changes: BreakerStateChange[] = [];
    const breaks: BreakerStateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    breaker.onBreak((c) => breaks.push(c));
    failCalls(breaker, 1);
    clock.increment(100);
    expect(breaker.tryAcquire()).toMatchObject({ ok: true });
    breaker.recordSuccess(2);
    expect(changes).toEqual([
      { agentId: 'agent-a', from: 'closed', to: 'open', at: T0 },
      { agentId: 'agent-a', from: 'open', to: 'halfOpen', at: T0 + 100 },
      { agentId: 'agent-a', from: 'halfOpen', to: 'closed', at: T0 + 100 },
    ]);
    expect(breaks).toEqual([changes[0]]);
  });

  it('disposers remove listeners and a throwing listener does not stop the others', () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const seen: string[] = [];
    breaker.onStateChange(() => {
      throw new Error('hook failed');
    });
    const dispose = breaker.onStateChange(() => seen.push('removed'));
    breaker.onBreak((c) => seen.push(`break:${c.to}`));
    dispose();
    failCalls(breaker, 1);
    expect(seen).toEqual(['break:open']);
    expect(breaker.state).toBe('open');
  });
});

describe('reset and stop', () => {
  it('reset closes an open breaker, cancels its timer and keeps cumulative metrics', () => {
    const { breaker, clock } = setup({ failureThreshold: 2, recoveryTimeoutMs: 100 });
    failCalls(breaker, 2);
    const changes: string[] = [];
    breaker.onStateChange((c) => changes.push(`${c.from}->${c.to}`));
    breaker.reset();
    expect(breaker.state).toBe('closed');
    clock.increment(1_000);
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open->closed']);
    expect(breaker.metrics()).toMatchObject({
      calls: 2,
      failures: 2,
      consecutiveFailures: 0,
      stateChanges: 2,
    });
  });

  it('reset in closed clears the consecutive count without a state change', () => {
    const { breaker } = setup({ failureThreshold: 2 });
    failCalls(breaker, 1);
    breaker.reset();
    failCalls(breaker, 1);
    expect(breaker.state).toBe('closed');
    expect(breaker.metrics()).toMatchObject({ consecutiveFailures: 1, stateChanges: 0 });
  });

  it('stop halts the timer, ignores reports and refuses tryAcquire', () => {
    const { breaker, clock } = setup({ failureThreshold: 1, recoveryTimeoutMs: 100 });
    failCalls(breaker, 1);
    breaker.stop();
    clock.increment(1_000);
    expect(breaker.state).toBe('open');
    breaker.recordFailure();
    breaker.recordSuccess(1);
    breaker.release();
    breaker.reset();
    expect(breaker.metrics()).toMatchObject({ state: 'open', failures: 1, successes: 0 });
    expect(() => breaker.tryAcquire()).toThrow(PatternError);
    expect(() => breaker.tryAcquire()).toThrow(/agent-a.*stopped/);
    breaker.stop();
  });
});

describe('trip (a circuit opened elsewhere in the cluster)', () => {
  it('opens a closed breaker now, and half-opens after the recovery timeout from then', () => {
    const { clock, breaker } = setup({ recoveryTimeoutMs: 1000 });
    const changes: BreakerStateChange[] = [];
    breaker.onStateChange((c) => changes.push(c));
    clock.increment(50);
    breaker.trip();
    expect(breaker.state).toBe('open');
    expect(breaker.metrics()).toMatchObject({ openedAt: T0 + 50, retryAt: T0 + 1050, failures: 0 });
    expect(breaker.tryAcquire()).toEqual({ ok: false, retryAt: T0 + 1050 });
    breaker.trip(); // already open: nothing moves, the timeout is not restarted
    expect(changes.map((c) => c.to)).toEqual(['open']);
    clock.increment(1000);
    expect(breaker.state).toBe('halfOpen');
  });

  it('reopens a half-open breaker, making its probe stale', () => {
    const { clock, breaker } = setup({ failureThreshold: 1, recoveryTimeoutMs: 100 });
    failCalls(breaker, 1);
    clock.increment(100);
    const probe = breaker.tryAcquire();
    expect(probe).toMatchObject({ ok: true });
    breaker.trip();
    expect(breaker.state).toBe('open');
    if (probe.ok) breaker.recordSuccess(5, probe.generation); // the old probe's late success
    expect(breaker.state).toBe('open');
    expect(breaker.metrics().openedAt).toBe(T0 + 100);
  });
});

describe('recordSuccess validation', () => {
  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects durationMs %s', (durationMs) => {
    const { breaker } = setup();
    expect(() => breaker.recordSuccess(durationMs)).toThrow(PatternValidationError);
    expect(breaker.metrics().successes).toBe(0);
  });
});

describe('circuitOpenError', () => {
  it('names the agent and when it will be retried', () => {
    const error = circuitOpenError('agent-a', Date.UTC(2026, 0, 1, 12, 0, 0));
    expect(isCircuitOpenError(error)).toBe(true);
    expect(error.code).toBe('ND_CIRCUIT_OPEN');
    expect(error.details).toEqual({ agentId: 'agent-a', retryAt: Date.UTC(2026, 0, 1, 12), retryable: true });
    expect(error.message).toBe(
      "Circuit breaker for agent 'agent-a' is open; it will admit a call again at 2026-01-01T12:00:00.000Z",
    );
  });
});

describe('sliding window helpers', () => {
  it('buckets outcomes in windowMs / 10 steps and drops old buckets', () => {
    expect(WINDOW_BUCKETS).toBe(10);
    expect(bucketLength(60_000)).toBe(6_000);
    expect(bucketLength(5)).toBe(1);
    let window = recordOutcome([], 6_500, false, 60_000);
    window = recordOutcome(window, 11_999, true, 60_000);
    window = recordOutcome(window, 12_000, true, 60_000);
    expect(window).toEqual([
      { start: 6_000, successes: 1, failures: 1 },
      { start: 12_000, successes: 1, failures: 0 },
    ]);
    expect(windowStats(window, 65_999, 60_000)).toEqual({ total: 3, failures: 1, failureRate: 1 / 3 });
    expect(windowStats(window, 66_000, 60_000)).toEqual({ total: 1, failures: 0, failureRate: 0 });
    expect(recordOutcome(window, 66_000, false, 60_000)).toEqual([
      { start: 12_000, successes: 1, failures: 0 },
      { start: 66_000, successes: 0, failures: 1 },
    ]);
  });
});
