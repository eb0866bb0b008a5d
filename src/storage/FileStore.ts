import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { WarnSink } from '../core/rateLimitedWarn.js';
import { PatternValidationError } from '../core/errors.js';
import type { PatternSnapshot } from '../runtime/patterns/snapshot.js';
import { patternFileStem } from './patternFileName.js';
import { checkSnapshot, decodeSnapshot, encodeSnapshot } from './snapshotCodec.js';

const SNAPSHOT_FILE = /^([^.]+)\.json(\.gz)?$/;

/** How a {@link FileStore} writes. */
export interface FileStoreOptions {
  /** Root directory; created on first write. */
  readonly dir: string;
  /** Write `.json.gz` (gzip) instead of `.json`. Either is read whatever this says. */
  readonly compression: boolean;
  /** Copy the previous version to `<dir>/backups/` before replacing or removing it. */
  readonly backup: boolean;
  /** Backups kept per pattern, newest first; older ones are deleted. At least 1. */
  readonly maxBackups: number;
  /** Names backups (`<stem>.<clock.now() ms>.json[.gz]`). */
  readonly clock: Clock;
  /** Where {@link FileStore.list} reports the files it skips (pino's `warn(obj, msg)`). */
  readonly logger: WarnSink;
}

/**
 * An embedded store of {@link PatternSnapshot}s: one file per pattern,
 * `<dir>/patterns/<stem>.json` (or `.json.gz`), the stem from {@link patternFileStem}.
 *
 * Writes are atomic (write-file-atomic: temp file, fsync, rename), so a crash leaves the old
 * or the new version, never half a file. Values are stored as JSON stores them: `-0` reads back
 * as `0`, `undefined` properties are dropped. Operations on one pattern are serialised within the
 * process; several processes writing one directory are not coordinated.
 *
 * @example
 * ```ts
 * const store = new FileStore({ dir: '.nd', compression: true, backup: true, maxBackups: 5, clock: systemClock, logger: createLogger() });
 * await store.write(pattern.toSnapshot());
 * const snapshot = await store.read('data_pipeline'); // undefined when absent
 * ```
 */
export class FileStore {
  private readonly patternsDir: string;
  private readonly backupsDir: string;
  private readonly locks = new Map<string, Promise<void>>();

  constructor(private readonly options: FileStoreOptions) {
    this.patternsDir = join(options.dir, 'patterns');
    this.backupsDir = join(options.dir, 'backups');
  }

  /**
   * Reads a snapshot; `undefined` when none is stored.
   * @throws PatternValidationError naming the file when it is not gzip/JSON or fails the schema.
   */
  async read(name: string): Promise<PatternSnapshot | undefined> {
    const found = await this.existing(patternFileStem(name));
    if (!found) return undefined;
    const snapshot = await decodeSnapshot(found.file, found.data);
    if (snapshot.name === name) return snapshot;
    throw new PatternValidationError(`Corrupt pattern file ${found.file}: holds pattern '${snapshot.name}'`, {
      patternName: name,
    });
  }

  /**
   * Validates and writes a snapshot atomically, after backing up the previous version.
   * @returns the path written.
   * @throws PatternValidationError naming the field when `snapshot` fails the schema or cannot be JSON.
   */
  async write(snapshot: PatternSnapshot): Promise<string> {
    const valid = checkSnapshot(snapshot);
    return this.exclusive(patternFileStem(valid.name), (stem) => this.writeStem(stem, valid));
  }

  /**
   * Read-modify-write under the pattern's lock: `change` returns a new snapshot to write,
   * `null` to remove the pattern, or `undefined` to leave it. Nothing happens when absent.
   */
  async update(
    name: string,
    change: (snapshot: PatternSnapshot) => PatternSnapshot | null | undefined,
  ): Promise<void> {
    await this.exclusive(patternFileStem(name), async (stem) => {
      const current = await this.readStem(stem);
      if (!current) return;
      const next = change(current);
      if (next === null) await this.removeStem(stem);
      else if (next !== undefined) await this.writeStem(stem, checkSnapshot(next));
    });
  }

  /** Removes a pattern (backing it up first when backups are on); false when none was stored. */
  async remove(name: string): Promise<boolean> {
    return this.exclusive(patternFileStem(name), (stem) => this.removeStem(stem));
  }

  /**
   * Every stored snapshot that loads, sorted by name. A file that fails to load (not gzip or
   * JSON, too large once decompressed, fails the schema, unreadable) is skipped with a warning
   * naming it, so one bad file does not hide the others.
   */
  async list(): Promise<PatternSnapshot[]> {
    const stems = new Set(
      (await this.entries(this.patternsDir)).flatMap((f) => SNAPSHOT_FILE.exec(f)?.[1] ?? []),
    );
    const all = await Promise.allSettled([...stems].map((stem) => this.readStem(stem)));
    const loaded: PatternSnapshot[] = [];
    for (const [i, outcome] of all.entries()) {
      if (outcome.status === 'fulfilled') {
        if (outcome.value) loaded.push(outcome.value);
      } else {
        const stem = [...stems][i] ?? '';
        const reason: unknown = outcome.reason;
        this.options.logger.warn(
          { stem, dir: this.patternsDir, err: reason instanceof Error ? reason.message : String(reason) },
          'skipped a pattern file that does not load',
        );
      }
    }
    return loaded.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  private path(stem: string, gz: boolean): string {
    return join(this.patternsDir, `${stem}.json${gz ? '.gz' : ''}`);
  }

  /** The stored file of `stem`: the current format's first (a crash may leave both). */
  private async existing(stem: string): Promise<{ file: string; data: Buffer } | undefined> {
    for (const gz of [this.options.compression, !this.options.compression]) {
      const file = this.path(stem, gz);
      try {
        return { file, data: await readFile(file) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return undefined;
  }

  private async readStem(stem: string): Promise<PatternSnapshot | undefined> {
    const found = await this.existing(stem);
    return found && decodeSnapshot(found.file, found.data);
  }

  private async writeStem(stem: string, snapshot: PatternSnapshot): Promise<string> {
    const data = await encodeSnapshot(snapshot, this.options.compression);
    const previous = await this.existing(stem);
    if (previous && this.options.backup) await this.backup(stem, previous.file);
    const target = this.path(stem, this.options.compression);
    await mkdir(this.patternsDir, { recursive: true });
    // loaded on the first write, so that importing the library does not load it
    const { default: writeFileAtomic } = await import('write-file-atomic');
    await writeFileAtomic(target, data);
    await rm(this.path(stem, !this.options.compression), { force: true });
    return target;
  }

  private async removeStem(stem: string): Promise<boolean> {
    const previous = await this.existing(stem);
    if (!previous) return false;
    if (this.options.backup) await this.backup(stem, previous.file);
    await Promise.all([true, false].map((gz) => rm(this.path(stem, gz), { force: true })));
    return true;
  }

  /** Copies `file` to `<stem>.<ms>.json[.gz]` (a free ms at or after now), then prunes to maxBackups. */
  private async backup(stem: string, file: string): Promise<void> {
    await mkdir(this.backupsDir, { recursive: true });
    const ext = file.endsWith('.gz') ? '.json.gz' : '.json';
    for (let at = Math.max(0, Math.floor(this.options.clock.now())); ; at += 1) {
      try {
        await copyFile(file, join(this.backupsDir, `${stem}.${at}${ext}`), constants.COPYFILE_EXCL);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    const all = await this.backupsOf(stem);
    const stale = all.slice(0, Math.max(0, all.length - this.options.maxBackups));
    await Promise.all(stale.map((b) => rm(join(this.backupsDir, b.file), { force: true })));
  }

  private async backupsOf(stem: string): Promise<{ file: string; at: number }[]> {
    const pattern = /^([^.]+)\.(\d+)\.json(\.gz)?$/;
    return (await this.entries(this.backupsDir))
      .flatMap((file) => {
        const m = pattern.exec(file);
        return m?.[1] === stem ? [{ file, at: Number(m[2]) }] : [];
      })
      .sort((a, b) => a.at - b.at);
  }

  private async entries(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** Runs `fn` after every earlier operation on `stem` has settled. */
  private async exclusive<T>(stem: string, fn: (stem: string) => Promise<T>): Promise<T> {
    const run = (this.locks.get(stem) ?? Promise.resolve()).then(() => fn(stem));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(stem, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(stem) === tail) this.locks.delete(stem);
    }
  }
}
