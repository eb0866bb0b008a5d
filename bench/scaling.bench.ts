/**
 * Scaling benchmarks: the cost per task (parallel, maxConcurrent 8) and per step (sequential)
 * as the pattern grows, each beside the hand-written XState machine doing the same work in the
 * same run (one promise actor per step, finished children stopped). The cost per item should
 * not grow with the pattern: the `vs 100` / `vs 10` notes give the per-item CPU cost at that
 * size over the smallest size's. Then one 100,000-task run with maxConcurrent 100, with the heap
 * it leaves (its RunResult, 100,000 step reports, kept) and the growth of peak RSS.
 *
 * Runs alternate ours and the baseline (after one warm-up each) so both see the same load;
 * costs are CPU time of this process per item.
 */
import { lib } from './lib.js';
import { runHandFanOut, runHandSequential } from './baselines.js';
import { against, type Row } from './measure.js';

const {
  defineAgent,
  ParallelCoordinationPattern,
  PatternExecutor,
  PatternRegistry,
  SequentialDelegationPattern,
} = lib;

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** An executor with one no-op agent able to do `capabilities`. */
function executorFor(capabilities: string[]) {
  const registry = new PatternRegistry();
  const executor = new PatternExecutor(registry, {
    agents: [defineAgent({ id: 'noop', capabilities, maxConcurrent: 1_000_000, handler: () => 1 })],
  });
  return { registry, executor };
}

interface Side {
  name: string;
  op: () => Promise<unknown>;
  cpuUs: number;
  wallMs: number;
  runs: number;
}

async function timeOnce(side: Side): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await side.op();
  const cpu = process.cpuUsage(cpu0);
  side.wallMs += performance.now() - t0;
  side.cpuUs += cpu.user + cpu.system;
  side.runs += 1;
}

/** Alternating runs of both sides for about `budgetItems` items each; rows with µs per item. */
async function scalingPair(
  items: number,
  unit: string,
  baseline: Side,
  ours: Side,
  budgetItems: number,
): Promise<[Row, Row]> {
  await baseline.op();
  await ours.op();
  const repeats = Math.max(2, Math.round(budgetItems / items));
  for (let i = 0; i < repeats; i++) for (const side of [baseline, ours]) await timeOnce(side);
  const row = (side: Side): Row => ({
    name: side.name,
    opsPerSec: Math.round((side.runs / side.wallMs) * 1000 * 100) / 100,
    opsPerCpuSec: Math.round((side.runs / (side.cpuUs / 1e6)) * 100) / 100,
    p50Ms: 0,
    p99Ms: 0,
    note: `${(side.cpuUs / side.runs / items).toFixed(1)} µs CPU per ${unit}`,
  });
  return [row(baseline), against(row(ours), row(baseline))];
}

const perItemUs = (row: Row, items: number) => 1e6 / (row.opsPerCpuSec ?? 1) / items;

/** Adds `(×k vs <smallest>)` to each row's note: per-item cost over the smallest size's. */
function growth(rows: [Row, Row][], sizes: readonly number[]): Row[] {
  const base = rows[0] as [Row, Row];
  return rows.flatMap((pair, k) =>
    pair.map((r, side) => {
      const ratio = perItemUs(r, sizes[k] as number) / perItemUs(base[side] as Row, sizes[0] as number);
      return { ...r, note: `${r.note ?? ''} (${ratio.toFixed(2)}× vs ${sizes[0]})` };
    }),
  );
}

/** Parallel 100 / 1k / 10k tasks (maxConcurrent 8), sequential 10 / 100 / 1,000 steps, and the 100k-task run. */
export async function runScalingBench(budgetItems = 20_000): Promise<Row[]> {
  const rows: Row[] = [];
  const parallelSizes = [100, 1_000, 10_000];
  const parallel: [Row, Row][] = [];
  for (const n of parallelSizes) {
    const tasks = names('task', n);
    const { registry, executor } = executorFor(tasks);
    registry.registerPattern(new ParallelCoordinationPattern({ name: 'fan', tasks, maxConcurrent: 8 }));
    parallel.push(
      await scalingPair(
        n,
        'task',
        {
          name: `hand-written XState: fan-out ${n} (max 8)`,
          op: () => runHandFanOut(n, 8),
          cpuUs: 0,
          wallMs: 0,
          runs: 0,
        },
        {
          name: `natural-delegation: fan-out ${n} (max 8)`,
          op: () => executor.run('fan'),
          cpuUs: 0,
          wallMs: 0,
          runs: 0,
        },
        budgetItems,
      ),
    );
    await executor.close();
  }
  rows.push(...growth(parallel, parallelSizes));

  const sequentialSizes = [10, 100, 1_000];
  const sequential: [Row, Row][] = [];
  for (const n of sequentialSizes) {
    const steps = names('step', n);
    const { registry, executor } = executorFor(steps);
    registry.registerPattern(new SequentialDelegationPattern({ name: 'seq', steps }));
    sequential.push(
      await scalingPair(
        n,
        'step',
        {
          name: `hand-written XState: sequential ${n} steps`,
          op: () => runHandSequential(n),
          cpuUs: 0,
          wallMs: 0,
          runs: 0,
        },
        {
          name: `natural-delegation: sequential ${n} steps`,
          op: () => executor.run('seq'),
          cpuUs: 0,
          wallMs: 0,
          runs: 0,
        },
        budgetItems / 2,
      ),
    );
    await executor.close();
  }
  rows.push(...growth(sequential, sequentialSizes));
  rows.push(...(await hundredThousand()));
  return rows;
}

/** One 100,000-task run (maxConcurrent 100) of each side: CPU per task, heap kept, peak RSS growth. */
async function hundredThousand(): Promise<Row[]> {
  const n = 100_000;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc)
    throw new Error('run with --expose-gc (npm run bench does) to measure the heap of the 100k-task run');
  const tasks = names('task', n);
  const { registry, executor } = executorFor(tasks);
  registry.registerPattern(new ParallelCoordinationPattern({ name: 'fan100k', tasks, maxConcurrent: 100 }));
  const measure = async (name: string, op: () => Promise<unknown>): Promise<Row> => {
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.resourceUsage().maxRSS;
    const side: Side = { name, op, cpuUs: 0, wallMs: 0, runs: 0 };
    let kept: unknown;
    side.op = async () => (kept = await op());
    await timeOnce(side);
    gc();
    const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    const rssMb = (process.resourceUsage().maxRSS - rss0) / 1024;
    const status = (kept as { status?: string } | undefined)?.status ?? 'done';
    return {
      name,
      opsPerSec: Math.round((1000 / side.wallMs) * 1000) / 1000,
      opsPerCpuSec: Math.round((1 / (side.cpuUs / 1e6)) * 1000) / 1000,
      p50Ms: 0,
      p99Ms: 0,
      note: `${status}; ${(side.cpuUs / n).toFixed(1)} µs CPU per task; heap kept ${heapMb.toFixed(1)} MB; peak RSS +${rssMb.toFixed(0)} MB`,
    };
  };
  const hand = await measure(`hand-written XState: fan-out ${n} (max 100)`, () => runHandFanOut(n, 100));
  const ours = await measure(`natural-delegation: fan-out ${n} (max 100)`, () => executor.run('fan100k'));
  await executor.close();
  return [hand, against(ours, hand)];
}
