import { describe, expect, it } from 'vitest';
import { ArmLearner, type ArmOutcome } from '../../../src/learning/ArmLearner.js';
import { betaMean, credibleInterval, wilsonInterval } from '../../../src/learning/beta.js';
import { cellPath, cellSimilarity } from '../../../src/learning/cells.js';
import {
  adaptiveBayesScorer,
  simpleAverageScorer,
  weightedAverageScorer,
} from '../../../src/learning/confidence.js';
import { decide, normalCdf, probabilityBest } from '../../../src/learning/decide.js';
import {
  emptyStats,
  pruneOutcomes,
  recordOutcome,
  type OutcomeStats,
} from '../../../src/learning/outcomes.js';
import { defaultLearningParams, type LearningParams } from '../../../src/learning/params.js';
import { sampleBeta, seededRandom } from '../../../src/learning/random.js';

const DAY = 86_400_000;
const ctx = (domain: string, agentType = 'general') => ({ domain, agentType });
const params = (patch: Partial<LearningParams> = {}): LearningParams => ({
  ...defaultLearningParams,
  ...patch,
});
const outcome = (success: boolean, at = 0, domain = 'd'): ArmOutcome => ({
  at,
  success,
  latencyMs: 10,
  context: ctx(domain),
});
function stats(list: boolean[]): OutcomeStats {
  return list.reduce((s, ok, i) => recordOutcome(s, { at: i, success: ok, durationMs: 1 }), emptyStats);
}

describe('random', () => {
  it('is reproducible from its seed and uniform in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 10_000 }, a);
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, b));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
  });

  it('samples Beta draws with the right mean and variance', () => {
    const r = seededRandom(1);
    const xs = Array.from({ length: 20_000 }, () => sampleBeta(3, 7, r));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(mean).toBeCloseTo(0.3, 2);
    expect(variance).toBeCloseTo((3 * 7) / (100 * 11), 3);
    const small = Array.from({ length: 20_000 }, () => sampleBeta(0.5, 0.5, r));
    expect(small.reduce((s, x) => s + x, 0) / small.length).toBeCloseTo(0.5, 1);
  });
});

describe('intervals', () => {
  it('Wilson interval of 3/3 and 20/20 (reference values)', () => {
    expect(wilsonInterval(3, 3)[0]).toBeCloseTo(0.4385, 3);
    expect(wilsonInterval(20, 20)[0]).toBeCloseTo(0.8389, 3);
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
  });
  it('credible interval and mean of Beta(8, 2)', () => {
    expect(betaMean({ alpha: 8, beta: 2 })).toBe(0.8);
    const [lo, hi] = credibleInterval({ alpha: 8, beta: 2 });
    const sd = Math.sqrt(16 / (100 * 11));
    expect(lo).toBeCloseTo(0.8 - 1.96 * sd, 10);
    expect(hi).toBe(1);
  });
  it('normal CDF', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 4);
    expect(normalCdf(-1.96)).toBeCloseTo(0.025, 4);
  });
});

describe('confidence algorithms', () => {
  const list = [true, true, false, true, false, false, true, true];
  it('simple_average is the sample mean; the level needs minSamples and a narrow interval', () => {
    const s = simpleAverageScorer({ minSamples: 5 });
    expect(s.score(stats(list))).toBe(5 / 8);
    expect(s.level(stats([true, true, true]))).toBe(0); // below minSamples
    expect(s.level(stats(Array(5).fill(true) as boolean[]))).toBe(1); // Wilson lower 0.57
    expect(s.level(stats(Array(20).fill(true) as boolean[]))).toBe(2); // Wilson lower 0.84
    expect(simpleAverageScorer({ minSamples: 3 }).level(stats([true, true, true]))).toBe(0); // lower 0.44: not HIGH
  });
  it('weighted_average follows Q ← Q + α(r − Q), and the learning rate changes it', () => {
    let q = 1;
    for (const ok of list.slice(1)) q += 0.1 * ((ok ? 1 : 0) - q);
    expect(weightedAverageScorer({ minSamples: 1, learningRate: 0.1 }).score(stats(list))).toBeCloseTo(q, 12);
    let q5 = 1;
    for (const ok of list.slice(1)) q5 += 0.5 * ((ok ? 1 : 0) - q5);
    expect(weightedAverageScorer({ minSamples: 1, learningRate: 0.5 }).score(stats(list))).toBeCloseTo(
      q5,
      12,
    );
    expect(q5).not.toBeCloseTo(q, 3);
  });
  it('adaptive_bayes is the discounted posterior mean with the prior', () => {
    const prior = { alpha: 2, beta: 3 };
    expect(adaptiveBayesScorer({ minSamples: 1, prior, discount: 1 }).score(stats(list))).toBeCloseTo(
      7 / 13,
      12,
    );
    let a = 0;
    let b = 0;
    for (const ok of list) {
      a = a * 0.5 + (ok ? 1 : 0);
      b = b * 0.5 + (ok ? 0 : 1);
    }
    expect(adaptiveBayesScorer({ minSamples: 1, prior, discount: 0.5 }).score(stats(list))).toBeCloseTo(
      (2 + a) / (5 + a + b),
      12,
    );
  });
  it('retention: outcomes before the cutoff stop counting', () => {
    const s = stats([false, false, true, true]);
    const kept = pruneOutcomes(s, 2);
    expect([kept.executions, kept.successes]).toEqual([2, 2]);
    expect(pruneOutcomes(s, 0)).toBe(s);
  });
});

describe('cells and similarity', () => {
  it('cell path: exact, domain hierarchy, root', () => {
    expect(cellPath(ctx('web_development.frontend', 'ui'))).toEqual([
      'web_development.frontend|ui',
      'web_development.frontend|*',
      'web_development|*',
      '*',
    ]);
    expect(cellPath({ domain: 'a', agentType: '*' })).toEqual(['a|*', '*']);
  });
  it('similarity: identical 1, shared segments partial', () => {
    expect(cellSimilarity(ctx('web.frontend'), ctx('web.frontend'))).toBe(1);
    // segments {web, frontend} vs {web, backend}: Jaccard 1/3.
    expect(cellSimilarity(ctx('web.frontend'), ctx('web.backend'))).toBeCloseTo(0.6 / 3 + 0.4, 10);
    expect(cellSimilarity(ctx('a', 'x'), ctx('a', 'y'))).toBeCloseTo(0.8, 10);
  });
});

describe('ArmLearner', () => {
  it('falls back to the parent cell until minSamples, then uses the cell alone', () => {
    const l = new ArmLearner(params({ minSamples: 3, similarityThreshold: 1 }));
    for (let i = 0; i < 10; i++) l.record('a', outcome(true, i, 'web.shop'));
    l.record('a', outcome(false, 20, 'web.blog'));
    expect(l.view('a', ctx('web.blog')).cell).toBe('web|*');
    expect(l.view('a', ctx('web.blog')).posterior).toEqual({ alpha: 11, beta: 2 });
    l.record('a', outcome(false, 21, 'web.blog'));
    l.record('a', outcome(false, 22, 'web.blog'));
    expect(l.view('a', ctx('web.blog'))).toMatchObject({
      cell: 'web.blog|general',
      posterior: { alpha: 1, beta: 4 },
    });
  });

  it('the catch-all cell stands in as far as it predicts a domain from the others (skill score)', () => {
    // Arm a: `aOk` of 10 in books and `aOk2` of 10 in games; arm b likewise.
    const learner = (books: [number, number], games: [number, number]) => {
      const l = new ArmLearner(params({ minSamples: 5, similarityThreshold: 1 }));
      let at = 0;
      for (const [domain, [aOk, bOk]] of [
        ['books', books],
        ['games', games],
      ] as const)
        for (let i = 0; i < 10; i++) {
          l.record('a', outcome(i < aOk, at++, domain));
          l.record('b', outcome(i < bOk, at++, domain));
        }
      return l;
    };
    // The domains disagree (a best in books, b in games): skill 0, so for an arm never tried in
    // music the catch-all says nothing: the prior, in the cell itself.
    const disagree = learner([9, 2], [2, 9]);
    expect(disagree.rootSkill()).toBe(0);
    expect(disagree.view('a', ctx('music'))).toMatchObject({
      cell: 'music|general',
      samples: 0,
      posterior: { alpha: 1, beta: 1 },
    });
    // They agree. Rates on the prior, (1 + s) / 12: books a 10/12, b 3/12 forecast from games as
    // 9/12 and 4/12, and the other way round: SSE = 4 (1/12)², SST = 2 (3.5/12)² + 2 (2.5/12)²;
    // skill = 1 − (SSE / 4) / (SST / (4 − 2)) = 1 − 1 / 18.5.
    const agree = learner([9, 2], [8, 3]);
    const skill = 1 - 1 / 18.5;
    expect(agree.rootSkill()).toBeCloseTo(skill, 12);
    // a in music: 17 of 20 elsewhere, as min(200, 20) × skill pseudo-counts at 0.85.
    const k = 20 * skill;
    const a = agree.view('a', ctx('music'));
    expect(a).toMatchObject({ cell: 'transfer:*', samples: 0 });
    expect(a.posterior.alpha).toBeCloseTo(1 + k * 0.85, 10);
    expect(a.posterior.beta).toBeCloseTo(1 + k * 0.15, 10);
    // One failure in music: under the cell's own count, and not in the prior (which is from the
    // other domains). It does enter a's forecast for books and games, (1 + 8) / 13 and 10 / 13.
    agree.record('a', outcome(false, 50, 'music'));
    const sse = (10 / 12 - 9 / 13) ** 2 + (9 / 12 - 10 / 13) ** 2 + 2 * (1 / 12) ** 2;
    const skill2 = 1 - sse / 4 / (37 / 144 / 2);
    expect(agree.rootSkill()).toBeCloseTo(skill2, 12);
    const k2 = 20 * skill2;
    const after = agree.view('a', ctx('music'));
    expect(after).toMatchObject({ cell: 'transfer:*', samples: 1 });
    expect(after.posterior.alpha).toBeCloseTo(1 + k2 * 0.85, 10);
    expect(after.posterior.beta).toBeCloseTo(1 + k2 * 0.15 + 1, 10);
  });

  it('discount γ shrinks older counts', () => {
    const l = new ArmLearner(params({ discount: 0.5, changeThreshold: 0 }));
    for (let i = 0; i < 3; i++) l.record('a', outcome(true, i));
    // 1 + 0.25 + 0.5 + 1 = 2.75 in the exact cell.
    expect(l.view('a', ctx('d')).posterior.alpha).toBeCloseTo(1 + 1.75, 10);
    const flat = new ArmLearner(params({ discount: 1 }));
    for (let i = 0; i < 3; i++) flat.record('a', outcome(true, i));
    expect(flat.view('a', ctx('d')).posterior.alpha).toBe(4);
  });

  it('prior sets the starting posterior', () => {
    const l = new ArmLearner(params({ prior: { alpha: 3, beta: 1 } }));
    expect(l.view('x', ctx('d')).posterior).toEqual({ alpha: 3, beta: 1 });
  });

  it('retention drops old outcomes and rebuilds the counts', () => {
    const l = new ArmLearner(params({ retentionDays: 1, minSamples: 1 }));
    l.record('a', outcome(false, 0));
    l.record('a', outcome(true, 2 * DAY));
    expect(l.prune(2 * DAY + 1)).toBe(1);
    expect(l.outcomes('a')).toHaveLength(1);
    expect(l.view('a', ctx('d')).posterior).toEqual({ alpha: 2, beta: 1 });
    const longer = new ArmLearner(params({ retentionDays: 5, minSamples: 1 }));
    longer.record('a', outcome(false, 0));
    expect(longer.prune(2 * DAY)).toBe(0);
  });

  it('change detection restarts a cell after an abrupt drop; threshold 0 turns it off', () => {
    const run = (changeThreshold: number) => {
      const l = new ArmLearner(params({ changeThreshold, minSamples: 1 }));
      for (let i = 0; i < 200; i++) l.record('a', outcome(true, i));
      for (let i = 0; i < 30; i++) l.record('a', outcome(false, 200 + i));
      return l.view('a', ctx('d')).samples;
    };
    expect(run(10)).toBeLessThan(30);
    expect(run(0)).toBe(230);
  });

  it('changeDelta sets the shift looked for: a larger one is detected later', () => {
    const failuresToDetect = (changeDelta: number) => {
      const l = new ArmLearner(params({ changeDelta, changeThreshold: 9, minSamples: 1 }));
      for (let i = 0; i < 200; i++) l.record('a', outcome(true, i));
      for (let k = 1; k <= 100; k++) {
        l.record('a', outcome(false, 200 + k));
        if (l.view('a', ctx('d')).samples < 200) return k;
      }
      return Infinity;
    };
    // CUSUM S⁻ grows by μ0 − δ/2 per failure (μ0 ≈ 1): past 9 after 10 failures at δ = 0.08.
    expect(failuresToDetect(0.08)).toBe(10);
    expect(failuresToDetect(0.5)).toBe(13);
  });

  it('after a change: the leader dropping restarts the cell; the leader rising or another arm dropping does not', () => {
    const trained = () => {
      const l = new ArmLearner(params({ minSamples: 1 }));
      for (let i = 0; i < 100; i++) {
        l.record('lead', outcome(i % 10 !== 0, 2 * i)); // 0.9
        l.record('other', outcome(i % 2 === 0, 2 * i + 1)); // 0.5
      }
      return l;
    };
    const samples = (l: ArmLearner) => [l.view('lead', ctx('d')).samples, l.view('other', ctx('d')).samples];
    // The leader drops: every arm of the cell restarts.
    const dropLead = trained();
    for (let i = 0; i < 30; i++) dropLead.record('lead', outcome(false, 300 + i));
    expect(samples(dropLead)[1]).toBe(0);
    expect(samples(dropLead)[0]).toBeLessThan(30);
    // Another arm drops: only it restarts.
    const dropOther = trained();
    for (let i = 0; i < 30; i++) dropOther.record('other', outcome(false, 300 + i));
    expect(samples(dropOther)[0]).toBe(100);
    expect(samples(dropOther)[1]).toBeLessThan(30);
    // Another arm rises: every arm restarts.
    const riseOther = trained();
    for (let i = 0; i < 30; i++) riseOther.record('other', outcome(true, 300 + i));
    expect(samples(riseOther)[0]).toBe(0);
    // The leader (0.5 over 0.2) rises: nothing restarts.
    const l = new ArmLearner(params({ minSamples: 1 }));
    for (let i = 0; i < 100; i++) {
      l.record('lead', outcome(i % 2 === 0, 2 * i));
      l.record('other', outcome(i % 5 === 0, 2 * i + 1));
    }
    for (let i = 0; i < 60; i++) l.record('lead', outcome(true, 300 + i));
    expect(samples(l)).toEqual([160, 100]);
  });

  it('transfer: a new cell starts from the most similar known cell, scaled by similarity and capped', () => {
    const make = (patch: Partial<LearningParams>) => {
      const l = new ArmLearner(params({ minSamples: 5, ...patch }));
      for (let i = 0; i < 100; i++)
        l.record('a', {
          at: i,
          success: i % 10 !== 0,
          latencyMs: 1,
          context: { domain: 'shop.books', agentType: 'g' },
        });
      return l;
    };
    const target = { domain: 'shop.books', agentType: 'h' }; // similarity 0.8 (agent type differs)
    const v = make({ similarityThreshold: 0.7, transferCap: 50 }).view('a', target);
    expect(v.cell).toBe('transfer:shop.books|g');
    expect(v.posterior.alpha).toBeCloseTo(1 + 50 * 0.8 * 0.9, 10);
    expect(v.posterior.beta).toBeCloseTo(1 + 50 * 0.8 * 0.1, 10);
    const capped = make({ similarityThreshold: 0.7, transferCap: 10 }).view('a', target);
    expect(capped.posterior.alpha).toBeCloseTo(1 + 10 * 0.8 * 0.9, 10);
    // Above the threshold: no transfer, the parent cell is used.
    expect(make({ similarityThreshold: 0.9 }).view('a', target).cell).toBe('shop.books|*');
  });

  it('gradient bandit preferences follow Sutton & Barto eq. 2.12', () => {
    const l = new ArmLearner(params({ algorithm: 'adaptive_gradient', learningRate: 0.5, minSamples: 1 }));
    l.record('a', outcome(true));
    // First outcome: only arm a, π(a) = 1: no change; baseline 1.
    expect(l.gradientCell(cellPath(ctx('d'))).prefs.get('a')).toBe(0);
    l.record('b', outcome(false, 1));
    // b joins at 0; π = (0.5, 0.5); R − R̄ = −1: H(b) = 0 + 0.5·(−1)·(1 − 0.5), H(a) = 0 − 0.5·(−1)·0.5.
    const prefs = l.gradientCell(cellPath(ctx('d'))).prefs;
    expect(prefs.get('b')).toBeCloseTo(-0.25, 12);
    expect(prefs.get('a')).toBeCloseTo(0.25, 12);
  });
});

describe('decide', () => {
  function trained(patch: Partial<LearningParams> = {}) {
    const l = new ArmLearner(params({ minSamples: 1, ...patch }));
    for (let i = 0; i < 200; i++) {
      l.record('good', outcome(i % 10 !== 0, i));
      l.record('bad', outcome(i % 2 === 0, i));
    }
    return l;
  }

  it('exploits once P(best) reaches the convergence threshold; threshold 1 keeps sampling', () => {
    const r = seededRandom(3);
    const d = decide(trained(), ['good', 'bad'], ctx('d'), r);
    expect(d.rule).toBe('exploit');
    expect(d.chosen).toBe('good');
    expect(d.pBest).toBeGreaterThanOrEqual(0.95);
    const sampling = decide(trained({ convergenceThreshold: 1 }), ['good', 'bad'], ctx('d'), r);
    expect(sampling.rule).toBe('thompson');
    expect(Object.keys(sampling.sampled!)).toEqual(['good', 'bad']);
  });

  it('the exploration floor picks uniformly at its rate', () => {
    const l = trained({ explorationRate: 0.5 });
    const r = seededRandom(9);
    const rules = Array.from({ length: 2000 }, () => decide(l, ['good', 'bad'], ctx('d'), r));
    const explored = rules.filter((d) => d.rule === 'explore');
    expect(explored.length / 2000).toBeCloseTo(0.5, 1);
    expect(explored.filter((d) => d.chosen === 'bad').length / explored.length).toBeCloseTo(0.5, 1);
    const none = trained({ explorationRate: 0 });
    expect(Array.from({ length: 200 }, () => decide(none, ['good', 'bad'], ctx('d'), r).rule)).not.toContain(
      'explore',
    );
  });

  it('Thompson sampling prefers the arm with the better posterior, in proportion to P(best)', () => {
    const l = new ArmLearner(params({ minSamples: 1, convergenceThreshold: 1 }));
    for (let i = 0; i < 4; i++) {
      l.record('x', outcome(i < 3, i));
      l.record('y', outcome(i < 1, i));
    }
    const r = seededRandom(5);
    const picks = Array.from({ length: 4000 }, () => decide(l, ['x', 'y'], ctx('d'), r).chosen);
    const share = picks.filter((p) => p === 'x').length / 4000;
    // P(Beta(4,2) > Beta(2,4)) = ∫ 20x³(1−x) · (1 − (1−x)⁵ − 5x(1−x)⁴) dx, numerically.
    let exact = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = (i + 0.5) / 10_000;
      exact += (20 * x ** 3 * (1 - x) * (1 - (1 - x) ** 5 - 5 * x * (1 - x) ** 4)) / 10_000;
    }
    expect(Math.abs(share - exact)).toBeLessThan(0.02);
  });

  it('P(best) by sampling is reproducible from the seed and bounded by the pairwise test', () => {
    const l = trained();
    const views = ['good', 'bad'].map((a) => l.view(a, ctx('d')));
    expect(probabilityBest(views[0]!, views, 0.95, seededRandom(1))).toBe(
      probabilityBest(views[0]!, views, 0.95, seededRandom(1)),
    );
    const close = new ArmLearner(params({ minSamples: 1 }));
    close.record('p', outcome(true));
    close.record('q', outcome(false));
    const cv = ['p', 'q'].map((a) => close.view(a, ctx('d')));
    expect(probabilityBest(cv[0]!, cv, 0.95, seededRandom(1))).toBeLessThan(0.95);
  });

  it('adaptive_gradient draws from the softmax of preferences', () => {
    const l = trained({ algorithm: 'adaptive_gradient', learningRate: 0.1 });
    const r = seededRandom(2);
    const d = decide(l, ['good', 'bad'], ctx('d'), r);
    expect(d.rule).toBe('gradient');
    expect(d.probabilities!.good! + d.probabilities!.bad!).toBeCloseTo(1, 12);
    expect(d.probabilities!.good).toBeGreaterThan(0.9);
  });

  it('one eligible arm is chosen with rule only; none throws', () => {
    expect(decide(trained(), ['bad'], ctx('d'), seededRandom(1)).rule).toBe('only');
    expect(() => decide(trained(), [], ctx('d'), seededRandom(1))).toThrow(RangeError);
  });
});
