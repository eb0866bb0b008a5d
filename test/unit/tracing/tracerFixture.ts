import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../../src/runtime/patterns/index.js';
import { advance, scriptedAgent, simulatedClock } from '../../../src/testing.js';
import type { RunResult } from '../../../src/core/result.js';
import type { RunTracer } from '../../../src/tracing/ExecutionTracer.js';

export const T0 = 1_000_000;

/**
 * A sequential run `saga` of steps a, b, c on agent `w`: b fails once then succeeds (a retry
 * after 100 ms of backoff), c fails fatally, so b and a are compensated (rollback).
 */
export async function sagaRun(tracer: RunTracer | undefined): Promise<{
  result: RunResult;
  agent: ReturnType<typeof scriptedAgent>;
}> {
  const clock = simulatedClock(T0);
  const registry = new PatternRegistry();
  const executor = new PatternExecutor(registry, { clock });
  const agent = scriptedAgent('w', ['work'], { b: ['fail', 'ok'], c: ['fatal'] });
  executor.registerAgent(agent);
  const retry = { maxAttempts: 3, backoff: { initialDelayMs: 100, multiplier: 2, jitter: 'none' as const } };
  registry.registerPattern(
    new SequentialDelegationPattern({
      name: 'saga',
      steps: ['a', 'b', 'c'].map((name) => ({ name, capability: 'work', retry })),
    }),
  );
  const pending = executor.run('saga', {}, tracer ? { tracer, runId: 'r1' } : { runId: 'r1' });
  await advance(clock, 1000, 50);
  return { result: await pending, agent };
}
