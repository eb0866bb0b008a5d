import type { SerializedError } from './errors.js';
import type { StepStatus, RunStatus } from './status.js';

/**
 * Events a run reports while it executes (progress displays, traces, logs). Every event has
 * `at` (epoch ms from the executor's clock) and the `runId`.
 */
export type RunEvent =
  | { type: 'run.started'; at: number; runId: string; pattern: string; patternType: string }
  | {
      type: 'run.finished';
      at: number;
      runId: string;
      pattern: string;
      status: RunStatus;
      durationMs: number;
    }
  | {
      type: 'step.status';
      at: number;
      runId: string;
      /** Pattern names from the root down to the step's pattern. */
      path: readonly string[];
      step: string;
      status: StepStatus;
      agent?: string | undefined;
      attempt: number;
      error?: SerializedError | undefined;
    }
  | {
      type: 'phase.status';
      at: number;
      runId: string;
      path: readonly string[];
      phase: string;
      status: 'running' | 'succeeded' | 'failed' | 'rolledBack';
    }
  | {
      type: 'breaker.state';
      at: number;
      runId: string;
      agent: string;
      from: 'closed' | 'open' | 'halfOpen';
      to: 'closed' | 'open' | 'halfOpen';
    }
  | {
      /** A learned choice: of an agent for a step (`kind: 'agent'`) or of a pattern for a context. */
      type: 'learning.decision';
      at: number;
      runId: string;
      kind: 'agent' | 'pattern';
      /** For an agent: the pattern path and step. */
      path?: readonly string[] | undefined;
      step?: string | undefined;
      decision: DecisionRecord;
    }
  | {
      /** One machine transition (from XState inspection): which actor, its machine, the new state, the event. */
      type: 'transition';
      at: number;
      runId: string;
      /** Actor id path, e.g. `run/data_pipeline/validate`. */
      actor: string;
      machine: string;
      state: unknown;
      event: string;
    };

/**
 * Why the learning layer chose an agent or a pattern (see `learning/decide.ts`): the rule
 * (`only`, `explore`, `thompson`, `exploit`, `gradient`), each eligible arm's posterior mean
 * (0..1), samples and cell, the Thompson draws or softmax probabilities, P(best), and the arms
 * left out with the reason.
 */
export interface DecisionRecord {
  readonly chosen: string;
  readonly rule: string;
  readonly arms: readonly { arm: string; mean: number; samples: number; cell: string }[];
  readonly sampled?: Readonly<Record<string, number>> | undefined;
  readonly probabilities?: Readonly<Record<string, number>> | undefined;
  readonly pBest?: number | undefined;
  readonly excluded: readonly { arm: string; why: string }[];
}

export type RunEventListener = (event: RunEvent) => void;
