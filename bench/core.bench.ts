/**
 * Core benchmarks (not timed tests): a sequential 10-step pattern and a parallel 100-task
 * fan-out with maxConcurrent 8, on no-op local agents, each next to a hand-written XState
 * machine doing the same work in the same run; and heap per parked in-flight run.
 *
 * Run through `npm run bench` (it compiles the library to bench/.lib first).
 */
import { createActor, fromPromise } from 'xstate';
import { lib } from './lib.js';
import { handSequential, runHandFanOut, runHandSequential } from './baselines.js';
import { measurePair, type Row } from './measure.js';

const {
  defineAgent,
  ParallelCoordinationPattern,
  PatternExecutor,
  PatternRegistry,
  SequentialDelegationPattern,
} = lib;

const STEPS = Array.from({ length: 10 }, (_, i) => `step${i}`);
const TASKS = Array.from({ length: 100 }, (_, i) => `task${i}`);

function runtime(handler: () => unknown = () => 1) {
  const registry = new PatternRegistry();
  const executor = new PatternExecutor(registry, {
    agents: [
      defineAgent({ id: 'noop', capabilities: [...STEPS, ...TASKS], maxConcurrent: 1_000_000, handler }),
    ],
  });
  registry.registerPattern(new SequentialDelegationPattern({ name: 'seq10', steps: STEPS }));
  registry.registerPattern(
    new ParallelCoordinationPattern({ name: 'fan100', tasks: TASKS, maxConcurrent: 8 }),
  );
  return { registry, executor };
}

async function heapPerParkedRun(
  count: number,
  start: (release: Promise<void>) => Promise<unknown>,
): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (npm run bench does) to measure heap per parked run');
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  gc();
  const before = process.memoryUsage().heapUsed;
  const runs: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) runs.push(start(gate));
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const after = process.memoryUsage().heapUsed;
  release();
  await Promise.all(runs);
  return (after - before) / count;
}

/** Runs the core benchmarks; `durationMs` per measurement. */
export async function runCoreBench(durationMs = 3000): Promise<Row[]> {
  const { executor } = runtime();
  const rows: Row[] = [];
  rows.push(
    ...(await measurePair(
      {
        baseline: 'hand-written XState: sequential 10 steps',
        ours: 'natural-delegation: sequential 10 steps',
      },
      durationMs,
      () => runHandSequential(10),
      () => executor.run('seq10'),
    )),
    ...(await measurePair(
      {
        baseline: 'hand-written XState: fan-out 100 (max 8)',
        ours: 'natural-delegation: fan-out 100 (max 8)',
      },
      durationMs,
      () => runHandFanOut(100, 8),
      () => executor.run('fan100'),
    )),
  );

  const N = 10_000;
  const parked = runtime();
  let gate: Promise<void> = Promise.resolve();
  const parkedExec = new PatternExecutor(parked.registry, {
    agents: [
      defineAgent({ id: 'parked', capabilities: STEPS, maxConcurrent: 1_000_000, handler: () => gate }),
    ],
  });
  const ours = await heapPerParkedRun(N, (g) => {
    gate = g;
    return parkedExec.run('seq10');
  });
  const handParked = handSequential.provide({
    actors: {
      work: fromPromise(async () => {
        await gate;
        return 0;
      }),
    },
  });
  const hand = await heapPerParkedRun(N, (g) => {
    gate = g;
    return new Promise((resolve) =>
      createActor(handParked, { input: { n: 10 } })
        .start()
        .subscribe({ complete: () => resolve(undefined) }),
    );
  });
  rows.push(
    {
      name: `hand-written XState: heap per parked run (${N} in flight)`,
      opsPerSec: 0,
      p50Ms: 0,
      p99Ms: 0,
      note: `${(hand / 1024).toFixed(1)} KB`,
    },
    {
      name: `natural-delegation: heap per parked run (${N} in flight)`,
      opsPerSec: 0,
      p50Ms: 0,
      p99Ms: 0,
      note: `${(ours / 1024).toFixed(1)} KB`,
      baseline: 'hand-written XState: heap per parked run',
      ratio: Math.round((ours / hand) * 100) / 100,
    },
  );
  await executor.close();
  await parkedExec.close();
  return rows;
}
