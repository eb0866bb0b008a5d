import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteAgent } from '../../src/actors/remoteAgent.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import { startNatsServer, type NatsServer } from '../integration/natsServer.js';
import { startNdf } from './cli.js';

const upper = fileURLToPath(new URL('./remote/upper.mjs', import.meta.url));
let server: NatsServer;

beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
});
afterAll(async () => {
  await server?.stop();
});

function ndf(args: string[]) {
  return startNdf(args);
}

describe('ndf agent / ndf agents', () => {
  it('serves an --exec command as a remote agent that ndf agents lists and a runner can call', async () => {
    const agentProc = ndf([
      'agent',
      '--nats',
      server.url,
      '--name',
      'upper',
      '--capabilities',
      'shout',
      '--exec',
      process.execPath,
      upper,
    ]);
    const transport = await NatsTransport.connect(
      { servers: server.url },
      { logger: pino({ level: 'silent' }) },
    );
    try {
      await agentProc.printed(/serving shout/);
      const agent = remoteAgent({ transport, name: 'upper', capabilities: ['shout'], timeoutMs: 10_000 });
      const output = await agent.execute({
        runId: 'e2e',
        pattern: 'p',
        step: 'loud',
        capability: 'shout',
        attempt: 1,
        idempotencyKey: 'e2e/loud',
        input: { params: 'hello', runInput: null, results: {} },
        context: { domain: 'general', agentType: 'general', priority: 1, attributes: {} },
        signal: new AbortController().signal,
      });
      expect(output).toEqual({ upper: 'HELLO', step: 'loud', kind: 'task' });
      const list = ndf(['agents', '--nats', server.url, '--json']);
      expect(await list.exited).toBe(0);
      const agents = JSON.parse(list.output()) as {
        name: string;
        capabilities: string[];
        instances: { requests: number }[];
      }[];
      expect(
        agents.map((a) => [a.name, a.capabilities, a.instances.length, a.instances[0]?.requests]),
      ).toEqual([['upper', ['shout'], 1, 1]]);
      const table = ndf(['agents', '--nats', server.url]);
      expect(await table.exited).toBe(0);
      expect(table.output()).toMatch(/│ upper\s+│ shout\s+│ 1\s+│/);
    } finally {
      agentProc.child.kill('SIGTERM');
      await agentProc.exited;
      await transport.close();
    }
  });

  it('refuses ndf agent without exactly one of --exec / --module', async () => {
    const run = ndf(['agent', '--nats', server.url, '--name', 'x', '--capabilities', 'y']);
    expect(await run.exited).toBe(2);
    expect(run.errors()).toMatch(/give exactly one of --exec <argv…> or --module <file>/);
  });
});
