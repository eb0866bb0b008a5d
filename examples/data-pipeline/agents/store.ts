import path from 'node:path';
import { z } from 'zod';
import type { AgentTask, CompensationTask } from '../../../src/actors/agent.js';
import { removeOutputs, toCsv, writeAtomic, writeJson } from './lib/files.js';
import { CSV_COLUMNS, movieSchema } from './lib/movie.js';
import { maybeFail, resultOf, runInput } from './lib/pipeline.js';

const ruled = z.object({ rows: z.array(movieSchema) });
const FILES = ['movies.json', 'movies.csv'];

/** store_results: writes the clean movies as JSON and CSV (atomically). */
export async function handler(task: AgentTask): Promise<{ files: string[]; rows: number }> {
  maybeFail(task);
  const { rows } = resultOf(task, 'apply_business_rules', ruled);
  const { outDir } = runInput(task);
  const [json = '', csv = ''] = FILES.map((name) => path.join(outDir, name));
  await writeJson(json, rows, task.signal);
  await writeAtomic(
    csv,
    toCsv(
      rows.map((row) => ({ ...row, flags: row.flags.join('|') })),
      CSV_COLUMNS,
    ),
    task.signal,
  );
  return { files: [json, csv], rows: rows.length };
}

/** Removes movies.json and movies.csv. */
export async function compensate(task: CompensationTask): Promise<void> {
  const { outDir } = runInput(task);
  await removeOutputs(FILES.map((name) => path.join(outDir, name)));
}
