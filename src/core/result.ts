import type { SerializedError } from './errors.js';
import type { RunStatus, StepStatus } from './status.js';

/** What happened to one step (or task) of a run. */
export interface StepReport {
  /** Step name. */
  readonly name: string;
  /** Names from the run's root pattern down to the step's pattern (`['migration', 'data_migration']`). */
  readonly path: readonly string[];
  readonly status: StepStatus;
  /** Id of the agent of the last attempt; undefined when it never ran. */
  readonly agent?: string | undefined;
  readonly attempts: number;
  /** Wall time from first start to final outcome, ms. */
  readonly durationMs: number;
  readonly output?: unknown;
  readonly error?: SerializedError | undefined;
  /** `none`: nothing to undo (never completed or not rolled back). */
  readonly compensation: 'none' | 'compensated' | 'compensationFailed';
  readonly compensationError?: SerializedError | undefined;
}

/** The full result of {@link PatternExecutor.run}. */
export interface RunResult {
  readonly runId: string;
  readonly pattern: string;
  readonly status: RunStatus;
  /** `status === 'succeeded'`. */
  readonly success: boolean;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** Every step of every pattern the run touched, in the order they were first started or decided. */
  readonly steps: readonly StepReport[];
  /** Why it failed: the first step error, a timeout or a criteria violation. */
  readonly error?: SerializedError | undefined;
}
