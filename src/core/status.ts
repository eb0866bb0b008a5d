/**
 * Status values of steps, tasks, patterns and phases, as string unions with a
 * constant object for the reference API's enum-like spelling (`StepStatus.COMPLETED`).
 */

export const StepStatus = {
  PENDING: 'pending',
  RUNNING: 'running',
  RETRYING: 'retrying',
  COMPLETED: 'completed',
  FAILED: 'failed',
  SKIPPED: 'skipped',
  CANCELLED: 'cancelled',
  COMPENSATING: 'compensating',
  COMPENSATED: 'compensated',
  COMPENSATION_FAILED: 'compensationFailed',
} as const;
/** Status of a step (sequential) or task (parallel). */
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];
/** Tasks of a parallel pattern use the same statuses as steps. */
export const TaskStatus = StepStatus;
export type TaskStatus = StepStatus;

export const RunStatus = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  TIMED_OUT: 'timedOut',
  ROLLED_BACK: 'rolledBack',
  CANCELLED: 'cancelled',
} as const;
/**
 * Final status of a pattern run. `rolledBack`: it failed and every completed step was
 * compensated. `cancelled`: `executor.cancelRun` (durable runs) stopped it; its completed steps
 * were compensated as on failure.
 */
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];
