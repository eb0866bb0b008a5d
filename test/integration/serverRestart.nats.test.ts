import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteAgent } from '../../src/actors/remoteAgent.js';
import { serveAgent, type ServedAgent } from '../../src/actors/serveAgent.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import type { TransportStatus } from '../../src/transport/Transport.js';
import type { RunEvent } from '../../src/core/events.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { ResourceMonitor } from '../../src/runtime/resources/ResourceMonitor.js';
import { ParallelCoordinationPattern } from '../../src/runtime/patterns/ParallelCoordinationPattern.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { baseTask, executeWithRetry } from './retry.js';

const logger = pino({ level: 'silent' });
const fast = { reconnectTimeWaitMs: 50, reconnectJitterMs: 10, maxReconnectAttempts: -1 };
let server: NatsServer;

beforeAll(async () => {
  server = await startNatsServer({ control: true });
});
afterAll(async () => {
  await server?.stop();
});

describe('NATS server restarted mid-run', () => {
  it('pauses dispatch, resumes after the reconnect, loses no task and runs none twice', async () => {
    const agentSide = await NatsTransport.connect(
      { servers: server.url, name: 'agent', ...fast },
      { logger },
    );
    const runner = await NatsTransport.connect({ servers: server.url, name: 'runner', ...fast }, { logger });
    const statuses: TransportStatus['type'][] = [];
    runner.onStatus((s) => statuses.push(s.type));
    const executions = new Map<string, number>();
    let served: ServedAgent | undefined;
    try {
      served = await serveAgent({
        transport: agentSide,
        logger,
        name: 'worker',
        capabilities: ['echo'],
        handler: async (task) => {
          executions.set(task.idempotencyKey, (executions.get(task.idempotencyKey) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 150));
          return { step: task.step };
        },
      });
      const agent = remoteAgent({
        transport: runner,
        name: 'worker',
        capabilities: ['echo'],
        timeoutMs: 1000,
      });
      const steps = Array.from({ length: 8 }, (_, i) => `step${i}`);
      const outputs: unknown[] = [];
      let restarted: Promise<void> | undefined;
      let attempts = 0;
      for (const step of steps) {
        const pending = executeWithRetry(agent, baseTask('run-restart', step), 6);
        if (step === 'step2') {
          await new Promise((r) => setTimeout(r, 50));
          restarted = (async () => {
            await server.kill();
            await new Promise((r) => setTimeout(r, 300));
            await server.restart();
          })();
        }
        const done = await pending;
        attempts += done.attempts;
        outputs.push(done.output);
      }
      await restarted;
      expect(outputs).toEqual(steps.map((step) => ({ step })));
      expect([...executions.values()].every((n) => n === 1)).toBe(true);
      expect([...executions.keys()].sort()).toEqual(steps.map((s) => `run-restart/${s}`).sort());
      // An extra attempt follows a request lost on its way to the agent (never received) or a
      // reply lost on its way back (received again and answered from the agent's store).
      const stats = served.stats();
      expect(stats.executed).toBe(steps.length);
      expect(stats.received).toBe(stats.executed + stats.deduplicated);
      expect(stats.received).toBeLessThanOrEqual(attempts);
      expect(attempts).toBeGreaterThanOrEqual(steps.length);
      expect(statuses).toContain('disconnected');
      expect(statuses).toContain('reconnected');
    } finally {
      await served?.stop();
      await runner.close();
      await agentSide.close();
    }
  });

  it('a 1.3 s restart during a run with default breakers: the run succeeds, no breaker opens, every task runs once', async () => {
    const agentSide = await NatsTransport.connect(
      { servers: server.url, name: 'agent-run', ...fast },
      { logger },
    );
    const runner = await NatsTransport.connect(
      { servers: server.url, name: 'runner-run', ...fast },
      { logger },
    );
    const executions = new Map<string, number>();
    const events: RunEvent[] = [];
    let served: ServedAgent | undefined;
    let executor: PatternExecutor | undefined;
    try {
      served = await serveAgent({
        transport: agentSide,
        logger,
        name: 'restart-worker',
        capabilities: ['work'],
        maxConcurrent: 10,
        handler: async (task) => {
          executions.set(task.idempotencyKey, (executions.get(task.idempotencyKey) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 150));
          return { step: task.step };
        },
      });
      const registry = new PatternRegistry();
      const tasks = Array.from({ length: 60 }, (_, i) => ({
        name: `t${i}`,
        capability: 'work',
        timeoutMs: 5_000,
      }));
      registry.registerPattern(
        new ParallelCoordinationPattern({ name: 'restart', tasks, maxConcurrent: 10, failureTolerance: 0 }),
      );
      // default breaker options: none given
      executor = new PatternExecutor(registry, {
        agents: [
          remoteAgent({
            transport: runner,
            name: 'restart-worker',
            capabilities: ['work'],
            timeoutMs: 5_000,
          }),
        ],
        onEvent: (e) => events.push(e),
        // an idle host: the parallel pattern keeps 10 tasks in flight whatever the test machine's load
        resourceMonitor: new ResourceMonitor({
          source: {
            usage: () => ({ cpu: 0, memory: 0, diskIo: 0, network: 0 }),
            processRssBytes: () => 0,
            cpuTimeMs: () => 0,
          },
        }),
      });
      const run = executor.run('restart', {}, { runId: 'run-r' });
      await new Promise((r) => setTimeout(r, 300));
      await server.kill();
      await new Promise((r) => setTimeout(r, 1_300));
      await server.restart();
      const result = await run;
      expect(result.status).toBe('succeeded');
      // requests were in flight when the server died: their attempts were re-sent, not failed
      expect(result.steps.every((s) => s.attempts === 1)).toBe(true);
      expect(result.steps.map((s) => s.output)).toEqual(tasks.map((t) => ({ step: t.name })));
      // agent-side log of idempotency keys: each task executed exactly once
      expect([...executions.keys()].sort()).toEqual(tasks.map((t) => `run-r/restart/${t.name}`).sort());
      expect([...executions.values()].every((n) => n === 1)).toBe(true);
      const breaker = executor.agentBreaker('restart-worker');
      expect(breaker?.state).toBe('closed');
      expect(breaker?.failures).toBe(0);
      expect(breaker?.stateChanges).toBe(0);
      expect(events.filter((e) => e.type === 'breaker.state')).toEqual([]);
      expect(served.stats()).toMatchObject({ executed: tasks.length, failed: 0 });
    } finally {
      await executor?.close();
      await served?.stop();
      await runner.close();
      await agentSide.close();
    }
  }, 30_000);

  it('fails requests beyond the paused-dispatch bound at once instead of buffering them', async () => {
    const solo = await startNatsServer({ jetstream: false, control: true });
    const runner = await NatsTransport.connect(
      { servers: solo.url, name: 'bounded', maxPendingWhileDisconnected: 1, ...fast },
      { logger },
    );
    try {
      const disconnected = new Promise<void>((resolve) =>
        runner.onStatus((s) => s.type === 'disconnected' && resolve()),
      );
      await solo.kill();
      await disconnected;
      expect(runner.connected).toBe(false);
      const first = runner.request('x', new Uint8Array(1), { timeoutMs: 300 }).catch((e: Error) => e.message);
      const second = await runner
        .request('x', new Uint8Array(1), { timeoutMs: 300 })
        .catch((e: Error) => e.message);
      expect(second).toBe('disconnected from NATS: 1 requests already wait for the reconnect');
      expect(await first).toBe('request to x timed out after 300 ms while disconnected from NATS');
    } finally {
      await runner.close();
      await solo.stop();
    }
  });
});
