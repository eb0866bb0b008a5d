/**
 * `npm run bench:durable` (W3 of the durable-runs issue): sequential patterns of 10 no-op local
 * steps, per second, in one run:
 *
 * - PatternExecutor without a store (runs in memory only);
 * - PatternExecutor with the embedded FileRunStore (a journal fact per dispatch and per outcome:
 *   survives SIGKILL), and with `fsync` per commit (survives power loss);
 * - the baseline: raw XState (a machine invoking 10 no-op promise actors in turn) persisting
 *   `actor.getPersistedSnapshot()` after every step into the same engine (a FileRunStore append,
 *   awaited), at the same two durability levels.
 *
 * Each with 1 and with 32 workflows in flight. Then: the time for `recover()` to resume 1,000
 * unfinished runs (5 of 10 steps done), and the journal's bytes per step.
 * BENCH_MS (default 2000) is the time per cell.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { assign, createActor, fromPromise, setup, type AnyActor } from 'xstate';
import { defineAgent } from '../src/actors/agent.js';
import { createLogger } from '../src/core/logger.js';
import { PatternExecutor } from '../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../src/runtime/patterns/index.js';
import { FileRunStore } from '../src/store/FileRunStore.js';
import type { RunStore } from '../src/store/RunStore.js';

const cellMs = Number(process.env['BENCH_MS'] ?? 2000);
const STEPS = 10;
const steps = Array.from({ length: STEPS }, (_, i) => `s${i}`);
const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'nd-durable-bench-'));
  dirs.push(dir);
  return dir;
};

/** Calls of the step that never answers (the recovery row's "crash" point). */
let hung = 0;

function executor(store: RunStore | undefined, hang = false): PatternExecutor {
  const registry = new PatternRegistry();
  registry.registerPattern(new SequentialDelegationPattern({ name: 'w3', steps }));
  return new PatternExecutor(registry, {
    agents: steps.map((s, i) =>
      defineAgent({
        id: s,
        capabilities: [s],
        maxConcurrent: 100_000,
        handler: () => {
          if (!hang || i !== 5) return { ok: i };
          hung += 1;
          return new Promise(() => undefined);
        },
      }),
    ),
    logger: createLogger('bench', 'silent'),
    ...(store ? { store } : {}),
  });
}

/** Raw XState: 10 invoked no-op promises in turn; after each, the persisted snapshot is appended to `store`. */
const rawTypes: { context: { i: number } } = { context: { i: 0 } };
const rawMachine = setup({
  types: rawTypes,
  actors: { step: fromPromise(async ({ input }: { input: number }) => ({ ok: input })) },
  guards: { more: ({ context }) => context.i < STEPS },
}).createMachine({
  context: { i: 0 },
  initial: 'running',
  states: {
    running: {
      invoke: {
        src: 'step',
        input: ({ context }) => context.i,
        onDone: { target: 'next', actions: assign({ i: ({ context }) => context.i + 1 }) },
      },
    },
    next: { always: [{ guard: 'more', target: 'running' }, { target: 'done' }] },
    done: { type: 'final' },
  },
});

let rawSeq = 0;
async function rawRun(store: RunStore): Promise<void> {
  const runId = `raw-${(rawSeq += 1)}`;
  let seq = 0;
  await store.append(runId, [{ kind: 'runStarted', pattern: 'raw', specHash: 'x', input: null }], {
    expectedSeq: seq++,
  });
  const actor: AnyActor = createActor(rawMachine);
  let chain = Promise.resolve();
  await new Promise<void>((resolve, reject) => {
    actor.subscribe({
      next: (snap) => {
        const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as null;
        const expectedSeq = seq++;
        chain = chain.then(() =>
          store
            .append(runId, [{ kind: 'signalReceived', signal: 'snapshot', payload: persisted }], {
              expectedSeq,
            })
            .then(() => undefined),
        );
        if (snap.status === 'done') void chain.then(resolve, reject);
      },
      error: reject,
    });
    actor.start();
  });
}

/** Workflows per second with `inFlight` at a time, over `cellMs`. */
async function rate(runOne: () => Promise<unknown>, inFlight: number): Promise<number> {
  const end = performance.now() + cellMs;
  const start = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await runOne();
        done += 1;
      }
    }),
  );
  return Math.round((done * 1000) / (performance.now() - start));
}

type Cell = {
  name: string;
  make: () => Promise<{ run: () => Promise<unknown>; close: () => Promise<void> }>;
};
const fileStore = (fsync: boolean) => FileRunStore.open({ dir: scratch(), fsync });
const cells: Cell[] = [
  {
    name: 'executor, no store',
    make: async () => {
      const ex = executor(undefined);
      return { run: () => ex.run('w3'), close: () => ex.close() };
    },
  },
  ...[false, true].flatMap((fsync): Cell[] => [
    {
      name: `executor + file journal${fsync ? ', fsync' : ''}`,
      make: async () => {
        const store = await fileStore(fsync);
        const ex = executor(store);
        return { run: () => ex.run('w3'), close: async () => (await ex.close(), await store.close()) };
      },
    },
    {
      name: `raw XState + snapshot per step${fsync ? ', fsync' : ''}`,
      make: async () => {
        const store = await fileStore(fsync);
        return { run: () => rawRun(store), close: () => store.close() };
      },
    },
  ]),
];

// warm-up: JIT and zod's parsers
for (const cell of cells) {
  const c = await cell.make();
  for (let i = 0; i < 50; i += 1) await c.run();
  await c.close();
}

const rows: Record<string, number[]> = {};
for (const inFlight of [1, 32]) {
  for (const cell of cells) {
    const c = await cell.make();
    (rows[cell.name] ??= []).push(await rate(c.run, inFlight));
    await c.close();
  }
}
const table = new Table({
  head: [
    'sequential 10 no-op steps',
    'wf/s, 1 in flight',
    'wf/s, 32 in flight',
    'vs raw XState at the same durability',
  ],
});
for (const cell of cells) {
  const [one, many] = rows[cell.name]!;
  const raw = cell.name.includes('fsync')
    ? rows['raw XState + snapshot per step, fsync']!
    : rows['raw XState + snapshot per step']!;
  const ratio = cell.name.startsWith('executor +')
    ? `${(one! / raw[0]!).toFixed(2)}× / ${(many! / raw[1]!).toFixed(2)}×`
    : '';
  table.push([cell.name, one!.toLocaleString('en'), many!.toLocaleString('en'), ratio]);
}
console.log(table.toString());

// Recovery: 1,000 unfinished runs (the 6th step never answers), resumed by a new executor.
const dir = scratch();
{
  const store = await FileRunStore.open({ dir });
  const ex = executor(store, true);
  for (let i = 0; i < 1000; i += 1) void ex.run('w3', {}, { runId: `u${i}`, timeoutMs: 600_000 });
  while (hung < 1000) await new Promise((r) => setTimeout(r, 20));
  await store.close(); // the "crash": the first executor's runs stay unfinished
}
const store = await FileRunStore.open({ dir });
const ex = executor(store);
const t0 = performance.now();
const recovered = await ex.recover();
const results = await Promise.all(recovered.map((r) => r.result));
const recoverMs = performance.now() - t0;
const ok = results.filter((r) => r.success).length;
const files = readdirSync(join(dir, 'runs')).filter((f) => f.endsWith('.ndj'));
const bytes = files.reduce((n, f) => n + statSync(join(dir, 'runs', f)).size, 0);
const facts = (await store.read('u0')).length;
await ex.close();
await store.close();
console.log(
  `recover(): ${recovered.length} unfinished runs resumed and finished (${ok} succeeded) in ${Math.round(recoverMs)} ms` +
    ` (${(recoverMs / recovered.length).toFixed(2)} ms per run)`,
);
console.log(
  `journal: ${Math.round(bytes / files.length)} bytes per 10-step run (${facts} facts), ${Math.round(bytes / files.length / STEPS)} bytes per step`,
);
console.log(`node ${process.version}; ${cellMs} ms per cell`);
for (const d of dirs) rmSync(d, { recursive: true, force: true });
