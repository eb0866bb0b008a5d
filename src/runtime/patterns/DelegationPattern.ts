import type { ConfidenceLevel } from '../../learning/ConfidenceLevel.js';
import { emptyStats, recordOutcome, successRate, type OutcomeStats } from '../../learning/outcomes.js';
import { PatternConfig } from '../PatternConfig.js';
import type { PatternContext } from '../PatternContext.js';
import { PatternValidationError } from '../../core/errors.js';
import type { PatternSnapshot, Snapshottable } from './snapshot.js';

/**
 * Base class of every delegation pattern: name, description, confidence scoring from
 * recorded outcomes, and serialisation. Subclass it for a custom pattern (implement
 * `matches` and `execute`); the built-in patterns are run by a PatternExecutor.
 *
 * @example
 * class Nightly extends DelegationPattern {
 *   matches(ctx: PatternContext) { return ctx.matchesDomain('ops.*'); }
 *   async execute(ctx: PatternContext) { await doWork(); this.recordExecution(true, ctx.domain); return true; }
 * }
 */
export abstract class DelegationPattern implements Snapshottable {
  readonly name: string;
  readonly description: string;
  protected stats: OutcomeStats = emptyStats;
  private threshold: number;
  private learning = true;
  private created: number;
  lastUsedAt: number;

  constructor(name: string, description = '') {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new PatternValidationError(`${new.target.name}: name must be a non-empty string`, {
        field: 'name',
      });
    }
    this.name = name;
    this.description = description;
    this.threshold = PatternConfig.getCurrentConfig().globalConfidenceThreshold;
    this.created = Date.now();
    this.lastUsedAt = this.created;
  }

  /** Epoch ms it was first created (kept across save and load). */
  get createdAt(): number {
    return this.created;
  }

  /** The class name, stored in snapshots. */
  get type(): string {
    return this.constructor.name;
  }

  /** Whether this pattern suits a context. */
  abstract matches(context: PatternContext): boolean;

  /** Runs the pattern; resolves true on success. */
  abstract execute(context: PatternContext): Promise<boolean>;

  /** 0..1, from the configured scorer (success rate shrunk until `minSamples`). */
  get confidenceScore(): number {
    return PatternConfig.scorer().score(this.stats);
  }

  get confidenceLevel(): ConfidenceLevel {
    return PatternConfig.scorer().level(this.stats);
  }

  /** 0..1: the confidence required to select it. */
  get confidenceThreshold(): number {
    return this.threshold;
  }

  get executionCount(): number {
    return this.stats.executions;
  }

  /** 0..1. */
  get successRate(): number {
    return successRate(this.stats);
  }

  get learningEnabled(): boolean {
    return this.learning;
  }

  /** The outcome statistics (read-only). */
  get outcomeStats(): OutcomeStats {
    return this.stats;
  }

  /**
   * Records one execution for learning (ignored while learning is disabled).
   * @param durationMs - how long it took, ms
   * @param at - when it ended, epoch ms
   * @param measured - resource figures of the run when measured: CPU time (ms) and peak RSS (bytes)
   */
  recordExecution(
    success: boolean,
    domain?: string,
    durationMs = 0,
    at = Date.now(),
    measured?: { readonly cpuMs: number; readonly peakRssBytes: number },
  ): void {
    this.lastUsedAt = at;
    if (!this.learning) return;
    this.stats = recordOutcome(this.stats, { at, success, durationMs, domain, ...measured });
  }

  /**
   * @param threshold - 0..1
   * @throws PatternValidationError when out of range
   */
  setConfidenceThreshold(threshold: number): void {
    if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
      throw new PatternValidationError(
        `${this.name}: confidence threshold must be within 0..1, got ${String(threshold)}`,
        {
          field: 'confidenceThreshold',
          patternName: this.name,
        },
      );
    }
    this.threshold = threshold;
  }

  setLearningEnabled(enabled: boolean): void {
    this.learning = enabled;
  }

  resetStats(): void {
    this.stats = emptyStats;
  }

  /** Type-specific configuration for snapshots; custom patterns may override. */
  protected configJSON(): unknown {
    return {};
  }

  toSnapshot(): PatternSnapshot {
    return {
      version: 1,
      name: this.name,
      type: this.type,
      description: this.description,
      config: this.configJSON(),
      stats: this.stats,
      confidenceThreshold: this.threshold,
      learningEnabled: this.learning,
      createdAt: this.createdAt,
      lastUsedAt: this.lastUsedAt,
    };
  }

  /** Restores learning data and settings from a snapshot (the configuration is the constructor's job). */
  restoreFrom(snapshot: PatternSnapshot): this {
    this.stats = snapshot.stats;
    this.threshold = snapshot.confidenceThreshold;
    this.learning = snapshot.learningEnabled;
    this.lastUsedAt = snapshot.lastUsedAt;
    this.created = snapshot.createdAt;
    return this;
  }
}
