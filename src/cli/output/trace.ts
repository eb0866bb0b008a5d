import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../../core/events.js';
import { UsageError } from '../exit.js';
import { redactText } from '../../core/redact.js';
import type { SpanRecord } from '../../tracing/traceFile.js';

/** Appends run events (and, when the run is traced, span records) to a JSONL file. */
export interface TraceWriter {
  write(event: RunEvent | SpanRecord): void;
  /** Closes the file; resolves with the first write error, if any. */
  close(): Promise<Error | undefined>;
}

/**
 * Writes every RunEvent, one JSON object per line, exactly as the executor reported it (each
 * carries `at`, epoch ms). The file (and its directory) is created or truncated at once, so an
 * unwritable path is reported before the run starts; lines are written synchronously as events
 * happen, so a crashed run leaves its trace up to the crash. Credentials in URLs are redacted
 * ({@link redactText}).
 *
 * @throws UsageError when the file cannot be created
 */
export function createTraceWriter(file: string): TraceWriter {
  let fd: number;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fd = openSync(file, 'w');
  } catch (error) {
    throw new UsageError(
      `--trace: cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let failure: Error | undefined;
  let open = true;
  return {
    write: (event) => {
      if (!open || failure) return;
      try {
        writeSync(fd, `${redactText(JSON.stringify(event))}\n`);
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      }
    },
    close: async () => {
      if (open) closeSync(fd);
      open = false;
      return failure;
    },
  };
}
