import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../../runtime/events.js';

/** Appends run events to a JSONL file. */
export interface TraceWriter {
  write(event: RunEvent): void;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/**
 * Writes every RunEvent, one JSON object per line, exactly as the executor reported it (each
 * carries `at`, epoch ms). The file is created (and its directory) or truncated; lines are
 * written as they happen, so a crashed run leaves the trace up to the crash.
 */
export function createTraceWriter(file: string): TraceWriter {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const stream = createWriteStream(file, { flags: 'w' });
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure = error;
  });
  return {
    write: (event) => {
      if (!failure) stream.write(`${JSON.stringify(event)}\n`);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (failure) return reject(failure);
        stream.end(() => (failure ? reject(failure) : resolve()));
      }),
  };
}
