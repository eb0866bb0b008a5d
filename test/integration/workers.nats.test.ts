/**
 * Workers (src/cluster/worker): runs submitted to the work queue are driven by workers through
 * the shared JetStream run store, each under its run's lease; with two worker processes, one
 * SIGKILLed mid-way (./workerKill.ts; three workers: workers3.nats.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
import type { TestProcess } from './processes.js';
import { effects, sigkillScenario } from './workerKill.js';

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
      executor: (store) => createWorkflowExecutor(workflow, agents, { store }),
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

  it('a stopping worker hands its runs over at once; a signal reaches the new driver', async () => {
    process.env['KEY_LOG'] = path.join(dir, 'handover.log');
    const { workflow, agents } = await loadWorkflow(WORKFLOW);
    const start = async (workerId: string) => {
      const connection = await connect({ servers: server.url });
      connections.push(connection);
      return startWorker({
        connection,
        executor: (store) => createWorkflowExecutor(workflow, agents, { store }),
        leaseTtlMs: 10_000, // a takeover by expiry would take ~17 s: the handover must not wait for it
        workerId,
        logger: createLogger('worker', 'warn'),
      });
    };
    const a = await start('A');
    const c = await client();
    await c.submitRun({ runId: 'hand-1', pattern: 'approval' });
    while ((await c.getRun('hand-1'))?.status !== 'waiting') await sleep(50);
    expect(a.running()).toEqual(['hand-1']);
    const b = await start('B');
    const stoppedAt = Date.now();
    await a.stop();
    for (;;) {
      const journal = await c.store.read('hand-1');
      if (journal.some((e) => e.kind === 'runResumed')) break;
      await sleep(50);
    }
    const handedOverMs = Date.now() - stoppedAt;
    expect(b.running()).toEqual(['hand-1']);
    expect(
      await c.controlRun('hand-1', { kind: 'signal', signal: 'approved', payload: { ok: true } }),
    ).toEqual({
      delivery: 'delivered',
      worker: 'B',
    });
    const result = await c.waitForRun('hand-1', { timeoutMs: 20_000 });
    console.log(`handover: worker A stopped, B drives the run ${handedOverMs} ms later (lease TTL 10 s)`);
    expect(result.status).toBe('succeeded');
    expect(result.steps.find((s) => s.name === 'approve')?.output).toEqual({ ok: true });
    expect(handedOverMs).toBeLessThan(5000);
    await b.stop();
    await c.close();
  }, 60_000);

  it('take over the runs of a SIGKILLed worker (2 workers): same results, only in-flight steps again, within 2 × TTL', async () => {
    await sigkillScenario({ url: server.url, dir, workers: 2, client, processes });
  }, 120_000);
});
