import path from 'node:path';
import { z } from 'zod';
import type { AgentTask, CompensationTask } from '../../../src/actors/agent.js';
import { removeOutputs, writeAtomic } from './lib/files.js';
import { maybeFail, resultOf, runInput } from './lib/pipeline.js';

/** Outputs of earlier steps the report reads. */
export const counts = {
  load_movies: z.object({ rows: z.array(z.unknown()), source: z.string() }),
  validate_rows: z.object({
    valid: z.number(),
    invalid: z.number(),
    reasons: z.record(z.string(), z.number()),
  }),
  clean_transform: z.object({ repairedDates: z.number() }),
  apply_business_rules: z.object({
    excluded: z.number(),
    flagged: z.record(z.string(), z.number()),
    rows: z.array(z.unknown()),
  }),
  store_results: z.object({ files: z.array(z.string()), rows: z.number() }),
};
/** What an aggregate task returns. */
export const aggregateOutput = z.object({ file: z.string() });

/** write_report: report.md with the counts of every stage and the aggregate files. */
export async function handler(task: AgentTask): Promise<{ file: string }> {
  maybeFail(task);
  const load = resultOf(task, 'load_movies', counts.load_movies);
  const valid = resultOf(task, 'validate_rows', counts.validate_rows);
  const clean = resultOf(task, 'clean_transform', counts.clean_transform);
  const rules = resultOf(task, 'apply_business_rules', counts.apply_business_rules);
  const store = resultOf(task, 'store_results', counts.store_results);
  const outDir = runInput(task).outDir;
  const aggregateFiles = Object.values(task.input.results)
    .map((r) => aggregateOutput.safeParse(r))
    .flatMap((r) => (r.success ? [path.relative(outDir, r.data.file)] : []))
    .sort();
  const reasons = Object.entries(valid.reasons).map(([field, n]) => `| ${field} | ${n} |`);
  const flags = Object.entries(rules.flagged).map(([flag, n]) => `| ${flag} | ${n} |`);
  const text = [
    `# Movie pipeline report`,
    ``,
    `Run \`${task.runId}\`, source \`${path.basename(load.source)}\` (vega-datasets).`,
    ``,
    `| stage | rows |`,
    `| --- | --- |`,
    `| loaded | ${load.rows.length} |`,
    `| valid | ${valid.valid} |`,
    `| quarantined (quarantine.json) | ${valid.invalid} |`,
    `| release dates repaired (two-digit years) | ${clean.repairedDates} |`,
    `| excluded by business rules (micro budgets) | ${rules.excluded} |`,
    `| stored (movies.json, movies.csv) | ${store.rows} |`,
    ``,
    `## Why rows were quarantined (issues per field)`,
    ``,
    `| field | issues |`,
    `| --- | --- |`,
    ...reasons,
    ``,
    `## Flags`,
    ``,
    `| flag | films |`,
    `| --- | --- |`,
    ...flags,
    ``,
    `## Aggregates`,
    ``,
    ...aggregateFiles.map((f) => `- ${f}`),
    ``,
  ].join('\n');
  const file = path.join(outDir, 'report.md');
  await writeAtomic(file, text, task.signal);
  return { file };
}

/** Removes report.md. */
export async function compensate(task: CompensationTask): Promise<void> {
  await removeOutputs([path.join(runInput(task).outDir, 'report.md')]);
}
