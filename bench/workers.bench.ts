/**
 * `npm run bench:workers`: runs per second through `submit` on a cluster of 1, 2 and 4 worker
 * processes (each concurrency 16) against a private nats-server (file storage) this bench starts
 * on a free port, beside the embedded store in this process (FileRunStore, no fsync, 16 runs in
 * flight), in one run. A run is the sequential pattern of 10 no-op local steps. For a cluster:
 * the time from the first `ClusterClient.submitRun` of RUNS runs (submitted 50 at a time) until
 * the last has finished (read from the store), with the worker processes already started.
 * RUNS (default 300) runs per row. The last row's workers also share breakers and learning
 * through the cluster, as `ndf worker` does (a KV watch, and a stream message per outcome).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import Table from 'cli-table3';
import { defineAgent } from '../src/actors/agent.js';
import { ClusterClient } from '../src/cluster/worker/ClusterClient.js';
import { createLogger } from '../src/core/logger.js';
import { PatternExecutor } from '../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../src/runtime/patterns/index.js';
import { FileRunStore } from '../src/store/FileRunStore.js';
import { startNatsServer } from '../test/integration/natsServer.js';

const RUNS = Number(process.env['RUNS'] ?? 300);
const steps = Array.from({ length: 10 }, (_, i) => `s${i}`);
const workerFile = fileURLToPath(new URL('./workerBenchProcess.ts', import.meta.url));

const server = await startNatsServer({ control: true });
const nc = await connect({ servers: server.url });
const client = await ClusterClient.open({ connection: nc });

function startWorkerProcess(shared: boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', workerFile], {
    env: { ...process.env, NATS_URL: server.url, SHARED: shared ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

async function cluster(workers: number, round: number, shared = false): Promise<number> {
  const children = await Promise.all(Array.from({ length: workers }, () => startWorkerProcess(shared)));
  const ids = Array.from({ length: RUNS }, (_, i) => `b${round}-${workers}-${shared ? 's' : 'p'}-${i}`);
  const t0 = performance.now();
  for (let i = 0; i < ids.length; i += 50)
    await Promise.all(ids.slice(i, i + 50).map((runId) => client.submitRun({ runId, pattern: 'w10' })));
  for (const id of ids) {
    const result = await client.waitForRun(id, { pollMs: 20, timeoutMs: 300_000 });
    if (result.status !== 'succeeded') throw new Error(`run ${id} ${result.status}`);
  }
  const ms = performance.now() - t0;
  for (const c of children) c.kill('SIGKILL');
  return (RUNS * 1000) / ms;
}

async function embedded(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nd-workers-bench-'));
  const store = await FileRunStore.open({ dir });
  const registry = new PatternRegistry();
  registry.registerPattern(new SequentialDelegationPattern({ name: 'w10', steps }));
  const executor = new PatternExecutor(registry, {
    agents: steps.map((s, i) =>
      defineAgent({ id: s, capabilities: [s], maxConcurrent: 100_000, handler: () => ({ ok: i }) }),
    ),
    logger: createLogger('bench', 'silent'),
    store,
  });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < RUNS) {
        next += 1;
        const r = await executor.run('w10', {}, {});
        if (r.status !== 'succeeded') throw new Error(`embedded run ${r.status}`);
      }
    }),
  );
  const ms = performance.now() - t0;
  await executor.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return (RUNS * 1000) / ms;
}

const rows: Array<[string, number]> = [];
rows.push(['embedded FileRunStore, one process, 16 in flight', await embedded()]);
for (const n of [1, 2, 4])
  rows.push([`submit → ${n} worker process${n > 1 ? 'es' : ''} (16 slots each)`, await cluster(n, 1)]);
rows.push(['submit → 2 workers sharing breakers and learning (ndf worker)', await cluster(2, 1, true)]);
const table = new Table({ head: ['engine', 'runs/s'] });
for (const [name, rate] of rows) table.push([name, rate.toFixed(1)]);
console.log(
  `Node ${process.version}, nats-server file storage on 127.0.0.1, ${RUNS} runs of 10 no-op steps per row`,
);
console.log(table.toString());
await client.close();
await nc.close();
await server.stop();
