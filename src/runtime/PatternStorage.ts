import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfidenceLevel } from '../learning/ConfidenceLevel.js';
import { successRateScorer, type ConfidenceScorer } from '../learning/confidence.js';
import { systemClock, type Clock } from '../core/clock.js';
import { PatternNotFoundError, PatternValidationError } from '../core/errors.js';
import type { DelegationPattern } from './patterns/DelegationPattern.js';
import { revivePattern } from './patterns/revive.js';
import type { PatternSnapshot, Snapshottable } from './patterns/snapshot.js';
import { exportLearningData, parseExportFormat, type ExportFormat } from '../storage/exportLearningData.js';
import { FileStore } from '../storage/FileStore.js';
import { readAgentLearning, writeAgentLearning } from '../storage/agentLearningFile.js';
import type { PatternExecutor } from './PatternExecutor.js';
import { parseWith } from '../core/validate.js';
import { createLogger } from '../core/logger.js';
import type { WarnSink } from '../core/rateLimitedWarn.js';
import { ABTestStore } from './abtest/ABTestStore.js';

let defaultLogger: WarnSink | undefined;

const DAY_MS = 86_400_000;

/**
 * Options of {@link PatternStorage}; every field optional, unknown fields rejected.
 * @example
 * ```ts
 * new PatternStorage({ storagePath: '/var/lib/nd', compressionEnabled: false, maxBackups: 10 });
 * ```
 */
export interface PatternStorageOptions {
  /** Directory of the store, resolved against the working directory. Default `.nd/patterns`. */
  readonly storagePath?: string;
  /** Keep the previous versions of each pattern in `<storagePath>/backups/`. Default true. */
  readonly backupEnabled?: boolean;
  /** Write gzip (`.json.gz`). Default true. Files of either kind are read. */
  readonly compressionEnabled?: boolean;
  /** Backups kept per pattern (integer ≥ 1). Default 5. */
  readonly maxBackups?: number;
  /** Time source for backup names and {@link PatternStorage.cleanupOldData}. Default the wall clock. */
  readonly clock?: Clock;
  /** Turns a snapshot into a pattern in `loadPattern`; default `revivePattern`. For tests. */
  readonly revive?: (snapshot: PatternSnapshot) => unknown;
  /** Where skipped (corrupt) files are reported; default `createLogger()` (made on first use). */
  readonly logger?: WarnSink;
}

const optionsSchema = z
  .object({
    storagePath: z.string().min(1).optional(),
    backupEnabled: z.boolean().optional(),
    compressionEnabled: z.boolean().optional(),
    maxBackups: z.number().int().min(1).optional(),
    clock: z
      .custom<Clock>((v) => typeof (v as Partial<Clock> | null)?.now === 'function', 'expected a Clock')
      .optional(),
    revive: z
      .custom<(s: PatternSnapshot) => unknown>((v) => typeof v === 'function', 'expected a function')
      .optional(),
    logger: z
      .custom<WarnSink>(
        (v) => typeof (v as Partial<WarnSink> | null)?.warn === 'function',
        'expected a logger',
      )
      .optional(),
  })
  .strict();

const nameSchema = z.string().min(1);
const levelSchema = z.union([z.literal(0), z.literal(1), z.literal(2)]);
const daysSchema = z.number().nonnegative();

/**
 * Durable storage of patterns and their learning data: an embedded file store (one atomic,
 * optionally gzipped file per pattern, with backups) under a configurable directory.
 *
 * Accepts the integration guide's positional form `(storagePath, backupEnabled,
 * compressionEnabled)` or a {@link PatternStorageOptions} object.
 *
 * @throws PatternValidationError naming the field (`PatternStorage.maxBackups`…) for a bad option.
 * @example
 * ```ts
 * const storage = new PatternStorage('.nd/patterns', true, true);
 * await storage.storePattern(seqPattern);
 * const again = await storage.getPattern('data_pipeline');
 * const high = await storage.getPatternsByConfidence(ConfidenceLevel.HIGH);
 * ```
 */
export class PatternStorage {
  /** The absolute directory of the store. */
  readonly storagePath: string;
  private readonly store: FileStore;
  private readonly clock: Clock;
  private readonly revive: (snapshot: PatternSnapshot) => unknown;
  private abTestStore: ABTestStore | undefined;

  constructor(options?: PatternStorageOptions);
  constructor(storagePath?: string, backupEnabled?: boolean, compressionEnabled?: boolean);
  constructor(first?: string | PatternStorageOptions, backupEnabled?: boolean, compressionEnabled?: boolean) {
    const raw =
      typeof first === 'object' && first !== null
        ? first
        : dropUndefined({ storagePath: first, backupEnabled, compressionEnabled });
    const options = parseWith(optionsSchema, raw, 'PatternStorage');
    this.storagePath = resolve(options.storagePath ?? '.nd/patterns');
    this.clock = options.clock ?? systemClock;
    this.revive = options.revive ?? revivePattern;
    this.store = new FileStore({
      dir: this.storagePath,
      backup: options.backupEnabled ?? true,
      compression: options.compressionEnabled ?? true,
      maxBackups: options.maxBackups ?? 5,
      clock: this.clock,
      logger: options.logger ?? { warn: (obj, msg) => (defaultLogger ??= createLogger()).warn(obj, msg) },
    });
  }

  /**
   * Writes `pattern.toSnapshot()` atomically, replacing (and backing up) the stored version.
   * @throws PatternValidationError naming the field when the snapshot is invalid.
   */
  async savePattern(pattern: Snapshottable): Promise<void> {
    if (typeof (pattern as Partial<Snapshottable> | null)?.toSnapshot !== 'function') {
      throw new PatternValidationError('Invalid pattern: expected an object with toSnapshot()', {
        field: 'pattern',
      });
    }
    await this.store.write(pattern.toSnapshot());
  }

  /** Alias of {@link PatternStorage.savePattern} (the integration guide's name). */
  async storePattern(pattern: Snapshottable): Promise<void> {
    return this.savePattern(pattern);
  }

  /**
   * The stored snapshot of `name`.
   * @throws PatternNotFoundError naming the pattern and the directory when none is stored.
   * @throws PatternValidationError naming the file when it is corrupt.
   */
  async loadSnapshot(name: string): Promise<PatternSnapshot> {
    const checked = parseWith(nameSchema, name, 'name');
    const snapshot = await this.store.read(checked);
    if (snapshot) return snapshot;
    throw new PatternNotFoundError(`Pattern '${checked}' not found in storage ${this.storagePath}`, {
      patternName: checked,
    });
  }

  /**
   * The stored pattern, revived into a live object (configuration and learning data).
   * @throws PatternNotFoundError as {@link PatternStorage.loadSnapshot}.
   */
  async loadPattern(name: string): Promise<DelegationPattern> {
    return this.revive(await this.loadSnapshot(name)) as DelegationPattern;
  }

  /** Alias of {@link PatternStorage.loadPattern}. */
  async getPattern(name: string): Promise<DelegationPattern> {
    return this.loadPattern(name);
  }

  /** Every stored snapshot, sorted by name. */
  async listSnapshots(): Promise<PatternSnapshot[]> {
    return this.store.list();
  }

  /**
   * Snapshots whose confidence level, computed from their stats by `scorer`, is `level`.
   * @param scorer - default {@link successRateScorer} (5 samples minimum).
   */
  async getPatternsByConfidence(
    level: ConfidenceLevel,
    scorer: ConfidenceScorer = successRateScorer(),
  ): Promise<PatternSnapshot[]> {
    const wanted = parseWith(levelSchema, level, 'level');
    return (await this.store.list()).filter(
      (s) => ConfidenceLevel.compare(scorer.level(s.stats), wanted) === 0,
    );
  }

  /** Snapshots of one class, e.g. `'ParallelCoordinationPattern'`. */
  async getPatternsByType(type: string): Promise<PatternSnapshot[]> {
    const wanted = parseWith(nameSchema, type, 'type');
    return (await this.store.list()).filter((s) => s.type === wanted);
  }

  /**
   * A pattern's learning data as `json`, `csv` or `yaml` text (see `exportLearningData`).
   * @throws PatternValidationError naming `format` for another format (checked first).
   * @throws PatternNotFoundError when the pattern is not stored.
   */
  async exportLearningData(patternName: string, format: ExportFormat = 'json'): Promise<string> {
    const checked = parseExportFormat(format);
    return exportLearningData(await this.loadSnapshot(patternName), checked);
  }

  /**
   * Deletes outcomes older than `days` (before `clock.now() - days × 24 h`) from every stored
   * snapshot's history (other stats are kept as they are), then deletes the snapshots last
   * used before that time. `outcomesRemoved` counts the old outcomes of every snapshot,
   * including those deleted; `patternsRemoved` the snapshots deleted.
   * @param days - age limit in days, ≥ 0 (fractions allowed). Default 30.
   * @throws PatternValidationError naming `days` for a negative or non-number value.
   */
  async cleanupOldData(days = 30): Promise<{ outcomesRemoved: number; patternsRemoved: number }> {
    const cutoff = this.clock.now() - parseWith(daysSchema, days, 'days') * DAY_MS;
    let outcomesRemoved = 0;
    let patternsRemoved = 0;
    for (const { name } of await this.store.list()) {
      await this.store.update(name, (snapshot) => {
        const history = snapshot.stats.history.filter((o) => o.at >= cutoff);
        outcomesRemoved += snapshot.stats.history.length - history.length;
        if (snapshot.lastUsedAt < cutoff) {
          patternsRemoved += 1;
          return null;
        }
        if (history.length === snapshot.stats.history.length) return undefined;
        return { ...snapshot, stats: { ...snapshot.stats, history } };
      });
    }
    return { outcomesRemoved, patternsRemoved };
  }

  /** The store of A/B tests (`ABTester`), `<storagePath>/abtests/`, made on first use. */
  abTests(): ABTestStore {
    return (this.abTestStore ??= new ABTestStore(join(this.storagePath, 'abtests')));
  }

  /**
   * Saves the executor's agent learning (every capability's retained outcomes and links, older
   * ones than the retention dropped first) to `<storagePath>/learning/agents.json`, so a later
   * process learns on from it ({@link loadAgentLearning}).
   */
  async saveAgentLearning(executor: PatternExecutor): Promise<void> {
    await writeAgentLearning(this.storagePath, executor.exportAgentLearning(this.clock.now()));
  }

  /**
   * Restores the agent learning saved by {@link saveAgentLearning} into `executor`.
   * @returns false when none was saved
   * @throws PatternValidationError naming the file and field when it is corrupt
   */
  async loadAgentLearning(executor: PatternExecutor): Promise<boolean> {
    const state = await readAgentLearning(this.storagePath);
    if (!state) return false;
    executor.importAgentLearning(state);
    return true;
  }

  /** The saved agent learning as JSON text (empty capabilities when none was saved). */
  async exportAgentLearning(): Promise<string> {
    return JSON.stringify(
      (await readAgentLearning(this.storagePath)) ?? { version: 1, capabilities: {} },
      null,
      2,
    );
  }

  /** Deletes a stored pattern (backing it up when backups are on); false when none was stored. */
  async deletePattern(name: string): Promise<boolean> {
    return this.store.remove(parseWith(nameSchema, name, 'name'));
  }
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
