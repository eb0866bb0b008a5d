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
  server = await startNatsServer({ jetstream: false });
  resolver = startNdf(['resolver', '--nats', server.url]);
  await resolver.printed(/conflict resolver .* serving nd\.resolver\.\*/);
  workflow = path.join(tempDir('ndf-resolver-'), 'locked.yaml');
  await writeFile(workflow, WORKFLOW);
}, 60_000);
afterAll(async () => {
  await resolver?.stop();
  await server?.stop();
});

describe('ndf run --resolver: locks through a standalone ndf resolver', () => {
  it('a step waits for a lock another client holds on the shared resolver, and runs once it is released', async () => {
    const transport = await NatsTransport.connect({ servers: server.url, name: 'test-holder' });
    const holder = await RemoteConflictResolver.connect({ transport });
    try {
      const release = await holder.acquire(['shared-disk'], { owner: 'test-holder', priority: 1 });
      const run = ndf(['run', workflow, '--nats', server.url, '--resolver', 'nd', '--json']);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const releasedAt = Date.now();
      await release();
      const result = await run;
      expect(result.code).toBe(0);
      const last = parseJsonl(result.stdout).at(-1) as {
        result: { status: string; startedAt: number; durationMs: number };
      };
      expect(last.result.status).toBe('succeeded');
      // It could not finish before the other holder let go.
      expect(last.result.startedAt + last.result.durationMs).toBeGreaterThanOrEqual(releasedAt);
    } finally {
      await holder.close();
      await transport.close();
    }
  });

  it('without --resolver the same run does not see the shared lock', async () => {
    const transport = await NatsTransport.connect({ servers: server.url, name: 'test-holder-2' });
    const holder = await RemoteConflictResolver.connect({ transport });
    try {
      const release = await holder.acquire(['shared-disk'], { owner: 'test-holder', priority: 1 });
      // Still held while this run goes: it finishes only if it does not ask the shared resolver
      // (else it would wait until killed, code null).
      const result = await ndf(['run', workflow, '--nats', server.url, '--json'], { timeoutMs: 20_000 });
      await release();
      expect(result.code).toBe(0);
    } finally {
      await holder.close();
      await transport.close();
    }
  });

  it('--resolver without --nats, or with no resolver under that prefix, is bad input', async () => {
    const alone = await ndf(['run', workflow, '--resolver', 'nd']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--resolver needs --nats <url>');
    const none = await ndf(['run', workflow, '--nats', server.url, '--resolver', 'elsewhere']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      `--resolver: no conflict resolver answers on ${server.url} under prefix "elsewhere"`,
    );
  });
});
