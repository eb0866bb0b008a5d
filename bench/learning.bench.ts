/**
 * DelegBench: the learning layer against greedy (the rule before it), ε-greedy 0.1 and UCB1, on
 * the scenarios, averaged over seeds with 95% intervals; then decision latency.
 *
 *   npm run bench:learning                                  # seeds 1–200 (the published figures)
 *   npm run bench:learning -- --seeds 50                    # faster, wider intervals
 *   npm run bench:learning -- --first-seed 1001 --seeds 400 # held-out seeds, to choose knobs on
 *
 * Accuracy = share of decisions that chose the true best agent of the context at that time.
 */
import Table from 'cli-table3';
import {
  PatternExecutor,
  PatternRegistry,
  SequentialDelegationPattern,
  ArmLearner,
  decide,
  defaultLearningParams,
  seededRandom,
} from '../src/index.js';
import { epsilonGreedy, greedy, learned, ucb1, type Policy } from './learningPolicies.js';
import {
  newDomain,
  seedRange,
  stationaryOrDrift,
  summary,
  transfer,
  type Accuracy,
} from './learningScenarios.js';

const { first: FIRST_SEED, count: SEEDS } = seedRange(process.argv);
const LAST_SEED = FIRST_SEED + SEEDS - 1;

const policies: [string, (seed: number) => Policy][] = [
  ['Thompson + CUSUM (default)', (s) => learned(s)],
  [
    'gradient bandit (adaptive_gradient)',
    (s) => learned(s, { algorithm: 'adaptive_gradient', learningRate: 0.1 }),
  ],
  ['Thompson, discount γ=0.995, no CUSUM', (s) => learned(s, { discount: 0.995, changeThreshold: 0 })],
  ['greedy (before)', () => greedy()],
  ['ε-greedy 0.1', (s) => epsilonGreedy(s)],
  ['UCB1', () => ucb1()],
];

const started = Date.now();
const table = new Table({
  head: ['policy', 'S1 all', 'S1 last 20%', 'S2 last 20%', 'S3 all', 'S3 last 20%', 'S4 first 100'],
});
for (const [name, make] of policies) {
  const s1: Accuracy[] = [];
  const s2: Accuracy[] = [];
  const s3: Accuracy[] = [];
  const s4: number[] = [];
  for (let seed = FIRST_SEED; seed <= LAST_SEED; seed++) {
    s1.push(stationaryOrDrift(make(seed), seed, 4000, 'stationary'));
    s2.push(stationaryOrDrift(make(seed), seed, 6000, 'abrupt'));
    s3.push(stationaryOrDrift(make(seed), seed, 4000, 'gradual'));
    s4.push(transfer(() => make(seed), seed, 'trained'));
  }
  table.push([
    name,
    summary(s1.map((a) => a.overall)),
    summary(s1.map((a) => a.last20)),
    summary(s2.map((a) => a.last20)),
    summary(s3.map((a) => a.overall)),
    summary(s3.map((a) => a.last20)),
    summary(s4),
  ]);
}
const s4rows = new Table({ head: ['S4 new cell (books, mobile), first 100 decisions', 'accuracy'] });
const variants: [string, (seed: number) => number][] = [
  [
    'transfer: prior from the most similar cell (similarity 0.8)',
    (s) => transfer(() => learned(s), s, 'trained'),
  ],
  [
    'hierarchy only (similarity threshold 1: parent cell books|*)',
    (s) => transfer(() => learned(s, { similarityThreshold: 1 }), s, 'trained'),
  ],
  ['cold start (nothing learned before)', (s) => transfer(() => learned(s), s, 'cold')],
];
for (const [name, run] of variants) {
  const xs: number[] = [];
  for (let seed = FIRST_SEED; seed <= LAST_SEED; seed++) xs.push(run(seed));
  s4rows.push([name, summary(xs)]);
}

const s4bRows = new Table({
  head: ['S4b new domain (news, web), first 100 decisions, default policy', 'accuracy'],
});
for (const [name, agree] of [
  ['domains agree (rates one permutation ± 0.03): the catch-all * predicts', true],
  ['domains disagree (a permutation each): it does not', false],
] as const) {
  const xs: number[] = [];
  for (let seed = FIRST_SEED; seed <= LAST_SEED; seed++) xs.push(newDomain(() => learned(seed), seed, agree));
  s4bRows.push([name, summary(xs)]);
}

console.log(
  `DelegBench: seeds ${FIRST_SEED}–${LAST_SEED}, mean ± 95% interval (targets: S1 ≥ 88% / ≥ 96% last 20%, S2 ≥ 85% last 20%, S4 ≥ 80%)`,
);
console.log(table.toString());
console.log(s4rows.toString());
console.log(s4bRows.toString());

/** p50 / p99 of `n` timed calls, ms. */
function latency(n: number, call: (i: number) => void): { p50: number; p99: number } {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    call(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n * 0.5)]!, p99: times[Math.floor(n * 0.99)]! };
}

const lat = new Table({ head: ['decision', 'size', 'p50 ms', 'p99 ms', 'target p99'] });
for (const size of [10, 100]) {
  const l = new ArmLearner(defaultLearningParams);
  const arms = Array.from({ length: size }, (_, i) => `agent${i}`);
  const r = seededRandom(5);
  const ctx = { domain: 'books', agentType: 'web' };
  for (let t = 0; t < size * 50; t++)
    l.record(arms[t % size]!, {
      at: t,
      success: r() < 0.3 + (t % size) / (size * 2),
      latencyMs: 1,
      context: ctx,
    });
  const x = latency(20_000, () => decide(l, arms, ctx, r));
  lat.push([
    'agent selection (decide)',
    `${size} agents`,
    x.p50.toFixed(4),
    x.p99.toFixed(4),
    size === 100 ? '≤ 1' : '',
  ]);
}
for (const size of [10, 1000, 10_000]) {
  const registry = new PatternRegistry();
  for (let i = 0; i < size; i++)
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: `p${i}`,
        steps: ['work', `step${i % 50}`],
        domains: [`dom${i % 1000}.*`],
      }),
    );
  const executor = new PatternExecutor(registry, { random: seededRandom(9) });
  const x = latency(5_000, (i) => executor.selectPattern({ domain: `dom${i % 1000}.sub` }));
  lat.push([
    'pattern selection (selectPattern)',
    `${size} patterns`,
    x.p50.toFixed(4),
    x.p99.toFixed(4),
    size === 10_000 ? '≤ 1' : '',
  ]);
  const y = latency(size >= 10_000 ? 300 : 2_000, (i) =>
    registry.findSimilarPatterns({ domain: `dom${i % 1000}.sub` }),
  );
  lat.push([
    'findSimilarPatterns',
    `${size} patterns`,
    y.p50.toFixed(4),
    y.p99.toFixed(4),
    size === 10_000 ? '≤ 5' : '',
  ]);
  await executor.close();
}
console.log(lat.toString());
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
