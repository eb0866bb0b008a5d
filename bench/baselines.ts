/**
 * Hand-written XState machines doing the benchmark work with no runtime around them: the
 * baselines our patterns are compared with in the same run.
 */
import { assign, createActor, fromPromise, setup, spawnChild, stopChild, toPromise } from 'xstate';

const noop = fromPromise(async ({ input }: { input: { i: number } }) => input.i);

/** n steps in order, each a promise actor. */
export const handSequential = setup({
  types: {} as { context: { i: number; n: number }; input: { n: number } },
  actors: { work: noop },
}).createMachine({
  context: ({ input }) => ({ i: 0, n: input.n }),
  initial: 'step',
  states: {
    step: {
      invoke: {
        src: 'work',
        input: ({ context }) => ({ i: context.i }),
        onDone: [
          { guard: ({ context }) => context.i + 1 >= context.n, target: 'done' },
          { target: 'step', reenter: true, actions: assign({ i: ({ context }) => context.i + 1 }) },
        ],
      },
    },
    done: { type: 'final' },
  },
});

/** n tasks, at most `max` in flight, each a spawned promise actor, stopped (dropped from the children map) once done. */
export const handFanOut = setup({
  types: {} as {
    context: { started: number; finished: number; n: number; max: number };
    input: { n: number; max: number };
  },
  actors: { work: noop },
}).createMachine({
  context: ({ input }) => ({ started: 0, finished: 0, n: input.n, max: input.max }),
  initial: 'running',
  states: {
    running: {
      always: [
        { guard: ({ context }) => context.finished >= context.n, target: 'done' },
        {
          guard: ({ context }) =>
            context.started < context.n && context.started - context.finished < context.max,
          actions: [
            spawnChild('work', { input: ({ context }) => ({ i: context.started }) }),
            assign({ started: ({ context }) => context.started + 1 }),
          ],
        },
      ],
      on: {
        '*': {
          actions: [
            assign({ finished: ({ context }) => context.finished + 1 }),
            stopChild(({ event }) => (event as { actorId?: string }).actorId ?? ''),
          ],
        },
      },
    },
    done: { type: 'final' },
  },
});

/** One hand-written sequential workflow to its end. */
export function runHandSequential(n: number): Promise<unknown> {
  return toPromise(createActor(handSequential, { input: { n } }).start());
}

/** One hand-written fan-out to its end. */
export function runHandFanOut(n: number, max: number): Promise<unknown> {
  return toPromise(createActor(handFanOut, { input: { n, max } }).start());
}
