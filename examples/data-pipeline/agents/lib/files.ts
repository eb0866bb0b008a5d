import { mkdir, rm, rmdir, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file atomically (temporary file + rename), creating its directory. A cancelled task
 * (`signal` aborted: the run failed elsewhere, or timed out) writes nothing, so work that
 * finishes after its cancellation leaves no output that no compensation would remove.
 */
export async function writeAtomic(file: string, text: string, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { signal });
  if (signal.aborted) {
    await rm(tmp, { force: true });
    signal.throwIfAborted();
  }
  await rename(tmp, file);
}

/** Writes pretty JSON atomically (see {@link writeAtomic}). */
export async function writeJson(file: string, value: unknown, signal: AbortSignal): Promise<void> {
  await writeAtomic(file, `${JSON.stringify(value, null, 2)}\n`, signal);
}

/** RFC 4180 CSV: header from `columns`, fields quoted when they need it. */
export function toCsv(
  rows: readonly Record<string, string | number | boolean | null | undefined>[],
  columns: readonly string[],
): string {
  const cell = (value: string | number | boolean | null | undefined): string => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return (
    [columns.join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))].join('\r\n') +
    '\r\n'
  );
}

/** Removes files (missing ones are fine), then the directories given if they are empty. */
export async function removeOutputs(files: readonly string[], dirs: readonly string[] = []): Promise<void> {
  await Promise.all(files.map((file) => rm(file, { force: true })));
  for (const dir of dirs) {
    try {
      await rmdir(dir);
    } catch {
      // not empty or already gone: leave it
    }
  }
}
