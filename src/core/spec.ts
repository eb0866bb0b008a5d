import { z } from 'zod';
import { durationMs } from './duration.js';

/**
 * The declarative, serialisable specifications that the machines run. Patterns build them,
 * the workflow file maps onto them, and they are what a checkpoint stores.
 */

/**
 * Exponential backoff with jitter: the delay before retry `n` (1-based) is
 * `min(maxDelayMs, initialDelayMs * multiplier^(n-1))`, then jittered.
 * `jitter: 'full'` draws uniformly from [0, delay] and `'equal'` from [delay/2, delay]
 * (M. Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 */
export const backoffSchema = z
  .object({
    initialDelayMs: durationMs.default(100),
    maxDelayMs: durationMs.default(30_000),
    multiplier: z.number().min(1).default(2),
    jitter: z.enum(['none', 'full', 'equal']).default('full'),
  })
  .strict();
export type Backoff = z.infer<typeof backoffSchema>;
export type BackoffInput = z.input<typeof backoffSchema>;

/** Retry policy: `maxAttempts` counts the first attempt (1 = no retry). */
export const retrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(100).default(1),
    backoff: backoffSchema.default(backoffSchema.parse({})),
  })
  .strict();
export type RetryPolicy = z.infer<typeof retrySchema>;
export type RetryPolicyInput = z.input<typeof retrySchema>;

/** Fractions of the machine's CPU and memory (0..1) a task needs while it runs. */
export const resourceRequirementSchema = z
  .object({ cpu: z.number().min(0).max(1), memory: z.number().min(0).max(1) })
  .strict();
export type ResourceRequirement = z.infer<typeof resourceRequirementSchema>;

/** One step of a sequential pattern or task of a parallel pattern, as the machines see it. */
export interface StepSpec {
  /** Unique within the pattern. */
  readonly name: string;
  /** Capability an agent needs to perform it (defaults to the step name). */
  readonly capability: string;
  /** Explicit agent id (the `claude_agent_mapping` of the user guide); overrides the capability. */
  readonly agent?: string | undefined;
  readonly retry: RetryPolicy;
  /** Per-attempt timeout, ms; undefined = none. */
  readonly timeoutMs?: number | undefined;
  /** Names of tasks that must complete first (parallel patterns only). */
  readonly dependsOn: readonly string[];
  readonly resources?: ResourceRequirement | undefined;
  /** Named shared resources held while it runs, acquired through the conflict resolver. */
  readonly locks?: readonly string[] | undefined;
  /** Input handed to the agent; the runtime adds the outputs of earlier steps. */
  readonly input?: unknown;
  /**
   * Wait for a named signal instead of calling an agent (human in the loop): the step completes
   * with the signal's payload as its output, or fails with a timeout after `timeoutMs`.
   */
  readonly waitFor?: WaitForSignal | undefined;
}

/** A step's wait for a signal (`executor.signal(runId, signal, payload)`). */
export const waitForSchema = z
  .object({
    /** The signal's name. */
    signal: z.string().min(1).max(200),
    /** How long to wait, ms; none: until the signal comes. */
    timeoutMs: durationMs.refine((ms) => ms > 0, 'must be > 0').optional(),
  })
  .strict();
export type WaitForSignal = z.infer<typeof waitForSchema>;

/** Fills the defaults of a step spec. */
export function stepSpec(name: string, partial: Partial<StepSpec> = {}): StepSpec {
  return {
    name,
    capability: partial.capability ?? name,
    agent: partial.agent,
    retry: partial.retry ?? retrySchema.parse({}),
    timeoutMs: partial.timeoutMs,
    dependsOn: partial.dependsOn ?? [],
    resources: partial.resources,
    locks: partial.locks,
    input: partial.input,
    waitFor: partial.waitFor,
  };
}

/** Configuration of a sequential pattern (what its machine runs). */
export interface SequentialSpec {
  readonly kind: 'sequential';
  readonly steps: readonly StepSpec[];
  /** Overall timeout, ms. */
  readonly timeoutMs?: number | undefined;
  readonly rollbackEnabled: boolean;
}

/** Configuration of a parallel coordination pattern. */
export interface ParallelSpec {
  readonly kind: 'parallel';
  readonly tasks: readonly StepSpec[];
  readonly maxConcurrent: number;
  /** 0..1: running tasks' summed cpu and memory requirements stay at or below it. */
  readonly resourceThreshold: number;
  /** 0..1: fraction of tasks allowed to fail (or be skipped) with the run still succeeding. */
  readonly failureTolerance: number;
  readonly rollbackEnabled: boolean;
  /** Overall timeout, ms. */
  readonly timeoutMs?: number | undefined;
}

/** Success criteria of a phase; all present criteria must hold. */
export interface SuccessCriteria {
  /** 0..1: fraction of the phase's patterns that must succeed (default 1). */
  readonly minSuccessRate?: number | undefined;
  /** Maximum number of failed steps across the phase's patterns. */
  readonly maxErrorCount?: number | undefined;
  /** Maximum mean pattern duration in the phase, ms. */
  readonly responseTimeThresholdMs?: number | undefined;
}

export interface PhaseSpec {
  readonly name: string;
  /** Names of registered patterns. */
  readonly patterns: readonly string[];
  readonly coordination: 'sequential' | 'parallel';
  readonly successCriteria: SuccessCriteria;
  readonly resourceAllocation?: Readonly<Record<string, number>> | undefined;
}

/** `pattern_level`: only the failing pattern rolls back; `phase_level`: every pattern of the failing phase; `complete`: every pattern of every phase. */
export type RollbackStrategy = 'pattern_level' | 'phase_level' | 'complete';

/** Configuration of a meta-orchestration pattern. */
export interface MetaSpec {
  readonly kind: 'meta';
  readonly phases: readonly PhaseSpec[];
  readonly rollbackStrategy: RollbackStrategy;
  readonly complexityThreshold: number;
  readonly timeoutMs?: number | undefined;
}

export type PatternSpec = SequentialSpec | ParallelSpec | MetaSpec;
