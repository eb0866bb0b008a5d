/**
 * `npm run bench:takeover`: how long the cluster takes to take over the runs of a killed worker,
 * against the lease TTL (the floor the design sets: a contender takes a lease once it has seen
 * it unchanged for the TTL, docs/scaling.md), for N = 10, 100 and 1,000 runs (SIZES).
 *
 * Per N, on a fresh private nats-server (file storage): worker process W1 (concurrency
 * max(N, 100), lease TTL LEASE_TTL_MS, default 2000) takes N submitted runs of `prep → hold →
 * finish`, whose `hold` step never ends on W1 (bench/takeoverWorkerProcess.ts), so all N are in
 * flight on it; W2 (same concurrency and TTL; its `hold` returns at once) is started; W1 is
 * SIGKILLed. From the kill: the first and the last run taken over (the first `runResumed` fact
 * after the kill in each run's journal, written by W2 once it holds the lease and has read the
 * journal) and the last run finished (its `runFinished` fact). Then, as a measure of the work
 * itself, W2 alone drives N fresh runs of the same pattern (submit → last `runFinished`).
 * Checks, or throws: all N were in flight on W1 at the kill, every run succeeded and finished
 * once, each was resumed after the kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import Table from 'cli-table3';
import { ClusterClient } from '../src/cluster/worker/ClusterClient.js';
import type { JournalEntry } from '../src/store/journal.js';
import { startNatsServer } from '../test/integration/natsServer.js';

const SIZES = (process.env['SIZES'] ?? '10,100,1000').split(',').map(Number);
const TTL = Number(process.env['LEASE_TTL_MS'] ?? 2000);
const workerFile = fileURLToPath(new URL('./takeoverWorkerProcess.ts', import.meta.url));

interface BenchWorker {
  readonly child: ChildProcess;
  /** Distinct runs whose `hold` step was dispatched on it. */
  readonly held: Set<string>;
  readonly ready: Promise<void>;
}

function startWorkerProcess(url: string, id: string, hold: boolean, concurrency: number): BenchWorker {
  const child = spawn(process.execPath, ['--import', 'tsx', workerFile], {
    env: {
      ...process.env,
      NATS_URL: url,
      WORKER_ID: id,
      HOLD: hold ? '1' : '0',
      CONCURRENCY: String(concurrency),
      LEASE_TTL_MS: String(TTL),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const held = new Set<string>();
  let buffer = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (buffer + chunk).split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready') resolve();
        else if (line.startsWith('held ')) held.add(line.slice(5));
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`worker ${id} exited (${code ?? signal})`)));
  });
  ready.catch(() => undefined);
  return { child, held, ready };
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `f` over `items`, `width` at a time. */
async function inBatches<T, R>(items: readonly T[], width: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width)
    out.push(...(await Promise.all(items.slice(i, i + width).map(f))));
  return out;
}

interface Row {
  runs: number;
  firstMs: number;
  lastMs: number;
  finishedMs: number;
  /** Handovers before the kill: leases W1 lost on this loaded machine (0 expected). */
  lostBefore: number;
  aloneMs: number;
}

async function round(n: number): Promise<Row> {
  const server = await startNatsServer({ control: true });
  const nc = await connect({ servers: server.url });
  const client = await ClusterClient.open({ connection: nc });
  const concurrency = Math.max(n, 100);
  const workers: BenchWorker[] = [];
  try {
    const w1 = startWorkerProcess(server.url, 'W1', true, concurrency);
    workers.push(w1);
    await w1.ready;
    const ids = Array.from({ length: n }, (_, i) => `t${n}-${i}`);
    await inBatches(ids, 50, (runId) => client.submitRun({ runId, pattern: 'held' }));
    await until(() => w1.held.size === n, 120_000, `all ${n} runs in flight on W1 (${w1.held.size})`);
    const w2 = startWorkerProcess(server.url, 'W2', false, concurrency);
    workers.push(w2);
    await w2.ready;
    const killedAt = Date.now();
    await kill(w1.child);

    const results = await inBatches(ids, 100, (id) =>
      client.waitForRun(id, { pollMs: 100, timeoutMs: 600_000 }),
    );
    const failed = results.filter((r) => r.status !== 'succeeded');
    if (failed.length > 0) throw new Error(`${failed.length} runs did not succeed: ${failed[0]?.status}`);
    const journals = await inBatches(ids, 50, (id) => client.store.read(id));
    const resumed: number[] = [];
    const finished: number[] = [];
    let lostBefore = 0;
    for (const [i, journal] of journals.entries()) {
      const ends = journal.filter(
        (e): e is Extract<JournalEntry, { kind: 'runFinished' }> => e.kind === 'runFinished',
      );
      if (ends.length !== 1) throw new Error(`run ${ids[i]} finished ${ends.length} times`);
      finished.push(ends[0]!.at - killedAt);
      const resumes = journal.filter((e) => e.kind === 'runResumed');
      lostBefore += resumes.filter((e) => e.at < killedAt).length;
      const after = resumes.find((e) => e.at >= killedAt);
      if (!after) throw new Error(`run ${ids[i]} was not resumed after the kill`);
      resumed.push(after.at - killedAt);
    }

    // The work itself: W2 alone drives N fresh runs of the same pattern.
    const fresh = ids.map((id) => `${id}-alone`);
    const t0 = Date.now();
    await inBatches(fresh, 50, (runId) => client.submitRun({ runId, pattern: 'held' }));
    const alone = await inBatches(fresh, 100, (id) =>
      client.waitForRun(id, { pollMs: 100, timeoutMs: 600_000 }),
    );
    if (alone.some((r) => r.status !== 'succeeded')) throw new Error('a run on W2 alone did not succeed');
    const aloneEnds = await inBatches(fresh, 50, async (id) => {
      const last = (await client.store.read(id)).at(-1);
      return last?.at ?? Number.NaN;
    });
    return {
      runs: n,
      firstMs: Math.min(...resumed),
      lastMs: Math.max(...resumed),
      finishedMs: Math.max(...finished),
      lostBefore,
      aloneMs: Math.max(...aloneEnds) - t0,
    };
  } finally {
    await Promise.all(workers.map((w) => kill(w.child)));
    await client.close();
    await nc.close();
    await server.stop();
  }
}

const loadBefore = loadavg()[0]!;
const rows: Row[] = [];
for (const n of SIZES) {
  rows.push(await round(n));
  console.error(`… ${n} runs done`);
}
const ratio = (ms: number) => `${(ms / TTL).toFixed(2)}×`;
const table = new Table({
  style: { head: [], border: [] },
  head: [
    'runs',
    'first taken over',
    'last taken over',
    'all finished',
    '÷ TTL (first, last, finished)',
    'W2 alone, same runs',
    'leases lost before kill',
  ],
});
for (const r of rows)
  table.push([
    r.runs.toLocaleString('en'),
    `${r.firstMs} ms`,
    `${r.lastMs} ms`,
    `${r.finishedMs} ms`,
    `${ratio(r.firstMs)}, ${ratio(r.lastMs)}, ${ratio(r.finishedMs)}`,
    `${r.aloneMs} ms`,
    String(r.lostBefore),
  ]);
console.log(
  `Node ${process.version}, nats-server file storage on 127.0.0.1, lease TTL ${TTL} ms (ack wait ${Math.floor(TTL / 3)} ms), ` +
    `W1 and W2 with concurrency max(N, 100); times from W1's SIGKILL; load average ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
);
console.log(table.toString());
