import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { createActor, fromPromise, type EventObject } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import {
  stepMachine,
  type StepAttemptInput,
  type StepAttemptOutput,
  type StepCompensationInput,
  type StepContext,
} from '../../src/machines/step.machine.js';
import { stepSpec } from '../../src/runtime/spec.js';

type Snap = { value: unknown; context: StepContext };
const RUN = '0.step.running';
const COMP = '0.step.compensating';
const attemptDone: EventObject = {
  type: `xstate.done.actor.${RUN}`,
  actorId: RUN,
  output: { output: 'out', agent: 'a' },
} as EventObject;
const attemptFailed = (retryable: boolean): EventObject =>
  ({
    type: `xstate.error.actor.${RUN}`,
    actorId: RUN,
    error: { name: 'AgentError', code: 'ND_AGENT_ERROR', message: 'no', details: { retryable } },
  }) as EventObject;
const TIMEOUT: EventObject = { type: 'xstate.after.stepTimeout.step.running' };
const BACKOFF: EventObject = { type: 'xstate.after.backoff.step.retrying' };

function eventsFor({ value }: Snap): EventObject[] {
  switch (value) {
    case 'pending':
      return [{ type: 'START' }, { type: 'CANCEL' }];
    case 'running':
      return [attemptDone, attemptFailed(true), attemptFailed(false), TIMEOUT, { type: 'CANCEL' }];
    case 'retrying':
      return [BACKOFF, { type: 'CANCEL' }];
    case 'completed':
      return [{ type: 'COMPENSATE' }, { type: 'CANCEL' }];
    case 'compensating':
      return [
        { type: `xstate.done.actor.${COMP}`, actorId: COMP, output: undefined } as EventObject,
        { type: `xstate.error.actor.${COMP}`, actorId: COMP, error: new Error('undo failed') } as EventObject,
      ];
    default:
      return [];
  }
}

const serialize = ({ value, context }: Snap) =>
  JSON.stringify([value, context.attempt, context.error?.code ?? null]);

/** Replays a path with fake (never-settling) attempt actors, counting invocations, and checks the step invariants. */
function check(maxAttempts: number, timeoutMs: number | undefined, events: readonly EventObject[]) {
  let attempts = 0;
  let compensations = 0;
  const machine = stepMachine.provide({
    actors: {
      runStep: fromPromise<StepAttemptOutput, StepAttemptInput>(() => {
        attempts += 1;
        return new Promise<never>(() => undefined);
      }),
      compensateStep: fromPromise<void, StepCompensationInput>(() => {
        compensations += 1;
        return new Promise<never>(() => undefined);
      }),
    },
    actions: { notifyCompleted: () => undefined },
  });
  const spec = stepSpec('s', {
    retry: { maxAttempts, backoff: { initialDelayMs: 10, maxDelayMs: 100, multiplier: 2, jitter: 'none' } },
    timeoutMs,
  });
  const actor = createActor(machine, { input: { spec, env: null } });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  const seen: unknown[] = [actor.getSnapshot().value];
  for (const e of events) {
    actor.send(e as never);
    seen.push(actor.getSnapshot().value);
  }
  const snap = actor.getSnapshot();
  actor.stop();
  expect(errors).toEqual([]);
  // Never more attempts than allowed; one invocation per attempt.
  expect(snap.context.attempt).toBeLessThanOrEqual(maxAttempts);
  expect(attempts).toBe(snap.context.attempt);
  // Compensation only after completion, at most once.
  expect(compensations).toBeLessThanOrEqual(1);
  const compIndex = seen.indexOf('compensating');
  if (compIndex >= 0) expect(seen[compIndex - 1]).toBe('completed');
  // A non-retryable error or exhausted attempts fail the step at once.
  const last = events[events.length - 1];
  if (last && last.type.startsWith('xstate.error.actor.0.step.running')) {
    const retryable = (last as unknown as { error: { details: { retryable: boolean } } }).error.details
      .retryable;
    expect(snap.value).toBe(retryable && snap.context.attempt < maxAttempts ? 'retrying' : 'failed');
  }
  // Final output names the final state.
  if (snap.status === 'done') expect((snap.output as { status: string }).status).toBe(snap.value);
  // A timeout is reported as ND_TIMEOUT with the step named.
  if (last === TIMEOUT && snap.value !== 'running') expect(snap.context.error?.code).toBe('ND_TIMEOUT');
}

describe('step machine: graph-enumerated paths', () => {
  for (const [maxAttempts, timeoutMs] of [
    [1, undefined],
    [3, 50],
  ] as const) {
    it(`every simple path keeps the invariants (maxAttempts ${maxAttempts}, timeout ${String(timeoutMs)})`, () => {
      const spec = stepSpec('s', {
        retry: {
          maxAttempts,
          backoff: { initialDelayMs: 10, maxDelayMs: 100, multiplier: 2, jitter: 'none' },
        },
        timeoutMs,
      });
      const options = {
        input: { spec, env: null },
        events: eventsFor as never,
        serializeState: serialize as never,
      };
      const paths = getSimplePaths(stepMachine, options);
      const finals = new Set(paths.map((p) => String(p.state.value)));
      for (const f of ['completed', 'failed', 'cancelled', 'compensated', 'compensationFailed'])
        expect(finals.has(f), f).toBe(true);
      if (maxAttempts > 1) expect(finals.has('retrying')).toBe(true);
      for (const p of paths)
        check(maxAttempts, timeoutMs, p.steps.map((s) => s.event as EventObject).slice(1));
      expect(getShortestPaths(stepMachine, options).length).toBeLessThanOrEqual(paths.length);
    });
  }
});

describe('step machine: fast-check walks through retry loops', () => {
  it('random sequences of outcomes never exceed maxAttempts and compensate at most once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.nat(), { maxLength: 80 }),
        (maxAttempts, picks) => {
          const events: EventObject[] = [];
          // Build a walk by simulating the state with the machine's own transitions.
          let snapshot: Snap = { value: 'pending', context: { attempt: 0 } as StepContext };
          const machine = stepMachine.provide({
            actors: {
              runStep: fromPromise<StepAttemptOutput, StepAttemptInput>(
                () => new Promise<never>(() => undefined),
              ),
              compensateStep: fromPromise<void, StepCompensationInput>(
                () => new Promise<never>(() => undefined),
              ),
            },
            actions: { notifyCompleted: () => undefined },
          });
          const spec = stepSpec('s', {
            retry: {
              maxAttempts,
              backoff: { initialDelayMs: 1, maxDelayMs: 10, multiplier: 2, jitter: 'none' },
            },
            timeoutMs: 5,
          });
          const actor = createActor(machine, { input: { spec, env: null } });
          actor.start();
          for (const pick of picks) {
            snapshot = actor.getSnapshot();
            const options = eventsFor(snapshot).filter((e) => e.type !== 'CANCEL' || pick % 11 === 0);
            if (options.length === 0) break;
            const e = options[pick % options.length]!;
            events.push(e);
            actor.send(e as never);
          }
          actor.stop();
          check(maxAttempts, 5, events);
        },
      ),
      { numRuns: 300 },
    );
  });
});
