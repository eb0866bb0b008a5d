import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentTask, CompensationTask } from '../../../src/actors/agent.js';
import { maybeFail, runInput } from './lib/pipeline.js';

/** Marks the output directory as ours; present in every directory this pipeline writes. */
export const OWNER_FILE = '.ndf-data-pipeline';
/** Present while a run is in progress or after it was killed: the outputs are partial. */
export const PARTIAL_FILE = '_PARTIAL';

/**
 * prepare_output: creates the output directory (or empties one a previous run of this pipeline
 * wrote) and marks it partial until finalize removes the marker. Refuses a foreign non-empty directory.
 */
export async function handler(task: AgentTask): Promise<{ outDir: string; created: boolean }> {
  maybeFail(task);
  const { outDir } = runInput(task);
  const created = !existsSync(outDir);
  if (!created) {
    const entries = await readdir(outDir);
    if (entries.length > 0 && !entries.includes(OWNER_FILE)) {
      throw new Error(`output directory ${outDir} is not empty and was not written by this pipeline`);
    }
    await Promise.all(entries.map((entry) => rm(path.join(outDir, entry), { recursive: true, force: true })));
  }
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, OWNER_FILE), `${task.runId}\n`);
  await writeFile(
    path.join(outDir, PARTIAL_FILE),
    `run ${task.runId} has not finished: these outputs are partial\n`,
  );
  return { outDir, created };
}

/**
 * Runs last in a rollback: the directory is this pipeline's (prepare_output emptied or created
 * it), so whatever is still in it is partial output of this run and goes; the directory itself
 * goes when this run created it.
 */
export async function compensate(task: CompensationTask): Promise<void> {
  const { outDir } = runInput(task);
  const created = (task.output as { created?: unknown } | undefined)?.created === true;
  if (created) return rm(outDir, { recursive: true, force: true });
  const entries = await readdir(outDir).catch(() => []);
  await Promise.all(entries.map((entry) => rm(path.join(outDir, entry), { recursive: true, force: true })));
}
