import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import pc from 'picocolors';
import writeFileAtomic from 'write-file-atomic';
import type { RunResult, StepReport } from '../../core/result.js';
import { UsageError } from '../exit.js';
import { redactText } from '../../core/redact.js';

/** Longest output preview in the summary, characters. */
const PREVIEW_CHARS = 160;

/**
 * The step whose output stands for the run's: the last completed step with an output (in a
 * sequence, the final one; the data-pipeline's `finalize` names its manifest).
 */
export function finalStep(result: RunResult): StepReport | undefined {
  return result.steps.findLast((step) => step.status === 'completed' && step.output !== undefined);
}

/** A one-line JSON preview of a value, cut at {@link PREVIEW_CHARS}. */
export function preview(value: unknown): string {
  const text = typeof value === 'string' ? value.trim() : (JSON.stringify(value) ?? String(value));
  const line = redactText(text.replace(/\s*\n\s*/g, ' '));
  return line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS - 1)}…` : line;
}

/**
 * The summary's output lines: the final step's output (a preview) and where to find every
 * step's output; empty when no step produced one.
 *
 * @param outputFile - the `--output` file the outputs were written to, if any
 */
export function renderOutputs(result: RunResult, outputFile?: string): string[] {
  const last = finalStep(result);
  if (!last) return [];
  const where =
    outputFile === undefined
      ? pc.dim('(every step output: --output <file> or --json)')
      : `every step output: ${outputFile}`;
  return [
    `${pc.bold('output')} of ${[...last.path.slice(1), last.name].join(' › ')}: ${preview(last.output)}`,
    where,
  ];
}

/**
 * Checks at once that `--output <file>` can be written (its directory is created), so a bad
 * path is bad input before the run starts.
 *
 * @throws UsageError when the directory cannot be created or written
 */
export function checkOutputFile(file: string): void {
  const dir = path.dirname(path.resolve(file));
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new UsageError(
      `--output: cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}

/**
 * Writes the run result with every step's output as pretty JSON (atomically): `{ runId,
 * pattern, status, success, durationMs, steps: [{ name, path, status, agent, output, … }] }`.
 */
export async function writeOutputs(file: string, result: RunResult): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(result, null, 2)}\n`);
}
