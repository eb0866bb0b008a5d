import { z } from 'zod';
import { patternContextSchema } from '../../runtime/PatternContext.js';
import { agentSpecSchema, breakerSpecSchema } from './agentSchema.js';
import { patternSpecSchema } from './patternSchema.js';
import { description, name, timeoutMs } from './schemaParts.js';

/**
 * The workflow file (YAML or JSON): agents, patterns and what to run. Every object is
 * `.strict()`, so a misspelt field is an error rather than silently ignored.
 * Exported as JSON Schema by `ndf schema` (docs/workflow.schema.json); documented in docs/workflow.md.
 */

export { agentSpecSchema, breakerSpecSchema } from './agentSchema.js';
export type { AgentSpec } from './agentSchema.js';
export { patternSpecSchema } from './patternSchema.js';
export type {
  CompensationSpec,
  PatternSpecFile,
  PhaseSpecFile,
  StepSpecFile,
  SuccessCriteriaFile,
} from './patternSchema.js';

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

/** A whole workflow file. */
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

/** A parsed workflow file. */
export type Workflow = z.infer<typeof workflowSchema>;

/** The JSON Schema (draft 2020-12) of a workflow file, for editors. */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(workflowSchema, { io: 'input', unrepresentable: 'any' });
}
