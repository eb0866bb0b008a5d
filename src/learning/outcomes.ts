/**
 * Outcome statistics of a pattern (or agent): pure data and pure updates.
 */
export interface Outcome {
  /** Epoch ms. */
  readonly at: number;
  readonly success: boolean;
  readonly durationMs: number;
  readonly domain?: string | undefined;
  /** CPU time of the process and its reaped children during the run, ms (when measured). */
  readonly cpuMs?: number | undefined;
  /** Peak resident set size of the process sampled during the run, bytes (when measured). */
  readonly peakRssBytes?: number | undefined;
}

export interface OutcomeStats {
  readonly executions: number;
  readonly successes: number;
  readonly failures: number;
  /** Sum of durations, ms. */
  readonly totalDurationMs: number;
  /** Per-domain counts. */
  readonly byDomain: Readonly<Record<string, { successes: number; failures: number }>>;
  /** The most recent outcomes, oldest first, at most {@link HISTORY_LIMIT}. */
  readonly history: readonly Outcome[];
}

/**
 * Most outcomes kept in `history` (a memory bound; retention by age is `pruneOutcomes`). Trends,
 * `weighted_average` and `adaptive_bayes` read the whole retained history.
 */
export const HISTORY_LIMIT = 10_000;

export const emptyStats: OutcomeStats = {
  executions: 0,
  successes: 0,
  failures: 0,
  totalDurationMs: 0,
  byDomain: {},
  history: [],
};

/** Returns new stats with `outcome` added. */
export function recordOutcome(stats: OutcomeStats, outcome: Outcome): OutcomeStats {
  const domainKey = outcome.domain;
  const byDomain =
    domainKey === undefined
      ? stats.byDomain
      : {
          ...stats.byDomain,
          [domainKey]: {
            successes: (stats.byDomain[domainKey]?.successes ?? 0) + (outcome.success ? 1 : 0),
            failures: (stats.byDomain[domainKey]?.failures ?? 0) + (outcome.success ? 0 : 1),
          },
        };
  const history = [...stats.history, outcome];
  return {
    executions: stats.executions + 1,
    successes: stats.successes + (outcome.success ? 1 : 0),
    failures: stats.failures + (outcome.success ? 0 : 1),
    totalDurationMs: stats.totalDurationMs + outcome.durationMs,
    byDomain,
    history: history.length > HISTORY_LIMIT ? history.slice(-HISTORY_LIMIT) : history,
  };
}

/** Successes / executions (0 when never executed), 0..1. */
export function successRate(stats: OutcomeStats): number {
  return stats.executions === 0 ? 0 : stats.successes / stats.executions;
}

/**
 * Drops outcomes that ended before `cutoff` (epoch ms): they stop counting. The counts are rebuilt
 * from the retained history. Returns `stats` itself when nothing is older.
 */
export function pruneOutcomes(stats: OutcomeStats, cutoff: number): OutcomeStats {
  if (stats.history.length === 0 || stats.history[0]!.at >= cutoff) return stats;
  return stats.history.filter((o) => o.at >= cutoff).reduce(recordOutcome, emptyStats);
}
