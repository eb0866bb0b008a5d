import { createActor, type Actor } from 'xstate';
import { z } from 'zod';
import {
  circuitBreakerMachine,
  type CircuitBreakerContext,
  type CircuitBreakerEvent,
} from '../machines/circuitBreaker.machine.js';
import { bucketLength, windowStats } from '../machines/slidingWindow.js';
import { systemClock, type Clock } from '../core/clock.js';
import { CircuitOpenError, ErrorCode, PatternError, PatternValidationError } from '../core/errors.js';
import { notifyAll, type ListenerErrorLog } from '../core/listeners.js';
import { parseWith } from '../core/validate.js';
import { durationMs, positiveDurationMs } from '../core/duration.js';

/**
 * Options of a {@link CircuitBreaker}, validated with zod (unknown keys are rejected). Units: ms for
 * times, 0..1 for the rate. Defaults: `failureThreshold` 5, `failureRateThreshold` 0.5,
 * `minimumThroughput` 10, `windowMs` 60 000, `recoveryTimeoutMs` 5 000, `halfOpenMaxProbes` 1,
 * `successThreshold` 1. The recovery timeout is short by default so that an attempt refused by an open
 * breaker can wait for its probe within a typical step deadline instead of failing (a single probe keeps
 * the load on a still-failing agent low).
 *
 * The circuit opens on `failureThreshold` consecutive failures, or when at least `minimumThroughput`
 * outcomes in the last `windowMs` have a failure rate ≥ `failureRateThreshold` (Microsoft Azure
 * Architecture Center, "Circuit Breaker pattern"; M. Nygard, "Release It!", 2007).
 */
export const breakerOptionsSchema = z
  .object({
    /** Consecutive failures that open the circuit; integer ≥ 1. */
    failureThreshold: z.number().int().min(1).default(5),
    /** Failure rate over the window that opens the circuit, in (0, 1]. */
    failureRateThreshold: z.number().gt(0).max(1).default(0.5),
    /** Outcomes needed in the window before the rate applies; integer ≥ 1. */
    minimumThroughput: z.number().int().min(1).default(10),
    /** Sliding window length, ms (integer ≥ 1; it slides in steps of `windowMs / 10`). */
    windowMs: positiveDurationMs.default(60_000),
    /** Time open before probing (half-open), ms; integer ≥ 0. */
    recoveryTimeoutMs: durationMs.default(5_000),
    /** Probes in flight at once while half-open; integer ≥ 1. */
    halfOpenMaxProbes: z.number().int().min(1).default(1),
    /** Probe successes that close the circuit; integer ≥ 1. */
    successThreshold: z.number().int().min(1).default(1),
  })
  .strict();
/** Validated breaker options, every field present. */
export type BreakerOptions = z.infer<typeof breakerOptionsSchema>;
/** Breaker options as a caller writes them: every field optional. */
export type BreakerOptionsInput = z.input<typeof breakerOptionsSchema>;

/** The states of a breaker: `closed` admits, `open` refuses, `halfOpen` admits a few probes. */
export type BreakerState = 'closed' | 'open' | 'halfOpen';

/** A state change, as handed to {@link CircuitBreaker.onStateChange} listeners; `at` is epoch ms. */
export interface BreakerStateChange {
  readonly agentId: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly at: number;
}

/** A listener of state changes. */
export type BreakerListener = (change: BreakerStateChange) => void;

/** A snapshot of a breaker's metrics (a plain object). */
export interface BreakerMetrics {
  readonly state: BreakerState;
  /** Calls admitted since creation (closed, or as probes). */
  readonly calls: number;
  /** Successes and failures reported since creation. */
  readonly successes: number;
  readonly failures: number;
  /** Calls refused since creation. */
  readonly rejections: number;
  /** Failure rate of the outcomes recorded while closed in the last `windowMs`, 0..1 (0 when none). */
  readonly failureRate: number;
  readonly consecutiveFailures: number;
  /** Transitions between distinct states since creation. */
  readonly stateChanges: number;
  /** Probes admitted and not yet reported (half-open). */
  readonly probesInFlight: number;
  /** Mean `durationMs` of successes, ms (0 when none). */
  readonly meanDurationMs: number;
  /** When the circuit last opened, epoch ms (open and half-open; absent once closed). */
  readonly openedAt?: number;
  /** When the circuit will admit a call again, epoch ms (open, or half-open with every probe slot taken). */
  readonly retryAt?: number;
}

/**
 * The error an executor throws when an agent's breaker refuses a call: it names the agent and when the
 * breaker will next admit one (`details.agentId`, `details.retryAt` epoch ms).
 */
export function circuitOpenError(agentId: string, retryAt: number): CircuitOpenError {
  return new CircuitOpenError(
    `Circuit breaker for agent '${agentId}' is open; it will admit a call again at ${new Date(retryAt).toISOString()}`,
    { agentId, retryAt, retryable: true },
  );
}

/**
 * One circuit breaker per agent: it refuses calls to an agent that keeps failing, then lets a few probes
 * through after a recovery timeout and closes again when they succeed (M. Nygard, "Release It!", 2007;
 * Microsoft Azure Architecture Center, "Circuit Breaker pattern"). It runs {@link circuitBreakerMachine}
 * as an actor on the injected clock.
 *
 * Each call admitted by {@link tryAcquire} must end with exactly one of {@link recordSuccess},
 * {@link recordFailure} or {@link release}. Pass the `generation` the permit carried: an outcome of a call
 * admitted in an earlier state episode (a late answer from before the circuit opened, half-opened or
 * closed) is then counted in the metrics and moves nothing, so a late success cannot close a half-open
 * circuit while its probe runs and a late failure cannot reopen it. Without `generation` an outcome is
 * anonymous: one reported while half-open with no probe in flight is counted but moves nothing, and one
 * reported while open only updates the metrics. State-change times come from the clock.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker('billing', { failureThreshold: 3, recoveryTimeoutMs: 10_000 });
 * const permit = breaker.tryAcquire();
 * if (!permit.ok) throw circuitOpenError(breaker.agentId, permit.retryAt);
 * try { await callAgent(); breaker.recordSuccess(12, permit.generation); }
 * catch (e) { breaker.recordFailure(permit.generation); throw e; }
 * ```
 */
export class CircuitBreaker {
  /** The agent this breaker protects. */
  readonly agentId: string;
  readonly #clock: Clock;
  readonly #log: ListenerErrorLog | undefined;
  readonly #actor: Actor<typeof circuitBreakerMachine>;
  readonly #changeListeners = new Set<BreakerListener>();
  readonly #breakListeners = new Set<BreakerListener>();
  #state: BreakerState = 'closed';
  #failure: unknown = undefined;
  #stopped = false;
  /**
   * Fast path while closed with no failure streak: admitted calls and successes are counted here
   * and reported to the machine as one batch before any other event, any read, or when the
   * window bucket changes (so the window stays exact to the bucket).
   */
  readonly #batch = { calls: 0, successes: 0, durationMs: 0, at: 0, bucket: -1 };

  /**
   * @param agentId - id of the agent (non-empty).
   * @param options - see {@link breakerOptionsSchema}; omitted fields take their defaults.
   * @param clock - time source for the recovery timeout and outcome times (default: the wall clock).
   * @param log - where errors thrown by state-change listeners are logged (default: the library's logger).
   * @throws PatternValidationError when `agentId` or an option is invalid; `details.field` names it
   *   (e.g. `CircuitBreaker.options.failureThreshold`).
   */
  constructor(
    agentId: string,
    options: BreakerOptionsInput = {},
    clock: Clock = systemClock,
    log?: ListenerErrorLog,
  ) {
    this.#log = log;
    this.agentId = parseWith(z.string().min(1), agentId, 'CircuitBreaker.agentId');
    const parsed = parseWith(breakerOptionsSchema, options, 'CircuitBreaker.options');
    this.#clock = clock;
    this.#actor = createActor(circuitBreakerMachine, { input: { options: parsed }, clock });
    this.#actor.subscribe({
      next: (snapshot) => this.#observe(snapshot.value),
      error: (error) => {
        this.#failure = error;
      },
    });
    this.#actor.start();
  }

  /** The current state. */
  get state(): BreakerState {
    return this.#state;
  }

  /**
   * Admits a call (taking a probe slot when half-open) with the generation of the state it was admitted
   * in, or refuses it with when the breaker will next admit one (epoch ms): the end of the recovery
   * timeout when open, now when half-open with every probe slot taken (a slot frees as soon as a probe
   * reports).
   * @throws PatternError when the breaker was stopped or its actor failed.
   */
  tryAcquire(): { ok: true; generation: number } | { ok: false; retryAt: number } {
    this.#ensureUsable(true);
    if (this.#state === 'closed') {
      this.#batch.calls += 1;
      return { ok: true, generation: this.#context().generation };
    }
    this.#flush();
    const before = this.#context().counters.calls;
    this.#actor.send({ type: 'CALL' });
    const context = this.#context();
    if (context.counters.calls > before) return { ok: true, generation: context.generation };
    return { ok: false, retryAt: this.#retryAt(context) ?? this.#clock.now() };
  }

  /**
   * Reports that an admitted call succeeded after `durationMs` (ms, finite ≥ 0).
   * @param generation - the permit's generation (see {@link tryAcquire}); omitted: anonymous.
   * @throws PatternValidationError when `durationMs` is negative or not finite.
   */
  recordSuccess(durationMs: number, generation?: number): void {
    if (!Number.isFinite(durationMs) || durationMs < 0) {
      throw new PatternValidationError(
        `Invalid CircuitBreaker.recordSuccess.durationMs: expected a finite number ≥ 0, got ${durationMs}`,
        { field: 'CircuitBreaker.recordSuccess.durationMs', agentId: this.agentId },
      );
    }
    const at = this.#clock.now();
    const context = this.#context();
    if (
      this.#state === 'closed' &&
      !this.#stopped &&
      context.consecutiveFailures === 0 &&
      (generation === undefined || generation === context.generation)
    ) {
      const bucket = Math.floor(at / bucketLength(context.options.windowMs));
      if (this.#batch.successes > 0 && bucket !== this.#batch.bucket) this.#flush();
      this.#batch.bucket = bucket;
      this.#batch.successes += 1;
      this.#batch.durationMs += durationMs;
      this.#batch.at = at;
      return;
    }
    this.#flush();
    this.#send(
      generation === undefined
        ? { type: 'SUCCESS', at, durationMs }
        : { type: 'SUCCESS', at, durationMs, generation },
    );
  }

  /** Reports the batched closed-state calls and successes to the machine. */
  #flush(): void {
    const b = this.#batch;
    if (b.calls === 0 && b.successes === 0) return;
    const { calls, successes, durationMs, at } = b;
    b.calls = 0;
    b.successes = 0;
    b.durationMs = 0;
    if (calls > 0) this.#send({ type: 'CALL', count: calls });
    if (successes > 0) this.#send({ type: 'SUCCESS', at, durationMs, count: successes });
  }

  /**
   * Reports that an admitted call failed (an agent fault).
   * @param generation - the permit's generation (see {@link tryAcquire}); omitted: anonymous.
   */
  recordFailure(generation?: number): void {
    this.#flush();
    const at = this.#clock.now();
    this.#send(generation === undefined ? { type: 'FAILURE', at } : { type: 'FAILURE', at, generation });
  }

  /**
   * A call admitted by tryAcquire that ended with no outcome (cancelled, lost with the connection, or
   * refused for the caller's input): frees its probe slot when it was a probe of the current episode.
   * @param generation - the permit's generation (see {@link tryAcquire}); omitted: anonymous.
   */
  release(generation?: number): void {
    this.#flush();
    this.#send(generation === undefined ? { type: 'RELEASE' } : { type: 'RELEASE', generation });
  }

  /** A plain-object snapshot of the counters; `failureRate` is computed over the window at now. */
  metrics(): BreakerMetrics {
    const context = this.#settledContext();
    const { counters, options } = context;
    const retryAt = this.#retryAt(context);
    return {
      state: this.#state,
      calls: counters.calls,
      successes: counters.successes,
      failures: counters.failures,
      rejections: counters.rejections,
      failureRate: windowStats(context.window, this.#clock.now(), options.windowMs).failureRate,
      consecutiveFailures: context.consecutiveFailures,
      stateChanges: counters.stateChanges,
      probesInFlight: context.probesInFlight,
      meanDurationMs: counters.successes === 0 ? 0 : counters.totalDurationMs / counters.successes,
      ...(counters.openedAt === undefined ? {} : { openedAt: counters.openedAt }),
      ...(retryAt === undefined ? {} : { retryAt }),
    };
  }

  /**
   * Calls `listener` on every state change (synchronously, in registration order). A listener that throws
   * is isolated: its error is logged at `warn` and dropped so that it cannot stop the breaker or the other listeners.
   * @returns a disposer that removes the listener.
   */
  onStateChange(listener: BreakerListener): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** Like {@link onStateChange}, but only for changes into `open`. @returns a disposer. */
  onBreak(listener: BreakerListener): () => void {
    this.#breakListeners.add(listener);
    return () => this.#breakListeners.delete(listener);
  }

  /** Forces the breaker closed and clears its window and probes; cumulative metrics are kept. */
  reset(): void {
    this.#flush();
    this.#send({ type: 'RESET' });
  }

  /**
   * Forces a closed or half-open breaker open now, as if it had just seen the failure that opens it
   * (used to follow a circuit opened by another process of a cluster); no-op when already open. The
   * recovery timeout starts now; probes in flight become stale.
   */
  trip(): void {
    if (this.#state === 'open') return;
    this.#flush();
    this.#send({ type: 'TRIP', at: this.#clock.now() });
  }

  /** Stops the actor (and its recovery timer) and drops every listener; later reports are ignored. */
  stop(): void {
    if (this.#stopped) return;
    this.#flush();
    this.#stopped = true;
    this.#actor.stop();
    this.#changeListeners.clear();
    this.#breakListeners.clear();
  }

  #context(): CircuitBreakerContext {
    return this.#actor.getSnapshot().context;
  }

  /** The context with every batched outcome reported. */
  #settledContext(): CircuitBreakerContext {
    this.#flush();
    return this.#context();
  }

  #retryAt(context: CircuitBreakerContext): number | undefined {
    if (this.#state === 'open' && context.counters.openedAt !== undefined) {
      return context.counters.openedAt + context.options.recoveryTimeoutMs;
    }
    if (this.#state === 'halfOpen' && context.probesInFlight >= context.options.halfOpenMaxProbes) {
      return this.#clock.now();
    }
    return undefined;
  }

  #send(event: CircuitBreakerEvent): void {
    if (this.#ensureUsable(false)) this.#actor.send(event);
  }

  /** True when events may be sent; throws when `strict` and the breaker is stopped or failed. */
  #ensureUsable(strict: boolean): boolean {
    if (this.#failure !== undefined) {
      throw new PatternError(`Circuit breaker for agent '${this.agentId}' failed`, {
        code: ErrorCode.PATTERN,
        cause: this.#failure,
        details: { agentId: this.agentId },
      });
    }
    if (!this.#stopped) return true;
    if (strict) {
      throw new PatternError(`Circuit breaker for agent '${this.agentId}' is stopped`, {
        details: { agentId: this.agentId },
      });
    }
    return false;
  }

  #observe(value: BreakerState): void {
    const from = this.#state;
    if (value === from) return;
    this.#state = value;
    const change: BreakerStateChange = { agentId: this.agentId, from, to: value, at: this.#clock.now() };
    notifyAll(this.#changeListeners, change, this.#log, 'circuit breaker listener');
    if (value === 'open') notifyAll(this.#breakListeners, change, this.#log, 'circuit breaker listener');
  }
}
