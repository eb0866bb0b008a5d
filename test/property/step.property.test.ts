import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { createActor, fromPromise, type EventObject } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import {
  stepMachine,
  type StepCompensationInput,
  type StepContext,
} from '../../src/machines/step.machine.js';
import { stepSpec } from '../../src/core/spec.js';

type Snap = { value: unknown; context: StepContext };
const COMP = '0.step.compensating';
const attemptDone = (attempt: number): EventObject =>
  ({ type: 'ATTEMPT.DONE', attempt, result: { output: 'out', agent: 'a' } }) as EventObject;
const attemptFailed = (attempt: number, retryable: boolean): EventObject =>
  ({
    type: 'ATTEMPT.FAILED',
    attempt,
    error: { name: 'AgentError', code: 'ND_AGENT_ERROR', message: 'no', details: { retryable } },
  }) as EventObject;
const attemptTimeout = (attempt: number): EventObject =>
  ({ type: 'ATTEMPT.TIMEOUT', attempt }) as EventObject;
const BACKOFF: EventObject = { type: 'xstate.after.backoff.step.retrying' };

function eventsFor({ value, context }: Snap): EventObject[] {
  const n = context.attempt;
  switch (value) {
    case 'running':
      return [
        attemptDone(n),
        attemptFailed(n, true),
        attemptFailed(n, false),
        attemptTimeout(n),
        { type: 'CANCEL' },
        // A late answer from an attempt already given up on: must change nothing.
        ...(n > 1 ? [attemptDone(n - 1), attemptFailed(n - 1, false)] : []),
      ];
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

const attemptOf = (e: EventObject): number | undefined =>
  e.type.startsWith('ATTEMPT.') ? (e as unknown as { attempt: number }).attempt : undefined;

/** Replays a path with fake attempt actions (that never answer), counting calls, and checks the step invariants. */
function check(maxAttempts: number, timeoutMs: number | undefined, events: readonly EventObject[]) {
  let attempts = 0;
  let aborts = 0;
  let compensations = 0;
  const machine = stepMachine.provide({
    actors: {
      compensateStep: fromPromise<void, StepCompensationInput>(() => {
        compensations += 1;
        return new Promise<never>(() => undefined);
      }),
    },
    actions: {
      notifyCompleted: () => undefined,
      startAttempt: () => {
        attempts += 1;
      },
      abortAttempt: () => {
        aborts += 1;
      },
    },
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
  let cancelledWhileRunning = 0;
  for (const e of events) {
    const before = actor.getSnapshot();
    if (e.type === 'CANCEL' && before.value === 'running') cancelledWhileRunning += 1;
    actor.send(e as never);
    const after = actor.getSnapshot();
    // An answer for an attempt the step gave up on changes nothing.
    const answered = attemptOf(e);
    if (answered !== undefined && answered !== before.context.attempt) {
      expect(after.value).toBe(before.value);
      expect(after.context).toBe(before.context);
    }
    seen.push(after.value);
  }
  const snap = actor.getSnapshot();
  actor.stop();
  expect(errors).toEqual([]);
  // Never more attempts than allowed; one start per attempt; an abort only for a cancelled running attempt.
  expect(snap.context.attempt).toBeLessThanOrEqual(maxAttempts);
  expect(attempts).toBe(snap.context.attempt);
  expect(aborts).toBe(cancelledWhileRunning);
  // Compensation only after completion, at most once.
  expect(compensations).toBeLessThanOrEqual(1);
  const compIndex = seen.indexOf('compensating');
  if (compIndex >= 0) expect(seen[compIndex - 1]).toBe('completed');
  const last = events[events.length - 1];
  const current = last !== undefined && attemptOf(last) === snap.context.attempt;
  // A non-retryable error or exhausted attempts fail the step at once.
  if (last?.type === 'ATTEMPT.FAILED' && current) {
    const retryable = (last as unknown as { error: { details: { retryable: boolean } } }).error.details
      .retryable;
    expect(snap.value).toBe(retryable && snap.context.attempt < maxAttempts ? 'retrying' : 'failed');
  }
  // Final output names the final state.
  if (snap.status === 'done') expect((snap.output as { status: string }).status).toBe(snap.value);
  // A timeout is reported as ND_TIMEOUT with the step named.
  if (last?.type === 'ATTEMPT.TIMEOUT' && current) {
    expect(snap.context.error?.code).toBe('ND_TIMEOUT');
    expect(snap.context.error?.message).toContain('"s"');
  }
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
