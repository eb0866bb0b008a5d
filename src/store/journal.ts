/**
 * The journal of a run: an append-only list of facts, the source of truth from which a run's
 * pattern machines are rebuilt on resume (docs/durability.md). One zod schema per fact kind,
 * joined in {@link journalEntrySchema} (discriminated on `kind`).
 *
 * Every entry carries `runId`, `seq` (1-based, gapless per run: the n-th fact of a run has
 * `seq === n`) and `at` (epoch ms, when the fact happened). Payloads (`input`, `output`,
 * signal payloads) must be JSON values: the embedded store writes JSON, so anything else would
 * not read back identical.
 */
import { z } from 'zod';
import { RunStatus, StepStatus } from '../core/status.js';

/**
 * A run id: 1–128 characters of `A–Z a–z 0–9 _ . -`, not starting with `.`; it is used as a
 * file name by the embedded store, hence the restriction.
 */
export const runIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/,
    'a run id is 1-128 characters of A-Z a-z 0-9 _ . - not starting with "."',
  );

const epochMs = z.number().int().nonnegative();
const name = z.string().min(1);

/** {@link SerializedError} of src/core/errors.ts as a schema. */
export const serializedErrorSchema = z.object({
  name: z.string(),
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.json()).optional(),
});
/** An error as the journal stores it (details are JSON). */
export type JournalError = z.infer<typeof serializedErrorSchema>;

/** {@link StepReport} of src/core/result.ts as a schema. */
export const stepReportSchema = z.object({
  name: z.string(),
  path: z.array(z.string()),
  status: z.enum(Object.values(StepStatus) as [StepStatus, ...StepStatus[]]),
  agent: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  output: z.json().optional(),
  error: serializedErrorSchema.optional(),
  compensation: z.enum(['none', 'compensated', 'compensationFailed']),
  compensationError: serializedErrorSchema.optional(),
});

/** {@link RunResult} of src/core/result.ts as a schema. */
export const runResultSchema = z.object({
  runId: runIdSchema,
  pattern: z.string(),
  status: z.enum(Object.values(RunStatus) as [RunStatus, ...RunStatus[]]),
  success: z.boolean(),
  startedAt: epochMs,
  durationMs: z.number().nonnegative(),
  steps: z.array(stepReportSchema),
  error: serializedErrorSchema.optional(),
});

/** A RunResult as the journal stores it. */
export type JournalRunResult = z.infer<typeof runResultSchema>;

const base = {
  runId: runIdSchema,
  /** 1-based, gapless per run. */
  seq: z.number().int().min(1),
  /** When the fact happened, epoch ms. */
  at: epochMs,
};

/** The run started: which pattern (and a hash of its spec, to refuse resuming a changed one), with what. */
export const runStartedSchema = z.object({
  ...base,
  kind: z.literal('runStarted'),
  pattern: name,
  /** A hash of the pattern's spec (e.g. sha-256 hex of its canonical JSON). */
  specHash: z.string().min(1),
  input: z.json(),
  context: z.record(z.string(), z.json()).optional(),
  /**
   * The pattern's steps in declared order (journal key and a hash of the step's definition):
   * names what changed when the spec did.
   */
  steps: z.array(z.object({ step: z.string(), hash: z.string() })).optional(),
  /** The run's overall deadline (epoch ms), kept across restarts. */
  deadlineAt: epochMs.optional(),
  /** Where the pattern is defined (`ndf run` records the workflow file's absolute path). */
  source: z.string().optional(),
});

/**
 * An attempt of a step was handed to an agent. `step` is the step's key, unique within the run
 * (nested patterns prefix it with their path). `idempotencyKey` is re-sent if the attempt is
 * re-delivered after a crash; `deadlineAt` is absolute (epoch ms) so a resumed run keeps it.
 */
export const attemptDispatchedSchema = z.object({
  ...base,
  kind: z.literal('attemptDispatched'),
  step: name,
  /** 1-based. */
  attempt: z.number().int().min(1),
  agent: name,
  idempotencyKey: z.string().min(1),
  deadlineAt: epochMs.optional(),
  /** Set when the step waits for this signal instead of calling an agent (the run is `waiting`). */
  waitingFor: name.optional(),
});

/** An attempt of a step succeeded with `output` (absent when the agent answered `undefined`). */
export const stepCompletedSchema = z.object({
  ...base,
  kind: z.literal('stepCompleted'),
  step: name,
  attempt: z.number().int().min(1),
  output: z.json().optional(),
});

/** An attempt of a step failed with `error`. */
export const stepFailedSchema = z.object({
  ...base,
  kind: z.literal('stepFailed'),
  step: name,
  attempt: z.number().int().min(1),
  error: serializedErrorSchema,
});

/** A failed step will be attempted again (`attempt`) at `dueAt` (epoch ms). */
export const retryDueSchema = z.object({
  ...base,
  kind: z.literal('retryDue'),
  step: name,
  /** The attempt that is due. */
  attempt: z.number().int().min(2),
  dueAt: epochMs,
});

/** The compensation of a completed step was handed to an agent. */
export const compensationDispatchedSchema = z.object({
  ...base,
  kind: z.literal('compensationDispatched'),
  step: name,
  agent: name,
  idempotencyKey: z.string().min(1),
});

/** The compensation of a step ended: `error` is present when it failed. */
export const compensationCompletedSchema = z.object({
  ...base,
  kind: z.literal('compensationCompleted'),
  step: name,
  error: serializedErrorSchema.optional(),
});

/** An external signal reached the run. */
export const signalReceivedSchema = z.object({
  ...base,
  kind: z.literal('signalReceived'),
  signal: name,
  payload: z.json().optional(),
});

/** A process took the run over after it stopped (a crash, a signal) and continues it from its journal. */
export const runResumedSchema = z.object({
  ...base,
  kind: z.literal('runResumed'),
  /** Process id of the resuming process, for people reading the journal. */
  pid: z.number().int().optional(),
});

/**
 * Cancellation of the run was asked for (`reason` for people). The run compensates its completed
 * steps, then finishes with a `runFinished` fact of status `cancelled`.
 */
export const cancelRequestedSchema = z.object({
  ...base,
  kind: z.literal('cancelRequested'),
  reason: z.string().optional(),
});

/** The run finished with this result; no fact may follow. */
export const runFinishedSchema = z.object({
  ...base,
  kind: z.literal('runFinished'),
  result: runResultSchema,
});

/** Any journal fact, discriminated on `kind`. */
export const journalEntrySchema = z.discriminatedUnion('kind', [
  runStartedSchema,
  attemptDispatchedSchema,
  stepCompletedSchema,
  stepFailedSchema,
  retryDueSchema,
  compensationDispatchedSchema,
  compensationCompletedSchema,
  signalReceivedSchema,
  cancelRequestedSchema,
  runResumedSchema,
  runFinishedSchema,
]);

/** A journal entry as stored and read back. */
export type JournalEntry = z.infer<typeof journalEntrySchema>;
/** The `kind` of a journal entry. */
export type JournalEntryKind = JournalEntry['kind'];

type Fact<E> = E extends JournalEntry ? Omit<E, 'runId' | 'seq' | 'at'> & { at?: number } : never;
/**
 * A fact as given to {@link RunStore.append}: the store fills in `runId` and `seq`, and `at`
 * (from its clock) when it is omitted.
 */
export type JournalFact = Fact<JournalEntry>;

/** True for the kinds after which a run takes no more facts. */
export const isTerminalKind = (kind: JournalEntryKind): boolean => kind === 'runFinished';
