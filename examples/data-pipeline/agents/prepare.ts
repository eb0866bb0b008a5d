import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { AgentTask, CompensationTask } from '../../../src/actors/agent.js';
import { maybeFail, runInput } from './lib/pipeline.js';

/** Marks the output directory as ours; present in every directory this pipeline writes. */
export const OWNER_FILE = '.ndf-data-pipeline';
/** Present while a run is in progress or after it was killed: the outputs are partial. */
export const PARTIAL_FILE = '_PARTIAL';

/** Where the outputs of the last complete run wait while this run writes new ones. */
export function previousDir(outDir: string): string {
  return path.join(path.dirname(outDir), `.${path.basename(outDir)}.previous`);
}

/** What prepare_output did, for its compensation and for finalize. */
export const prepared = z.object({
  outDir: z.string(),
  created: z.boolean(),
  /** The earlier outputs were set aside in {@link previousDir} (restored by a rollback). */
  setAside: z.boolean(),
});

/**
 * prepare_output: gives this run an empty output directory, marked partial until finalize
 * removes the marker. An earlier complete output of this pipeline is set aside (moved to
 * {@link previousDir}), not deleted: a rollback puts it back, finalize discards it. Refuses a
 * foreign non-empty directory.
 */
export async function handler(task: AgentTask): Promise<z.infer<typeof prepared>> {
  maybeFail(task);
  const { outDir } = runInput(task);
  const previous = previousDir(outDir);
  const created = !existsSync(outDir);
  let setAside = false;
  if (!created) {
    const entries = await readdir(outDir);
    if (entries.length > 0 && !entries.includes(OWNER_FILE)) {
      throw new Error(`output directory ${outDir} is not empty and was not written by this pipeline`);
    }
    if (entries.includes(PARTIAL_FILE) && existsSync(previous)) {
      // A killed run's partial output; the last complete one is still set aside: keep that.
      await rm(outDir, { recursive: true, force: true });
      setAside = true;
    } else if (entries.length > 0) {
      await rm(previous, { recursive: true, force: true });
      await rename(outDir, previous);
      setAside = true;
    }
  }
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, OWNER_FILE), `${task.runId}\n`);
  await writeFile(
    path.join(outDir, PARTIAL_FILE),
    `run ${task.runId} has not finished: these outputs are partial\n`,
  );
  return { outDir, created, setAside };
}

/**
 * Runs last in a rollback: whatever is still in the directory is this run's partial output and
 * goes; the earlier outputs this run set aside come back; a directory this run created goes.
 */
export async function compensate(task: CompensationTask): Promise<void> {
  const { outDir } = runInput(task);
  const done = prepared.safeParse(task.output);
  await rm(outDir, { recursive: true, force: true });
  if (done.success && done.data.setAside) await rename(previousDir(outDir), outDir);
  else if (done.success && !done.data.created) await mkdir(outDir, { recursive: true });
}
