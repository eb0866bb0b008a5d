/**
 * `npm run bench:abtest` (`tsx bench/abtest.bench.ts`): DelegBench S5, always-valid A/B tests.
 *
 * 1. The statistic (bench/abtestSimulation.ts, seeded): A/A (0.7 vs 0.7) and A/B (0.7 vs 0.8),
 *    results read after every 20 outcomes per arm up to 2,000 per arm, 1,000 repetitions each:
 *    the mSPRT of src/learning/abtest beside the naive rule it replaces (a Beta posterior
 *    probability "treatment better > 0.95" checked at every read, one- and two-sided).
 *    Targets: A/A false-positive rate ≤ 5%, A/B power ≥ 80% within 2,000 per arm.
 * 2. A smaller run through the public API: `ABTester` over a `PatternExecutor` whose agents
 *    succeed with the arms' probabilities (seeded; the agents' circuit breakers are set never to
 *    open, so an arm's rate is its handler's), traffic split 0.5 by the injected random,
 *    `getResults()` read after every outcome.
 *
 * AB_BENCH_REPS (default 1000) and AB_BENCH_API_REPS (default 50) change the repetitions.
 */
import Table from 'cli-table3';
import { defineAgent } from '../src/actors/agent.js';
import { AgentError } from '../src/core/errors.js';
import { createLogger } from '../src/core/logger.js';
import { ABTester } from '../src/runtime/abtest/ABTester.js';
import { PatternExecutor } from '../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../src/runtime/patterns/index.js';
import { simulatedClock } from '../src/testing.js';
import { seededRandom, simulate, simulateLatency, type RuleSummary } from './abtestSimulation.js';

const reps = Number(process.env['AB_BENCH_REPS'] ?? 1000);
const apiReps = Number(process.env['AB_BENCH_API_REPS'] ?? 50);
const started = performance.now();

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const stop = (s: RuleSummary) => (Number.isNaN(s.meanStopPerArm) ? '' : s.meanStopPerArm.toFixed(0));

const scenarios = [
  { label: 'balanced, read every 20 per arm (S5)', lookEvery: 20, trafficSplit: undefined },
  { label: 'balanced, read after every outcome', lookEvery: 1, trafficSplit: undefined },
  { label: 'split 0.2, read every 40 outcomes', lookEvery: 20, trafficSplit: 0.2 },
] as const;
const simTable = new Table({
  style: { head: [], border: [] },
  head: [
    'rule',
    'reads (≤ 2,000 per arm)',
    'A/A false positives',
    'A/B power',
    'A/B wrong winner',
    'A/B mean stop (per arm)',
    'CI coverage A/A, A/B',
  ],
});
let s5: { fpr: number; power: number } | undefined;
for (const [i, sc] of scenarios.entries()) {
  const common = { maxPerArm: 2000, repetitions: reps, alpha: 0.05, lookEvery: sc.lookEvery };
  const split = sc.trafficSplit === undefined ? {} : { trafficSplit: sc.trafficSplit };
  const aa = simulate({ ...common, ...split, pControl: 0.7, pTreatment: 0.7, seed: 20261204 + 2 * i });
  const ab = simulate({ ...common, ...split, pControl: 0.7, pTreatment: 0.8, seed: 20261205 + 2 * i });
  s5 ??= { fpr: aa.msprt.declaredRate, power: ab.msprt.treatmentWins / reps };
  const rows = [
    [
      'mSPRT, always-valid p ≤ 0.05 (ours)',
      aa.msprt,
      ab.msprt,
      `${pct(aa.intervalCoverage)}, ${pct(ab.intervalCoverage)}`,
    ],
    ['naive: P(T better) > 0.95 at every read', aa.naiveOneSided, ab.naiveOneSided, ''],
    ['naive two-sided: P(either better) > 0.975', aa.naiveTwoSided, ab.naiveTwoSided, ''],
  ] as const;
  for (const [label, a, b, coverage] of rows) {
    simTable.push([
      label,
      sc.label,
      `${pct(a.declaredRate)} (${a.declared}/${reps})`,
      pct(b.treatmentWins / reps),
      String(b.declared - b.treatmentWins),
      stop(b),
      coverage,
    ]);
  }
}
console.log(`S5, the statistic: ${reps} repetitions per cell (seeded)`);
console.log(simTable.toString());
const fprOk = (s5?.fpr ?? 1) <= 0.05;
const powerOk = (s5?.power ?? 0) >= 0.8;
console.log(
  `S5 targets (first rows): A/A false positives ≤ 5%: ${fprOk ? 'met' : 'MISSED'} (${pct(s5?.fpr ?? NaN)}); A/B power ≥ 80% within 2,000 per arm: ${powerOk ? 'met' : 'MISSED'} (${pct(s5?.power ?? NaN)})`,
);

const latency = { mu: 4.5, sigma: 0.8, maxPerArm: 2000, lookEvery: 20, repetitions: reps, alpha: 0.05 };
const latencyAA = simulateLatency({ ...latency, treatmentFactor: 1, seed: 20261210 });
const latencyAB = simulateLatency({ ...latency, treatmentFactor: 0.9, seed: 20261211 });
const latencyTable = new Table({
  style: { head: [], border: [] },
  head: [
    'response_time, log-normal (median 90 ms, σ 0.8)',
    'A/A false positives',
    'A/B 10% faster: power',
    'wrong winner',
    'mean stop (per arm)',
  ],
});
latencyTable.push([
  'mSPRT (ours), read every 20 per arm, ≤ 2,000 per arm',
  `${pct(latencyAA.declaredRate)} (${latencyAA.declared}/${reps})`,
  pct(latencyAB.treatmentWins / reps),
  String(latencyAB.declared - latencyAB.treatmentWins),
  stop(latencyAB),
]);
console.log(latencyTable.toString());

/** One A/B test through the public API; returns whether and when (per-arm n) it decided. */
async function viaApi(pControl: number, pTreatment: number, maxPerArm: number, seed: number) {
  const clock = simulatedClock(0);
  const registry = new PatternRegistry({ clock });
  registry.registerPattern(new SequentialDelegationPattern('control', 'A', ['a']));
  registry.registerPattern(new SequentialDelegationPattern('treatment', 'B', ['b']));
  const random = seededRandom(seed);
  const agent = defineAgent({
    id: 'worker',
    capabilities: ['a', 'b'],
    handler: (task) => {
      if (random() < (task.step === 'a' ? pControl : pTreatment)) return 'ok';
      throw new AgentError('failed', { agentId: 'worker', step: task.step, retryable: false });
    },
  });
  const executor = new PatternExecutor(registry, {
    agents: [agent],
    clock,
    logger: createLogger('bench', 'silent'),
    breaker: { failureThreshold: 1_000_000, minimumThroughput: 1_000_000 },
  });
  const tester = new ABTester(registry, executor, { random: seededRandom(seed ^ 0x5bd1e995), clock });
  await tester.defineTest({ name: 's5', controlPattern: 'control', treatmentPattern: 'treatment' });
  for (;;) {
    await tester.execute('s5');
    const r = await tester.getResults('s5');
    if (r.decided) return { winner: r.winner, n: (r.control.n + r.treatment.n) / 2 };
    if (r.control.n >= maxPerArm && r.treatment.n >= maxPerArm) return { winner: undefined, n: maxPerArm };
    if (r.control.n + r.treatment.n > 4 * maxPerArm) return { winner: undefined, n: maxPerArm };
  }
}

const apiTable = new Table({
  style: { head: [], border: [] },
  head: [
    'through ABTester (read after every outcome)',
    'repetitions',
    'declared a winner',
    'treatment won',
    'mean stop (per arm)',
    'ms per run',
  ],
});
for (const [label, pT, maxPerArm] of [
  ['A/A 0.7 vs 0.7, ≤ 500 per arm', 0.7, 500],
  ['A/B 0.7 vs 0.8, ≤ 2,000 per arm', 0.8, 2000],
] as const) {
  let declared = 0;
  let treatmentWins = 0;
  let stops = 0;
  let runs = 0;
  const t0 = performance.now();
  for (let i = 0; i < apiReps; i++) {
    const r = await viaApi(0.7, pT, maxPerArm, 1000 + i);
    runs += 2 * r.n;
    if (r.winner !== undefined) {
      declared += 1;
      stops += r.n;
      if (r.winner === 'treatment') treatmentWins += 1;
    }
  }
  const msPerRun = (performance.now() - t0) / runs;
  apiTable.push([
    label,
    String(apiReps),
    `${declared} (${pct(declared / apiReps)})`,
    String(treatmentWins),
    declared ? (stops / declared).toFixed(0) : '',
    msPerRun.toFixed(3),
  ]);
}
console.log(apiTable.toString());
console.log(
  `node ${process.version}; ${((performance.now() - started) / 1000).toFixed(1)} s in all; τ = 0.1 (the default), α = 0.05`,
);
process.exit(fprOk && powerOk ? 0 : 1);
