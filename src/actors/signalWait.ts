import type { AttemptCancellation } from '../core/cancellation.js';
import { PatternExecutionError } from '../core/errors.js';
import type { StepSpec } from '../core/spec.js';
import type { StepAttemptOutput } from '../machines/step.machine.js';
import type { RunEnv } from '../runtime/RunEnv.js';

/**
 * An attempt of a step with `waitFor`: instead of calling an agent, it waits (durably, in a
 * journaled run) for the named signal, which `executor.signal(runId, name, payload)` delivers;
 * the payload is the step's output. The deadline (`waitFor.timeoutMs`) is the caller's timer.
 * @throws PatternExecutionError (as a rejection) when the attempt is cancelled while waiting
 */
export function waitForSignal(
  env: RunEnv,
  spec: StepSpec,
  attempt: number,
  cancel: AttemptCancellation,
  deadline: number | undefined,
): Promise<StepAttemptOutput> {
  const { run } = env;
  const signal = spec.waitFor!.signal;
  const journal = run.journal!;
  const agent = `signal:${signal}`;
  const startedAt = run.clock.now();
  run.recorder.status(env.path, spec.name, 'running', { attempt, agent });
  journal.record({
    kind: 'attemptDispatched',
    step: env.stepKey(spec.name),
    attempt,
    agent,
    idempotencyKey: env.idempotencyKey(spec.name),
    waitingFor: signal,
    ...(deadline === undefined ? {} : { deadlineAt: deadline }),
  });
  return new Promise((resolve, reject) => {
    const stop = journal.awaitSignal(signal, (payload) => {
      cancel.onAbort(undefined);
      run.recorder.recordResult(spec.name, payload);
      resolve({ output: payload, agent, startedAt, finishedAt: run.clock.now() });
    });
    cancel.onAbort(() => {
      stop();
      reject(
        new PatternExecutionError(`Step "${spec.name}" stopped waiting for signal "${signal}"`, {
          step: spec.name,
        }),
      );
    });
  });
}
