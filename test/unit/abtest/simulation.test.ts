import { describe, expect, it } from 'vitest';
import { addOutcome, emptyArm } from '../../../src/learning/abtest/index.js';
import {
  posteriorProbabilityBetter,
  seededRandom,
  simulate,
  simulateLatency,
} from '../../../bench/abtestSimulation.js';

describe('DelegBench S5 simulation (seeded, smaller)', () => {
  it('A/A: the mSPRT read every 20 outcomes keeps false positives at or under 5%; the naive posterior rule does not', () => {
    const r = simulate({
      pControl: 0.7,
      pTreatment: 0.7,
      maxPerArm: 500,
      lookEvery: 20,
      repetitions: 400,
      seed: 7,
      alpha: 0.05,
    });
    expect(r.msprt.declaredRate).toBeLessThanOrEqual(0.05);
    expect(r.intervalCoverage).toBeGreaterThanOrEqual(0.95);
    // the rule the seed's "confidence > 0.95" would be if it were a posterior checked at every look
    expect(r.naiveOneSided.declaredRate).toBeGreaterThan(0.15);
    expect(r.naiveTwoSided.declaredRate).toBeGreaterThan(0.15);
  });

  it('A/B 0.7 vs 0.8: the mSPRT finds the treatment in nearly every repetition within 2,000 per arm', () => {
    const r = simulate({
      pControl: 0.7,
      pTreatment: 0.8,
      maxPerArm: 2000,
      lookEvery: 20,
      repetitions: 100,
      seed: 8,
      alpha: 0.05,
    });
    expect(r.msprt.treatmentWins / 100).toBeGreaterThanOrEqual(0.8);
    expect(r.msprt.declared - r.msprt.treatmentWins).toBe(0);
    expect(r.msprt.meanStopPerArm).toBeGreaterThan(100);
    expect(r.msprt.meanStopPerArm).toBeLessThan(1000);
  });

  it('an unbalanced split (0.2) and response times keep the A/A error at or under 5%', () => {
    const split = simulate({
      pControl: 0.7,
      pTreatment: 0.7,
      maxPerArm: 500,
      lookEvery: 20,
      trafficSplit: 0.2,
      repetitions: 300,
      seed: 9,
      alpha: 0.05,
    });
    expect(split.msprt.declaredRate).toBeLessThanOrEqual(0.05);
    expect(split.naiveOneSided.declaredRate).toBeGreaterThan(0.1);
    const latency = { mu: 4.5, sigma: 0.8, maxPerArm: 500, lookEvery: 10, repetitions: 300, alpha: 0.05 };
    expect(simulateLatency({ ...latency, treatmentFactor: 1, seed: 10 }).declaredRate).toBeLessThanOrEqual(
      0.05,
    );
    const faster = simulateLatency({ ...latency, treatmentFactor: 0.7, seed: 11 });
    expect(faster.treatmentWins / 300).toBeGreaterThan(0.8);
    expect(faster.declared).toBe(faster.treatmentWins);
  });

  it('the naive rule reads the Beta posteriors: equal arms give 0.5, a clear lead near 1', () => {
    let a = emptyArm;
    let b = emptyArm;
    for (let i = 0; i < 100; i++) {
      a = addOutcome(a, i < 70, 0);
      b = addOutcome(b, i < 90, 0);
    }
    expect(posteriorProbabilityBetter(a, a)).toBeCloseTo(0.5, 6);
    // Beta(71, 31) vs Beta(91, 11): z = (0.8922 − 0.6961) / √(0.000934 + 0.0023407) ≈ 3.43
    expect(posteriorProbabilityBetter(a, b)).toBeGreaterThan(0.999);
    expect(posteriorProbabilityBetter(b, a)).toBeLessThan(0.001);
    const random = seededRandom(3);
    const first = [random(), random()];
    const again = seededRandom(3);
    expect([again(), again()]).toEqual(first);
  });
});
