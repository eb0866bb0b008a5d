import type { ResourceArbiter } from '../core/agent.js';
import type { AgentPool } from './AgentPool.js';
import type { Clock } from '../core/clock.js';
import type { PatternContextData } from './PatternContext.js';
import type { RunJournal } from './durable/RunJournal.js';
import type { RunRecorder } from './RunRecorder.js';
import type { RunTraceHooks } from '../tracing/ExecutionTracer.js';

/** What every actor of one run shares. */
export interface RunShared {
  readonly runId: string;
  readonly context: PatternContextData;
  readonly runInput: unknown;
  readonly recorder: RunRecorder;
  readonly pool: AgentPool;
  readonly clock: Clock;
  readonly resolver?: ResourceArbiter | undefined;
  /** The run's journal (durable runs, or a run with steps waiting for signals); none: not journaled. */
  readonly journal?: RunJournal | undefined;
  /** The run's tracer hooks (`RunOptions.tracer`); undefined: not traced. */
  readonly trace?: RunTraceHooks | undefined;
}

/**
 * The opaque `env` the machines hand to their step actors: the run, plus the path of pattern
 * names from the root to the pattern that owns the step.
 */
export class RunEnv {
  constructor(
    readonly run: RunShared,
    readonly path: readonly string[],
  ) {}

  /** The env of a child pattern (meta-orchestration). */
  child(patternName: string): RunEnv {
    return new RunEnv(this.run, [...this.path, patternName]);
  }

  /** The step's key in the run's journal: pattern path and step name, unique within the run. */
  stepKey(step: string): string {
    return `${this.path.join('/')}/${step}`;
  }

  /** Same for every attempt of this step in this run (and after a restart). */
  idempotencyKey(step: string): string {
    return `${this.run.runId}/${this.stepKey(step)}`;
  }
}
