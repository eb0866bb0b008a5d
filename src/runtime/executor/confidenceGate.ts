import { ConfidenceThresholdError } from '../../core/errors.js';
import { PatternConfig } from '../PatternConfig.js';
import type { PatternContext } from '../PatternContext.js';
import type { DelegationPattern } from '../patterns/DelegationPattern.js';

/** Confidence gating: a pattern with `minSamples` executions runs only above its threshold. */

/** True when `pattern` has enough samples and scores below its confidence threshold. */
function belowThreshold(pattern: DelegationPattern): boolean {
  const minSamples = PatternConfig.getCurrentConfig().minSamples;
  return pattern.executionCount >= minSamples && pattern.confidenceScore < pattern.confidenceThreshold;
}

/** @throws ConfidenceThresholdError naming the pattern, its confidence and its threshold */
export function checkConfidence(pattern: DelegationPattern): void {
  if (!belowThreshold(pattern)) return;
  throw new ConfidenceThresholdError(
    `Pattern "${pattern.name}" has confidence ${pattern.confidenceScore.toFixed(2)}, below its threshold ${pattern.confidenceThreshold}`,
    {
      patternName: pattern.name,
      confidence: pattern.confidenceScore,
      threshold: pattern.confidenceThreshold,
    },
  );
}

/**
 * The pattern of `patterns` that best fits `ctx`: it `matches`, passes its confidence gate,
 * highest confidence score first, then the order given. Undefined when none fits.
 */
export function bestPattern(
  patterns: readonly DelegationPattern[],
  ctx: PatternContext,
): DelegationPattern | undefined {
  let best: DelegationPattern | undefined;
  for (const p of patterns) {
    if (!p.matches(ctx) || belowThreshold(p)) continue;
    if (!best || p.confidenceScore > best.confidenceScore) best = p;
  }
  return best;
}
