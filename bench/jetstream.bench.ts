/**
 * `npm run bench:jetstream`: the cost of one journal append on JetStream, in one run, against a
 * private nats-server (file storage) this bench starts on a free port:
 *
 * - raw `js.publish` of the same bytes (the floor: one JetStream round trip);
 * - raw `js.publish` with the expected-last-subject-sequence header (the compare-and-set alone);
 * - `JetStreamRunStore.append` (validation, the journal fold, the publish, the KV index update);
 * - the same with a lease fence (`lease.fence()`: one KV compare-and-set before each publish),
 *   and with the no-I/O fence (`lease.check()`: the holder's own deadline);
 * - `FileRunStore.append` (the embedded store, no fsync), for scale.
 *
 * One run per round appends N facts (N = 10, then 1000), each awaited before the next (what a
 * sequential run does; a step is two facts: dispatched and completed); the stores' runs start
 * with a `runStarted` append, counted, and the fenced rows take and release a lease per run
 * (counted in their time, not as appends). Engines alternate round by
 * round so drifting load on a shared machine hits them alike. Columns: wall µs per append (mean
 * over rounds), this process's CPU µs per append (the server's CPU is not counted), µs per step
 * (two appends), and the ratio of wall time to raw `js.publish` at the same N.
 * BENCH_MS (default 3000) is the time per size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Table from 'cli-table3';
import { LeaseManager } from '../src/cluster/leases/LeaseManager.js';
import { FileRunStore } from '../src/store/FileRunStore.js';
import { JetStreamRunStore } from '../src/store/jetstream/JetStreamRunStore.js';
import type { JournalFact } from '../src/store/journal.js';
import { startNatsServer } from '../test/integration/natsServer.js';

const budgetMs = Number(process.env['BENCH_MS'] ?? 3000);
const sizes = [10, 1000];

const fact = (i: number): JournalFact => ({
  kind: 'stepCompleted',
  step: `step-${i}`,
  attempt: 1,
  output: { artefact: 'registry.example.com/app:1.2.3', digest: 'sha256:0123456789abcdef0123456789abcdef' },
});
const startFact: JournalFact = {
  kind: 'runStarted',
  pattern: 'deploy',
  specHash: 'sha256:abc',
  input: { v: 1 },
};

/** Appends `n` facts to a new run `runId`, each awaited; resolves with the appends made. */
type Engine = (runId: string, n: number) => Promise<number>;

const server = await startNatsServer({ control: true });
const nc = await connect({ servers: server.url });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: 'RAW', subjects: ['raw.>'] });
const store = await JetStreamRunStore.open({ connection: nc });
const leases = await LeaseManager.open({ connection: nc, owner: 'bench', ttlMs: 30_000 });
const dir = mkdtempSync(join(tmpdir(), 'nd-jsbench-'));
const fileStore = await FileRunStore.open({ dir });
const payload = (i: number) =>
  JSON.stringify({ entries: [{ ...fact(i), runId: 'x', seq: i + 2, at: Date.now() }] });

const engines: Record<string, Engine> = {
  'raw js.publish': async (runId, n) => {
    for (let i = 0; i < n; i++) await js.publish(`raw.${runId}`, payload(i));
    return n;
  },
  'raw js.publish + expected last subject seq': async (runId, n) => {
    let last = 0;
    for (let i = 0; i < n; i++) {
      last = (await js.publish(`raw.cas.${runId}`, payload(i), { expect: { lastSubjectSequence: last } }))
        .seq;
    }
    return n;
  },
  'JetStreamRunStore.append': async (runId, n) => {
    await store.append(runId, [startFact], { expectedSeq: 0 });
    for (let i = 0; i < n; i++) await store.append(runId, [fact(i)], { expectedSeq: i + 1 });
    return n + 1;
  },
  'JetStreamRunStore.append, fenced by a lease': async (runId, n) => {
    const lease = (await leases.tryAcquire(runId))!;
    const fence = () => lease.fence();
    await store.append(runId, [startFact], { expectedSeq: 0, fence });
    for (let i = 0; i < n; i++) await store.append(runId, [fact(i)], { expectedSeq: i + 1, fence });
    await lease.release();
    return n + 1;
  },
  'JetStreamRunStore.append, lease.check() (no I/O)': async (runId, n) => {
    const lease = (await leases.tryAcquire(runId))!;
    const fence = async () => lease.check();
    await store.append(runId, [startFact], { expectedSeq: 0, fence });
    for (let i = 0; i < n; i++) await store.append(runId, [fact(i)], { expectedSeq: i + 1, fence });
    await lease.release();
    return n + 1;
  },
  'FileRunStore.append (no fsync)': async (runId, n) => {
    await fileStore.append(runId, [startFact], { expectedSeq: 0 });
    for (let i = 0; i < n; i++) await fileStore.append(runId, [fact(i)], { expectedSeq: i + 1 });
    return n + 1;
  },
};

const rows: string[][] = [];
let runNo = 0;
for (const n of sizes) {
  const stats = new Map<string, { wallMs: number; cpuUs: number; appends: number }>();
  for (const name of Object.keys(engines)) await engines[name]!(`warm-${n}-${runNo++}`, Math.min(n, 50));
  const end = Date.now() + budgetMs;
  let rounds = 0;
  while (rounds < 2 || Date.now() < end) {
    rounds += 1;
    for (const [name, engine] of Object.entries(engines)) {
      const runId = `run-${n}-${runNo++}`;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const appends = await engine(runId, n);
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const s = stats.get(name) ?? { wallMs: 0, cpuUs: 0, appends: 0 };
      s.wallMs += wallMs;
      s.cpuUs += cpu.user + cpu.system;
      s.appends += appends;
      stats.set(name, s);
    }
  }
  const raw = stats.get('raw js.publish')!;
  const rawUs = (raw.wallMs * 1000) / raw.appends;
  for (const [name, s] of stats) {
    const us = (s.wallMs * 1000) / s.appends;
    rows.push([
      String(n),
      name,
      us.toFixed(0),
      (s.cpuUs / s.appends).toFixed(0),
      (2 * us).toFixed(0),
      (us / rawUs).toFixed(2),
      String(rounds),
    ]);
  }
}

const table = new Table({
  head: ['appends/run', 'engine', 'µs/append', 'CPU µs/append', 'µs/step', '× raw publish', 'rounds'],
});
table.push(...rows);
console.log(`Node ${process.version}, nats-server file storage on 127.0.0.1, BENCH_MS=${budgetMs}`);
console.log(table.toString());

await leases.close();
await store.close();
await fileStore.close();
rmSync(dir, { recursive: true, force: true });
await nc.close();
await server.stop();
