import { fromPromise } from 'xstate';
import type { StepAttemptInput, StepAttemptOutput, StepCompensationInput } from '../machines/step.machine.js';
import { AgentError, PatternError, PatternExecutionError, toSerializedError } from '../runtime/errors.js';
import type { RunEnv } from '../runtime/RunEnv.js';
import type { AgentLease } from '../runtime/AgentPool.js';
import type { AgentTask } from './agent.js';

function toPatternError(error: unknown, agentId: string, step: string): PatternError {
  if (error instanceof PatternError) return error;
  const serialized = toSerializedError(error);
  return new AgentError(
    `Agent "${agentId}" failed step "${step}": ${serialized.message}`,
    {
      agentId,
      step,
      retryable: true,
    },
    error,
  );
}

/**
 * One attempt of a step: pick an agent (breaker, slots), hold the step's named locks, call the
 * agent, report the outcome to its breaker. A timeout or cancellation aborts `signal`: the
 * agent sees it in `task.signal`; an attempt that ran for its whole timeout counts as a
 * breaker failure, an earlier abort as no outcome. Written as a promise chain, not an async
 * function, so a parked attempt keeps little alive.
 */
export function runAttempt(
  env: RunEnv,
  input: StepAttemptInput,
  signal: AbortSignal,
): Promise<StepAttemptOutput> {
  const startedAt = env.run.clock.now();
  return env.run.pool
    .acquire(input.spec, env.path, signal)
    .then((lease) => attemptWith(env, input, signal, lease, startedAt));
}

function attemptWith(
  env: RunEnv,
  input: StepAttemptInput,
  signal: AbortSignal,
  lease: AgentLease,
  startedAt: number,
): Promise<StepAttemptOutput> {
  const { run, path } = env;
  const { spec, attempt } = input;
  const agentId = lease.agent.id;
  if (signal.aborted) {
    // Cancelled while waiting for the agent: never call it.
    lease.release();
    return Promise.reject(
      new PatternExecutionError(`Step "${spec.name}" was cancelled before it started`, { step: spec.name }),
    );
  }
  run.recorder.status(path, spec.name, 'running', { attempt, agent: agentId });
  const onAbort = () => {
    const ranFullTimeout = spec.timeoutMs !== undefined && run.clock.now() - startedAt >= spec.timeoutMs;
    if (ranFullTimeout) lease.fail();
    else lease.release();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const deadline = spec.timeoutMs === undefined ? undefined : startedAt + spec.timeoutMs;
  const locks: Promise<(() => Promise<void>) | undefined> =
    spec.locks?.length && run.resolver
      ? run.resolver.acquire(spec.locks, {
          owner: env.idempotencyKey(spec.name),
          priority: run.context.priority,
          deadline,
          signal,
        })
      : Promise.resolve(undefined);
  return locks.then(
    (release) => {
      const task: AgentTask = {
        runId: run.runId,
        pattern: path[path.length - 1] ?? '',
        step: spec.name,
        capability: spec.capability,
        attempt,
        idempotencyKey: env.idempotencyKey(spec.name),
        deadline,
        input: { params: spec.input, runInput: run.runInput, results: run.recorder.results },
        context: run.context,
        signal,
      };
      const settle = () => {
        signal.removeEventListener('abort', onAbort);
        return release?.();
      };
      return Promise.resolve()
        .then(() => lease.agent.execute(task))
        .then(
          (output) => {
            const finishedAt = run.clock.now();
            lease.succeed(finishedAt - startedAt);
            if (!signal.aborted) run.recorder.results[spec.name] = output;
            return Promise.resolve(settle()).then(() => ({ output, agent: agentId, startedAt, finishedAt }));
          },
          (error: unknown) => {
            lease.fail();
            return Promise.resolve(settle()).then(() => {
              throw toPatternError(error, agentId, spec.name);
            });
          },
        );
    },
    (error: unknown) => {
      signal.removeEventListener('abort', onAbort);
      lease.release();
      throw error;
    },
  );
}

/** Undoes a completed step with the agent that performed it (no-op when it has no `compensate`). */
export async function compensate(env: RunEnv, input: StepCompensationInput): Promise<void> {
  const { run, path } = env;
  if (input.agent === undefined) return;
  const slot = await run.pool.acquireDirect(input.agent);
  if (!slot) return;
  try {
    if (!slot.agent.compensate) return;
    await slot.agent.compensate({
      runId: run.runId,
      pattern: path[path.length - 1] ?? '',
      step: input.spec.name,
      capability: input.spec.capability,
      attempt: 1,
      idempotencyKey: `${env.idempotencyKey(input.spec.name)}/compensate`,
      deadline: undefined,
      input: { params: input.spec.input, runInput: run.runInput, results: run.recorder.results },
      context: run.context,
      signal: new AbortController().signal,
      output: input.output,
    });
  } catch (error) {
    throw toPatternError(error, input.agent, input.spec.name);
  } finally {
    slot.release();
  }
}

/** The `runStep` actor the runtime provides to the step machine. */
export const runStepActor = fromPromise<StepAttemptOutput, StepAttemptInput>(({ input, signal }) =>
  runAttempt(input.env as RunEnv, input, signal),
);

/** The `compensateStep` actor the runtime provides to the step machine. */
export const compensateStepActor = fromPromise<void, StepCompensationInput>(({ input }) =>
  compensate(input.env as RunEnv, input),
);
