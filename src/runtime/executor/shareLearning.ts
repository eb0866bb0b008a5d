import type { SharedLearningGate, SharedOutcome } from '../../core/sharedLearning.js';
import type { AgentPool } from '../AgentPool.js';
import type { PatternRegistry } from '../PatternRegistry.js';
import { BuiltInPattern } from '../patterns/BuiltInPattern.js';

/**
 * Wires an executor's learning to a cluster's: the pool's and the runs' outcomes are published,
 * and the outcomes of the other processes are recorded here as if seen here (an agent's in its
 * capability's learner, a built-in pattern's in its statistics). Outcomes of patterns or
 * capabilities this process does not know are ignored.
 * @returns a disposer that stops following the cluster
 */
export function followSharedLearning(
  gate: SharedLearningGate,
  pool: AgentPool,
  registry: PatternRegistry,
): () => void {
  return gate.onOutcome((o: SharedOutcome) => {
    if (o.kind === 'agent') {
      pool.recordOutcome(o.capability, o.agent, {
        at: o.at,
        success: o.success,
        latencyMs: o.latencyMs,
        context: o.context,
      });
      return;
    }
    const pattern = registry.has(o.pattern) ? registry.getPattern(o.pattern) : undefined;
    if (pattern instanceof BuiltInPattern) pattern.recordExecution(o.success, o.domain, o.durationMs, o.at);
  });
}
