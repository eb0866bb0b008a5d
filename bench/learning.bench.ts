/**
 * DelegBench: the learning layer against greedy (the rule before it), ε-greedy 0.1 and UCB1, on
 * the scenarios, averaged over seeds with 95% intervals; then decision latency.
 *
 *   npm run bench:learning               # 200 seeds
 *   npm run bench:learning -- --seeds 50 # faster, wider intervals
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
  type CellContext,
} from '../src/index.js';
import { epsilonGreedy, greedy, learned, ucb1, type Policy } from './learningPolicies.js';

const seedsArg = process.argv.indexOf('--seeds');
const SEEDS = seedsArg > 0 ? Number(process.argv[seedsArg + 1]) : 200;
if (!Number.isInteger(SEEDS) || SEEDS < 2)
  throw new Error(`--seeds must be an integer ≥ 2, got ${process.argv[seedsArg + 1]}`);

const RATES = [0.85, 0.75, 0.65, 0.55, 0.45];
const AGENTS = ['a0', 'a1', 'a2', 'a3', 'a4'];
const DOMAINS = ['books', 'music', 'games', 'films'];

type Random = () => number;
function permutation(r: Random): number[] {
  const a = [...RATES];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
const argmax = (xs: readonly number[]) => xs.indexOf(Math.max(...xs));

interface Accuracy {
  overall: number;
  last20: number;
}

/** S1 / S2 / S3 over `T` decisions, domains in turn. */
function stationaryOrDrift(
  policy: Policy,
  seed: number,
  T: number,
  kind: 'stationary' | 'abrupt' | 'gradual',
): Accuracy {
  const env = seededRandom(seed * 7919 + 13);
  let rates = DOMAINS.map(() => permutation(env));
  let logits = rates.map((rs) => rs.map((p) => Math.log(p / (1 - p))));
  let ok = 0;
  let okLast = 0;
  const from = Math.floor(T * 0.8);
  for (let t = 0; t < T; t++) {
    if (kind === 'abrupt' && (t === Math.floor(T / 3) || t === Math.floor((2 * T) / 3)))
      rates = DOMAINS.map(() => permutation(env));
    if (kind === 'gradual') {
      logits = logits.map((ls) => ls.map((l) => l + (env() < 0.5 ? -0.01 : 0.01)));
      rates = logits.map((ls) => ls.map((l) => 1 / (1 + Math.exp(-l))));
    }
    const d = t % DOMAINS.length;
    const ctx = { domain: DOMAINS[d]!, agentType: 'web' };
    const arm = policy.choose(ctx, AGENTS);
    const i = AGENTS.indexOf(arm);
    if (i === argmax(rates[d]!)) {
      ok += 1;
      if (t >= from) okLast += 1;
    }
    policy.update(ctx, arm, env() < rates[d]![i]!, t);
  }
  return { overall: ok / T, last20: okLast / (T - from) };
}

/**
 * S4: 2,000 decisions over the four domains (agent type `web`), then 100 in a new cell (`books`,
 * agent type `mobile`) whose rates are those of `books` ± 0.03: accuracy over those 100.
 */
function transfer(make: () => Policy, seed: number, mode: 'trained' | 'cold'): number {
  const env = seededRandom(seed * 104_729 + 7);
  const rates = DOMAINS.map(() => permutation(env));
  const policy = make();
  if (mode === 'trained') {
    for (let t = 0; t < 2000; t++) {
      const d = t % DOMAINS.length;
      const ctx = { domain: DOMAINS[d]!, agentType: 'web' };
      const arm = policy.choose(ctx, AGENTS);
      policy.update(ctx, arm, env() < rates[d]![AGENTS.indexOf(arm)]!, t);
    }
  }
  const near = rates[0]!.map((p) => p + (env() * 2 - 1) * 0.03);
  const best = argmax(near);
  const ctx: CellContext = { domain: 'books', agentType: 'mobile' };
  let ok = 0;
  for (let t = 0; t < 100; t++) {
    const arm = policy.choose(ctx, AGENTS);
    const i = AGENTS.indexOf(arm);
    if (i === best) ok += 1;
    policy.update(ctx, arm, env() < near[i]!, 2000 + t);
  }
  return ok / 100;
}

function summary(xs: readonly number[]): string {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
  const half = (1.96 * sd) / Math.sqrt(xs.length);
  return `${(mean * 100).toFixed(1)}% ± ${(half * 100).toFixed(1)}`;
}

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
  for (let seed = 1; seed <= SEEDS; seed++) {
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
  for (let seed = 1; seed <= SEEDS; seed++) xs.push(run(seed));
  s4rows.push([name, summary(xs)]);
}

console.log(
  `DelegBench: ${SEEDS} seeds, mean ± 95% interval (targets: S1 ≥ 88% / ≥ 96% last 20%, S2 ≥ 85% last 20%, S4 ≥ 80%)`,
);
console.log(table.toString());
console.log(s4rows.toString());

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
