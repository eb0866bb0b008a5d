import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { PatternValidationError } from '../core/errors.js';

/** One completed key as kept by an {@link IdempotencyFile}: its value and when it expires (epoch ms). */
export interface IdempotencyRecord<T> {
  readonly key: string;
  readonly value: T;
  readonly expiresAt: number;
}

const lineSchema = z.object({ k: z.string().min(1), e: z.number().finite(), v: z.unknown() }).strict();

/**
 * The completed keys of an agent's idempotency store, kept in an append-only JSON Lines file so that a
 * restarted agent answers re-deliveries from the record instead of running the task again.
 *
 * - Each completed key is one line `{"k":key,"e":expiresAt,"v":value}`, written with one `write(2)` on
 *   a file opened in append mode before the agent sends its reply. There is no fsync: a record
 *   survives the agent process being killed, not the host losing power.
 * - {@link open} reads the file, skips expired records and lines that do not parse (a torn last line
 *   after a crash, or a value that fails `schema`), counts them in `skipped`, and compacts the file to
 *   the live records (written to `<path>.tmp`, then renamed over the file).
 * - When the appends since the last compaction exceed `max(1000, 2 × maxEntries)`, {@link append}
 *   compacts again from the live records the caller passes.
 *
 * One file belongs to one agent instance at a time (compaction replaces the file): give each instance
 * of a queue group its own file.
 */
export class IdempotencyFile<T> {
  private fd: number;
  private appended = 0;
  private readonly compactAfter: number;

  private constructor(
    readonly path: string,
    maxEntries: number,
  ) {
    this.fd = openSync(path, 'a');
    this.compactAfter = Math.max(1000, 2 * maxEntries);
  }

  /**
   * Opens (creating it if absent) and compacts the file at `path`.
   * @param schema - validates each record's value; a record that fails is skipped
   * @param maxEntries - most records kept (the newest; integer ≥ 1)
   * @returns the file and its live records, oldest first, with how many lines were skipped
   * @throws PatternValidationError (`details.field` `idempotencyFile`) when the file cannot be read or written
   */
  static open<T>(
    path: string,
    schema: z.ZodType<T>,
    clock: Clock,
    maxEntries: number,
  ): { file: IdempotencyFile<T>; records: IdempotencyRecord<T>[]; skipped: number } {
    try {
      const now = clock.now();
      const live = new Map<string, IdempotencyRecord<T>>();
      let skipped = 0;
      const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        const record = parseLine(line, schema);
        if (!record) {
          skipped += 1;
          continue;
        }
        live.delete(record.key);
        if (record.expiresAt > now) live.set(record.key, record);
      }
      const records = [...live.values()].slice(-maxEntries);
      writeFileSync(`${path}.tmp`, records.map(toLine).join(''));
      renameSync(`${path}.tmp`, path);
      return { file: new IdempotencyFile<T>(path, maxEntries), records, skipped };
    } catch (error) {
      throw new PatternValidationError(
        `idempotency file ${path}: ${error instanceof Error ? error.message : String(error)}`,
        { field: 'idempotencyFile' },
        error,
      );
    }
  }

  /**
   * Appends a completed key. Compacts to `live()` when too many lines were appended since the last
   * compaction. Errors are returned, not thrown (the agent answers anyway and logs them).
   */
  append(record: IdempotencyRecord<T>, live: () => Iterable<IdempotencyRecord<T>>): Error | undefined {
    try {
      writeSync(this.fd, toLine(record));
      this.appended += 1;
      if (this.appended >= this.compactAfter) this.compact(live());
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /** Rewrites the file with `records` only. */
  private compact(records: Iterable<IdempotencyRecord<T>>): void {
    let text = '';
    for (const r of records) text += toLine(r);
    writeFileSync(`${this.path}.tmp`, text);
    renameSync(`${this.path}.tmp`, this.path);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.appended = 0;
  }

  /** Closes the file; later appends fail. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

function toLine<T>(record: IdempotencyRecord<T>): string {
  return `${JSON.stringify({ k: record.key, e: record.expiresAt, v: record.value })}\n`;
}

function parseLine<T>(line: string, schema: z.ZodType<T>): IdempotencyRecord<T> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = lineSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const value = schema.safeParse(parsed.data.v);
  if (!value.success) return undefined;
  return { key: parsed.data.k, value: value.data, expiresAt: parsed.data.e };
}
