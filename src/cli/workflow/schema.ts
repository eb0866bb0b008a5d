import { z } from 'zod';
import { patternContextSchema } from '../../runtime/PatternContext.js';
import { resourceRequirementSchema, retrySchema } from '../../runtime/spec.js';

/**
 * The workflow file (YAML or JSON): agents, patterns and what to run. Every object is
 * `.strict()`, so a misspelt field is an error rather than silently ignored.
 * Exported as JSON Schema by `ndf schema` (docs/workflow.schema.json); documented in docs/workflow.md.
 */

const name = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/, 'use letters, digits, _ . : - (no spaces)')
  .describe('An identifier: letters, digits, _ . : -');
const description = z.string().optional().describe('Free text shown in plans and diagrams.');
const capabilities = z
  .array(z.string().min(1))
  .min(1)
  .describe('What the agent can do; a step needs an agent with its capability (default: the step name).');
const maxConcurrent = z.number().int().min(1).optional().describe('Tasks the agent performs at once.');
const fraction = z.number().min(0).max(1);
const agentBreaker = () =>
  breakerSpecSchema.optional().describe('Circuit breaker of this agent, merged over the top-level one.');
const timeoutMs = z.number().int().positive().optional();
const argv = z
  .array(z.string().min(1))
  .min(1)
  .describe(
    'argv, run without a shell: [executable, ...arguments]. Task data is never interpolated into it.',
  );
const env = z.record(z.string(), z.string()).optional().describe('Variables added to the environment.');
const cwd = z
  .string()
  .optional()
  .describe('Working directory, relative to the workflow file (default: its directory).');

/** Circuit breaker settings: top level for every agent, or per agent (merged over the top level). */
export const breakerSpecSchema = z
  .object({
    failureThreshold: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Consecutive failures that open the circuit.'),
    failureRateThreshold: fraction.optional(),
    minimumThroughput: z.number().int().min(1).optional(),
    windowMs: z.number().int().positive().optional(),
    recoveryTimeoutMs: z.number().int().positive().optional(),
    halfOpenMaxProbes: z.number().int().min(1).optional(),
    successThreshold: z.number().int().min(1).optional(),
  })
  .strict();

/** An agent that runs a command per task; the task JSON goes to stdin (or an env variable). */
export const commandAgentSpecSchema = z
  .object({
    kind: z.literal('command'),
    description,
    capabilities,
    maxConcurrent,
    breaker: agentBreaker(),
    command: argv,
    cwd,
    env,
    timeoutMs: timeoutMs.describe('Kill the process after this many ms.'),
    taskVia: z.enum(['stdin', 'env']).optional().describe('Where the task JSON goes (default stdin).'),
    taskEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional()
      .describe('Variable name when taskVia is env (default NDF_TASK).'),
    compensate: argv
      .optional()
      .describe('argv run to undo a completed task (receives the task and its output).'),
  })
  .strict();

/** An agent implemented by a JS/TS module exporting `handler` (and optionally `compensate`). */
export const moduleAgentSpecSchema = z
  .object({
    kind: z.literal('module'),
    description,
    capabilities,
    maxConcurrent,
    breaker: agentBreaker(),
    module: z.string().min(1).describe('Path of a .js/.mjs/.ts file, relative to the workflow file.'),
    export: z
      .string()
      .min(1)
      .optional()
      .describe('Name of the handler export (default `handler`, else default).'),
  })
  .strict();

/** A remote agent reached over NATS (see docs/protocol.md). */
export const natsAgentSpecSchema = z
  .object({
    kind: z.literal('nats'),
    description,
    capabilities,
    maxConcurrent,
    breaker: agentBreaker(),
    servers: z
      .union([z.string(), z.array(z.string()).min(1)])
      .optional()
      .describe('Default nats://127.0.0.1:4222.'),
    agentId: z.string().min(1).optional().describe('Id of the remote agent (default: this key).'),
    timeoutMs,
  })
  .strict();

/** An agent reached over HTTP: the task JSON is POSTed, the JSON response is the output. */
export const httpAgentSpecSchema = z
  .object({
    kind: z.literal('http'),
    description,
    capabilities,
    maxConcurrent,
    breaker: agentBreaker(),
    url: z.url(),
    headers: z.record(z.string(), z.string()).optional(),
    timeoutMs,
  })
  .strict();

export const agentSpecSchema = z.discriminatedUnion('kind', [
  commandAgentSpecSchema,
  moduleAgentSpecSchema,
  natsAgentSpecSchema,
  httpAgentSpecSchema,
]);

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
  compensate: compensationSpecSchema.optional(),
};

export const stepSpecSchema = z.object(stepFields).strict();
export const taskSpecSchema = z
  .object({
    ...stepFields,
    dependsOn: z.array(name).optional().describe('Tasks that must complete first.'),
    resources: resourceRequirementSchema.optional(),
  })
  .strict();

const agentMapping = z.record(z.string(), name).optional().describe('Step (or capability) name → agent id.');
const timeoutSeconds = z.number().positive().optional().describe('Overall timeout of the pattern, seconds.');
const rollbackEnabled = z
  .boolean()
  .optional()
  .describe('Compensate completed steps when the pattern fails (default true).');
const domains = z
  .array(z.string().min(1))
  .optional()
  .describe('Domains it suits, with * wildcards (`data.*`): used when run.pattern is omitted.');

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

export const successCriteriaSchema = z
  .object({
    minSuccessRate: fraction.optional(),
    maxErrorCount: z.number().int().min(0).optional(),
    responseTimeThresholdMs: z.number().positive().optional(),
  })
  .strict();

export const phaseSpecSchema = z
  .object({
    name,
    description,
    patterns: z.array(name).min(1).describe('Names of patterns declared in this file.'),
    coordination: z.enum(['sequential', 'parallel']).default('sequential'),
    successCriteria: successCriteriaSchema.optional(),
    resourceAllocation: z
      .record(z.string(), z.number().min(0))
      .optional()
      .describe('Share of resources per pattern of the phase.'),
  })
  .strict();

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

export const patternSpecSchema = z.discriminatedUnion('type', [
  sequentialPatternSchema,
  parallelPatternSchema,
  metaPatternSchema,
]);

/** What `ndf run` runs: a pattern by name, or the best pattern for a context. */
export const runSpecSchema = z
  .object({
    pattern: name.optional().describe('Pattern to run; omit to let the executor pick one for `context`.'),
    context: patternContextSchema.optional(),
    input: z
      .unknown()
      .optional()
      .describe('Run input (every step sees it as `runInput`); --input merges over it.'),
    timeoutMs: timeoutMs.describe('Timeout of the whole run, ms.'),
  })
  .strict()
  .refine((run) => run.pattern !== undefined || run.context !== undefined, {
    message: 'give `pattern` or `context`',
  });

export const workflowSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1).describe('Version of this file format.'),
    name,
    description,
    agents: z.record(name, agentSpecSchema).describe('Agents by id.'),
    patterns: z.record(name, patternSpecSchema).describe('Patterns by name.'),
    breaker: breakerSpecSchema.optional(),
    run: runSpecSchema,
  })
  .strict();

export type Workflow = z.infer<typeof workflowSchema>;
export type AgentSpec = z.infer<typeof agentSpecSchema>;
export type PatternSpecFile = z.infer<typeof patternSpecSchema>;
export type StepSpecFile = z.infer<typeof taskSpecSchema>;
export type CompensationSpec = z.infer<typeof compensationSpecSchema>;
export type PhaseSpecFile = z.infer<typeof phaseSpecSchema>;
export type SuccessCriteriaFile = z.infer<typeof successCriteriaSchema>;

/** The JSON Schema (draft 2020-12) of a workflow file, for editors. */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(workflowSchema, { io: 'input', unrepresentable: 'any' });
}
