import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteAgent } from '../../src/actors/remoteAgent.js';
import { serveAgent } from '../../src/actors/serveAgent.js';
import { isAgentError } from '../../src/core/errors.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import { connectRemoteAgents } from '../../src/transport/connectRemoteAgents.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { startFixture } from './processes.js';
import { baseTask } from './retry.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../src/runtime/patterns/SequentialDelegationPattern.js';

const logger = pino({ level: 'silent' });
let server: NatsServer;
let client: NatsTransport;

beforeAll(async () => {
  server = await startNatsServer();
  client = await NatsTransport.connect({ servers: server.url, name: 'test-client' }, { logger });
});
afterAll(async () => {
  await client?.close();
  await server?.stop();
});

describe('remote agents over a real nats-server', () => {
  it('a remote agent killed mid-task: the attempt times out, the breaker counts it, the retry runs on another instance with the same key', async () => {
    const a = startFixture('agentProcess', { NATS_URL: server.url, AGENT_NAME: 'killable' });
    const b = startFixture('agentProcess', { NATS_URL: server.url, AGENT_NAME: 'killable' });
    try {
      await Promise.all([a.waitFor(/^ready/), b.waitFor(/^ready/)]);
      const agent = remoteAgent({
        transport: client,
        name: 'killable',
        capabilities: ['echo'],
        timeoutMs: 1500,
      });
      const registry = new PatternRegistry();
      const retry = { maxAttempts: 3, backoff: { initialDelayMs: 10, jitter: 'none' as const } };
      registry.registerPattern(
        new SequentialDelegationPattern({
          name: 'kill',
          description: 'one hanging step',
          steps: [{ name: 'hang', capability: 'echo', retry }],
        }),
      );
      const executor = new PatternExecutor(registry, { agents: [agent] });
      const run = executor.run('kill', {}, { runId: 'run-kill', timeoutMs: 15_000 });
      const started = await Promise.race([a.waitFor(/^started/), b.waitFor(/^started/)]);
      const [, pid, key] = started.split(' ');
      const [victim, survivor] = String(a.child.pid) === pid ? [a, b] : [b, a];
      await victim.kill();
      const result = await run;
      expect(key).toBe('run-kill/kill/hang');
      expect(result.status).toBe('succeeded');
      expect(result.steps[0]?.attempts).toBe(2);
      expect(result.steps[0]?.output).toEqual({
        pid: survivor.child.pid,
        key: 'run-kill/kill/hang',
        attempt: 2,
      });
      expect(executor.agentBreaker('killable')?.failures).toBe(1);
    } finally {
      await Promise.all([a.kill(), b.kill()]);
    }
  });

  it('no responders: fails fast with a clear error naming the agent', async () => {
    const agent = remoteAgent({
      transport: client,
      name: 'nobody-home',
      capabilities: ['echo'],
      timeoutMs: 10_000,
    });
    const started = Date.now();
    const error = await agent
      .execute({ ...baseTask('run-nr', 's'), attempt: 1, signal: new AbortController().signal })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(isAgentError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'no instance of remote agent nobody-home is listening on nd.agent.nobody-home.task (is `ndf agent --name nobody-home` running?)',
    );
    expect((error as { details: object }).details).toMatchObject({ agentId: 'nobody-home', retryable: true });
  });

  it('serves in-process agents with the same results over NATS, and is discoverable', async () => {
    const served = await serveAgent({
      transport: client,
      logger,
      name: 'adder',
      capabilities: ['echo'],
      handler: (t) => ({ sum: (t.input.params as number[]).reduce((x, y) => x + y, 0) }),
    });
    try {
      const agent = remoteAgent({ transport: client, name: 'adder', capabilities: ['echo'] });
      expect(
        await agent.execute({
          ...baseTask('run-add', 'add', [1, 2, 3]),
          attempt: 1,
          signal: new AbortController().signal,
        }),
      ).toEqual({ sum: 6 });
      const remote = await connectRemoteAgents({ url: server.url, discoverTimeoutMs: 300, logger });
      try {
        const adder = remote.agents.find((a) => a.id === 'adder');
        expect(adder?.capabilities).toEqual(['echo']);
        expect(adder?.kind).toBe('nats');
        expect(
          await adder?.execute({
            ...baseTask('run-add2', 'add', [4, 5]),
            attempt: 1,
            signal: new AbortController().signal,
          }),
        ).toEqual({ sum: 9 });
      } finally {
        await remote.close();
      }
    } finally {
      await served.stop();
    }
  });
});
