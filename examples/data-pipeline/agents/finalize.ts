import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentTask, CompensationTask } from '../../../src/actors/agent.js';
import { removeOutputs, writeJson } from './lib/files.js';
import { maybeFail, resultOf, runInput } from './lib/pipeline.js';
import { PARTIAL_FILE, previousDir } from './prepare.js';
import { aggregateOutput, counts } from './report.js';

/**
 * finalize: writes manifest.json (every output with its size), removes the _PARTIAL marker and
 * discards the earlier outputs prepare_output set aside.
 */
export async function handler(task: AgentTask): Promise<{ manifest: string; files: number }> {
  maybeFail(task);
  const outDir = runInput(task).outDir;
  const outputs = [
    ...resultOf(task, 'store_results', counts.store_results).files,
    ...Object.values(task.input.results).flatMap((r) => {
      const parsed = aggregateOutput.safeParse(r);
      return parsed.success ? [parsed.data.file] : [];
    }),
    path.join(outDir, 'quarantine.json'),
    path.join(outDir, 'report.md'),
  ];
  const files = await Promise.all(
    outputs.map(async (f) => ({ file: path.relative(outDir, f), bytes: (await stat(f)).size })),
  );
  const manifest = path.join(outDir, 'manifest.json');
  await writeJson(
    manifest,
    {
      runId: task.runId,
      complete: true,
      files: files.sort((a, b) => a.file.localeCompare(b.file)),
    },
    task.signal,
  );
  await removeOutputs([path.join(outDir, PARTIAL_FILE)]);
  // The run is complete: the earlier outputs prepare_output set aside are no longer needed.
  await rm(previousDir(outDir), { recursive: true, force: true });
  return { manifest, files: files.length };
}

/** Removes manifest.json and marks the directory partial again. */
export async function compensate(task: CompensationTask): Promise<void> {
  const outDir = runInput(task).outDir;
  await removeOutputs([path.join(outDir, 'manifest.json')]);
  await writeFile(path.join(outDir, PARTIAL_FILE), `run ${task.runId} was rolled back\n`);
}
