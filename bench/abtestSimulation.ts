/**
 * DelegBench S5, the statistic itself: A/A and A/B tests of two Bernoulli arms, read after
 * every `lookEvery` outcomes per arm, with the always-valid mSPRT of src/learning/abtest and,
 * beside it, the naive rule it replaces (a Beta posterior probability checked at every look).
 * Seeded, so a run is reproducible; used by bench/abtest.bench.ts and test/unit/abtest.
 */
import { errorFunction } from 'simple-statistics';
import {
  addOutcome,
  emptyArm,
  initialTestState,
  lookAt,
  type ArmStats,
  type SequentialTestSpec,
} from '../src/learning/abtest/index.js';

/** mulberry32 (T. Ettinger, 2017): a seeded uniform generator in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What one simulation runs. */
export interface SimulationOptions {
  /** True success probabilities, 0..1. */
  readonly pControl: number;
  readonly pTreatment: number;
  /** Outcomes per arm at most. */
  readonly maxPerArm: number;
  /** A look after every this many outcomes per arm. */
  readonly lookEvery: number;
  readonly repetitions: number;
  readonly seed: number;
  /** 1 − confidence level of both rules. */
  readonly alpha: number;
  /** τ of the mSPRT (default: the library's). */
  readonly mixingSd?: number;
}

/** How one rule fared over the repetitions. */
export interface RuleSummary {
  /** Repetitions where the rule declared a winner (any arm) by maxPerArm. */
  readonly declared: number;
  /** Repetitions where it declared the treatment the winner. */
  readonly treatmentWins: number;
  /** declared / repetitions. */
  readonly declaredRate: number;
  /** Mean outcomes per arm at the declaration, over the repetitions that declared (NaN if none). */
  readonly meanStopPerArm: number;
}

/** Each rule's summary. */
export interface SimulationResult {
  /** The always-valid mSPRT: a winner once pValue ≤ α. */
  readonly msprt: RuleSummary;
  /** The seed's naive rule: P(p_T > p_C | data) > 1 − α under Beta(1, 1) priors, at every look. */
  readonly naiveOneSided: RuleSummary;
  /** The same, two-sided: either arm's posterior probability of being better > 1 − α/2. */
  readonly naiveTwoSided: RuleSummary;
}

/**
 * P(p_T > p_C) under the Beta(1 + successes, 1 + failures) posteriors, by the normal
 * approximation of each posterior (accurate at the 20+ outcomes per arm of every look).
 */
export function posteriorProbabilityBetter(control: ArmStats, treatment: ArmStats): number {
  const moments = (a: ArmStats) => {
    const alpha = 1 + a.successes;
    const beta = 1 + a.n - a.successes;
    const total = alpha + beta;
    return { mean: alpha / total, variance: (alpha * beta) / (total * total * (total + 1)) };
  };
  const c = moments(control);
  const t = moments(treatment);
  const z = (t.mean - c.mean) / Math.sqrt(t.variance + c.variance);
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

class Tally {
  declared = 0;
  treatmentWins = 0;
  stops = 0;
  summary(repetitions: number): RuleSummary {
    return {
      declared: this.declared,
      treatmentWins: this.treatmentWins,
      declaredRate: this.declared / repetitions,
      meanStopPerArm: this.declared === 0 ? NaN : this.stops / this.declared,
    };
  }
  record(winner: 'control' | 'treatment', n: number): void {
    this.declared += 1;
    this.stops += n;
    if (winner === 'treatment') this.treatmentWins += 1;
  }
}

/** Runs the repetitions; every rule sees the same outcomes. */
export function simulate(o: SimulationOptions): SimulationResult {
  const random = seededRandom(o.seed);
  const spec: SequentialTestSpec = {
    metric: 'success_rate',
    alpha: o.alpha,
    mixingSd: o.mixingSd,
    minSamplesPerArm: o.lookEvery,
  };
  const tallies = { msprt: new Tally(), naiveOneSided: new Tally(), naiveTwoSided: new Tally() };
  for (let rep = 0; rep < o.repetitions; rep++) {
    let control = emptyArm;
    let treatment = emptyArm;
    let state = initialTestState;
    const open = { msprt: true, naiveOneSided: true, naiveTwoSided: true };
    for (let n = 1; n <= o.maxPerArm && (open.msprt || open.naiveOneSided || open.naiveTwoSided); n++) {
      control = addOutcome(control, random() < o.pControl, 0);
      treatment = addOutcome(treatment, random() < o.pTreatment, 0);
      if (n % o.lookEvery !== 0) continue;
      if (open.msprt) {
        state = lookAt(state, spec, control, treatment);
        if (state.winner !== null) {
          tallies.msprt.record(state.winner, n);
          open.msprt = false;
        }
      }
      const better = posteriorProbabilityBetter(control, treatment);
      if (open.naiveOneSided && better > 1 - o.alpha) {
        tallies.naiveOneSided.record('treatment', n);
        open.naiveOneSided = false;
      }
      if (open.naiveTwoSided && Math.max(better, 1 - better) > 1 - o.alpha / 2) {
        tallies.naiveTwoSided.record(better > 0.5 ? 'treatment' : 'control', n);
        open.naiveTwoSided = false;
      }
    }
  }
  return {
    msprt: tallies.msprt.summary(o.repetitions),
    naiveOneSided: tallies.naiveOneSided.summary(o.repetitions),
    naiveTwoSided: tallies.naiveTwoSided.summary(o.repetitions),
  };
}
