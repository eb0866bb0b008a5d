import { describe, expect, it } from 'vitest';
import type { ResourceArbiter } from '../../../src/core/agent.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import {
  MetaOrchestrationPattern,
  SequentialDelegationPattern,
} from '../../../src/runtime/patterns/index.js';
import { scriptedAgent, settle, simulatedClock } from '../../../src/testing.js';
import { ExecutionTracer } from '../../../src/tracing/ExecutionTracer.js';
import { memorySink } from '../../../src/tracing/memorySink.js';
import type { TraceSpan } from '../../../src/tracing/span.js';

const T0 = 5_000_000;

/** `name` lines indented by depth (children by start, then end, then name). */
function tree(spans: readonly TraceSpan[]): string[] {
  const sorted = [...spans].sort(
    (a, b) =>
      a.startedAt - b.startedAt || (a.endedAt ?? 0) - (b.endedAt ?? 0) || a.name.localeCompare(b.name),
  );
  const out: string[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    for (const s of sorted.filter((x) => x.parentSpanId === parent)) {
      out.push(`${'  '.repeat(depth)}${s.name}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return out;
}

describe('ExecutionTracer hierarchy', () => {
  it('nests a meta run: run → workflow → phase → workflow → step → attempt → lock wait', async () => {
    const clock = simulatedClock(T0);
    // grants every lock 30 ms (simulated) after it is asked for
    const resolver: ResourceArbiter = {
      acquire: () => new Promise((resolve) => clock.setTimeout(() => resolve(async () => undefined), 30)),
    };
    const registry = new PatternRegistry();
    const executor = new PatternExecutor(registry, { clock, resolver });
    executor.registerAgent(scriptedAgent('w', ['work']));
    registry.registerPattern(
      new SequentialDelegationPattern({ name: 's1', steps: [{ name: 'x', capability: 'work' }] }),
    );
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 's2',
        steps: [{ name: 'y', capability: 'work', locks: ['db'] }],
      }),
    );
    registry.registerPattern(
      new MetaOrchestrationPattern({
        name: 'meta',
        strategy: {
          phases: [
            { name: 'prep', patterns: ['s1'], coordination: 'sequential' },
            { name: 'main', patterns: ['s2'], coordination: 'sequential' },
          ],
        },
      }),
    );
    const sink = memorySink();
    const result = await settle(
      clock,
      executor.run('meta', {}, { tracer: new ExecutionTracer({ level: 'detailed', sinks: [sink] }) }),
    );
    expect(result.status).toBe('succeeded');
    expect(tree(sink.spans)).toEqual([
      'run meta',
      '  invoke_workflow meta',
      '    phase prep',
      '      invoke_workflow s1',
      '        step x',
      '          invoke_agent w',
      '          wait queue x',
      '    phase main',
      '      invoke_workflow s2',
      '        step y',
      '          wait queue y',
      '          invoke_agent w',
      '            wait lock y',
    ]);
    const lock = sink.spans.find((s) => s.name === 'wait lock y')!;
    expect(lock.endedAt! - lock.startedAt).toBe(30);
    const y = sink.spans.find((s) => s.name === 'step y')!;
    expect(y.endedAt! - y.startedAt).toBe(30);
  });

  it('records breaker transitions as span events on the run', async () => {
    const clock = simulatedClock(T0);
    const registry = new PatternRegistry();
    const executor = new PatternExecutor(registry, { clock, breaker: { failureThreshold: 1 } });
    executor.registerAgent(scriptedAgent('flaky', ['work'], { a: ['fatal'] }));
    registry.registerPattern(
      new SequentialDelegationPattern({ name: 'p', steps: [{ name: 'a', capability: 'work' }] }),
    );
    const sink = memorySink();
    const result = await settle(
      clock,
      executor.run('p', {}, { tracer: new ExecutionTracer({ sinks: [sink] }) }),
    );
    expect(result.status).not.toBe('succeeded');
    const run = sink.spans.find((s) => s.kind === 'run')!;
    expect(run.events.filter((e) => e.name === 'ndf.breaker.state').map((e) => e.attributes)).toEqual([
      { 'gen_ai.agent.name': 'flaky', 'ndf.breaker.from': 'closed', 'ndf.breaker.to': 'open' },
    ]);
  });
});
