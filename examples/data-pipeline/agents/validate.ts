import path from 'node:path';
import { z } from 'zod';
import type { AgentTask, CompensationTask } from '../../../src/actors/agent.js';
import { removeOutputs, writeJson } from './lib/files.js';
import { rawMovieSchema } from './lib/movie.js';
import type { RawMovie } from './lib/movie.js';
import { maybeFail, resultOf, runInput } from './lib/pipeline.js';

const loaded = z.object({ rows: z.array(z.unknown()) });

/** validate_rows: checks every row with zod; invalid rows go to quarantine.json with the reasons. */
export async function handler(
  task: AgentTask,
): Promise<{ rows: RawMovie[]; valid: number; invalid: number; reasons: Record<string, number> }> {
  maybeFail(task);
  const { rows } = resultOf(task, 'load_movies', loaded);
  const valid: RawMovie[] = [];
  const quarantined: { index: number; row: unknown; problems: string[] }[] = [];
  const reasons: Record<string, number> = {};
  rows.forEach((row, index) => {
    const parsed = rawMovieSchema.safeParse(row);
    if (parsed.success) return void valid.push(parsed.data);
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? 'row');
      reasons[key] = (reasons[key] ?? 0) + 1;
    }
    quarantined.push({ index, row, problems });
  });
  await writeJson(path.join(runInput(task).outDir, 'quarantine.json'), quarantined, task.signal);
  return { rows: valid, valid: valid.length, invalid: quarantined.length, reasons };
}

/** Removes quarantine.json. */
export async function compensate(task: CompensationTask): Promise<void> {
  await removeOutputs([path.join(runInput(task).outDir, 'quarantine.json')]);
}
