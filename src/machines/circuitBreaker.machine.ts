import { assertEvent, assign, setup } from 'xstate';
import { recordOutcome, windowStats, type WindowBucket } from './slidingWindow.js';

/**
 * The circuit breaker as a pure XState v5 machine: `closed → open → halfOpen → closed | open`.
 *
 * Pattern: M. Nygard, "Release It!" (Pragmatic Bookshelf, 2007), ch. "Stability Patterns — Circuit
 * Breaker"; Microsoft Azure Architecture Center, "Circuit Breaker pattern"
 * (https://learn.microsoft.com/azure/architecture/patterns/circuit-breaker).
 *
 * The machine does no I/O and never reads a clock: outcome events carry their time (`at`, epoch ms)
 * and the only timer is the `after: recoveryTimeout` delay, which runs on the clock the actor is
 * created with. The runtime facade is `CircuitBreaker` (src/runtime/CircuitBreaker.ts).
 */

/** Options the machine runs with (validated and defaulted by `breakerOptionsSchema` in the runtime). */
export interface CircuitBreakerOptions {
  /** Consecutive failures (closed state) that open the circuit; integer ≥ 1. */
  readonly failureThreshold: number;
  /** Failure rate over the window (0..1, > 0) that opens the circuit once `minimumThroughput` is met. */
  readonly failureRateThreshold: number;
  /** Outcomes the window must hold before the failure rate is considered; integer ≥ 1. */
  readonly minimumThroughput: number;
  /** Length of the sliding window, ms. */
  readonly windowMs: number;
  /** Time the circuit stays open before it lets probes through (half-open), ms. */
  readonly recoveryTimeoutMs: number;
  /** Probes admitted at the same time while half-open; integer ≥ 1. */
  readonly halfOpenMaxProbes: number;
  /** Successful probes needed to close the circuit again; integer ≥ 1. */
  readonly successThreshold: number;
}

/** Cumulative counters; they survive state changes and `RESET`. */
export interface CircuitBreakerCounters {
  /** Calls admitted (closed, or as a half-open probe). */
  readonly calls: number;
  readonly successes: number;
  readonly failures: number;
  /** Calls refused (open, or half-open with every probe slot taken). */
  readonly rejections: number;
  /** Transitions between distinct states. */
  readonly stateChanges: number;
  /** Sum of the `durationMs` of every success, ms. */
  readonly totalDurationMs: number;
  /** When the circuit last opened (epoch ms); kept while half-open, undefined once closed. */
  readonly openedAt: number | undefined;
}

/** The machine's context. */
export interface CircuitBreakerContext {
  readonly options: CircuitBreakerOptions;
  /** Failures since the last success (reset when the circuit closes). */
  readonly consecutiveFailures: number;
  /** Successful probes in the current half-open episode. */
  readonly halfOpenSuccesses: number;
  /**
   * Generation of the current state episode: incremented on every state change and on `RESET`. A call
   * is admitted in one generation; an outcome reported with another generation is stale (see events).
   */
  readonly generation: number;
  /** Probes admitted and not yet reported (half-open only). */
  readonly probesInFlight: number;
  /** Outcomes recorded while closed, oldest bucket first, at most `WINDOW_BUCKETS` (10) buckets. */
  readonly window: readonly WindowBucket[];
  readonly counters: CircuitBreakerCounters;
}

/**
 * Events: `CALL` asks to admit a call; `SUCCESS` / `FAILURE` report the outcome of an admitted call
 * (`at` epoch ms, `durationMs` ms); `RELEASE` frees the probe slot of an admitted call that ended with
 * no outcome; `RESET` forces the circuit closed and clears its counters (not the cumulative ones);
 * `TRIP` forces a closed or half-open circuit open at `at` (epoch ms), as when another process of a
 * cluster saw the agent fail.
 * While closed, `CALL` and `SUCCESS` may carry a `count` (a batch; `durationMs` is then the batch's
 * total) so a facade can report a run of admitted successes in one event.
 *
 * `generation` on an outcome is the {@link CircuitBreakerContext.generation} the call was admitted in.
 * An outcome whose generation is not the current one is stale (a late answer of a call admitted before
 * the circuit opened, half-opened or closed): it is counted in the cumulative counters and moves nothing,
 * so a late success cannot close a half-open circuit while its probe runs and a late failure cannot
 * reopen it. An outcome without `generation` is anonymous and applies to the current state.
 */
export type CircuitBreakerEvent =
  | { readonly type: 'CALL'; readonly count?: number }
  | {
      readonly type: 'SUCCESS';
      readonly at: number;
      readonly durationMs: number;
      readonly count?: number;
      readonly generation?: number;
    }
  | { readonly type: 'FAILURE'; readonly at: number; readonly generation?: number }
  | { readonly type: 'RELEASE'; readonly generation?: number }
  | { readonly type: 'RESET' }
  | { readonly type: 'TRIP'; readonly at: number };

/** Input of {@link circuitBreakerMachine}. */
export interface CircuitBreakerInput {
  readonly options: CircuitBreakerOptions;
}

/** True when a failure at `at` would open a closed circuit (count or rate threshold reached). */
export function failureTrips(context: CircuitBreakerContext, at: number): boolean {
  const { options } = context;
  if (context.consecutiveFailures + 1 >= options.failureThreshold) return true;
  const window = recordOutcome(context.window, at, false, options.windowMs);
  const stats = windowStats(window, at, options.windowMs);
  return stats.total >= options.minimumThroughput && stats.failureRate >= options.failureRateThreshold;
}

/**
 * The circuit breaker machine. Start it with `createActor(circuitBreakerMachine, { input: { options },
 * clock })`; the recovery timeout runs on that clock.
 *
 * - closed: every `CALL` is admitted; a `FAILURE` that makes `failureThreshold` consecutive failures, or
 *   brings the window's failure rate to `failureRateThreshold` with at least `minimumThroughput` outcomes,
 *   opens the circuit.
 * - open: every `CALL` is rejected; after `recoveryTimeoutMs` the circuit half-opens.
 * - halfOpen: a `CALL` is admitted while `probesInFlight < halfOpenMaxProbes`, else rejected; a probe
 *   `FAILURE` reopens, `successThreshold` probe successes close. An outcome arriving while no probe is in
 *   flight (a call admitted before the circuit opened) is counted but moves nothing.
 * - `TRIP` opens a closed or half-open circuit (probes in flight become stale); `RESET` closes any.
 * - in every state, an outcome carrying a `generation` other than the current one is stale: counted in
 *   the cumulative counters only.
 */
export const circuitBreakerMachine = setup({
  types: {
    context: {} as CircuitBreakerContext,
    events: {} as CircuitBreakerEvent,
    input: {} as CircuitBreakerInput,
  },
  delays: {
    recoveryTimeout: ({ context }) => context.options.recoveryTimeoutMs,
  },
  guards: {
    stale: ({ context, event }) =>
      'generation' in event && event.generation !== undefined && event.generation !== context.generation,
    failureTrips: ({ context, event }) => {
      assertEvent(event, 'FAILURE');
      return failureTrips(context, event.at);
    },
    hasProbeSlot: ({ context }) => context.probesInFlight < context.options.halfOpenMaxProbes,
    hasProbeInFlight: ({ context }) => context.probesInFlight > 0,
    probeCloses: ({ context }) =>
      context.probesInFlight > 0 && context.halfOpenSuccesses + 1 >= context.options.successThreshold,
  },
  actions: {
    admit: assign({
      counters: ({ context, event }) => ({
        ...context.counters,
        calls: context.counters.calls + (event.type === 'CALL' ? (event.count ?? 1) : 1),
      }),
    }),
    admitProbe: assign({
      probesInFlight: ({ context }) => context.probesInFlight + 1,
      counters: ({ context }) => ({ ...context.counters, calls: context.counters.calls + 1 }),
    }),
    reject: assign({
      counters: ({ context }) => ({ ...context.counters, rejections: context.counters.rejections + 1 }),
    }),
    tallySuccess: assign(({ context, event }) => {
      assertEvent(event, 'SUCCESS');
      const { counters } = context;
      return {
        consecutiveFailures: 0,
        counters: {
          ...counters,
          successes: counters.successes + (event.count ?? 1),
          totalDurationMs: counters.totalDurationMs + event.durationMs,
        },
      };
    }),
    tallyStaleSuccess: assign(({ context, event }) => {
      assertEvent(event, 'SUCCESS');
      const { counters } = context;
      return {
        counters: {
          ...counters,
          successes: counters.successes + (event.count ?? 1),
          totalDurationMs: counters.totalDurationMs + event.durationMs,
        },
      };
    }),
    tallyStaleFailure: assign(({ context }) => ({
      counters: { ...context.counters, failures: context.counters.failures + 1 },
    })),
    tallyFailure: assign(({ context }) => ({
      consecutiveFailures: context.consecutiveFailures + 1,
      counters: { ...context.counters, failures: context.counters.failures + 1 },
    })),
    windowSuccess: assign({
      window: ({ context, event }) => {
        assertEvent(event, 'SUCCESS');
        return recordOutcome(context.window, event.at, true, context.options.windowMs, event.count ?? 1);
      },
    }),
    windowFailure: assign({
      window: ({ context, event }) => {
        assertEvent(event, 'FAILURE');
        return recordOutcome(context.window, event.at, false, context.options.windowMs);
      },
    }),
    markOpened: assign(({ context, event }) => {
      assertEvent(event, ['FAILURE', 'TRIP']);
      return {
        probesInFlight: 0,
        halfOpenSuccesses: 0,
        generation: context.generation + 1,
        counters: {
          ...context.counters,
          openedAt: event.at,
          stateChanges: context.counters.stateChanges + 1,
        },
      };
    }),
    enterHalfOpen: assign(({ context }) => ({
      probesInFlight: 0,
      halfOpenSuccesses: 0,
      generation: context.generation + 1,
      counters: { ...context.counters, stateChanges: context.counters.stateChanges + 1 },
    })),
    probeSucceeded: assign({
      probesInFlight: ({ context }) => context.probesInFlight - 1,
      halfOpenSuccesses: ({ context }) => context.halfOpenSuccesses + 1,
    }),
    releaseProbe: assign({ probesInFlight: ({ context }) => context.probesInFlight - 1 }),
    clearCounters: assign(({ context }) => ({
      consecutiveFailures: 0,
      halfOpenSuccesses: 0,
      probesInFlight: 0,
      window: [],
      generation: context.generation + 1,
    })),
    close: assign(({ context }) => ({
      generation: context.generation + 1,
      consecutiveFailures: 0,
      halfOpenSuccesses: 0,
      probesInFlight: 0,
      window: [],
      counters: {
        ...context.counters,
        openedAt: undefined,
        stateChanges: context.counters.stateChanges + 1,
      },
    })),
  },
}).createMachine({
  id: 'circuitBreaker',
  initial: 'closed',
  context: ({ input }) => ({
    options: input.options,
    consecutiveFailures: 0,
    halfOpenSuccesses: 0,
    probesInFlight: 0,
    generation: 0,
    window: [],
    counters: {
      calls: 0,
      successes: 0,
      failures: 0,
      rejections: 0,
      stateChanges: 0,
      totalDurationMs: 0,
      openedAt: undefined,
    },
  }),
  states: {
    closed: {
      on: {
        CALL: { actions: 'admit' },
        SUCCESS: [
          { guard: 'stale', actions: 'tallyStaleSuccess' },
          { actions: ['tallySuccess', 'windowSuccess'] },
        ],
        FAILURE: [
          { guard: 'stale', actions: 'tallyStaleFailure' },
          { guard: 'failureTrips', target: 'open', actions: ['tallyFailure', 'windowFailure', 'markOpened'] },
          { actions: ['tallyFailure', 'windowFailure'] },
        ],
        RESET: { actions: 'clearCounters' },
        TRIP: { target: 'open', actions: 'markOpened' },
      },
    },
    open: {
      after: { recoveryTimeout: { target: 'halfOpen', actions: 'enterHalfOpen' } },
      on: {
        CALL: { actions: 'reject' },
        SUCCESS: [{ guard: 'stale', actions: 'tallyStaleSuccess' }, { actions: 'tallySuccess' }],
        FAILURE: [{ guard: 'stale', actions: 'tallyStaleFailure' }, { actions: 'tallyFailure' }],
        RESET: { target: 'closed', actions: 'close' },
      },
    },
    halfOpen: {
      on: {
        CALL: [{ guard: 'hasProbeSlot', actions: 'admitProbe' }, { actions: 'reject' }],
        SUCCESS: [
          { guard: 'stale', actions: 'tallyStaleSuccess' },
          { guard: 'probeCloses', target: 'closed', actions: ['tallySuccess', 'close'] },
          { guard: 'hasProbeInFlight', actions: ['tallySuccess', 'probeSucceeded'] },
          { actions: 'tallySuccess' },
        ],
        FAILURE: [
          { guard: 'stale', actions: 'tallyStaleFailure' },
          { guard: 'hasProbeInFlight', target: 'open', actions: ['tallyFailure', 'markOpened'] },
          { actions: 'tallyFailure' },
        ],
        RELEASE: [{ guard: 'stale' }, { guard: 'hasProbeInFlight', actions: 'releaseProbe' }],
        RESET: { target: 'closed', actions: 'close' },
        TRIP: { target: 'open', actions: 'markOpened' },
      },
    },
  },
});
