import type { SuccessCriteria } from '../core/spec.js';

/** How one pattern of a phase ended. */
export interface PatternOutcome {
  readonly name: string;
  readonly success: boolean;
  /** ms. */
  readonly durationMs: number;
  /** Failed or skipped steps inside the pattern. */
  readonly failedSteps: number;
}

/** Verdict on a phase's success criteria. */
export interface CriteriaVerdict {
  readonly met: boolean;
  /** Why not, readable; empty when met. */
  readonly reasons: readonly string[];
}

/**
 * Evaluates a phase's success criteria over its settled patterns. `total` is the number of
 * patterns in the phase; `minSuccessRate` defaults to 1 (every pattern must succeed).
 */
export function evaluateCriteria(
  criteria: SuccessCriteria,
  outcomes: readonly PatternOutcome[],
  total: number,
): CriteriaVerdict {
  const reasons: string[] = [];
  const succeeded = outcomes.filter((o) => o.success).length;
  const minRate = criteria.minSuccessRate ?? 1;
  const rate = total === 0 ? 1 : succeeded / total;
  if (rate + 1e-9 < minRate) reasons.push(`success rate ${rate.toFixed(2)} < min_success_rate ${minRate}`);
  const errors = outcomes.reduce((sum, o) => sum + o.failedSteps, 0);
  if (criteria.maxErrorCount !== undefined && errors > criteria.maxErrorCount) {
    reasons.push(`error count ${errors} > max_error_count ${criteria.maxErrorCount}`);
  }
  if (criteria.responseTimeThresholdMs !== undefined && outcomes.length > 0) {
    const mean = outcomes.reduce((sum, o) => sum + o.durationMs, 0) / outcomes.length;
    if (mean > criteria.responseTimeThresholdMs) {
      reasons.push(
        `mean response time ${mean.toFixed(0)} ms > response_time_threshold ${criteria.responseTimeThresholdMs} ms`,
      );
    }
  }
  return { met: reasons.length === 0, reasons };
}

/** True once the criteria can no longer be met whatever the unsettled patterns do. */
export function criteriaUnreachable(
  criteria: SuccessCriteria,
  outcomes: readonly PatternOutcome[],
  total: number,
): boolean {
  const failed = outcomes.filter((o) => !o.success).length;
  const bestRate = total === 0 ? 1 : (total - failed) / total;
  if (bestRate + 1e-9 < (criteria.minSuccessRate ?? 1)) return true;
  const errors = outcomes.reduce((sum, o) => sum + o.failedSteps, 0);
  return criteria.maxErrorCount !== undefined && errors > criteria.maxErrorCount;
}
