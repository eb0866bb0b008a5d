import { z } from 'zod';
import type { OutcomeStats } from '../../learning/outcomes.js';

/**
 * The serialisable form of a pattern: configuration plus learning data. PatternStorage writes
 * it; `revivePattern` (revive.ts) turns it back into a pattern object.
 */
export interface PatternSnapshot {
  /** Snapshot format version. */
  readonly version: 1;
  readonly name: string;
  /** Class name: `SequentialDelegationPattern`, `ParallelCoordinationPattern`, `MetaOrchestrationPattern`, or a custom one. */
  readonly type: string;
  readonly description: string;
  /** Type-specific configuration (steps, tasks, strategy…), JSON. */
  readonly config: unknown;
  readonly stats: OutcomeStats;
  /** 0..1. */
  readonly confidenceThreshold: number;
  readonly learningEnabled: boolean;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms of the last execution or registration. */
  readonly lastUsedAt: number;
}

const outcomeSchema = z.object({
  at: z.number(),
  success: z.boolean(),
  durationMs: z.number().nonnegative(),
  domain: z.string().optional(),
  cpuMs: z.number().nonnegative().optional(),
  peakRssBytes: z.number().nonnegative().optional(),
});

export const outcomeStatsSchema = z.object({
  executions: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  totalDurationMs: z.number().nonnegative(),
  byDomain: z.record(z.string(), z.object({ successes: z.number().int(), failures: z.number().int() })),
  history: z.array(outcomeSchema),
});

/** Validates snapshots read from disk or the network. */
export const patternSnapshotSchema = z.object({
  version: z.literal(1),
  name: z.string().min(1),
  type: z.string().min(1),
  description: z.string(),
  config: z.unknown(),
  stats: outcomeStatsSchema,
  confidenceThreshold: z.number().min(0).max(1),
  learningEnabled: z.boolean(),
  createdAt: z.number(),
  lastUsedAt: z.number(),
});

/** Anything that can be stored: every DelegationPattern. */
export interface Snapshottable {
  readonly name: string;
  toSnapshot(): PatternSnapshot;
}
