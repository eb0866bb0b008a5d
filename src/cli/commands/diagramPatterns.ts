import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { resourceRequirementSchema, retrySchema, stepSpec } from '../../core/spec.js';
import type { PatternSpec } from '../../core/spec.js';
import { UsageError } from '../exit.js';
import { loadWorkflow } from '../workflow/load.js';
import { toPattern } from '../workflow/build.js';
import type { Workflow } from '../workflow/schema.js';

/**
 * Pattern specs for `ndf diagram --workflow`: from a workflow file (YAML or JSON, checked by the
 * workflow loader without building agents), or from a JSON file holding one PatternSpec (with
 * `kind`) or an object of PatternSpecs by name. Defaults are those of the pattern classes.
 */

/**
 * The patterns of a loaded workflow as the specs their machines run, built by the same pattern
 * classes `ndf run` uses (so defaults cannot drift).
 * @throws the pattern classes' validation errors
 */
export function workflowPatternSpecs(workflow: Workflow): Map<string, PatternSpec> {
  return new Map(Object.entries(workflow.patterns).map(([name, p]) => [name, toPattern(name, p).toSpec()]));
}

const stepJson = z
  .union([
    z.string().min(1),
    z.object({
      name: z.string().min(1),
      capability: z.string().optional(),
      agent: z.string().optional(),
      retry: retrySchema.optional(),
      timeoutMs: z.number().positive().optional(),
      dependsOn: z.array(z.string()).optional(),
      resources: resourceRequirementSchema.optional(),
      locks: z.array(z.string()).optional(),
    }),
  ])
  .transform((s) => (typeof s === 'string' ? stepSpec(s) : stepSpec(s.name, s)));
const fraction = z.number().min(0).max(1);
/** A PatternSpec written by hand in JSON; omitted fields take the pattern classes' defaults. */
const patternSpecJson = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('sequential'),
    steps: z.array(stepJson),
    timeoutMs: z.number().positive().optional(),
    rollbackEnabled: z.boolean().default(true),
  }),
  z.object({
    kind: z.literal('parallel'),
    tasks: z.array(stepJson),
    maxConcurrent: z.number().int().min(1).default(5),
    resourceThreshold: fraction.default(0.8),
    failureTolerance: fraction.default(0.2),
    rollbackEnabled: z.boolean().default(true),
    timeoutMs: z.number().positive().optional(),
  }),
  z.object({
    kind: z.literal('meta'),
    phases: z.array(
      z.object({
        name: z.string().min(1),
        patterns: z.array(z.string()),
        coordination: z.enum(['sequential', 'parallel']).default('sequential'),
        successCriteria: z
          .object({
            minSuccessRate: fraction.optional(),
            maxErrorCount: z.number().int().min(0).optional(),
            responseTimeThresholdMs: z.number().positive().optional(),
          })
          .default({}),
      }),
    ),
    rollbackStrategy: z.enum(['pattern_level', 'phase_level', 'complete']).default('phase_level'),
    complexityThreshold: z.number().min(0).default(5),
    timeoutMs: z.number().positive().optional(),
  }),
]);

function parseSpec(file: string, name: string, value: unknown): PatternSpec {
  const parsed = patternSpecJson.safeParse(value);
  if (parsed.success) return parsed.data;
  const why = parsed.error.issues
    .map((i) => `${[name, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
  throw new UsageError(`${file}: not a valid PatternSpec (${why})`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const hasKind = (v: unknown): boolean => isObject(v) && typeof v.kind === 'string';

/**
 * Reads the pattern specs of a workflow file or a PatternSpec JSON file, by pattern name.
 *
 * @throws WorkflowError for an invalid workflow file; UsageError for an unreadable file.
 */
export async function loadPatternSpecs(file: string): Promise<Map<string, PatternSpec>> {
  if (file.toLowerCase().endsWith('.json')) {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new UsageError(`${file}: cannot read it as JSON (${(error as Error).message})`);
    }
    const single = path.basename(file, '.json');
    if (hasKind(value)) return new Map([[single, parseSpec(file, single, value)]]);
    if (
      isObject(value) &&
      !('version' in value) &&
      Object.values(value).length > 0 &&
      Object.values(value).every(hasKind)
    ) {
      return new Map(Object.entries(value).map(([name, spec]) => [name, parseSpec(file, name, spec)]));
    }
  }
  const { workflow } = await loadWorkflow(file, { buildAgents: false });
  return workflowPatternSpecs(workflow);
}
