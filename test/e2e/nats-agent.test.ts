import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../integration/natsServer.js';
import { ndf, NDF_BIN, parseJsonl, ROOT } from './cli.js';
import { tempDir } from '../helpers/tempDir.js';

let server: NatsServer;
let agent: ChildProcessWithoutNullStreams;

/** Starts `ndf agent` serving capability `shout` (test/e2e/remote/upper.mjs) and waits until it serves. */
function serveUpper(url: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, [
    NDF_BIN,
    'agent',
    '--nats',
    url,
    '--name',
    'upper',
    '--capabilities',
    'shout',
    '--exec',
    process.execPath,
    `${ROOT}/test/e2e/remote/upper.mjs`,
  ]);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`ndf agent did not start: ${out}`)), 20_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (!/serving shout/.test(out)) return;
      clearTimeout(timer);
      resolve(child);
    });
  });
}

beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
  agent = await serveUpper(server.url);
}, 60_000);
afterAll(async () => {
  agent?.kill('SIGTERM');
  await server?.stop();
});

const steps = `patterns:
  loud:
    type: sequential
    steps:
      - name: shout
        input: hello over nats
run:
  pattern: loud
`;
const declared = (url: string): string => `version: 1
name: remote
agents:
  upper:
    kind: nats
    servers: ${url}
    capabilities: [shout]
    timeoutMs: 10000
${steps}`;
const undeclared = `version: 1
name: discovered
agents: {}
${steps}`;

async function writeWorkflow(text: string): Promise<string> {
  const file = path.join(tempDir('ndf-nats-'), 'remote.yaml');
  await writeFile(file, text);
  return file;
}

function lastResult(stdout: string): {
  success: boolean;
  steps: { name: string; agent: string; status: string }[];
} {
  const last = parseJsonl(stdout).at(-1) as { result: ReturnType<typeof lastResult> };
  return last.result;
}

describe('remote agents over NATS in ndf run', () => {
  it('a `kind: nats` agent of the file performs its step on the remote service', async () => {
    const run = await ndf(['run', await writeWorkflow(declared(server.url)), '--json']);
    expect(run.code).toBe(0);
    const result = lastResult(run.stdout);
    expect(result.success).toBe(true);
    expect(result.steps).toEqual([
      expect.objectContaining({ name: 'shout', agent: 'upper', status: 'completed' }),
    ]);
  });

  it('--nats discovers the agents serving there; without it the step has no agent (exit 2)', async () => {
    const file = await writeWorkflow(undeclared);
    const without = await ndf(['run', file]);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('no agent can perform step "shout"');
    const run = await ndf(['run', file, '--nats', server.url, '--json']);
    expect(run.code).toBe(0);
    expect(lastResult(run.stdout).steps).toEqual([
      expect.objectContaining({ name: 'shout', agent: 'upper', status: 'completed' }),
    ]);
  });

  it('an unreachable NATS server is bad input naming the field (exit 2)', async () => {
    const file = await writeWorkflow(declared('nats://127.0.0.1:9'));
    const run = await ndf(['validate', file, '--deep']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${file}:6:14 agents.upper.servers: cannot connect to NATS at nats://127.0.0.1:9`,
    );
    const discovery = await ndf(['run', await writeWorkflow(undeclared), '--nats', 'nats://127.0.0.1:9']);
    expect(discovery.code).toBe(2);
    expect(discovery.stderr).toContain('--nats: cannot discover agents at nats://127.0.0.1:9');
  });
});
