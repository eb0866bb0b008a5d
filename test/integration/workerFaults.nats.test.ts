/**
 * Workers under faults: a worker partitioned from the server (its connection held by a TCP
 * proxy past its lease) does not write to the run another worker took over; a nats-server
 * SIGKILLed and restarted (same store directory) in the middle of runs loses none of them and
 * finishes none twice.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterClient } from '../../src/cluster/worker/ClusterClient.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { startPausableProxy, type PausableProxy } from './pausableProxy.js';
import { startFixture, type TestProcess } from './processes.js';

const WORKFLOW = fileURLToPath(new URL('./fixtures/workers/workflow.yaml', import.meta.url));
const STEPS = ['s1', 's2', 's3', 's4'];
const TTL = 1500;
let server: NatsServer;
let proxy: PausableProxy | undefined;
let dir: string;
const connections: NatsConnection[] = [];
const processes: TestProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startNatsServer({ control: true });
  dir = mkdtempSync(path.join(tmpdir(), 'ndf-worker-faults-'));
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  await Promise.all(connections.filter((c) => !c.isClosed()).map((c) => c.close()));
  await proxy?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function client(): Promise<ClusterClient> {
  const connection = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  connections.push(connection);
  return ClusterClient.open({ connection });
}

function worker(id: string, url: string, log: string, env: Record<string, string> = {}): TestProcess {
  const p = startFixture('workerProcess', {
    NATS_URL: url,
    WORKFLOW,
    WORKER_ID: id,
    KEY_LOG: log,
    LEASE_TTL_MS: String(TTL),
    ...env,
  });
  processes.push(p);
  return p;
}

/** Lines "<worker> <key>" the agents logged. */
function effects(log: string): Array<{ worker: string; key: string }> {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ worker: l.split(' ')[0]!, key: l.split(' ')[1]! }));
}

describe('workers under faults', () => {
  it('a partitioned worker does not write to the run another worker took over', async () => {
    const log = path.join(dir, 'partition.log');
    proxy = await startPausableProxy(server.port);
    const a = worker('A', proxy.url, log, { STEP_SLEEP: '0.4', CONCURRENCY: '1' });
    const [, , pidA] = (await a.waitFor(/^ready/, 20_000)).split(' ');
    const c = await client();
    await c.submitRun({ runId: 'part-1', pattern: 'four' });
    while (effects(log).length === 0) await sleep(20);
    proxy.pause(); // A is cut off, without a disconnect
    const pausedAt = Date.now();
    const b = worker('B', server.url, log, { STEP_SLEEP: '0.4', CONCURRENCY: '1' });
    const [, , pidB] = (await b.waitFor(/^ready/, 20_000)).split(' ');
    // once B has taken the run over (its runResumed is journaled), let A's traffic through
    for (;;) {
      const journal = await c.store.read('part-1');
      if (journal.some((e) => e.kind === 'runResumed' && e.pid === Number(pidB))) break;
      await sleep(50);
    }
    const takenOverAfter = Date.now() - pausedAt;
    proxy.resume();
    const result = await c.waitForRun('part-1', { timeoutMs: 30_000 });
    const ended = await a.waitFor(/^end part-1 /, 10_000);
    const journal = await c.store.read('part-1');
    console.log(
      `partition: A paused, B took over ${takenOverAfter} ms later (lease TTL ${TTL} ms); A ended the run with "${ended}"`,
    );

    expect(result.status).toBe('succeeded');
    expect(result.steps.map((s) => s.output)).toEqual(STEPS.map((s) => ({ done: s })));
    expect(ended).not.toMatch(/succeeded/); // A stopped driving it
    const resumed = journal.flatMap((e, i) => (e.kind === 'runResumed' ? [{ i, pid: e.pid }] : []));
    expect(resumed).toEqual([{ i: expect.any(Number) as number, pid: Number(pidB) }]); // B's only: no A fact broke in
    expect(resumed.some((r) => r.pid === Number(pidA))).toBe(false);
    // every step completed after the takeover was executed by B, and each step completed once
    const bKeys = new Set(effects(log).flatMap((e) => (e.worker === 'B' ? [e.key] : [])));
    const after = journal.slice(resumed[0]!.i);
    for (const e of after) if (e.kind === 'stepCompleted') expect(bKeys.has(`part-1/${e.step}`)).toBe(true);
    const completed = journal.flatMap((e) => (e.kind === 'stepCompleted' ? [e.step] : []));
    expect(completed.sort()).toEqual(STEPS.map((s) => `four/${s}`));
    expect(journal.filter((e) => e.kind === 'runFinished')).toHaveLength(1);
    await Promise.all([a.kill(), b.kill()]);
    await c.close();
  }, 60_000);

  it('nats-server restarted mid-run: no run lost, none finished twice', async () => {
    const log = path.join(dir, 'restart.log');
    const RUNS = 40;
    const w1 = worker('R1', server.url, log, { CONCURRENCY: '6', STEP_SLEEP: '0.05' });
    const w2 = worker('R2', server.url, log, { CONCURRENCY: '6', STEP_SLEEP: '0.05' });
    await Promise.all([w1.waitFor(/^ready/, 20_000), w2.waitFor(/^ready/, 20_000)]);
    const c = await client();
    const ids = Array.from({ length: RUNS }, (_, i) => `restart-${i}`);
    for (const runId of ids) await c.submitRun({ runId, pattern: 'four' });
    while (effects(log).length < (RUNS * STEPS.length) / 3) await sleep(20);
    await server.kill();
    const before = effects(log).length;
    await sleep(500);
    await server.restart();
    const results = [];
    for (const id of ids) results.push(await c.waitForRun(id, { timeoutMs: 60_000, pollMs: 200 }));
    const all = effects(log);
    let finishedTwice = 0;
    let completedTwice = 0;
    for (const id of ids) {
      const journal = await c.store.read(id);
      if (journal.filter((e) => e.kind === 'runFinished').length !== 1) finishedTwice += 1;
      const steps = journal.flatMap((e) => (e.kind === 'stepCompleted' ? [e.step] : []));
      if (new Set(steps).size !== steps.length) completedTwice += 1;
    }
    const counts = new Map<string, number>();
    for (const e of all) counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
    console.log(
      `restart: ${RUNS} runs, server killed after ${before} steps and restarted 500 ms later; ` +
        `${[...counts.values()].filter((n) => n > 1).length} steps executed again (in flight at the restart)`,
    );
    expect(results.map((r) => r.status)).toEqual(ids.map(() => 'succeeded'));
    for (const r of results) expect(r.steps.map((s) => s.output)).toEqual(STEPS.map((s) => ({ done: s })));
    expect(finishedTwice).toBe(0);
    expect(completedTwice).toBe(0);
    expect(counts.size).toBe(RUNS * STEPS.length);
    expect((await c.listRuns()).filter((s) => s.runId.startsWith('restart-'))).toHaveLength(RUNS);
    await c.close();
  }, 120_000);
});
