import { fromPromise, type AnyActorRef, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { abortAttempt, compensateStepActor, startAttempt } from '../actors/stepActors.js';
import { customPatternMachine } from '../machines/customPattern.machine.js';
import { orchestrationMachine } from '../machines/orchestration.machine.js';
import { parallelMachine } from '../machines/parallel.machine.js';
import { sequentialMachine } from '../machines/sequential.machine.js';
import { stepCompensationMachine, stepMachine, type StepContext } from '../machines/step.machine.js';
import type { StepStatus } from '../core/status.js';
import { backoffDelayMs } from '../core/backoff.js';
import type { RunEnv } from './RunEnv.js';

/** The measured-load gate of parallel patterns. */
export interface LoadGate {
  /** True when measured host cpu and memory are within `limits` (0..1 each). */
  hasHeadroom(limits: { readonly cpu: number; readonly memory: number }): boolean;
  /** How long held-back tasks wait before load is measured again, ms. */
  readonly recheckMs: number;
}

/** Parallel actors with a recheck pending (one timer each at most). */
const recheckPending = new WeakSet<AnyActorRef>();

/** How the runtime runs and compensates user-defined patterns inside a meta-orchestration. */
export interface CustomPatternHooks {
  run(name: string, env: RunEnv): Promise<{ success: boolean; durationMs: number }>;
  compensate(name: string, env: RunEnv): Promise<void>;
}

/** The pure machines with the runtime's actors, delays and progress hooks provided. */
export interface RuntimeMachines {
  readonly step: AnyStateMachine;
  readonly sequential: AnyStateMachine;
  readonly parallel: AnyStateMachine;
  readonly orchestration: AnyStateMachine;
  readonly customPattern: AnyStateMachine;
}

function reportStep(context: StepContext, status: StepStatus): void {
  const env = context.env as RunEnv;
  env.run.recorder.status(env.path, context.spec.name, status, {
    attempt: context.attempt,
    agent: context.result?.agent,
    error:
      status === 'compensationFailed'
        ? context.compensationError
        : status === 'completed'
          ? undefined
          : context.error,
    output: status === 'completed' ? context.result?.output : undefined,
  });
}

/**
 * The backoff before the step's next attempt, ms, with jitter. In a journaled run the retry's due
 * time is journaled (absolute), and a resumed run waits only for what is left of it.
 */
function retryDelayMs(context: StepContext, random: () => number): number {
  const env = context.env as RunEnv;
  const { journal, clock } = env.run;
  const next = context.attempt + 1;
  if (!journal) return backoffDelayMs(context.spec.retry.backoff, context.attempt, random);
  const key = env.stepKey(context.spec.name);
  const due = journal.history(key).retryDue.get(next);
  if (due !== undefined) return Math.max(0, due - clock.now());
  const delay = backoffDelayMs(context.spec.retry.backoff, context.attempt, random);
  journal.record({ kind: 'retryDue', step: key, attempt: next, dueAt: clock.now() + Math.round(delay) });
  return delay;
}

/** True when a resumed run's journal shows the step's next attempt was already dispatched. */
function nextAttemptJournaled(context: StepContext): boolean {
  const env = context.env as RunEnv;
  return (
    env.run.journal?.history(env.stepKey(context.spec.name)).dispatched.has(context.attempt + 1) ?? false
  );
}

/**
 * Provides the machines once per executor (provide() allocates; runs reuse the result).
 * @param random - uniform [0, 1) for backoff jitter
 * @param gate - measured-load gate of parallel patterns; none: only declared requirements count
 */
export function provideMachines(
  random: () => number,
  custom: CustomPatternHooks,
  gate?: LoadGate,
): RuntimeMachines {
  const step = stepMachine.provide({
    actors: { compensateStep: compensateStepActor },
    delays: { backoff: ({ context }) => retryDelayMs(context, random) },
    actions: {
      startAttempt: ({ context, self }) =>
        startAttempt(context.env as RunEnv, context.spec, context.attempt, self),
      abortAttempt: ({ context, self }) => abortAttempt(context.env as RunEnv, context.spec, self),
      reportStatus: ({ context, self }, params: { status: StepStatus }) => {
        reportStep(context, params.status);
        if (params.status === 'retrying' && nextAttemptJournaled(context)) self.send({ type: 'RETRY.NOW' });
      },
    },
  });
  const compensation = stepCompensationMachine.provide({
    actors: { compensateStep: compensateStepActor },
    actions: {
      reportStatus: ({ context }, params: { status: StepStatus }) => reportStep(context, params.status),
    },
  });
  const sequential = sequentialMachine.provide({ actors: { step, compensation } });
  const parallel = parallelMachine.provide({
    actors: { step, compensation },
    guards: { hasMeasuredHeadroom: ({ context }) => gate?.hasHeadroom(context.limits) ?? true },
    actions: {
      awaitHeadroom: ({ context, self }) => {
        if (!gate || recheckPending.has(self)) return;
        recheckPending.add(self);
        const { clock } = (context.env as RunEnv).run;
        clock.setTimeout(() => {
          recheckPending.delete(self);
          // only while the pattern still waits for headroom (not once it ended or parked in succeeded)
          const snap = self.getSnapshot() as AnyMachineSnapshot;
          if (snap.status === 'active' && snap.can({ type: 'RESOURCES.RECHECK' })) {
            self.send({ type: 'RESOURCES.RECHECK' });
          }
        }, gate.recheckMs);
      },
      reportTaskStatus: ({ context }, params: { task: string; status: StepStatus }) => {
        const env = context.env as RunEnv;
        env.run.recorder.status(env.path, params.task, params.status);
      },
    },
  });
  const customPattern = customPatternMachine.provide({
    actors: {
      runCustom: fromPromise(({ input }) => custom.run(input.name, input.env as RunEnv)),
      compensateCustom: fromPromise(({ input }) => custom.compensate(input.name, input.env as RunEnv)),
    },
  });
  const orchestration = orchestrationMachine.provide({
    actors: { sequential, parallel, customPattern },
    actions: {
      reportPhaseStatus: (
        { context },
        params: { phase: string; status: 'pending' | 'running' | 'succeeded' | 'failed' | 'rolledBack' },
      ) => {
        if (params.status === 'pending') return;
        const env = context.env as RunEnv;
        env.run.recorder.phase(env.path, params.phase, params.status);
      },
    },
  });
  // Nested meta-orchestrations spawn the provided machine itself (provide() cannot name its own result).
  (orchestration.implementations.actors as Record<string, unknown>)['orchestration'] = orchestration;
  return { step, sequential, parallel, orchestration, customPattern };
}
