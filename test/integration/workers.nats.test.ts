/**
 * Workers (src/cluster/worker): runs submitted to the work queue are driven by workers through
 * the shared JetStream run store, each under its run's lease. Two worker processes share 200
 * runs of command-agent steps that log their idempotency key; one is SIGKILLed mid-way: every
 * run ends with the results of an uninterrupted run, only steps that were in flight on the
 * killed worker run again (same key), and its runs are taken over within 2 × the lease TTL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterClient } from '../../src/cluster/worker/ClusterClient.js';
import { startWorker } from '../../src/cluster/worker/startWorker.js';
import { createWorkflowExecutor } from '../../src/cli/workflow/build.js';
import { loadWorkflow } from '../../src/cli/workflow/load.js';
import { createLogger } from '../../src/core/logger.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { startFixture, type TestProcess } from './processes.js';

const WORKFLOW = fileURLToPath(new URL('./fixtures/workers/workflow.yaml', import.meta.url));
const STEPS = ['s1', 's2', 's3', 's4'];
const TTL = 2000;
let server: NatsServer;
let dir: string;
const connections: NatsConnection[] = [];
const processes: TestProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startNatsServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ndf-workers-'));
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  await Promise.all(connections.filter((c) => !c.isClosed()).map((c) => c.close()));
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function client(): Promise<ClusterClient> {
  const connection = await connect({ servers: server.url });
  connections.push(connection);
  return ClusterClient.open({ connection });
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
    .map((l) => {
      const [worker, key] = l.split(' ');
      return { worker: worker!, key: key! };
    });
}

const repeated = (log: Array<{ key: string }>): string[] => {
  const counts = new Map<string, number>();
  for (const x of log) counts.set(x.key, (counts.get(x.key) ?? 0) + 1);
  return [...counts].filter(([, c]) => c > 1).map(([k]) => k);
};

describe('workers', () => {
  it('drive a submitted run to its end; submitting its id again starts nothing new', async () => {
    const log = path.join(dir, 'one.log');
    process.env['KEY_LOG'] = log;
    process.env['WORKER_ID'] = 'in-process';
    const connection = await connect({ servers: server.url });
    connections.push(connection);
    const { workflow, agents } = await loadWorkflow(WORKFLOW);
    const worker = await startWorker({
      connection,
      executor: (store) => createWorkflowExecutor(workflow, agents, undefined, undefined, store),
      leaseTtlMs: TTL,
      logger: createLogger('worker', 'warn'),
    });
    const c = await client();
    const submitted = await c.submitRun({ runId: 'one-run', pattern: 'four', input: { n: 1 } });
    expect(submitted).toEqual({ runId: 'one-run', outcome: 'queued' });
    const result = await c.waitForRun('one-run', { timeoutMs: 20_000 });
    expect(result.status).toBe('succeeded');
    expect(result.steps.map((s) => s.output)).toEqual(STEPS.map((s) => ({ done: s })));
    expect(await c.submitRun({ runId: 'one-run', pattern: 'four' })).toEqual({
      runId: 'one-run',
      outcome: 'exists',
    });
    await sleep(300);
    expect(effects(log).map((e) => e.key)).toHaveLength(STEPS.length);
    const [summary] = await c.listRuns();
    expect(summary).toMatchObject({ runId: 'one-run', status: 'succeeded' });
    await worker.stop();
    await c.close();
  }, 30_000);

  it('take over the runs of a SIGKILLed worker: same results, only in-flight steps again, within 2 × TTL', async () => {
    const log = path.join(dir, 'kill.log');
    const RUNS = 200;
    const spawnWorker = (id: string) => {
      const p = startFixture('workerProcess', {
        NATS_URL: server.url,
        WORKFLOW,
        WORKER_ID: id,
        KEY_LOG: log,
        CONCURRENCY: '8',
        LEASE_TTL_MS: String(TTL),
      });
      processes.push(p);
      return p;
    };
    const w1 = spawnWorker('W1');
    const w2 = spawnWorker('W2');
    await Promise.all([w1.waitFor(/^ready/, 20_000), w2.waitFor(/^ready/, 20_000)]);
    const c = await client();
    const ids = Array.from({ length: RUNS }, (_, i) => `kill-${i}`);
    for (const [i, runId] of ids.entries()) await c.submitRun({ runId, pattern: 'four', input: { i } });
    // kill W1 once it has done a good part of its share
    while (effects(log).filter((e) => e.worker === 'W1').length < (RUNS * STEPS.length) / 5) await sleep(20);
    await w1.kill();
    const killedAt = Date.now();
    const killedEffects = effects(log).filter((e) => e.worker === 'W1').length;
    const results = await Promise.all(ids.map((id) => c.waitForRun(id, { timeoutMs: 90_000, pollMs: 500 })));
    const finishedAt = Date.now();

    // What W1 had journaled is the journal before the first runResumed after the kill. In flight
    // at the kill: the first step not completed there (a step's dispatch is journaled as its
    // agent is called, not before, so the agent may have started without it).
    const inFlight = new Set<string>();
    const resumedAt: number[] = [];
    let finishedTwice = 0;
    const touched = new Set(effects(log).flatMap((e) => (e.worker === 'W1' ? [e.key.split('/')[0]!] : [])));
    for (const runId of touched) {
      const journal = await c.store.read(runId);
      if (journal.filter((e) => e.kind === 'runFinished').length !== 1) finishedTwice += 1;
      const at = journal.findIndex((e) => e.kind === 'runResumed' && e.at >= killedAt);
      if (at < 0) continue;
      resumedAt.push(journal[at]!.at - killedAt);
      const before = journal.slice(0, at);
      const done = new Set(before.flatMap((e) => (e.kind === 'stepCompleted' ? [e.step] : [])));
      const next = STEPS.find((s) => !done.has(`four/${s}`));
      if (next !== undefined) inFlight.add(`${runId}/four/${next}`);
    }
    const all = effects(log);
    const again = repeated(all);
    console.log(
      `workers: ${RUNS} runs × ${STEPS.length} steps on 2 workers (concurrency 8, lease TTL ${TTL} ms); ` +
        `W1 SIGKILLed after ${killedEffects} of its steps; ${inFlight.size} steps in flight at the kill, ` +
        `${again.length} re-executed; ${resumedAt.length} runs taken over, first ${Math.min(...resumedAt)} ms, ` +
        `last ${Math.max(...resumedAt)} ms after the kill; all done ${finishedAt - killedAt} ms after the kill`,
    );
    const stray = again.filter((k) => !inFlight.has(k));
    if (stray.length > 0)
      console.log(
        'stray',
        stray.map(
          (k) =>
            `${k} ${all
              .filter((e) => e.key === k)
              .map((e) => e.worker)
              .join(',')}`,
        ),
        [...inFlight],
      );
    for (const [i, r] of results.entries()) {
      expect(r.status, ids[i]).toBe('succeeded');
      expect(r.steps.map((s) => s.output)).toEqual(STEPS.map((s) => ({ done: s })));
    }
    expect(new Set(all.map((e) => e.key)).size).toBe(RUNS * STEPS.length); // every step ran
    expect(again.every((k) => inFlight.has(k))).toBe(true); // only steps in flight at the kill ran again
    expect(again.length).toBeLessThanOrEqual(8); // at most one step per run W1 drove (its concurrency)
    expect(finishedTwice).toBe(0);
    expect(resumedAt.length).toBeGreaterThan(0);
    expect(Math.min(...resumedAt)).toBeLessThanOrEqual(2 * TTL);
    expect(all.some((e) => e.worker === 'W2')).toBe(true);
    await c.close();
  }, 120_000);
});
