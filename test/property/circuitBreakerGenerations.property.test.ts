import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { CircuitBreaker, breakerOptionsSchema } from '../../src/runtime/CircuitBreaker.js';

type Command =
  | { kind: 'call' }
  | { kind: 'succeed' | 'fail' | 'release'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'reset' };

const commandArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Command>({ kind: 'call' }) },
  ...(['succeed', 'fail', 'release'] as const).map((kind) => ({
    weight: kind === 'release' ? 1 : 3,
    arbitrary: fc.nat(1_000).map<Command>((pick) => ({ kind, pick })),
  })),
  {
    weight: 2,
    arbitrary: fc.integer({ min: 0, max: 2_000 }).map<Command>((ms) => ({ kind: 'advance', ms })),
  },
  { weight: 1, arbitrary: fc.constant<Command>({ kind: 'reset' }) },
);

const optionsArb = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 4 }),
  minimumThroughput: fc.integer({ min: 1, max: 8 }),
  recoveryTimeoutMs: fc.integer({ min: 0, max: 1_500 }),
  halfOpenMaxProbes: fc.integer({ min: 1, max: 3 }),
  successThreshold: fc.integer({ min: 1, max: 3 }),
});

describe('CircuitBreaker generations (fast-check)', () => {
  it('late outcomes move nothing, and half-open probes in flight are the current generation’s open permits', () => {
    fc.assert(
      fc.property(optionsArb, fc.array(commandArb, { minLength: 20, maxLength: 150 }), (input, commands) => {
        const options = breakerOptionsSchema.parse(input);
        const clock = new SimulatedClock();
        clock.set(1_000_000);
        const breaker = new CircuitBreaker('gen', options, clock);
        // the expected generation: +1 on every state change and on a reset of a closed breaker
        let generation = 0;
        breaker.onStateChange(() => (generation += 1));
        const permits: number[] = [];
        for (const command of commands) {
          if (command.kind === 'call') {
            const permit = breaker.tryAcquire();
            if (permit.ok) {
              expect(permit.generation).toBe(generation);
              permits.push(permit.generation);
            }
          } else if (command.kind === 'advance') {
            clock.increment(command.ms);
          } else if (command.kind === 'reset') {
            if (breaker.state === 'closed') generation += 1;
            breaker.reset();
          } else if (permits.length > 0) {
            const [permit] = permits.splice(command.pick % permits.length, 1) as [number];
            const before = breaker.metrics();
            const stale = permit !== generation;
            if (command.kind === 'succeed') breaker.recordSuccess(1, permit);
            else if (command.kind === 'fail') breaker.recordFailure(permit);
            else breaker.release(permit);
            const after = breaker.metrics();
            if (stale) {
              expect(after.state).toBe(before.state);
              expect(after.consecutiveFailures).toBe(before.consecutiveFailures);
              expect(after.probesInFlight).toBe(before.probesInFlight);
              expect(after.failureRate).toBe(before.failureRate);
            }
            expect(after.successes).toBe(before.successes + (command.kind === 'succeed' ? 1 : 0));
            expect(after.failures).toBe(before.failures + (command.kind === 'fail' ? 1 : 0));
          }
          const metrics = breaker.metrics();
          const current = permits.filter((g) => g === generation).length;
          if (metrics.state === 'halfOpen') expect(metrics.probesInFlight).toBe(current);
          else expect(metrics.probesInFlight).toBe(0);
          expect(metrics.probesInFlight).toBeLessThanOrEqual(options.halfOpenMaxProbes);
        }
        breaker.stop();
      }),
      { numRuns: 200 },
    );
  });
});
