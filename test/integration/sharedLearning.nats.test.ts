/**
 * Learning shared by the processes of a cluster: two executors (on their own connections and
 * feeds, one stream) learn from each other's agent and pattern outcomes, never count their own
 * twice, and a process that starts later replays what the cluster learned.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/actors/agent.js';
import { SharedLearningFeed } from '../../src/cluster/sharedLearning/SharedLearningFeed.js';
import { AgentError, isPatternValidationError } from '../../src/core/errors.js';
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

const connection = async () => {
  const c = await connect({ servers: server.url });
  connections.push(c);
  return c;
};

/** One runtime process: a feed and an executor with two agents able to `work` (one always fails). */
async function runtimeProcess(owner: string, stream: string, warnings: unknown[] = []) {
  const feed = await SharedLearningFeed.open({
    connection: await connection(),
    owner,
    stream,
    logger: { warn: (o: unknown) => void warnings.push(o) },
  });
  const registry = new PatternRegistry();
  registry.registerPattern(new SequentialDelegationPattern('job', 'd', ['work']));
  const executor = new PatternExecutor(registry, {
    agents: [
      defineAgent({ id: 'good', capabilities: ['work'], handler: () => 'done' }),
      defineAgent({
        id: 'bad',
        capabilities: ['work'],
        handler: () => {
          throw new AgentError('broken', { retryable: false });
        },
      }),
    ],
    breaker: { failureThreshold: 1000, failureRateThreshold: 1, minimumThroughput: 1000 }, // learning only
    sharedLearning: feed,
  });
  const counts = () => {
    const l = executor.agentLearning('work');
    return { good: l?.outcomes('good').length ?? 0, bad: l?.outcomes('bad').length ?? 0 };
  };
  const job = () => registry.getPattern('job');
  return { feed, executor, registry, counts, job };
}

describe('shared learning (two executors, one stream)', () => {
  it('each learns from the other’s agent and pattern outcomes, its own counted once; a late process replays them', async () => {
    const a = await runtimeProcess('A', 'LEARN_1');
    const b = await runtimeProcess('B', 'LEARN_1');
    const ranOnA = [];
    for (let i = 0; i < 20; i++) ranOnA.push(await a.executor.run('job', { domain: 'billing' }));
    const byAgentOnA = { good: 0, bad: 0 };
    for (const r of ranOnA) byAgentOnA[r.steps[0]!.agent as 'good' | 'bad'] += 1;
    expect(a.counts()).toEqual(byAgentOnA);
    await until(() => b.counts().good + b.counts().bad === 20, 5000, 'B has A’s 20 outcomes');
    expect(b.counts()).toEqual(byAgentOnA);
    expect(b.job().outcomeStats.executions).toBe(20);
    expect(b.job().outcomeStats.successes).toBe(byAgentOnA.good);

    // B learned that `bad` fails: with those outcomes its Thompson draws favour `good`.
    const bLearner = b.executor.agentLearning('work')!;
    expect(bLearner.outcomes('bad').every((o) => !o.success)).toBe(true);
    expect(bLearner.outcomes('good').every((o) => o.success)).toBe(true);

    for (let i = 0; i < 10; i++) await b.executor.run('job', { domain: 'billing' });
    await until(() => a.counts().good + a.counts().bad === 30, 5000, 'A has B’s 10 outcomes');
    expect(a.counts().good + a.counts().bad).toBe(30);
    expect(a.job().outcomeStats.executions).toBe(30);
    await sleep(200); // nothing more arrives: no outcome is applied twice
    expect(a.counts().good + a.counts().bad).toBe(30);
    expect(b.counts().good + b.counts().bad).toBe(30);

    // A process started later replays the cluster's outcomes when it is built.
    await a.feed.close();
    await b.feed.close();
    const c = await runtimeProcess('C', 'LEARN_1');
    expect(c.counts()).toEqual(b.counts());
    expect(c.job().outcomeStats.executions).toBe(30);
    for (const p of [a, b, c]) await p.executor.close();
    await c.feed.close();
  });

  it('skips a message that is not an outcome (logged), and keeps applying the next ones', async () => {
    const warnings: unknown[] = [];
    const a = await runtimeProcess('A', 'LEARN_2', warnings);
    const js = jetstream(await connection());
    await js.publish(
      'ndf.learning.LEARN_2.intruder',
      new TextEncoder().encode('{"by":"X","outcome":{"kind":"agent"}}'),
    );
    await js.publish('ndf.learning.LEARN_2.intruder', new TextEncoder().encode('not json'));
    await js.publish(
      'ndf.learning.LEARN_2.intruder',
      new TextEncoder().encode(
        JSON.stringify({
          by: 'X',
          outcome: {
            kind: 'agent',
            capability: 'work',
            agent: 'good',
            at: Date.now(),
            success: true,
            latencyMs: 3,
          },
        }),
      ),
    );
    await until(() => a.counts().good === 1, 5000, 'the valid outcome after the bad ones');
    expect(warnings).toHaveLength(2);
    await a.executor.close();
    await a.feed.close();
  });

  it('keeps outcomes for the retention period (the stream’s max_age) and validates its options', async () => {
    const c = await connection();
    const feed = await SharedLearningFeed.open({
      connection: c,
      owner: 'A',
      stream: 'LEARN_3',
      retentionDays: 2,
    });
    const info = await (await jetstreamManager(c)).streams.info('LEARN_3');
    expect(info.config.max_age).toBe(nanos(2 * 86_400_000));
    await feed.close();
    await expect(SharedLearningFeed.open({ connection: c, owner: '', stream: 'LEARN_3' })).rejects.toSatisfy(
      (e: unknown) => isPatternValidationError(e) && String((e as Error).message).includes('owner'),
    );
  });
});
