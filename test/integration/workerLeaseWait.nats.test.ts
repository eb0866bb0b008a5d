/**
 * A worker whose jobs wait for run leases held elsewhere: each waiting job listens to the
 * worker's stop signal, up to `concurrency` at once, which must not raise Node's
 * MaxListenersExceededWarning on the user's terminal.
 */
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseManager } from '../../src/cluster/leases/LeaseManager.js';
import { ClusterClient } from '../../src/cluster/worker/ClusterClient.js';
import { startWorker } from '../../src/cluster/worker/startWorker.js';
import { createWorkflowExecutor } from '../../src/cli/workflow/build.js';
import { loadWorkflow } from '../../src/cli/workflow/load.js';
import { createLogger } from '../../src/core/logger.js';
import { startNatsServer, type NatsServer } from './natsServer.js';

const WORKFLOW = fileURLToPath(new URL('./fixtures/workers/workflow.yaml', import.meta.url));
const TTL = 2000;
let server: NatsServer;
const connections: NatsConnection[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await Promise.all(connections.filter((c) => !c.isClosed()).map((c) => c.close()));
  await server?.stop();
});

async function client(): Promise<ClusterClient> {
  const connection = await connect({ servers: server.url });
  connections.push(connection);
  return ClusterClient.open({ connection });
}

describe('workers', () => {
  it('wait for the leases of many runs held elsewhere without a process warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const held = await connect({ servers: server.url });
    connections.push(held);
    const holder = await LeaseManager.open({ connection: held, owner: 'holder', ttlMs: 60_000 });
    const ids = Array.from({ length: 12 }, (_, i) => `held-${i}`);
    for (const id of ids) expect(await holder.tryAcquire(id)).toBeDefined();
    const connection = await connect({ servers: server.url });
    connections.push(connection);
    const { workflow, agents } = await loadWorkflow(WORKFLOW);
    const worker = await startWorker({
      connection,
      executor: (store) => createWorkflowExecutor(workflow, agents, { store }),
      concurrency: 12,
      leaseTtlMs: TTL,
      logger: createLogger('worker', 'silent'),
    });
    const c = await client();
    for (const runId of ids) await c.submitRun({ runId, pattern: 'four' });
    await sleep(1000); // the worker takes the twelve jobs; each waits for its run's lease
    await worker.stop();
    await holder.close();
    await c.close();
    process.off('warning', onWarning);
    expect(warnings.map((w) => w.name)).toEqual([]);
  }, 30_000);
});
