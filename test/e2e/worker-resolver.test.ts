/**
 * `ndf worker --resolver <prefix>`: the steps' `locks` of runs driven by workers go through the
 * conflict resolver `ndf resolver` serves, so they hold across workers (and any other client of
 * it); without the flag a worker says that its locks are its own, and a bad prefix is reported.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteConflictResolver } from '../../src/resolver/remoteConflictResolver.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import { startNatsServer, type NatsServer } from '../integration/natsServer.js';
import { tempDir } from '../helpers/tempDir.js';
import { ndf, parseJsonl, startNdf, type NdfProcess } from './cli.js';

let server: NatsServer;
let resolver: NdfProcess;
let workflow: string;
const started: NdfProcess[] = [];

const WORKFLOW = `version: 1
name: locked
agents:
  worker:
    kind: command
    command: [node, -e, "process.stdout.write('{}')"]
    capabilities: [work]
patterns:
  only:
    type: sequential
    steps:
      - name: work
        locks: [shared-disk]
run:
  pattern: only
`;

beforeAll(async () => {
  server = await startNatsServer();
  resolver = startNdf(['resolver', '--nats', server.url]);
  await resolver.printed(/conflict resolver .* serving nd\.resolver\.\*/);
  workflow = path.join(tempDir('ndf-worker-resolver-'), 'locked.yaml');
  await writeFile(workflow, WORKFLOW);
}, 60_000);
afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  await resolver?.stop();
  await server?.stop();
});

const worker = (...extra: string[]) => {
  const p = startNdf(['worker', workflow, '--nats', server.url, '--lease-ttl', '2000', ...extra]);
  started.push(p);
  return p;
};

describe('ndf worker --resolver', () => {
  it("a run's step waits for a lock another client holds on the shared resolver", async () => {
    const w = worker('--resolver', 'nd');
    await w.printed(/serving only/);
    expect(w.errors()).toBe('');
    const transport = await NatsTransport.connect({ servers: server.url, name: 'test-holder' });
    const holder = await RemoteConflictResolver.connect({ transport });
    try {
      const release = await holder.acquire(['shared-disk'], { owner: 'test-holder', priority: 1 });
      const submitted = ndf([
        'submit',
        workflow,
        '--nats',
        server.url,
        '--run-id',
        'locked-1',
        '--wait',
        '--json',
      ]);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const releasedAt = Date.now();
      await release();
      const result = await submitted;
      expect(result.code).toBe(0);
      const last = parseJsonl(result.stdout).at(-1) as {
        result: { status: string; startedAt: number; durationMs: number };
      };
      expect(last.result.status).toBe('succeeded');
      expect(last.result.startedAt + last.result.durationMs).toBeGreaterThanOrEqual(releasedAt);
    } finally {
      await holder.close();
      await transport.close();
      await w.stop();
    }
  }, 60_000);

  it('without --resolver a worker of a workflow with locks says they are its own', async () => {
    const w = worker();
    await w.printed(/serving only/);
    expect(w.errors()).toMatch(/locks hold within this worker only: pass --resolver <prefix>/);
    await w.stop();
  }, 30_000);

  it('reports a prefix no resolver serves, without a stack, and exits', async () => {
    const result = await ndf(['worker', workflow, '--nats', server.url, '--resolver', 'nobody']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--resolver: no conflict resolver answers .* under prefix "nobody"/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);
});
