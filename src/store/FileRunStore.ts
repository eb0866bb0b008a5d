/**
 * The embedded {@link RunStore}: a directory (the CLI's default is `.nd/`) holding one
 * append-only journal file per run, `runs/<runId>.ndj` (format in journalCodec.ts), and, while a
 * process writes a run, its lock `runs/<runId>.lock`. Several processes may use one store
 * directory at once (two `ndf run` in one project); one process at a time writes a given run.
 *
 * Durability (docs/durability.md): an append resolves once its bytes are written to the file
 * (the OS page cache), which survives SIGKILL of the process; with `fsync: true` it resolves
 * only after `fdatasync` (and, for a new run, an fsync of the directory), which survives power
 * loss. Group commit: the appends to one run made in the same tick (and while its previous write
 * is in flight) go out in one write and, with `fsync`, one fdatasync.
 */
import { randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { systemClock, type Clock } from '../core/clock.js';
import { parseWith } from '../core/validate.js';
import { conflictError, RunStoreError, StoreErrorCode } from './errors.js';
import { decodeJournal, encodeRecord, type DecodedJournal } from './journalCodec.js';
import { runIdSchema, type JournalEntry, type JournalFact } from './journal.js';
import {
  buildEntries,
  cleanupCutoff,
  parseListFilter,
  runRequestSchema,
  type AppendOptions,
  type CleanupOptions,
  type PostedRequest,
  type RunRequest,
  type RunStore,
} from './RunStore.js';
import { acquireLock } from './storeLock.js';
import {
  applyEntry,
  bySummaryOrder,
  cloneState,
  finishedStatuses,
  isExpired,
  matches,
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

/** A run this process writes: it holds the run's lock until the run ends or the store closes. */
interface FileRun {
  state: RunState | undefined;
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
  /** Releases the run's lock file. */
  readonly unlock: () => Promise<void>;
}

const SUFFIX = '.ndj';

/** The embedded run store; open it with {@link FileRunStore.open}. */
export class FileRunStore implements RunStore {
  private closed = false;
  /** Runs this process writes, by id (a promise while the lock is being taken). */
  private readonly owned = new Map<string, Promise<FileRun>>();
  /** Decoded journals of runs other processes wrote, by id, with the file size they were read at. */
  private readonly seen = new Map<string, { size: number; mtimeMs: number; decoded: DecodedJournal }>();

  private constructor(
    /** The store's directory. */
    readonly dir: string,
    private readonly runsDir: string,
    private readonly fsync: boolean,
    private readonly clock: Clock,
  ) {}

  /**
   * Opens (creating if needed) the store in `options.dir`. Journals are read when first needed;
   * a journal whose last record is incomplete (a crash mid-write) reads up to its last whole
   * record, and is truncated there when a process next writes the run.
   * @throws {PatternValidationError} for invalid options.
   */
  static async open(options: FileRunStoreOptions): Promise<FileRunStore> {
    parseWith(optionsSchema, options, 'FileRunStore.options');
    const runsDir = join(options.dir, 'runs');
    await mkdir(runsDir, { recursive: true });
    return new FileRunStore(options.dir, runsDir, options.fsync ?? false, options.clock ?? systemClock);
  }

  /**
   * @throws {RunStoreError} `ND_STORE_UNAVAILABLE` also when another live process writes the run;
   *   `ND_STORE_CORRUPT` when the run's journal on disk is corrupt.
   */
  async append(
    runId: string,
    facts: readonly JournalFact[],
    options: AppendOptions,
  ): Promise<JournalEntry[]> {
    this.assertOpen();
    const entries = buildEntries(runId, facts, options, this.clock);
    const run = await this.own(runId);
    this.assertOpen();
    if (run.broken) throw run.broken;
    const lastSeq = run.state?.summary.lastSeq ?? 0;
    if (options.expectedSeq !== lastSeq) throw conflictError(runId, options.expectedSeq, lastSeq);
    let state = run.state === undefined ? undefined : cloneState(run.state);
    for (const entry of entries) state = applyEntry(state, entry);
    const encoded = entries.map(encodeRecord);
    run.state = state;
    run.pending.push(...encoded.map((e) => e.record));
    await new Promise<void>((resolve, reject) => {
      run.waiters.push({ resolve, reject });
      this.schedule(run);
    });
    return encoded.map((e) => JSON.parse(e.json) as JournalEntry);
  }

  /** @throws {RunStoreError} `ND_STORE_CORRUPT` naming the file and offset of a bad record. */
  async read(runId: string): Promise<JournalEntry[]> {
    this.assertOpen();
    parseWith(runIdSchema, runId, 'RunStore.read.runId');
    const mine = this.owned.get(runId);
    if (mine !== undefined) {
      const run = await mine;
      if (run.pending.length > 0) {
        await new Promise<void>((resolve, reject) => run.waiters.push({ resolve, reject }));
      }
      await run.flushing;
    }
    return (await this.decode(runId))?.entries ?? [];
  }

  async listRuns(filter: ListRunsFilter = {}): Promise<RunSummary[]> {
    this.assertOpen();
    const f = parseListFilter(filter);
    const summaries: RunSummary[] = [];
    for (const runId of await this.runIds()) {
      const summary = await this.summary(runId);
      if (summary !== undefined && matches(summary, f)) summaries.push(summary);
    }
    return summaries.sort(bySummaryOrder);
  }

  async cleanupRuns(options: CleanupOptions): Promise<string[]> {
    this.assertOpen();
    const cutoff = cleanupCutoff(options, this.clock);
    const removed: string[] = [];
    for (const runId of await this.runIds()) {
      const summary = await this.summary(runId);
      if (summary === undefined || !isExpired(summary, cutoff)) continue;
      await unlink(this.fileOf(runId)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      this.seen.delete(runId);
      removed.push(runId);
    }
    return removed.sort();
  }

  /**
   * Queues `request` as a file in `inbox/<runId>/` (written atomically): the process that
   * executes the run takes it within its polling interval.
   */
  async post(runId: string, request: RunRequest): Promise<void> {
    this.assertOpen();
    parseWith(runIdSchema, runId, 'RunStore.post.runId');
    const valid = parseWith(runRequestSchema, request, 'RunStore.post.request');
    const dir = join(this.dir, 'inbox', runId);
    await mkdir(dir, { recursive: true });
    const name = `${String(Date.now()).padStart(15, '0')}-${randomUUID()}.json`;
    await writeFileAtomic(join(dir, name), JSON.stringify(valid), { fsync: this.fsync });
  }

  /** Takes (reads and removes) the queued requests of `runIds`; a malformed file is dropped with an error logged by the caller. */
  async takeRequests(runIds: readonly string[]): Promise<PostedRequest[]> {
    this.assertOpen();
    const taken: PostedRequest[] = [];
    for (const runId of runIds) {
      const dir = join(this.dir, 'inbox', runId);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
        const file = join(dir, name);
        const text = await readFile(file, 'utf8').catch(() => undefined);
        await unlink(file).catch(() => undefined);
        if (text === undefined) continue;
        const parsed = runRequestSchema.safeParse(safeJson(text));
        if (parsed.success) taken.push({ runId, request: parsed.data });
      }
    }
    return taken;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Appends accepted before close are still written: wait for the scheduled and in-flight writes.
    const settled = await Promise.all([...this.owned.values()].map((p) => p.catch(() => undefined)));
    const runs = settled.filter((r): r is FileRun => r !== undefined);
    for (;;) {
      const busy = runs.filter((r) => r.scheduled || r.pending.length > 0);
      await Promise.all(runs.map((r) => r.flushing));
      if (busy.length === 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(runs.map((r) => release(r)));
    this.owned.clear();
  }

  private fileOf(runId: string): string {
    return join(this.runsDir, runId + SUFFIX);
  }

  private async runIds(): Promise<string[]> {
    const names = await readdir(this.runsDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    return names.filter((n) => n.endsWith(SUFFIX)).map((n) => n.slice(0, -SUFFIX.length));
  }

  private async summary(runId: string): Promise<RunSummary | undefined> {
    const mine = this.owned.get(runId);
    if (mine !== undefined) return (await mine).state?.summary;
    return (await this.decode(runId))?.state?.summary;
  }

  /** The run's journal as on disk (cached while the file is unchanged); undefined when absent. */
  private async decode(runId: string): Promise<DecodedJournal | undefined> {
    const file = this.fileOf(runId);
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (info === undefined) return undefined;
    const cached = this.seen.get(runId);
    if (cached && cached.size === info.size && cached.mtimeMs === info.mtimeMs) return cached.decoded;
    const decoded = decodeJournal(await readFile(file), file, runId);
    this.seen.set(runId, { size: info.size, mtimeMs: info.mtimeMs, decoded });
    return decoded;
  }

  /** The run, written by this process: takes its lock and reads (and repairs) its journal once. */
  private own(runId: string): Promise<FileRun> {
    let run = this.owned.get(runId);
    if (run === undefined) {
      run = this.take(runId);
      this.owned.set(runId, run);
      run.catch(() => this.owned.delete(runId));
    }
    return run;
  }

  private async take(runId: string): Promise<FileRun> {
    const file = this.fileOf(runId);
    const unlock = await acquireLock(join(this.runsDir, `${runId}.lock`), `Run ${runId}`);
    try {
      const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      let state: RunState | undefined;
      if (bytes !== undefined) {
        const decoded = decodeJournal(bytes, file, runId);
        // an incomplete last record was never acknowledged: cut it off before appending
        if (decoded.state === undefined) await unlink(file);
        else if (decoded.droppedBytes > 0) await truncate(file, decoded.validBytes);
        state = decoded.state;
      }
      this.seen.delete(runId);
      return {
        state,
        file,
        pending: [],
        waiters: [],
        scheduled: false,
        flushing: Promise.resolve(),
        handle: undefined,
        broken: undefined,
        unlock,
      };
    } catch (error) {
      await unlock();
      throw error;
    }
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
    const runId = run.state?.summary.runId ?? '';
    try {
      if (run.broken) throw run.broken;
      if (run.handle === undefined) {
        run.handle = await open(run.file, 'a');
        if (this.fsync) await syncDir(this.runsDir);
      }
      writeAll(run.handle.fd, pending.length === 1 ? pending[0]! : Buffer.concat(pending));
      if (this.fsync) await run.handle.datasync();
      const ended = run.state !== undefined && finishedStatuses.has(run.state.summary.status);
      if (ended && run.pending.length === 0 && !run.scheduled) {
        // the run takes no more facts: let other processes read it without our lock
        this.owned.delete(runId);
        await release(run);
      }
      for (const w of waiters) w.resolve();
    } catch (error) {
      run.broken ??= new RunStoreError(
        StoreErrorCode.UNAVAILABLE,
        `Writing the journal ${run.file} failed; run ${runId} takes no more appends until the store is reopened`,
        { runId, file: run.file },
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

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/** Closes the run's file and releases its lock. */
async function release(run: FileRun): Promise<void> {
  const handle = run.handle;
  run.handle = undefined;
  await handle?.close();
  await run.unlock();
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
