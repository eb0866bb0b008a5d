import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { AgentTask } from '../../../../src/actors/agent.js';

/** Default output directory: examples/data-pipeline/out. */
export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../out', import.meta.url));

/**
 * The run input of the pipeline (`run.input` in workflow.yaml, `--input` on the command line).
 * - `outDir`: where results go (relative to the current directory); default examples/data-pipeline/out
 * - `failAt`: name of a step that fails on purpose, to watch the rollback
 * - `limit`: process only the first N rows (quick runs)
 */
export const runInputSchema = z
  .object({
    outDir: z.string().min(1).optional(),
    failAt: z.string().min(1).optional(),
    limit: z.number().int().positive().optional(),
  })
  .strict();
export type RunInput = z.infer<typeof runInputSchema>;

/** The pipeline's run input with `outDir` resolved to an absolute path. */
export function runInput(task: AgentTask): RunInput & { outDir: string } {
  const parsed = runInputSchema.safeParse(task.input.runInput ?? {});
  if (!parsed.success)
    throw new Error(
      `run input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return { ...parsed.data, outDir: path.resolve(parsed.data.outDir ?? DEFAULT_OUT_DIR) };
}

/** Throws when the run input asks this step to fail (`failAt`). */
export function maybeFail(task: AgentTask): void {
  if (runInput(task).failAt === task.step) {
    throw new Error(`injected failure at step "${task.step}" (run input failAt)`);
  }
}

/** The output of an earlier step, validated with `schema`. */
export function resultOf<S extends z.ZodType>(task: AgentTask, step: string, schema: S): z.infer<S> {
  const parsed = schema.safeParse(task.input.results[step]);
  if (!parsed.success) {
    const why = parsed.error.issues[0]?.message ?? 'invalid';
    throw new Error(`step "${task.step}" needs the output of "${step}" (${why})`);
  }
  return parsed.data;
}
