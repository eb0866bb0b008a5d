import { z } from 'zod';
import { resourceRequirementSchema, retrySchema, waitForSchema } from '../../core/spec.js';
import { argv, cwd, description, env, fraction, name, timeoutMs } from './schemaParts.js';
import { durationSeconds } from '../../core/duration.js';

/** The `patterns` part of the workflow file schema. */

/** How a step is undone when a later one fails: another agent, or a command. */
export const compensationSpecSchema = z.union([
  z
    .object({
      agent: name.describe('Agent whose handler receives the compensation task (with `output`).'),
    })
    .strict(),
  z.object({ command: argv, cwd, env, timeoutMs }).strict(),
]);

const stepFields = {
  name: name.describe('Unique within the pattern.'),
  description,
  capability: z.string().min(1).optional().describe('Capability needed (default: the step name).'),
  agent: name.optional().describe('Agent that performs it (overrides capability matching).'),
  retry: retrySchema
    .optional()
    .describe('maxAttempts counts the first attempt; backoff is exponential with jitter.'),
  timeoutMs: timeoutMs.describe('Per-attempt timeout, ms.'),
  input: z.unknown().optional().describe('Handed to the agent as `params`.'),
  locks: z.array(z.string().min(1)).optional().describe('Named shared resources held while it runs.'),
  waitFor: waitForSchema
    .optional()
    .describe(
      'Wait for this signal (`ndf signal <run-id> <name>`) instead of calling an agent; its payload is the output.',
    ),
  compensate: compensationSpecSchema.optional(),
};

/** A step of a sequential pattern. */
export const stepSpecSchema = z.object(stepFields).strict();
/** A task of a parallel pattern: a step with dependencies and resource needs. */
export const taskSpecSchema = z
  .object({
    ...stepFields,
    dependsOn: z.array(name).optional().describe('Tasks that must complete first.'),
    resources: resourceRequirementSchema.optional(),
  })
  .strict();

const agentMapping = z.record(z.string(), name).optional().describe('Step (or capability) name → agent id.');
const timeoutSeconds = durationSeconds.optional().describe('Overall timeout of the pattern, seconds.');
const rollbackEnabled = z
  .boolean()
  .optional()
  .describe('Compensate completed steps when the pattern fails (default true).');
const domains = z
  .array(z.string().min(1))
  .optional()
  .describe('Domains it suits, with * wildcards (`data.*`): used when run.pattern is omitted.');

/** `type: sequential`: steps in order, compensated in reverse on failure. */
export const sequentialPatternSchema = z
  .object({
    type: z.literal('sequential'),
    description,
    steps: z.array(z.union([name, stepSpecSchema])).min(1),
    timeoutSeconds,
    rollbackEnabled,
    agentMapping,
    domains,
  })
  .strict();

/** `type: parallel`: a DAG of tasks with a concurrency limit and a failure tolerance. */
export const parallelPatternSchema = z
  .object({
    type: z.literal('parallel'),
    description,
    tasks: z.array(z.union([name, taskSpecSchema])).min(1),
    maxConcurrent: z.number().int().min(1).optional(),
    resourceThreshold: fraction
      .optional()
      .describe('Summed cpu/memory of running tasks stays at or below it.'),
    failureTolerance: fraction
      .optional()
      .describe('Fraction of tasks that may fail with the pattern still succeeding.'),
    timeoutSeconds,
    rollbackEnabled,
    agentMapping,
    domains,
  })
  .strict();

/** Success criteria of a phase; every criterion given must hold. */
export const successCriteriaSchema = z
  .object({
    minSuccessRate: fraction.optional(),
    maxErrorCount: z.number().int().min(0).optional(),
    responseTimeThresholdMs: z.number().positive().optional(),
  })
  .strict();

/** A phase of a meta pattern. */
export const phaseSpecSchema = z
  .object({
    name,
    description,
    patterns: z.array(name).min(1).describe('Names of patterns declared in this file.'),
    coordination: z.enum(['sequential', 'parallel']).default('sequential'),
    successCriteria: successCriteriaSchema.optional(),
    resourceAllocation: z
      .object({
        cpu: z.number().min(0).max(1).optional().describe('Cap on the declared cpu of each pattern (0..1).'),
        memory: z
          .number()
          .min(0)
          .max(1)
          .optional()
          .describe('Cap on the declared memory of each pattern (0..1).'),
      })
      .strict()
      .optional()
      .describe('Caps the declared cpu/memory of the patterns the phase runs.'),
  })
  .strict();

/** `type: meta`: phases of patterns with success criteria and a rollback strategy. */
export const metaPatternSchema = z
  .object({
    type: z.literal('meta'),
    description,
    phases: z.array(phaseSpecSchema).min(1),
    rollbackStrategy: z
      .enum(['pattern_level', 'phase_level', 'complete'])
      .optional()
      .describe('What rolls back when a phase fails (default phase_level).'),
    complexityThreshold: z
      .number()
      .min(0)
      .max(10)
      .optional()
      .describe('Minimum context complexity (1..10) for automatic selection.'),
    timeoutSeconds,
    domains,
  })
  .strict();

/** Any pattern of the workflow file, by `type`. */
export const patternSpecSchema = z.discriminatedUnion('type', [
  sequentialPatternSchema,
  parallelPatternSchema,
  metaPatternSchema,
]);

/** One pattern as declared in the file. */
export type PatternSpecFile = z.infer<typeof patternSpecSchema>;
/** A step or task as declared in the file (the object form). */
export type StepSpecFile = z.infer<typeof taskSpecSchema>;
/** A step-level compensation. */
export type CompensationSpec = z.infer<typeof compensationSpecSchema>;
/** A phase of a meta pattern. */
export type PhaseSpecFile = z.infer<typeof phaseSpecSchema>;
/** Success criteria of a phase. */
export type SuccessCriteriaFile = z.infer<typeof successCriteriaSchema>;
