import { armSuccessRate, type ArmStats } from '../../learning/abtest/armStats.js';
import { estimateEffect, favouredArm, type Arm } from '../../learning/abtest/sequentialTest.js';
import type { ABTestRecord } from './abTestSchema.js';
import { specOf } from './abTestState.js';

/** One arm of an A/B test as `getResults` reports it. */
export interface ABTestArmResults {
  /** The arm's pattern. */
  readonly pattern: string;
  /** Outcomes recorded. */
  readonly n: number;
  readonly successes: number;
  /** successes / n, 0..1 (0 when n = 0). */
  readonly successRate: number;
  /** Mean duration of the successful runs, ms (0 when none succeeded): a failed run is not a response. */
  readonly meanResponseTimeMs: number;
}

/** The effect of the treatment, treatment − control, in the metric's units. */
export interface ABTestEffect {
  /** 'success_rate': difference of success rates (−1..1); 'response_time': difference of means, ms. */
  readonly metric: ABTestRecord['definition']['successMetric'];
  /** The current estimate; undefined until both arms have `minSamplesPerArm` outcomes. */
  readonly estimate: number | undefined;
  /**
   * The always-valid confidence interval at `level` (the running intersection over every
   * look): it covers the true effect at every time with probability ≥ level. -Infinity /
   * Infinity before the first look.
   */
  readonly lower: number;
  readonly upper: number;
  /** The interval's level, the test's `confidenceLevel` (0..1). */
  readonly level: number;
}

/** What `ABTester.getResults` returns. */
export interface ABTestResults {
  readonly name: string;
  readonly successMetric: ABTestRecord['definition']['successMetric'];
  /** Share of the traffic sent to the treatment, 0..1. */
  readonly trafficSplit: number;
  /** `running`, or `promoted` (closed: the treatment replaced the control). */
  readonly status: ABTestRecord['status'];
  readonly control: ABTestArmResults;
  readonly treatment: ABTestArmResults;
  readonly effect: ABTestEffect;
  /** Looks that counted (one per outcome once both arms have `minSamplesPerArm`). */
  readonly looks: number;
  /** The always-valid p-value of "no difference" (mSPRT), 0..1; never increases. */
  readonly pValue: number;
  /** 1 − pValue, 0..1: "confidence > 0.95" is valid however often it is read. */
  readonly confidence: number;
  /** True once confidence ≥ the test's confidenceLevel; it stays true. */
  readonly decided: boolean;
  /** The arm the estimate favoured when the test decided; undefined while undecided. */
  readonly winner: Arm | undefined;
  /** The current estimate favours the treatment (read it with `decided` or `confidence`). */
  readonly treatmentBetter: boolean;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms; undefined while running. */
  readonly promotedAt: number | undefined;
}

function arm(pattern: string, stats: ArmStats): ABTestArmResults {
  return {
    pattern,
    n: stats.n,
    successes: stats.successes,
    successRate: armSuccessRate(stats),
    meanResponseTimeMs: stats.meanMs,
  };
}

/** The results of a stored test. */
export function resultsOf(record: ABTestRecord): ABTestResults {
  const { definition: d, sequential: s } = record;
  const spec = specOf(d);
  const estimate = estimateEffect(spec, record.control, record.treatment)?.estimate;
  return {
    name: d.name,
    successMetric: d.successMetric,
    trafficSplit: d.trafficSplit,
    status: record.status,
    control: arm(d.controlPattern, record.control),
    treatment: arm(d.treatmentPattern, record.treatment),
    effect: {
      metric: d.successMetric,
      estimate,
      lower: s.lower ?? -Infinity,
      upper: s.upper ?? Infinity,
      level: d.confidenceLevel,
    },
    looks: s.looks,
    pValue: s.pValue,
    confidence: 1 - s.pValue,
    decided: s.pValue <= spec.alpha,
    winner: s.winner ?? undefined,
    treatmentBetter: estimate !== undefined && favouredArm(d.successMetric, estimate) === 'treatment',
    createdAt: record.createdAt,
    promotedAt: record.promotedAt ?? undefined,
  };
}
