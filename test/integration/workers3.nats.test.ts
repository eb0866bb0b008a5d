/**
 * The SIGKILL scenario of ./workerKill.ts with three worker processes: one is SIGKILLed mid-way,
 * the two others take its runs over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ClusterClient } from '../../src/cluster/worker/ClusterClient.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import type { TestProcess } from './processes.js';
import { sigkillScenario } from './workerKill.js';

let server: NatsServer;
let dir: string;
const connections: NatsConnection[] = [];
const processes: TestProcess[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ndf-workers3-'));
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
  it('take over the runs of a SIGKILLed worker (3 workers): same results, only in-flight steps again, within 2 × TTL', async () => {
    await sigkillScenario({ url: server.url, dir, workers: 3, client, processes });
  }, 120_000);
});
