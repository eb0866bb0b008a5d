import { z } from 'zod';
import {
  resourceRequirementSchema,
  retrySchema,
  stepSpec,
  waitForSchema,
  type StepSpec,
} from '../../core/spec.js';
import { parseWith } from '../../core/validate.js';
import { positiveDurationMs } from '../../core/duration.js';

/** A step (or task) as a user writes it: a name, or an object with options. */
export const stepOptionsSchema = z
  .object({
    name: z.string().min(1),
    /** Capability an agent needs (default: the step name). */
    capability: z.string().min(1).optional(),
    /** Explicit agent id; overrides the capability. */
    agent: z.string().min(1).optional(),
    retry: retrySchema.optional(),
    /** Per-attempt timeout, ms. */
    timeoutMs: positiveDurationMs.optional(),
    input: z.unknown().optional(),
    /** Named shared resources held while it runs. */
    locks: z.array(z.string().min(1)).optional(),
    /** Wait for this signal (its payload is the output) instead of calling an agent. */
    waitFor: waitForSchema.optional(),
    /** Parallel patterns only: tasks that must complete first. */
    dependsOn: z.array(z.string().min(1)).optional(),
    /** Parallel patterns only: cpu/memory fractions (0..1) it needs while running. */
    resources: resourceRequirementSchema.optional(),
  })
  .strict();
export type StepOptions = z.input<typeof stepOptionsSchema>;
export type StepLike = string | StepOptions;

/**
 * Normalises steps written as names or option objects into StepSpecs.
 * @param mapping - step name → agent id (the user guide's `claude_agent_mapping`)
 * @throws PatternValidationError naming the step and field; InvalidPatternError-worthy duplicates are reported by the caller
 */
export function toStepSpecs(
  steps: readonly StepLike[],
  where: string,
  mapping: Record<string, string> = {},
): StepSpec[] {
  return steps.map((step, i) => {
    const options = parseWith(
      stepOptionsSchema,
      typeof step === 'string' ? { name: step } : step,
      `${where}[${i}]`,
    );
    return stepSpec(options.name, {
      capability: options.capability,
      agent: options.agent ?? mapping[options.name],
      retry: options.retry,
      timeoutMs: options.timeoutMs,
      input: options.input,
      locks: options.locks,
      waitFor: options.waitFor,
      dependsOn: options.dependsOn ?? [],
      resources: options.resources,
    });
  });
}

/** Name of the first duplicated step, if any. */
export function firstDuplicate(names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return n;
    seen.add(n);
  }
  return undefined;
}
