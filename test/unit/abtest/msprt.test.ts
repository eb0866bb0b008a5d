import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addOutcome,
  armResponseVariance,
  confidenceHalfWidth,
  emptyArm,
  estimateEffect,
  initialTestState,
  logMixtureLikelihoodRatio,
  lookAt,
  mixingVariance,
  type ArmStats,
  type SequentialTestSpec,
} from '../../../src/learning/abtest/index.js';

const normalPdf = (x: number, mean: number, variance: number) =>
  Math.exp(-((x - mean) ** 2) / (2 * variance)) / Math.sqrt(2 * Math.PI * variance);

/** Λ by its definition, ∫ φ(θ̂; θ, V) φ(θ; 0, τ²) dθ / φ(θ̂; 0, V), integrated numerically (Simpson). */
function mixtureRatioByIntegration(estimate: number, variance: number, tauSq: number): number {
  const sd = Math.sqrt(tauSq);
  const lo = -12 * sd;
  const hi = 12 * sd;
  const steps = 20_000;
  const h = (hi - lo) / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const theta = lo + i * h;
    const f = normalPdf(estimate, theta, variance) * normalPdf(theta, 0, tauSq);
    sum += f * (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2);
  }
  return (sum * h) / 3 / normalPdf(estimate, 0, variance);
}

function arm(successes: number, n: number, durations: number[] = []): ArmStats {
  let a = emptyArm;
  for (let i = 0; i < n; i++) a = addOutcome(a, i < successes, durations[i] ?? 0);
  return a;
}

const rateSpec: SequentialTestSpec = { metric: 'success_rate', alpha: 0.05, minSamplesPerArm: 2 };

describe('mSPRT statistic (normal mixture)', () => {
  it('equals a hand-derived value: θ̂ = 0.1, V = τ² = 0.0025 gives Λ = √½ · e', () => {
    // V/(V+τ²) = 1/2; τ²θ̂²/(2V(V+τ²)) = 0.0025·0.01/(2·0.0025·0.005) = 1
    expect(logMixtureLikelihoodRatio(0.1, 0.0025, 0.0025)).toBeCloseTo(Math.log(Math.SQRT1_2) + 1, 12);
    expect(Math.exp(logMixtureLikelihoodRatio(0.1, 0.0025, 0.0025))).toBeCloseTo(1.9221155, 6);
  });

  it('equals the mixture integral of its definition', () => {
    for (const [estimate, variance, tauSq, shift] of [
      [0.03, 0.0004, 0.0025, 0],
      [-0.2, 0.01, 0.04, 0],
      [5, 4, 1, 0],
      [0.12, 0.001, 0.0025, 0.02],
    ] as const) {
      const closed = Math.exp(logMixtureLikelihoodRatio(estimate, variance, tauSq, shift));
      expect(closed).toBeCloseTo(mixtureRatioByIntegration(estimate - shift, variance, tauSq), 6);
    }
  });

  it('is below 1 at no effect, and its interval bounds are where Λ(θ₀) = 1/α', () => {
    expect(logMixtureLikelihoodRatio(0, 0.001, 0.0025)).toBeLessThan(0);
    // V = τ² = 0.0025, α = 0.05: √(0.005 · (ln 2 + 2 ln 20)) = 0.182820
    const half = confidenceHalfWidth(0.0025, 0.0025, 0.05);
    expect(half).toBeCloseTo(Math.sqrt(0.005 * (Math.log(2) + 2 * Math.log(20))), 12);
    expect(half).toBeCloseTo(0.18282, 5);
    for (const bound of [0.1 - half, 0.1 + half]) {
      expect(Math.exp(logMixtureLikelihoodRatio(0.1, 0.0025, 0.0025, bound))).toBeCloseTo(20, 9);
    }
  });
});

describe('effect estimates', () => {
  it('success_rate: difference of rates, Laplace-smoothed plug-in variance', () => {
    const effect = estimateEffect(rateSpec, arm(14, 20), arm(18, 20));
    // p̃_C = 15/22, p̃_T = 19/22: V = (15·7 + 19·3) / (22² · 20) = 162 / 9680
    expect(effect?.estimate).toBeCloseTo(0.2, 12);
    expect(effect?.variance).toBeCloseTo(162 / 9680, 12);
    expect(mixingVariance(rateSpec, arm(14, 20), arm(18, 20))).toBeCloseTo(0.01, 12);
  });

  it('response_time: difference of means, Welch variance; default τ is 0.25 × pooled sd', () => {
    const control = arm(4, 4, [10, 12, 14, 16]); // mean 13, s² = 20/3
    const treatment = arm(4, 4, [8, 9, 10, 13]); // mean 10, s² = 14/3
    expect(armResponseVariance(control)).toBeCloseTo(20 / 3, 12);
    const spec: SequentialTestSpec = { metric: 'response_time', alpha: 0.05, minSamplesPerArm: 2 };
    const effect = estimateEffect(spec, control, treatment);
    expect(effect?.estimate).toBeCloseTo(-3, 12);
    expect(effect?.variance).toBeCloseTo((20 / 3 + 14 / 3) / 4, 12);
    // pooled variance (20 + 14) / 6; τ² = 0.0625 × that
    expect(mixingVariance(spec, control, treatment)).toBeCloseTo((0.0625 * 34) / 6, 12);
    expect(mixingVariance({ ...spec, mixingSd: 2 }, control, treatment)).toBe(4);
  });

  it('waits for minSamplesPerArm and for a positive variance', () => {
    expect(estimateEffect({ ...rateSpec, minSamplesPerArm: 21 }, arm(14, 20), arm(18, 20))).toBeUndefined();
    const flat = arm(3, 3, [5, 5, 5]);
    const spec: SequentialTestSpec = { metric: 'response_time', alpha: 0.05, minSamplesPerArm: 2 };
    expect(estimateEffect(spec, flat, flat)).toBeUndefined();
    expect(lookAt(initialTestState, spec, flat, flat)).toBe(initialTestState);
  });
});

describe('lookAt', () => {
  it('computes the p-value and interval of one look from the formulas', () => {
    const control = arm(14, 20);
    const treatment = arm(18, 20);
    const s = lookAt(initialTestState, rateSpec, control, treatment);
    const v = 162 / 9680;
    // the p-value uses the pooled variance under θ = 0: p̄ = 33/42, V₀ = p̄(1 − p̄)(1/20 + 1/20)
    const v0 = (33 / 42) * (9 / 42) * 0.1;
    const logL = 0.5 * Math.log(v0 / (v0 + 0.01)) + (0.01 * 0.04) / (2 * v0 * (v0 + 0.01));
    expect(s.looks).toBe(1);
    expect(s.pValue).toBeCloseTo(Math.min(1, Math.exp(-logL)), 12);
    const half = Math.sqrt(((v * (v + 0.01)) / 0.01) * (Math.log((v + 0.01) / v) - 2 * Math.log(0.05)));
    expect(s.lower).toBeCloseTo(0.2 - half, 12);
    expect(s.upper).toBeCloseTo(0.2 + half, 12);
    expect(s.winner).toBeNull();
  });

  it('decides for the treatment once the evidence is strong, and the winner stays', () => {
    let s = lookAt(initialTestState, rateSpec, arm(100, 200), arm(180, 200));
    expect(s.pValue).toBeLessThan(1e-6);
    expect(s.winner).toBe('treatment');
    expect(s.lower).toBeGreaterThan(0);
    s = lookAt(s, rateSpec, arm(150, 300), arm(150, 300));
    expect(s.winner).toBe('treatment');
    const rt: SequentialTestSpec = { metric: 'response_time', alpha: 0.05, minSamplesPerArm: 2 };
    const slow = arm(
      50,
      50,
      Array.from({ length: 50 }, (_, i) => 100 + (i % 5)),
    );
    const fast = arm(
      50,
      50,
      Array.from({ length: 50 }, (_, i) => 80 + (i % 5)),
    );
    expect(lookAt(initialTestState, rt, slow, fast).winner).toBe('treatment');
    expect(lookAt(initialTestState, rt, fast, slow).winner).toBe('control');
  });

  it('keeps the p-value non-increasing and the interval shrinking, whatever the data', () => {
    const outcome = fc.record({ treatment: fc.boolean(), success: fc.boolean(), ms: fc.nat(1000) });
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 300 }), (outcomes) => {
        let c = emptyArm;
        let t = emptyArm;
        let s = initialTestState;
        for (const o of outcomes) {
          if (o.treatment) t = addOutcome(t, o.success, o.ms);
          else c = addOutcome(c, o.success, o.ms);
          const next = lookAt(s, rateSpec, c, t);
          expect(next.pValue).toBeLessThanOrEqual(s.pValue);
          expect(next.pValue).toBeGreaterThanOrEqual(0);
          if (next.lower !== null && next.upper !== null) expect(next.lower).toBeLessThanOrEqual(next.upper);
          if (s.winner !== null) expect(next.winner).toBe(s.winner);
          s = next;
        }
      }),
      { numRuns: 200, seed: 12 },
    );
  });
});
