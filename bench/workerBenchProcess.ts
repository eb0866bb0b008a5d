/**
 * A worker process for `npm run bench:workers`: serves the pattern `w10` (10 sequential no-op
 * local steps) from the cluster on $NATS_URL with concurrency $CONCURRENCY; prints `ready`.
 * With SHARED=1 its executor also shares breakers and learning with the cluster, as `ndf worker`.
 */
import { connect } from '@nats-io/transport-node';
import { defineAgent } from '../src/actors/agent.js';
import { startWorker } from '../src/cluster/worker/startWorker.js';
import { SharedBreakerBoard } from '../src/cluster/sharedBreaker/SharedBreakerBoard.js';
import { SharedLearningFeed } from '../src/cluster/sharedLearning/SharedLearningFeed.js';
import { createLogger } from '../src/core/logger.js';
import { PatternExecutor } from '../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../src/runtime/patterns/index.js';

const steps = Array.from({ length: 10 }, (_, i) => `s${i}`);
const connection = await connect({ servers: process.env['NATS_URL'] ?? '' });
const owner = `bench-${process.pid}`;
const shared =
  process.env['SHARED'] === '1'
    ? {
        sharedBreakers: await SharedBreakerBoard.open({ connection, owner }),
        sharedLearning: await SharedLearningFeed.open({ connection, owner }),
      }
    : {};
await startWorker({
  connection,
  executor: (store) => {
    const registry = new PatternRegistry();
    registry.registerPattern(new SequentialDelegationPattern({ name: 'w10', steps }));
    return new PatternExecutor(registry, {
      agents: steps.map((s, i) =>
        defineAgent({ id: s, capabilities: [s], maxConcurrent: 100_000, handler: () => ({ ok: i }) }),
      ),
      logger: createLogger('bench', 'silent'),
      store,
      ...shared,
    });
  },
  concurrency: Number(process.env['CONCURRENCY'] ?? 16),
  leaseTtlMs: 10_000,
  logger: createLogger('bench-worker', 'silent'),
});
console.log('ready');
