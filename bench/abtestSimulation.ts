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
  /** Outcomes per arm at most (with a traffic split: 2 × maxPerArm outcomes in all). */
  readonly maxPerArm: number;
  /** A look after every this many outcomes per arm (with a traffic split: 2 × lookEvery in all). */
  readonly lookEvery: number;
  /**
   * Undefined: every step adds one outcome to each arm (balanced). A number in (0, 1): every
   * step adds one outcome to the treatment with this probability, else to the control.
   */
  readonly trafficSplit?: number;
  /** Outcomes each arm needs before the mSPRT looks; default 20. */
  readonly minSamplesPerArm?: number;
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
  /**
   * Mean outcomes per arm at the declaration (all outcomes / 2 with a traffic split), over the
   * repetitions that declared (NaN if none).
   */
  readonly meanStopPerArm: number;
}

/** Each rule's summary. */
export interface SimulationResult {
  /** The always-valid mSPRT: a winner once pValue ≤ α. */
  readonly msprt: RuleSummary;
  /**
   * Share of the repetitions whose always-valid interval (the running intersection over every
   * look up to maxPerArm, the test going on after it decided) still holds p_T − p_C at the end;
   * ≥ 1 − α when the interval is valid.
   */
  readonly intervalCoverage: number;
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
    minSamplesPerArm: o.minSamplesPerArm ?? 20,
  };
  const split = o.trafficSplit;
  const steps = split === undefined ? o.maxPerArm : 2 * o.maxPerArm;
  const lookEvery = split === undefined ? o.lookEvery : 2 * o.lookEvery;
  const tallies = { msprt: new Tally(), naiveOneSided: new Tally(), naiveTwoSided: new Tally() };
  const effect = o.pTreatment - o.pControl;
  let covered = 0;
  for (let rep = 0; rep < o.repetitions; rep++) {
    let control = emptyArm;
    let treatment = emptyArm;
    let state = initialTestState;
    const open = { msprt: true, naiveOneSided: true, naiveTwoSided: true };
    for (let step = 1; step <= steps; step++) {
      if (split === undefined) {
        control = addOutcome(control, random() < o.pControl, 0);
        treatment = addOutcome(treatment, random() < o.pTreatment, 0);
      } else if (random() < split) {
        treatment = addOutcome(treatment, random() < o.pTreatment, 0);
      } else {
        control = addOutcome(control, random() < o.pControl, 0);
      }
      if (step % lookEvery !== 0) continue;
      const n = split === undefined ? step : step / 2;
      state = lookAt(state, spec, control, treatment);
      if (open.msprt && state.winner !== null) {
        tallies.msprt.record(state.winner, n);
        open.msprt = false;
      }
      if (!open.naiveOneSided && !open.naiveTwoSided) continue;
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
    if ((state.lower ?? -Infinity) <= effect && effect <= (state.upper ?? Infinity)) covered += 1;
  }
  return {
    msprt: tallies.msprt.summary(o.repetitions),
    intervalCoverage: covered / o.repetitions,
    naiveOneSided: tallies.naiveOneSided.summary(o.repetitions),
    naiveTwoSided: tallies.naiveTwoSided.summary(o.repetitions),
  };
}

/** What one response-time simulation runs: log-normal latencies, balanced arms. */
export interface LatencySimulationOptions {
  /** The latency's log-normal parameters: median e^mu ms, log-scale spread sigma. */
  readonly mu: number;
  readonly sigma: number;
  /** The treatment's latencies are the control's distribution times this factor (1: A/A). */
  readonly treatmentFactor: number;
  readonly maxPerArm: number;
  readonly lookEvery: number;
  readonly repetitions: number;
  readonly seed: number;
  readonly alpha: number;
}

/**
 * The mSPRT on `response_time` (default τ: 0.25 × the pooled standard deviation), latencies
 * log-normal (heavy right tail, like real response times), read every `lookEvery` outcomes per arm.
 */
export function simulateLatency(o: LatencySimulationOptions): RuleSummary {
  const random = seededRandom(o.seed);
  const logNormal = () => {
    const u = 1 - random();
    const v = random();
    return Math.exp(o.mu + o.sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  };
  const spec: SequentialTestSpec = { metric: 'response_time', alpha: o.alpha, minSamplesPerArm: 20 };
  const tally = new Tally();
  for (let rep = 0; rep < o.repetitions; rep++) {
    let control = emptyArm;
    let treatment = emptyArm;
    let state = initialTestState;
    for (let n = 1; n <= o.maxPerArm; n++) {
      control = addOutcome(control, true, logNormal());
      treatment = addOutcome(treatment, true, o.treatmentFactor * logNormal());
      if (n % o.lookEvery !== 0) continue;
      state = lookAt(state, spec, control, treatment);
      if (state.winner !== null) {
        tally.record(state.winner, n);
        break;
      }
    }
  }
  return tally.summary(o.repetitions);
}
