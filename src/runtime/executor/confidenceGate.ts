import { ConfidenceThresholdError } from '../../core/errors.js';
import type { DecisionRecord } from '../../core/events.js';
import { decide, type Exclusion } from '../../learning/decide.js';
import type { Random } from '../../learning/random.js';
import { PatternConfig } from '../PatternConfig.js';
import type { PatternContext } from '../PatternContext.js';
import { PatternRegistry } from '../PatternRegistry.js';
import type { DelegationPattern } from '../patterns/DelegationPattern.js';

/** Confidence gating and learned pattern selection. */

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
 * Chooses the pattern for a context by the learning layer (`decide`: Thompson sampling, or the
 * gradient bandit, per context cell; see LearningConfig) among the patterns that `match` it and
 * pass their confidence gate (a pattern with `minSamples` outcomes whose confidence score is below
 * its threshold is excluded, and the decision says so).
 * @param onDecision - receives the decision record (sampled values, means, excluded patterns)
 * @returns undefined when no pattern matches
 * @throws ConfidenceThresholdError when patterns match but every one is below its threshold
 *   (naming the best of them)
 */
export function selectPattern(
  registry: PatternRegistry,
  ctx: PatternContext,
  random: Random,
  onDecision?: (decision: DecisionRecord) => void,
): DelegationPattern | undefined {
  const matching = registry.matchingPatterns(ctx);
  if (matching.length === 0) return undefined;
  const eligible: DelegationPattern[] = [];
  const excluded: Exclusion[] = [];
  for (const p of matching) {
    if (belowThreshold(p))
      excluded.push({
        arm: p.name,
        why: `confidence ${p.confidenceScore.toFixed(3)} below threshold ${p.confidenceThreshold}`,
      });
    else eligible.push(p);
  }
  if (eligible.length === 0) {
    const best = [...matching].sort((a, b) => b.confidenceScore - a.confidenceScore)[0]!;
    checkConfidence(best);
  }
  const learner = registry.patternLearner(eligible);
  const decision = decide(
    learner,
    eligible.map((p) => p.name),
    PatternRegistry.patternCell(ctx.domain),
    random,
    excluded,
  );
  onDecision?.(decision);
  return eligible.find((p) => p.name === decision.chosen);
}
