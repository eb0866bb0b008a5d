/**
 * Cluster-wide circuit breakers through executors: two runtime processes (two executors, each
 * with its own connection and board on one bucket) delegate to the same agent. When it fails on
 * one, the other stops calling it; after the recovery timeout exactly one probe runs across both,
 * and its success closes the circuit for both.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/actors/agent.js';
import { AgentError } from '../../src/core/errors.js';
import { SharedBreakerBoard } from '../../src/cluster/sharedBreaker/SharedBreakerBoard.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../src/runtime/patterns/index.js';
import { until } from '../helpers/processes.js';
import { startNatsServer, type NatsServer } from './natsServer.js';

let server: NatsServer;
const connections: NatsConnection[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
});

/** Longer than the step's deadline (1000 ms): a run refused while open fails fast. */
const RECOVERY_MS = 1500;

/** The one agent both processes call, as seen from its side. */
function billingService() {
  const calls: { by: string; start: number; end?: number; ok: boolean }[] = [];
  let healthy = false;
  return {
    calls,
    heal: () => {
      healthy = true;
    },
    /** The agent as registered in process `by`. */
    agent: (by: string) =>
      defineAgent({
        id: 'billing',
        capabilities: ['charge'],
        maxConcurrent: 10,
        handler: async () => {
          const call: (typeof calls)[number] = { by, start: Date.now(), ok: healthy };
          calls.push(call);
          await sleep(150);
          call.end = Date.now();
          if (!call.ok) throw new AgentError('billing is down', { retryable: false });
          return 'charged';
        },
      }),
  };
}

/** One runtime process: a connection, a board and an executor. */
async function runtimeProcess(owner: string, bucket: string, service: ReturnType<typeof billingService>) {
  const connection = await connect({ servers: server.url });
  connections.push(connection);
  const board = await SharedBreakerBoard.open({ connection, owner, bucket, recoveryTimeoutMs: RECOVERY_MS });
  const registry = new PatternRegistry();
  // A step with a deadline waits (within it) for a breaker to admit again instead of failing fast.
  registry.registerPattern(
    new SequentialDelegationPattern({ name: 'checkout', steps: [{ name: 'charge', timeoutMs: 1000 }] }),
  );
  const executor = new PatternExecutor(registry, {
    agents: [service.agent(owner)],
    breaker: { failureThreshold: 1, recoveryTimeoutMs: RECOVERY_MS },
    sharedBreakers: board,
  });
  return { board, executor, run: () => executor.run('checkout', {}) };
}

describe('cluster-wide circuit breakers (executors on two connections)', () => {
  it('opens on every process when the agent fails on one; one probe cluster-wide closes it for all', async () => {
    const service = billingService();
    const a = await runtimeProcess('A', 'breakers_exec_1', service);
    const b = await runtimeProcess('B', 'breakers_exec_1', service);

    const failed = await a.run();
    expect(failed.status).toBe('failed');
    expect(a.executor.agentBreaker('billing')!.state).toBe('open');
    await until(() => b.executor.agentBreaker('billing')!.state === 'open', 5000, 'B’s breaker opens');
    expect(b.board.state('billing')).toMatchObject({ state: 'open', by: 'A' });

    // B refuses without calling the agent (the circuit reopens after the deadline: no wait).
    const refused = await b.run();
    expect(refused.error?.code).toBe('ND_CIRCUIT_OPEN');
    expect(service.calls.map((c) => c.by)).toEqual(['A']);

    // After the recovery timeout, six runs start at once on both processes: one probe reaches
    // the agent; the others wait for its outcome and then run.
    service.heal();
    await sleep(RECOVERY_MS + 50);
    const results = await Promise.all([a.run(), b.run(), a.run(), b.run(), a.run(), b.run()]);
    expect(results.map((r) => r.error?.message ?? r.status)).toEqual(Array(6).fill('succeeded'));
    const after = service.calls.slice(1);
    expect(after).toHaveLength(6);
    const [probe, ...rest] = after.sort((x, y) => x.start - y.start);
    for (const call of rest) expect(call.start).toBeGreaterThanOrEqual(probe!.end!);
    await until(
      () =>
        a.executor.agentBreaker('billing')!.state === 'closed' &&
        b.executor.agentBreaker('billing')!.state === 'closed',
      5000,
      'both breakers close',
    );
    expect(a.board.state('billing').state).toBe('closed');

    await a.executor.close();
    await b.executor.close();
    a.board.close();
    b.board.close();
  });

  it('a failed probe reopens the circuit for all', async () => {
    const service = billingService();
    const a = await runtimeProcess('A', 'breakers_exec_2', service);
    const b = await runtimeProcess('B', 'breakers_exec_2', service);
    await b.run(); // fails: B opens it
    await until(() => a.executor.agentBreaker('billing')!.state === 'open', 5000, 'A’s breaker opens');
    await sleep(RECOVERY_MS + 50);
    const probe = await a.run(); // still down: A's probe fails
    expect(probe.status).toBe('failed');
    expect(service.calls.map((c) => c.by)).toEqual(['B', 'A']);
    await until(
      () => b.board.state('billing').state === 'open' && b.board.state('billing').by === 'A',
      5000,
      'B sees A reopen it',
    );
    expect((await b.run()).error?.code).toBe('ND_CIRCUIT_OPEN');
    expect(service.calls).toHaveLength(2);
    await a.executor.close();
    await b.executor.close();
    a.board.close();
    b.board.close();
  });
});
