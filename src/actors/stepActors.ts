import { fromPromise, type AnyActorRef, type Snapshot } from 'xstate';
import type { AttemptEvent, StepAttemptOutput, StepCompensationInput } from '../machines/step.machine.js';
import {
  AgentError,
  errorFromJSON,
  PatternError,
  PatternExecutionError,
  isPatternError,
  toSerializedError,
} from '../core/errors.js';
import type { RunEnv } from '../runtime/RunEnv.js';
import type { AgentLease } from '../runtime/AgentPool.js';
import type { StepSpec } from '../core/spec.js';
import { AttemptCancellation, withCancellation } from '../core/cancellation.js';
import type { AgentTask } from '../core/agent.js';
import { asJson } from '../runtime/durable/RunJournal.js';
import { journaledError, replayOutcome, timeoutFact } from './replay.js';
import { waitForSignal } from './signalWait.js';

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

/** Times one attempt re-sends its task after the call was lost with the transport's connection. */
export const MAX_CONNECTION_RETRIES = 5;

/** True for an error saying the call was lost with the transport's connection (`details.connectionLost`). */
function isConnectionLost(error: unknown): boolean {
  return isPatternError(error) && error.details.connectionLost === true;
}

/**
 * One attempt of a step: pick an agent (breaker, slots), hold the step's named locks, call the
 * agent, report the outcome to its breaker. A timeout or cancellation aborts `cancel`: the
 * agent sees it in `task.signal`; an attempt that ran for its whole timeout counts as a
 * breaker failure, an earlier abort as no outcome.
 *
 * Short faults do not fail the attempt:
 * - when every capable agent's breaker is open but admits again before the attempt's deadline
 *   (`start + spec.timeoutMs`), the attempt waits for it instead of failing with `ND_CIRCUIT_OPEN`;
 * - a call lost with the transport's connection (`details.connectionLost`) is sent again, with the
 *   same task and idempotency key, within the attempt's deadline (at most
 *   {@link MAX_CONNECTION_RETRIES} times; the transport holds it until the reconnect). Such a loss,
 *   and a timeout of an attempt that lost its connection, is not an agent fault: the breaker does not
 *   count it. Nor does the caller's bad input (see `isAgentFault`).
 */
export function runAttempt(
  env: RunEnv,
  spec: StepSpec,
  attempt: number,
  cancel: AttemptCancellation,
  deadline: number | undefined = deadlineOf(spec, env.run.clock.now()),
): Promise<StepAttemptOutput> {
  const run = new Attempt(env, spec, attempt, cancel, env.run.clock.now(), deadline);
  env.run.trace?.queued(env.path, spec.name, attempt, env.idempotencyKey(spec.name));
  return env.run.pool
    .acquire(spec, env.path, cancel, run.deadline, env.run)
    .then((lease) => run.begin(lease));
}

/** The absolute deadline of an attempt of `spec` started at `start` (epoch ms), if it has a timeout. */
const deadlineOf = (spec: StepSpec, start: number): number | undefined =>
  spec.timeoutMs === undefined ? undefined : start + spec.timeoutMs;

/**
 * The state of one attempt once an agent is chosen. A class with a short promise chain (no
 * locks: acquire → call → settle), not an async function: a parked attempt keeps little alive
 * and a no-op step allocates few promises.
 */
class Attempt {
  private lease!: AgentLease;
  private release: (() => Promise<void>) | undefined;
  /** Calls of this attempt lost with the connection (each re-sent). */
  private connectionLosses = 0;

  constructor(
    private readonly env: RunEnv,
    private readonly spec: StepSpec,
    private readonly attempt: number,
    private readonly cancel: AttemptCancellation,
    private readonly startedAt: number,
    /** Absolute, epoch ms (a resumed attempt keeps the one its journal recorded). */
    readonly deadline: number | undefined,
  ) {}

  begin(lease: AgentLease): Promise<StepAttemptOutput> {
    const { env, spec, cancel } = this;
    const { run } = env;
    this.lease = lease;
    if (cancel.aborted) {
      // Cancelled while waiting for the agent: never call it.
      lease.release();
      return Promise.reject(
        new PatternExecutionError(`Step "${spec.name}" was cancelled before it started`, { step: spec.name }),
      );
    }
    run.recorder.status(env.path, spec.name, 'running', { attempt: this.attempt, agent: lease.agent.id });
    run.journal?.record({
      kind: 'attemptDispatched',
      step: env.stepKey(spec.name),
      attempt: this.attempt,
      agent: lease.agent.id,
      idempotencyKey: env.idempotencyKey(spec.name),
      ...(this.deadline === undefined ? {} : { deadlineAt: this.deadline }),
    });
    cancel.onAbort(() => {
      const ranFullTimeout = this.deadline !== undefined && run.clock.now() >= this.deadline;
      // a timeout after a lost connection says nothing about the agent
      if (ranFullTimeout && this.connectionLosses === 0) lease.fail();
      else lease.release();
    });
    if (!spec.locks?.length || !run.resolver) return this.call();
    return run.resolver
      .acquire(spec.locks, {
        owner: env.idempotencyKey(spec.name),
        priority: run.context.priority,
        deadline: this.deadline,
        signal: cancel,
      })
      .then(
        (release) => {
          this.release = release;
          run.trace?.locked(env.path, spec.name);
          return this.call();
        },
        (error: unknown) => {
          cancel.onAbort(undefined);
          lease.release();
          throw error;
        },
      );
  }

  private call(): Promise<StepAttemptOutput> {
    const { env, spec, cancel } = this;
    const { run, path } = env;
    const task: AgentTask = withCancellation(
      {
        runId: run.runId,
        pattern: path[path.length - 1] ?? '',
        step: spec.name,
        capability: spec.capability,
        attempt: this.attempt,
        idempotencyKey: env.idempotencyKey(spec.name),
        deadline: this.deadline,
        input: { params: spec.input, runInput: run.runInput, results: run.recorder.results },
        context: run.context,
        traceContext: run.trace?.context(path, spec.name),
      },
      cancel,
    );
    // Write-ahead: the agent is called once the dispatch, and every fact recorded before it (the
    // previous step's completion), is durable, so after a crash only steps in flight run again.
    const durable = run.journal?.durable();
    if (durable === undefined) return this.dispatch(task);
    return durable.then(
      () => (cancel.aborted ? this.failed(cancel.reason ?? new Error('cancelled')) : this.dispatch(task)),
      (error: unknown) => {
        this.lease.release(); // the store failed, not the agent
        return this.failed(error);
      },
    );
  }

  private dispatch(task: AgentTask): Promise<StepAttemptOutput> {
    let answer: Promise<unknown>;
    try {
      // Promise.resolve: a custom agent written in JS may return a plain value (or a thenable).
      answer = Promise.resolve(this.lease.agent.execute(task));
    } catch (error) {
      answer = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return answer.then(
      (output) => this.succeeded(output),
      (error: unknown) => (this.resend(error) ? this.dispatch(task) : this.failed(error)),
    );
  }

  /** True when a call lost with the connection should be sent again (same task, same key). */
  private resend(error: unknown): boolean {
    if (!isConnectionLost(error)) return false;
    this.connectionLosses += 1;
    if (this.cancel.aborted || this.connectionLosses > MAX_CONNECTION_RETRIES) return false;
    return this.deadline === undefined || this.env.run.clock.now() < this.deadline;
  }

  private succeeded(output: unknown): StepAttemptOutput | Promise<StepAttemptOutput> {
    const { run } = this.env;
    const finishedAt = run.clock.now();
    this.lease.succeed(finishedAt - this.startedAt);
    if (!this.cancel.aborted) run.recorder.recordResult(this.spec.name, output);
    const result: StepAttemptOutput = {
      output,
      agent: this.lease.agent.id,
      startedAt: this.startedAt,
      finishedAt,
    };
    const released = this.settle();
    return released ? released.then(() => result) : result;
  }

  private failed(error: unknown): Promise<never> {
    this.lease.fail(error);
    const failure = toPatternError(error, this.lease.agent.id, this.spec.name);
    const released = this.settle();
    return (released ?? Promise.resolve()).then(() => {
      throw failure;
    });
  }

  /** Ends the attempt's hold on its locks (if any); the abort hook no longer applies. */
  private settle(): Promise<void> | undefined {
    this.cancel.onAbort(undefined);
    return this.release?.();
  }
}

/** Undoes a completed step with the agent that performed it (no-op when it has no `compensate`). */
export async function compensate(env: RunEnv, input: StepCompensationInput): Promise<void> {
  const { run, path } = env;
  if (input.agent === undefined) return;
  const key = env.stepKey(input.spec.name);
  const recorded = run.journal?.history(key).compensation?.completed;
  if (recorded) {
    // compensated before a restart: never again
    if (recorded.error) throw errorFromJSON(recorded.error);
    return;
  }
  const slot = await run.pool.acquireDirect(input.agent);
  if (!slot) return;
  const idempotencyKey = `${env.idempotencyKey(input.spec.name)}/compensate`;
  try {
    if (!slot.agent.compensate) return;
    run.journal?.record({ kind: 'compensationDispatched', step: key, agent: input.agent, idempotencyKey });
    await run.journal?.durable(); // write-ahead, as for attempts
    await slot.agent.compensate(
      withCancellation(
        {
          runId: run.runId,
          pattern: path[path.length - 1] ?? '',
          step: input.spec.name,
          capability: input.spec.capability,
          attempt: 1,
          idempotencyKey,
          deadline: undefined,
          input: { params: input.spec.input, runInput: run.runInput, results: run.recorder.results },
          context: run.context,
          traceContext: run.trace?.context(path, input.spec.name),
          output: input.output,
        },
        new AttemptCancellation(), // a compensation runs to its end: it is never cancelled
      ),
    );
    run.journal?.record({ kind: 'compensationCompleted', step: key });
  } catch (error) {
    const failure = toPatternError(error, input.agent, input.spec.name);
    run.journal?.record({ kind: 'compensationCompleted', step: key, error: journaledError(failure) });
    throw failure;
  } finally {
    slot.release();
  }
}

/** The attempt in flight of each step actor: its cancellation and deadline timer. */
interface InFlightAttempt {
  readonly cancel: AttemptCancellation;
  readonly timer: unknown;
}

const inFlight = new WeakMap<AnyActorRef, InFlightAttempt>();

/**
 * Sends an attempt's end to its step, unless the step has ended or was stopped meanwhile.
 * @returns true when the step is still waiting for this attempt (the event counts)
 */
function tell(step: AnyActorRef, event: AttemptEvent): boolean {
  const snap = step.getSnapshot() as Snapshot<unknown> & { value?: unknown; context?: { attempt?: number } };
  if (snap.status !== 'active') return false;
  const current = snap.value === 'running' && snap.context?.attempt === event.attempt;
  step.send(event);
  return current;
}

function settleAttempt(step: AnyActorRef, entry: InFlightAttempt, clock: RunEnv['run']['clock']): void {
  if (inFlight.get(step) === entry) inFlight.delete(step);
  if (entry.timer !== undefined) clock.clearTimeout(entry.timer);
}

/**
 * The step machine's `startAttempt`: runs attempt `attempt` of `spec` ({@link runAttempt}) and
 * sends its end to `step` as `ATTEMPT.DONE` or `ATTEMPT.FAILED`. With a deadline (`spec.timeoutMs`),
 * a timer on the run's clock aborts the attempt at the deadline and sends `ATTEMPT.TIMEOUT`.
 *
 * In a journaled run, an attempt whose outcome the journal recorded is not run: the outcome is
 * replayed (in journal order). An attempt that was dispatched but has no outcome (in flight when
 * the process stopped) is dispatched again with its recorded deadline and the same idempotency
 * key. A step with `waitFor` waits for its signal instead of calling an agent. Outcomes the step
 * still waits for are journaled.
 */
export function startAttempt(env: RunEnv, spec: StepSpec, attempt: number, step: AnyActorRef): void {
  const { clock, journal } = env.run;
  const key = env.stepKey(spec.name);
  const recorded = journal?.outcome(key, attempt);
  if (journal && recorded) {
    journal.replay(key, attempt, () => replayOutcome(env, spec, attempt, step, recorded));
    return;
  }
  const deadline = journal?.history(key).dispatched.get(attempt)?.deadlineAt ?? attemptDeadline(env, spec);
  const cancel = new AttemptCancellation();
  const timer =
    deadline === undefined
      ? undefined
      : clock.setTimeout(
          () => {
            settleAttempt(step, entry, clock);
            const ms = spec.waitFor?.timeoutMs ?? spec.timeoutMs ?? 0;
            cancel.abort(new DOMException(`step ${spec.name} timed out after ${ms} ms`, 'TimeoutError'));
            if (tell(step, { type: 'ATTEMPT.TIMEOUT', attempt })) {
              journal?.record({
                kind: 'stepFailed',
                step: key,
                attempt,
                error: timeoutFact(spec, attempt, ms),
              });
            }
          },
          Math.max(0, deadline - clock.now()),
        );
  const entry: InFlightAttempt = { cancel, timer };
  inFlight.set(step, entry);
  const outcome = spec.waitFor
    ? waitForSignal(env, spec, attempt, cancel, deadline)
    : runAttempt(env, spec, attempt, cancel, deadline);
  outcome.then(
    (result) => {
      settleAttempt(step, entry, clock);
      if (tell(step, { type: 'ATTEMPT.DONE', attempt, result })) {
        const output = asJson(result.output);
        journal?.record({
          kind: 'stepCompleted',
          step: key,
          attempt,
          ...(output === undefined ? {} : { output }),
        });
      }
    },
    (error: unknown) => {
      settleAttempt(step, entry, clock);
      if (tell(step, { type: 'ATTEMPT.FAILED', attempt, error })) {
        journal?.record({ kind: 'stepFailed', step: key, attempt, error: journaledError(error) });
      }
    },
  );
}

/** The absolute deadline of a new attempt (its wait for a signal, or its call), epoch ms. */
function attemptDeadline(env: RunEnv, spec: StepSpec): number | undefined {
  const ms = spec.waitFor ? spec.waitFor.timeoutMs : spec.timeoutMs;
  return ms === undefined ? undefined : env.run.clock.now() + ms;
}

/** The step machine's `abortAttempt`: aborts the step's attempt in flight, if any (it was cancelled). */
export function abortAttempt(env: RunEnv, spec: StepSpec, step: AnyActorRef): void {
  const entry = inFlight.get(step);
  if (!entry) return;
  settleAttempt(step, entry, env.run.clock);
  entry.cancel.abort(new DOMException(`step ${spec.name} was cancelled`, 'AbortError'));
}

/** The `compensateStep` actor the runtime provides to the step machine. */
export const compensateStepActor = fromPromise<void, StepCompensationInput>(({ input }) =>
  compensate(input.env as RunEnv, input),
);
