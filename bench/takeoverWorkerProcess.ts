/**
 * A worker process for `npm run bench:takeover`: serves the pattern `held` (`prep` → `hold` →
 * `finish`, local agents) from the cluster on $NATS_URL, as $WORKER_ID, with concurrency
 * $CONCURRENCY and lease TTL $LEASE_TTL_MS; prints `ready`. With HOLD=1 the `hold` step never
 * ends here (until its run is stopped) and prints `held <run>` once it is dispatched (dispatch
 * is write-ahead: the journal holds it by then), so every run stays in flight on this worker
 * until it is killed; without HOLD, `hold` returns at once, as a step re-sent to a live agent does.
 */
import { connect } from '@nats-io/transport-node';
import { defineAgent } from '../src/actors/agent.js';
import { startWorker } from '../src/cluster/worker/startWorker.js';
import { createLogger } from '../src/core/logger.js';
import { PatternExecutor } from '../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../src/runtime/patterns/index.js';

const holding = process.env['HOLD'] === '1';
const steps = ['prep', 'hold', 'finish'];
const connection = await connect({ servers: process.env['NATS_URL'] ?? '' });
await startWorker({
  connection,
  workerId: process.env['WORKER_ID'] ?? 'bench',
  executor: (store) => {
    const registry = new PatternRegistry();
    registry.registerPattern(new SequentialDelegationPattern({ name: 'held', steps }));
    return new PatternExecutor(registry, {
      agents: [
        defineAgent({
          id: 'prep',
          capabilities: ['prep'],
          maxConcurrent: 100_000,
          handler: () => ({ ok: 1 }),
        }),
        defineAgent({
          id: 'hold',
          capabilities: ['hold'],
          maxConcurrent: 100_000,
          handler: ({ runId, signal }) => {
            if (!holding) return { ok: 2 };
            process.stdout.write(`held ${runId}\n`);
            return new Promise((_, reject) =>
              signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }),
            );
          },
        }),
        defineAgent({
          id: 'finish',
          capabilities: ['finish'],
          maxConcurrent: 100_000,
          handler: () => ({ ok: 3 }),
        }),
      ],
      logger: createLogger('bench', 'silent'),
      store,
    });
  },
  concurrency: Number(process.env['CONCURRENCY'] ?? 100),
  leaseTtlMs: Number(process.env['LEASE_TTL_MS'] ?? 2000),
  logger: createLogger('bench-worker', 'silent'),
});
console.log('ready');
