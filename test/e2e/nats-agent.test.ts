import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../integration/natsServer.js';
import { ndf, ROOT } from './cli.js';

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
});
afterAll(async () => {
  await server?.stop();
});

const workflow = (url: string): string => `version: 1
name: remote
agents:
  upper:
    kind: nats
    servers: ${url}
    capabilities: [shout]
    timeoutMs: 10000
patterns:
  loud:
    type: sequential
    steps:
      - name: shout
        input: hello over nats
run:
  pattern: loud
`;

describe('kind: nats agents in a workflow file', () => {
  it('runs a step on a remote agent served by `ndf agent`', async () => {
    const agent = spawn(
      process.execPath,
      [
        `${ROOT}/bin/ndf.js`,
        'agent',
        '--nats',
        server.url,
        '--name',
        'upper',
        '--capabilities',
        'shout',
        '--exec',
        process.execPath,
        `${ROOT}/test/e2e/remote/upper.mjs`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`ndf agent did not start: ${out}`)), 20_000);
        agent.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          if (/serving shout/.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const file = path.join(await mkdtemp(path.join(tmpdir(), 'ndf-nats-')), 'remote.yaml');
      await writeFile(file, workflow(server.url));
      const run = await ndf(['run', file, '--json']);
      expect(run.code).toBe(0);
      const last = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
        result: { success: boolean; steps: { name: string; agent: string; status: string }[] };
      };
      expect(last.result.success).toBe(true);
      expect(last.result.steps).toEqual([
        expect.objectContaining({ name: 'shout', agent: 'upper', status: 'completed' }),
      ]);
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('an unreachable NATS server is bad input naming the field (exit 2)', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'ndf-nats-')), 'remote.yaml');
    await writeFile(file, workflow('nats://127.0.0.1:9'));
    const run = await ndf(['validate', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${file}:6:14 agents.upper.servers: cannot connect to NATS at nats://127.0.0.1:9`,
    );
  });
});
