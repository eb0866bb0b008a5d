import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, type SnapshotFrom } from 'xstate';
import { getShortestPaths, getSimplePaths, type StatePath } from 'xstate/graph';
import {
  circuitBreakerMachine,
  type CircuitBreakerEvent,
  type CircuitBreakerOptions,
} from '../../src/machines/circuitBreaker.machine.js';
import { windowStats } from '../../src/machines/slidingWindow.js';
import { CircuitBreaker, breakerOptionsSchema, type BreakerState } from '../../src/runtime/CircuitBreaker.js';
import { ReferenceBreaker } from './circuitBreakerModel.js';

type Snapshot = SnapshotFrom<typeof circuitBreakerMachine>;
type Path = StatePath<Snapshot, CircuitBreakerEvent>;

/** The delayed event of `after: { recoveryTimeout }`; not part of the user event union. */
const AFTER = 'xstate.after.recoveryTimeout.circuitBreaker.open';
const EVENTS = [
  { type: 'CALL' },
  { type: 'SUCCESS', at: 0, durationMs: 1 },
  { type: 'FAILURE', at: 0 },
  { type: 'RELEASE' },
  { type: 'RESET' },
  { type: AFTER } as unknown as CircuitBreakerEvent,
] as const satisfies readonly CircuitBreakerEvent[];

/** Abstract state for exploration: what decides the machine's next moves, with unbounded counts capped. */
function serialize(snapshot: Snapshot): string {
  const c = snapshot.context;
  if (snapshot.value === 'closed') {
    const { total, failures } = windowStats(c.window, 0, c.options.windowMs);
    return JSON.stringify(['closed', c.consecutiveFailures, Math.min(total, 6), Math.min(failures, 6)]);
  }
  if (snapshot.value === 'halfOpen')
    return JSON.stringify(['halfOpen', c.probesInFlight, c.halfOpenSuccesses]);
  return JSON.stringify([snapshot.value]);
}

/**
 * Replays events on a real actor with a simulated clock (the delayed event becomes
 * `clock.increment(recoveryTimeoutMs)`), checking the machine against the reference model and the
 * invariants after every step, and against the explorer's states when given. Returns the transitions
 * it saw, as `from->to`, and how each trip happened (`trip:count` or `trip:rate`).
 */
function replay(
  events: readonly CircuitBreakerEvent[],
  options: CircuitBreakerOptions,
  expected?: readonly Snapshot['value'][],
): Set<string> {
  const clock = new SimulatedClock();
  const actor = createActor(circuitBreakerMachine, { input: { options }, clock });
  actor.subscribe({ error: (error) => expect.fail(String(error)) });
  actor.start();
  const model = new ReferenceBreaker(options);
  const seen = new Set<string>();
  events.forEach((event, i) => {
    const before = actor.getSnapshot();
    if ((event.type as string) === AFTER) {
      clock.increment(options.recoveryTimeoutMs);
      model.advance(clock.now());
    } else if (event.type === 'CALL') {
      const decision = model.call(0);
      actor.send(event);
      expect(actor.getSnapshot().context.counters.calls > before.context.counters.calls).toBe(decision.ok);
    } else {
      actor.send(event);
      if (event.type === 'SUCCESS') model.success(event.at);
      if (event.type === 'FAILURE') model.failure(event.at);
      if (event.type === 'RELEASE') model.release();
      if (event.type === 'RESET') model.reset();
    }
    const after = actor.getSnapshot();
    if (expected !== undefined) expect(after.value).toBe(expected[i]);
    expect(after.value).toBe(model.state);
    expect(after.context.probesInFlight).toBe(model.probesInFlight);
    expect(after.context.probesInFlight).toBeLessThanOrEqual(options.halfOpenMaxProbes);
    expect(after.context.counters).toMatchObject({ calls: model.calls, rejections: model.rejections });
    if (before.value === 'open' && event.type === 'CALL') {
      expect(after.context.counters.rejections).toBe(before.context.counters.rejections + 1);
      expect(after.context.counters.calls).toBe(before.context.counters.calls);
    }
    if (before.value === 'closed' && after.value === 'open') {
      expect(event.type).toBe('FAILURE');
      expect(model.thresholdReached(0)).toBe(true);
      seen.add(model.consecutiveFailures >= options.failureThreshold ? 'trip:count' : 'trip:rate');
    }
    if (before.value !== after.value) seen.add(`${before.value}->${after.value}`);
  });
  actor.stop();
  return seen;
}

/** The user-visible steps of a path (the explorer's first step is `xstate.init`). */
function stepsOf(path: Path): { events: CircuitBreakerEvent[]; values: Snapshot['value'][] } {
  const steps = path.steps.filter((step) => (step.event.type as string) !== 'xstate.init');
  return { events: steps.map((s) => s.event), values: steps.map((s) => s.state.value) };
}

const graphOptions = breakerOptionsSchema.parse({
  failureThreshold: 3,
  failureRateThreshold: 0.5,
  minimumThroughput: 4,
  recoveryTimeoutMs: 1_000,
  halfOpenMaxProbes: 2,
  successThreshold: 2,
});

describe('circuitBreakerMachine paths (xstate/graph)', () => {
  it('every shortest path, and every one-event extension of it, replays with the invariants', () => {
    const paths = getShortestPaths(circuitBreakerMachine, {
      input: { options: graphOptions },
      events: EVENTS,
      serializeState: serialize,
    });
    // closed: 3 consecutive-failure counts x window shapes; open: 1; halfOpen: 3 probe counts x 2 successes.
    expect(paths.length).toBeGreaterThan(30);
    const seen = new Set<string>();
    for (const path of paths) {
      const { events, values } = stepsOf(path);
      for (const t of replay(events, graphOptions, values)) seen.add(t);
      for (const next of EVENTS) for (const t of replay([...events, next], graphOptions)) seen.add(t);
    }
    expect([...seen].sort()).toEqual([
      'closed->open',
      'halfOpen->closed',
      'halfOpen->open',
      'open->closed',
      'open->halfOpen',
      'trip:count',
      'trip:rate',
    ]);
    expect(new Set(paths.map((p) => p.state.value))).toEqual(new Set(['closed', 'halfOpen', 'open']));
  });

  it('every simple path of a small configuration replays with the invariants', () => {
    const options = breakerOptionsSchema.parse({
      failureThreshold: 2,
      minimumThroughput: 100,
      recoveryTimeoutMs: 500,
      halfOpenMaxProbes: 3,
      successThreshold: 3,
    });
    const serializeSmall = (s: Snapshot): string =>
      JSON.stringify([
        s.value,
        s.value === 'closed' ? s.context.consecutiveFailures : 0,
        s.context.probesInFlight,
        s.context.halfOpenSuccesses,
      ]);
    const paths = getSimplePaths(circuitBreakerMachine, {
      input: { options },
      events: EVENTS,
      serializeState: serializeSmall,
    });
    // closed x2, open, halfOpen with 0..3 probes in flight x 0..2 successes: 15 abstract states.
    expect(new Set(paths.map((p) => serializeSmall(p.state))).size).toBe(15);
    for (const path of paths) {
      const { events, values } = stepsOf(path);
      replay(events, options, values);
    }
    expect(paths.some((p) => p.state.value === 'halfOpen' && p.state.context.probesInFlight === 3)).toBe(
      true,
    );
  });
});

type Command =
  | { kind: 'call' }
  | { kind: 'succeed'; durationMs: number }
  | { kind: 'fail' }
  | { kind: 'cancel' }
  | { kind: 'advance'; ms: number }
  | { kind: 'reset' };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Command>({ kind: 'call' }) },
  {
    weight: 3,
    arbitrary: fc
      .integer({ min: 0, max: 500 })
      .map<Command>((durationMs) => ({ kind: 'succeed', durationMs })),
  },
  { weight: 3, arbitrary: fc.constant<Command>({ kind: 'fail' }) },
  { weight: 1, arbitrary: fc.constant<Command>({ kind: 'cancel' }) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 0, max: 3_000 }).map<Command>((ms) => ({ kind: 'advance', ms })),
  },
  { weight: 1, arbitrary: fc.constant<Command>({ kind: 'reset' }) },
);

const optionsArb = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 5 }),
  failureRateThreshold: fc.constantFrom(0.1, 0.25, 0.5, 0.75, 1),
  minimumThroughput: fc.integer({ min: 1, max: 8 }),
  windowMs: fc.integer({ min: 1, max: 5_000 }),
  recoveryTimeoutMs: fc.integer({ min: 0, max: 2_000 }),
  halfOpenMaxProbes: fc.integer({ min: 1, max: 3 }),
  successThreshold: fc.integer({ min: 1, max: 3 }),
});

describe('CircuitBreaker random walks (fast-check)', () => {
  it('agrees with the reference model and keeps the invariants', () => {
    const coverage = { fullProbes: 0, rateTrips: 0, closes: 0 };
    fc.assert(
      fc.property(
        optionsArb,
        fc.array(commandArb, { minLength: 20, maxLength: 120, size: 'max' }),
        (input, commands) => {
          const options = breakerOptionsSchema.parse(input);
          const clock = new SimulatedClock();
          clock.set(1_000_000);
          const breaker = new CircuitBreaker('walker', options, clock);
          const model = new ReferenceBreaker(options);
          let outstanding = 0;
          for (const command of commands) {
            const before: BreakerState = breaker.state;
            if (command.kind === 'call') {
              if (before === 'halfOpen' && model.probesInFlight === options.halfOpenMaxProbes)
                coverage.fullProbes++;
              const decision = breaker.tryAcquire();
              expect(decision).toMatchObject(model.call(clock.now()));
              if (before === 'open') expect(decision.ok).toBe(false);
              if (decision.ok) outstanding++;
            } else if (command.kind === 'advance') {
              clock.increment(command.ms);
              model.advance(clock.now());
            } else if (command.kind === 'reset') {
              breaker.reset();
              model.reset();
            } else if (outstanding > 0) {
              outstanding--;
              if (command.kind === 'succeed') {
                breaker.recordSuccess(command.durationMs);
                model.success(clock.now());
              } else if (command.kind === 'fail') {
                breaker.recordFailure();
                model.failure(clock.now());
              } else {
                breaker.release();
                model.release();
              }
            }
            const m = breaker.metrics();
            expect(m.state).toBe(model.state);
            expect(m.probesInFlight).toBeLessThanOrEqual(options.halfOpenMaxProbes);
            if (before === 'closed' && m.state === 'open') {
              expect(command.kind).toBe('fail');
              expect(model.thresholdReached(clock.now())).toBe(true);
              if (model.consecutiveFailures < options.failureThreshold) coverage.rateTrips++;
            }
            if (before === 'halfOpen' && m.state === 'closed') coverage.closes++;
            expect(m).toMatchObject({
              calls: model.calls,
              successes: model.successes,
              failures: model.failures,
              rejections: model.rejections,
              consecutiveFailures: model.consecutiveFailures,
              probesInFlight: model.probesInFlight,
              stateChanges: model.stateChanges,
              failureRate: model.window(clock.now()).failureRate,
            });
            expect(m.openedAt).toBe(model.openedAt);
            expect(m.retryAt).toBe(model.retryAt(clock.now()));
          }
          breaker.stop();
        },
      ),
      { numRuns: 200 },
    );
    // The walks must reach the interesting corners, or the invariants above were checked on nothing.
    expect(coverage.fullProbes).toBeGreaterThan(0);
    expect(coverage.rateTrips).toBeGreaterThan(0);
    expect(coverage.closes).toBeGreaterThan(0);
  });
});
