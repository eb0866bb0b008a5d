import type { AnyActorRef } from 'xstate';
import { ErrorCode, toSerializedError } from '../core/errors.js';
import type { JournalError } from '../store/journal.js';
import type { StepSpec } from '../core/spec.js';
import { asJson } from '../runtime/durable/RunJournal.js';
import type { RecordedOutcome } from '../runtime/durable/replayIndex.js';
import type { RunEnv } from '../runtime/RunEnv.js';

/** Replaying a run's journal: recorded outcomes go to the step machines as if the agents had answered. */

/** `details.attemptDeadline` marks the journaled failure of an attempt that reached its deadline. */
const DEADLINE_MARK = 'attemptDeadline';

/** An error as the journal stores it: serialized, with JSON-only details. */
export function journaledError(error: unknown): JournalError {
  const s = toSerializedError(error);
  const details = asJson(s.details) as JournalError['details'];
  return { name: s.name, code: s.code, message: s.message, ...(details ? { details } : {}) };
}

/** The journaled failure of attempt `attempt` of `spec` that reached its deadline after `ms`. */
export function timeoutFact(spec: StepSpec, attempt: number, ms: number): JournalError {
  return {
    name: 'PatternTimeoutError',
    code: ErrorCode.TIMEOUT,
    message: `Step "${spec.name}" timed out after ${ms} ms (attempt ${attempt})`,
    details: { step: spec.name, timeoutMs: ms, retryable: true, [DEADLINE_MARK]: true },
  };
}

/**
 * Sends a recorded outcome of attempt `attempt` to its step and records it in the run's report
 * (times from the journal; no agent is called, no breaker is told).
 */
export function replayOutcome(
  env: RunEnv,
  spec: StepSpec,
  attempt: number,
  step: AnyActorRef,
  recorded: RecordedOutcome,
): void {
  const { recorder, journal } = env.run;
  const dispatch = journal?.history(env.stepKey(spec.name)).dispatched.get(attempt);
  recorder.status(env.path, spec.name, 'running', { attempt, agent: dispatch?.agent, at: dispatch?.at });
  if (recorded.kind === 'completed') {
    recorder.recordResult(spec.name, recorded.output);
    step.send({
      type: 'ATTEMPT.DONE',
      attempt,
      result: {
        output: recorded.output,
        agent: dispatch?.agent,
        startedAt: dispatch?.at,
        finishedAt: recorded.at,
      },
    });
  } else if (recorded.error.details?.[DEADLINE_MARK] === true) {
    step.send({ type: 'ATTEMPT.TIMEOUT', attempt });
  } else {
    step.send({ type: 'ATTEMPT.FAILED', attempt, error: recorded.error });
  }
}
