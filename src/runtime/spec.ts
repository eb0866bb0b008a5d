import { z } from 'zod';

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
    initialDelayMs: z.number().int().nonnegative().default(100),
    maxDelayMs: z.number().int().nonnegative().default(30_000),
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
  /** Input handed to the agent; the runtime adds the outputs of earlier steps. */
  readonly input?: unknown;
}

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
    input: partial.input,
  };
}
