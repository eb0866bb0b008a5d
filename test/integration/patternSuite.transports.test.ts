import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent, AgentTask } from '../../src/actors/agent.js';
import { ConflictResolver } from '../../src/resolver/conflictResolver.js';
import { remoteAgent } from '../../src/actors/remoteAgent.js';
import { serveAgent, type ServedAgent } from '../../src/actors/serveAgent.js';
import { AgentError } from '../../src/core/errors.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { ParallelCoordinationPattern } from '../../src/runtime/patterns/ParallelCoordinationPattern.js';
import { SequentialDelegationPattern } from '../../src/runtime/patterns/SequentialDelegationPattern.js';
import type { RunResult } from '../../src/core/result.js';
import { MemoryTransport } from '../../src/transport/MemoryTransport.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import type { Transport } from '../../src/transport/Transport.js';
import { startNatsServer, type NatsServer } from './natsServer.js';

const logger = pino({ level: 'silent' });
const retry = {
  maxAttempts: 3,
  backoff: { initialDelayMs: 5, maxDelayMs: 5, multiplier: 1, jitter: 'none' as const },
};

let storeActive = 0;
let storeMaxActive = 0;

/** The agents of the suite, as plain handlers served remotely. */
const handlers: Record<
  string,
  { handler: (t: AgentTask) => unknown; compensate?: (t: AgentTask & { output: unknown }) => unknown }
> = {
  fetch: { handler: (t) => ({ rows: [1, 2, 3], params: t.input.params }), compensate: () => undefined },
  transform: {
    handler: (t) => {
      if (t.attempt === 1) throw new AgentError('transient glitch', { retryable: true });
      const rows = (t.input.results['fetch'] as { rows: number[] }).rows;
      return { doubled: rows.map((r) => r * 2), attempt: t.attempt };
    },
  },
  broken: { handler: () => Promise.reject(new AgentError('disk full', { retryable: false })) },
  store: {
    // holds the `db` lock: checks that no two store tasks ever overlap
    handler: async (t) => {
      storeActive += 1;
      storeMaxActive = Math.max(storeMaxActive, storeActive);
      await new Promise((r) => setTimeout(r, 20));
      storeActive -= 1;
      return { stored: t.step, input: t.input.runInput };
    },
  },
};

function registry(): PatternRegistry {
  const r = new PatternRegistry();
  r.registerPattern(
    new SequentialDelegationPattern({
      name: 'seq_ok',
      description: 'fetch then transform',
      steps: [
        { name: 'fetch', input: { q: 1 } },
        { name: 'transform', retry },
      ],
    }),
  );
  r.registerPattern(
    new SequentialDelegationPattern({
      name: 'seq_rollback',
      description: 'fetch, then a permanent failure',
      steps: ['fetch', { name: 'broken', retry }],
    }),
  );
  r.registerPattern(
    new ParallelCoordinationPattern({
      name: 'par',
      description: 'a DAG with shared locks',
      maxConcurrent: 3,
      failureTolerance: 0,
      tasks: [
        { name: 'fetch' },
        { name: 'store_a', capability: 'store', dependsOn: ['fetch'], locks: ['db'] },
        { name: 'store_b', capability: 'store', dependsOn: ['fetch'], locks: ['db'] },
        { name: 'transform', dependsOn: ['fetch'], retry },
      ],
    }),
  );
  return r;
}

/** What must be identical across transports: statuses, attempts, outputs, errors (steps sorted by name). */
function essence(result: RunResult) {
  return {
    status: result.status,
    error: result.error?.code,
    steps: [...result.steps]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => ({
        name: s.name,
        status: s.status,
        attempts: s.attempts,
        output: s.output,
        error: s.error?.code,
        compensation: s.compensation,
      })),
  };
}

async function runSuite(agentSide: Transport, runnerSide: Transport) {
  const served: ServedAgent[] = [];
  for (const [name, h] of Object.entries(handlers)) {
    served.push(await serveAgent({ transport: agentSide, logger, name, capabilities: [name], ...h }));
  }
  const agents: Agent[] = Object.keys(handlers).map((name) =>
    remoteAgent({ transport: runnerSide, name, capabilities: [name], timeoutMs: 5000 }),
  );
  const executor = new PatternExecutor(registry(), { agents, resolver: new ConflictResolver() });
  try {
    const results: Record<string, ReturnType<typeof essence>> = {};
    for (const name of ['seq_ok', 'seq_rollback', 'par']) {
      results[name] = essence(
        await executor.run(name, { domain: 'suite' }, { input: { user: 'ada' }, timeoutMs: 20_000 }),
      );
    }
    return results;
  } finally {
    for (const s of served) await s.stop();
  }
}

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
});
afterAll(async () => {
  await server?.stop();
});

describe('pattern suite on both transports', () => {
  it('gives identical run results over MemoryTransport and NatsTransport', async () => {
    const memory = new MemoryTransport();
    const overMemory = await runSuite(memory, memory);
    const agentSide = await NatsTransport.connect({ servers: server.url, name: 'suite-agents' }, { logger });
    const runnerSide = await NatsTransport.connect({ servers: server.url, name: 'suite-runner' }, { logger });
    let overNats: Awaited<ReturnType<typeof runSuite>>;
    try {
      overNats = await runSuite(agentSide, runnerSide);
    } finally {
      await runnerSide.close();
      await agentSide.close();
    }
    expect(overNats).toEqual(overMemory);
    expect(storeMaxActive).toBe(1);

    expect(overMemory['seq_ok']).toEqual({
      status: 'succeeded',
      error: undefined,
      steps: [
        {
          name: 'fetch',
          status: 'completed',
          attempts: 1,
          output: { rows: [1, 2, 3], params: { q: 1 } },
          error: undefined,
          compensation: 'none',
        },
        {
          name: 'transform',
          status: 'completed',
          attempts: 2,
          output: { doubled: [2, 4, 6], attempt: 2 },
          error: undefined,
          compensation: 'none',
        },
      ],
    });
    expect(overMemory['seq_rollback']?.status).toBe('rolledBack');
    expect(overMemory['seq_rollback']?.steps.find((s) => s.name === 'broken')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: 'ND_AGENT_ERROR',
    });
    expect(overMemory['seq_rollback']?.steps.find((s) => s.name === 'fetch')?.compensation).toBe(
      'compensated',
    );
    expect(overMemory['par']?.status).toBe('succeeded');
    expect(overMemory['par']?.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['fetch', 'completed', 1],
      ['store_a', 'completed', 1],
      ['store_b', 'completed', 1],
      ['transform', 'completed', 2],
    ]);
    expect(overMemory['par']?.steps.find((s) => s.name === 'store_a')?.output).toEqual({
      stored: 'store_a',
      input: { user: 'ada' },
    });
  });
});

describe('no responders inside a run', () => {
  it('fails the attempt fast, opens the breaker of the silent agent and retries on another capable agent', async () => {
    const agentSide = await NatsTransport.connect({ servers: server.url, name: 'nr-agents' }, { logger });
    const runnerSide = await NatsTransport.connect({ servers: server.url, name: 'nr-runner' }, { logger });
    const served = await serveAgent({
      transport: agentSide,
      logger,
      name: 'fetch',
      capabilities: ['fetch'],
      handler: () => 'fetched',
    });
    try {
      const ghost = remoteAgent({
        transport: runnerSide,
        name: 'ghost',
        capabilities: ['fetch'],
        maxConcurrent: 1,
      });
      const real = remoteAgent({
        transport: runnerSide,
        name: 'fetch',
        capabilities: ['fetch'],
        maxConcurrent: 1,
      });
      const r = new PatternRegistry();
      r.registerPattern(
        new SequentialDelegationPattern({
          name: 'one',
          description: 'one fetch',
          steps: [{ name: 'fetch', retry }],
        }),
      );
      // least loaded: the ghost, registered first and equally loaded, gets attempt 1
      const executor = new PatternExecutor(r, {
        agents: [ghost, real],
        agentSelection: 'leastLoaded',
        breaker: { failureThreshold: 1 },
      });
      const events: string[] = [];
      executor.onEvent((e) => {
        if (e.type === 'breaker.state') events.push(`${e.agent}:${e.to}`);
      });
      const started = Date.now();
      const result = await executor.run('one', {}, { timeoutMs: 10_000 });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(result.status).toBe('succeeded');
      const step = result.steps[0];
      expect(step?.output).toBe('fetched');
      expect(step?.agent).toBe('fetch');
      // attempt 1 on the ghost: no responders, its breaker opens
      expect(step?.attempts).toBe(2);
      expect(events).toContain('ghost:open');
    } finally {
      await served.stop();
      await runnerSide.close();
      await agentSide.close();
    }
  });
});
