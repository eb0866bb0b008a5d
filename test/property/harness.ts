import { assign, createActor, setup, type AnyActorRef, type AnyStateMachine, type EventObject } from 'xstate';
import type { StepSpec } from '../../src/core/spec.js';
import { stepSpec } from '../../src/core/spec.js';

/** A command a parent sent to one of its (fake) children, in order. */
export interface Command {
  readonly to: string;
  readonly type: string;
  /** Index of the path event being replayed when it was sent (-1: on start). */
  readonly at: number;
}

export interface Log {
  commands: Command[];
  cursor: number;
}

/**
 * A child that does nothing but record what its parent sends it (COMPENSATE, CANCEL).
 * The path's events play the children's answers.
 */
export function fakeChild(log: Log) {
  return setup({
    types: {},
    actions: {
      record: ({ context, event }) => {
        log.commands.push({ to: context.id, type: event.type, at: log.cursor });
      },
    },
  }).createMachine({
    context: ({ input, self }) => {
      const i = input as { spec?: { name: string }; name?: string } | undefined;
      return { id: i?.spec?.name ?? i?.name ?? self.id };
    },
    entry: ({ context }) => {
      log.commands.push({ to: context.id, type: 'SPAWN', at: log.cursor });
    },
    on: { '*': { actions: 'record' } },
  });
}

/**
 * A step's compensation (patterns spawn one, under the step's name, once they compensate a step
 * whose actor they stopped when it completed): logged as a `COMPENSATE` command to that step.
 * The path's events play its answer.
 */
export function fakeCompensation(log: Log) {
  return setup({ types: {} }).createMachine({
    context: ({ input }) => ({ id: (input as { spec: { name: string } }).spec.name }),
    entry: ({ context }) => {
      log.commands.push({ to: context.id, type: 'COMPENSATE', at: log.cursor });
    },
  });
}

/** Steps named s0..s(n-1) with no retries. */
export function steps(n: number, deps: (i: number) => string[] = () => []): StepSpec[] {
  return Array.from({ length: n }, (_, i) => stepSpec(`s${i}`, { dependsOn: deps(i) }));
}

/** Replays `events` on a real actor of `machine`; returns the snapshots after each event. */
export function replay(machine: AnyStateMachine, input: unknown, events: readonly EventObject[], log: Log) {
  const actor = createActor(machine, { input });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  log.cursor = -1;
  actor.start();
  const values: unknown[] = [actor.getSnapshot().value];
  events.forEach((event, i) => {
    log.cursor = i;
    actor.send(event);
    values.push(actor.getSnapshot().value);
  });
  const snapshot = actor.getSnapshot() as {
    value: unknown;
    status: string;
    output?: unknown;
    context: Record<string, unknown>;
  };
  actor.stop();
  return { snapshot, values, errors };
}

/**
 * Drives a live actor: at each step `choose` picks one of `eventsFor(snapshot)` (or stops
 * with undefined). Returns the events sent, the final snapshot and any actor error.
 */
export function walk<TSnap extends { value: unknown; context: unknown }>(
  machine: AnyStateMachine,
  input: unknown,
  eventsFor: (snapshot: TSnap) => EventObject[],
  choose: (options: EventObject[], step: number) => number | undefined,
  log: Log,
  maxSteps = 500,
) {
  const actor = createActor(machine, { input });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  log.cursor = -1;
  actor.start();
  const events: EventObject[] = [];
  for (let i = 0; i < maxSteps; i++) {
    const options = eventsFor(actor.getSnapshot() as unknown as TSnap);
    if (options.length === 0) break;
    const pick = choose(options, i);
    if (pick === undefined) break;
    const event = options[pick % options.length]!;
    log.cursor = events.length;
    events.push(event);
    actor.send(event);
  }
  const snapshot = actor.getSnapshot() as unknown as TSnap & { status: string };
  actor.stop();
  return { events, snapshot, errors };
}

/** The done event a child sends when it reaches a final state. */
export const done = (id: string, output: Record<string, unknown>): EventObject =>
  ({ type: `xstate.done.actor.${id}`, actorId: id, output }) as EventObject;

export type { AnyActorRef };
export { assign };
