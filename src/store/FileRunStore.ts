/**
 * The embedded {@link RunStore}: a directory (the CLI's default is `.nd/`) holding one
 * append-only journal file per run, `runs/<runId>.ndj` (format in journalCodec.ts), and a
 * `LOCK` file (one process at a time).
 *
 * Durability (docs/durability.md): an append resolves once its bytes are written to the file
 * (the OS page cache), which survives SIGKILL of the process; with `fsync: true` it resolves
 * only after `fdatasync` (and, for a new run, an fsync of the directory), which survives power
 * loss. Group commit: the appends to one run made in the same tick (and while its previous write
 * is in flight) go out in one write and, with `fsync`, one fdatasync.
 */
import { writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { systemClock, type Clock } from '../core/clock.js';
import { parseWith } from '../core/validate.js';
import { conflictError, RunStoreError, StoreErrorCode } from './errors.js';
import { decodeJournal, encodeRecord } from './journalCodec.js';
import type { JournalEntry, JournalFact } from './journal.js';
import {
  buildEntries,
  cleanupCutoff,
  selectRuns,
  type AppendOptions,
  type CleanupOptions,
  type RunStore,
} from './RunStore.js';
import { acquireLock } from './storeLock.js';
import {
  applyEntry,
  cloneState,
  finishedStatuses,
  isExpired,
  type ListRunsFilter,
  type RunState,
  type RunSummary,
} from './summary.js';

/** Options of {@link FileRunStore.open}. */
export interface FileRunStoreOptions {
  /** The store's directory; created when missing. */
  dir: string;
  /**
   * `true`: every commit is fdatasync'ed before its appends resolve (survives power loss, at the
   * cost measured in docs/durability.md). Default `false`: survives the process being killed.
   */
  fsync?: boolean;
  /** Time source for default `at` values and `cleanupRuns`. Default: the wall clock. */
  clock?: Clock;
}

const optionsSchema = z
  .object({ dir: z.string().min(1), fsync: z.boolean().optional(), clock: z.custom<Clock>().optional() })
  .strict();

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface FileRun {
  state: RunState;
  readonly file: string;
  /** Records accepted but not yet written, and who waits for them. */
  pending: Buffer[];
  waiters: Waiter[];
  scheduled: boolean;
  /** The write in flight (writes of one run are chained). */
  flushing: Promise<void>;
  handle: FileHandle | undefined;
  /** Set when a write failed: the file's tail is unknown, so the run takes no more appends. */
  broken: RunStoreError | undefined;
}

const SUFFIX = '.ndj';

/** The embedded run store; open it with {@link FileRunStore.open}. */
export class FileRunStore implements RunStore {
  private closed = false;

  private constructor(
    /** The store's directory. */
    readonly dir: string,
    private readonly runsDir: string,
    private readonly fsync: boolean,
    private readonly clock: Clock,
    private readonly runs: Map<string, FileRun>,
    private readonly releaseLock: () => Promise<void>,
  ) {}

  /**
   * Opens (creating if needed) the store in `options.dir`: takes its lock, reads every journal
   * to rebuild the run summaries, and truncates a journal whose last record is incomplete (a
   * crash mid-write) back to its last whole record.
   * @throws {RunStoreError} `ND_STORE_CORRUPT` naming the file and byte offset of a bad record;
   *   `ND_STORE_UNAVAILABLE` when another live process holds the store.
   * @throws {PatternValidationError} for invalid options.
   */
  static async open(options: FileRunStoreOptions): Promise<FileRunStore> {
    parseWith(optionsSchema, options, 'FileRunStore.options');
    const runsDir = join(options.dir, 'runs');
    await mkdir(runsDir, { recursive: true });
    const release = await acquireLock(join(options.dir, 'LOCK'));
    try {
      const runs = new Map<string, FileRun>();
      for (const name of await readdir(runsDir)) {
        if (!name.endsWith(SUFFIX)) continue;
        const runId = name.slice(0, -SUFFIX.length);
        const file = join(runsDir, name);
        const decoded = decodeJournal(await readFile(file), file, runId);
        if (decoded.state === undefined) {
          await unlink(file); // only an incomplete first record: the run was never acknowledged
          continue;
        }
        if (decoded.droppedBytes > 0) await truncate(file, decoded.validBytes);
        runs.set(runId, newRun(decoded.state, file));
      }
      return new FileRunStore(
        options.dir,
        runsDir,
        options.fsync ?? false,
        options.clock ?? systemClock,
        runs,
        release,
      );
    } catch (error) {
      await release();
      throw error;
    }
  }

  async append(
    runId: string,
    facts: readonly JournalFact[],
    options: AppendOptions,
  ): Promise<JournalEntry[]> {
    this.assertOpen();
    const entries = buildEntries(runId, facts, options, this.clock);
    const run = this.runs.get(runId);
    if (run?.broken) throw run.broken;
    const lastSeq = run?.state.summary.lastSeq ?? 0;
    if (options.expectedSeq !== lastSeq) throw conflictError(runId, options.expectedSeq, lastSeq);
    let state = run === undefined ? undefined : cloneState(run.state);
    for (const entry of entries) state = applyEntry(state, entry);
    const encoded = entries.map(encodeRecord);
    const target = run ?? newRun(state!, join(this.runsDir, runId + SUFFIX));
    target.state = state!;
    if (run === undefined) this.runs.set(runId, target);
    target.pending.push(...encoded.map((e) => e.record));
    await new Promise<void>((resolve, reject) => {
      target.waiters.push({ resolve, reject });
      this.schedule(target);
    });
    return encoded.map((e) => JSON.parse(e.json) as JournalEntry);
  }

  async read(runId: string): Promise<JournalEntry[]> {
    this.assertOpen();
    const run = this.runs.get(runId);
    if (run === undefined) return [];
    if (run.pending.length > 0) {
      await new Promise<void>((resolve, reject) => run.waiters.push({ resolve, reject }));
    }
    await run.flushing;
    return decodeJournal(await readFile(run.file), run.file, runId).entries;
  }

  async listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    this.assertOpen();
    return selectRuns(this.runs.values(), filter);
  }

  async cleanupRuns(options: CleanupOptions): Promise<string[]> {
    this.assertOpen();
    const cutoff = cleanupCutoff(options, this.clock);
    const removed: string[] = [];
    for (const [runId, run] of [...this.runs]) {
      if (!isExpired(run.state.summary, cutoff)) continue;
      await run.flushing;
      await run.handle?.close();
      run.handle = undefined;
      await unlink(run.file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      this.runs.delete(runId);
      removed.push(runId);
    }
    return removed.sort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Appends accepted before close are still written: wait for the scheduled and in-flight writes.
    for (;;) {
      const busy = [...this.runs.values()].filter((r) => r.scheduled || r.pending.length > 0);
      await Promise.all([...this.runs.values()].map((r) => r.flushing));
      if (busy.length === 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all([...this.runs.values()].flatMap((r) => (r.handle ? [r.handle.close()] : [])));
    await this.releaseLock();
  }

  /**
   * Flushes `run` on the next turn of the event loop (setImmediate, not a microtask): appends
   * made during this turn join the batch, and a writer looping on `await append()` still lets
   * timers, other I/O and other runs' writers in between its commits.
   */
  private schedule(run: FileRun): void {
    if (run.scheduled) return;
    run.scheduled = true;
    setImmediate(() => {
      run.scheduled = false;
      run.flushing = run.flushing.then(() => this.flush(run));
    });
  }

  /** Writes everything pending for `run` in one write (and one fdatasync with `fsync`). */
  private async flush(run: FileRun): Promise<void> {
    const { pending, waiters } = run;
    if (pending.length === 0) return;
    run.pending = [];
    run.waiters = [];
    try {
      if (run.broken) throw run.broken;
      if (run.handle === undefined) {
        run.handle = await open(run.file, 'a');
        if (this.fsync) await syncDir(this.runsDir);
      }
      writeAll(run.handle.fd, pending.length === 1 ? pending[0]! : Buffer.concat(pending));
      if (this.fsync) await run.handle.datasync();
      if (finishedStatuses.has(run.state.summary.status) && run.pending.length === 0) {
        await run.handle.close();
        run.handle = undefined;
      }
      for (const w of waiters) w.resolve();
    } catch (error) {
      run.broken ??= new RunStoreError(
        StoreErrorCode.UNAVAILABLE,
        `Writing the journal ${run.file} failed; run ${run.state.summary.runId} takes no more appends until the store is reopened`,
        { runId: run.state.summary.runId, file: run.file },
        error,
      );
      for (const w of waiters) w.reject(run.broken);
    }
  }

  private assertOpen(): void {
    if (this.closed)
      throw new RunStoreError(StoreErrorCode.UNAVAILABLE, `The run store ${this.dir} is closed`);
  }
}

function newRun(state: RunState, file: string): FileRun {
  return {
    state,
    file,
    pending: [],
    waiters: [],
    scheduled: false,
    flushing: Promise.resolve(),
    handle: undefined,
    broken: undefined,
  };
}

/**
 * Writes all of `bytes` at the end of the file (opened for append), synchronously: a write to the
 * page cache takes microseconds, far less than a round trip through libuv's thread pool, and it
 * makes the batch one `write(2)` in the common case.
 */
function writeAll(fd: number, bytes: Buffer): void {
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
}

/** fsyncs a directory, so a new file's entry in it survives power loss. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
