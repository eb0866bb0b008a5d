import { describe, expect, it } from 'vitest';
import type { SimulatedClock } from 'xstate';
import { defineAgent, type AgentTask } from '../../src/actors/agent.js';
import { PatternValidationError } from '../../src/core/errors.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { MetaOrchestrationPattern, ParallelCoordinationPattern } from '../../src/runtime/patterns/index.js';
import { ResourceMonitor } from '../../src/runtime/resources/ResourceMonitor.js';
import { advance, simulatedClock } from '../../src/testing.js';
import { scriptedSource } from './resourceFixtures.js';

/** An agent whose tasks take `ms` of simulated time; logs when each started. */
function slowAgent(clock: SimulatedClock, capabilities: string[], ms = 100) {
  const started: Record<string, number> = {};
  let running = 0;
  let peak = 0;
  const agent = defineAgent({
    id: 'slow',
    capabilities,
    handler: (task: AgentTask) =>
      new Promise((resolve) => {
        started[task.step] = clock.now();
        running += 1;
        peak = Math.max(peak, running);
        clock.setTimeout(() => {
          running -= 1;
          resolve(task.step);
        }, ms);
      }),
  });
  return { agent, started, peak: () => peak };
}

function gated(cpu: number) {
  const clock = simulatedClock(0);
  const { state, source } = scriptedSource({ cpu, memory: 0.1 });
  const registry = new PatternRegistry();
  const slow = slowAgent(clock, ['a', 'b', 'c']);
  const executor = new PatternExecutor(registry, {
    clock,
    resourceMonitor: new ResourceMonitor({ source, clock, sampleIntervalMs: 50 }),
    agents: [slow.agent],
  });
  registry.registerPattern(new ParallelCoordinationPattern('fan', 'd', ['a', 'b', 'c']));
  return { clock, state, executor, slow };
}

describe('parallel patterns and measured load', () => {
  it('start no further task while measured CPU is over the threshold, and resume when it drops', async () => {
    const { clock, state, executor, slow } = gated(0.95);
    const pending = executor.run('fan');
    await advance(clock, 10);
    expect(slow.started).toEqual({ a: 0 }); // one task always runs
    state.usage = { ...state.usage, cpu: 0.3 };
    await advance(clock, 40); // the recheck at 50 ms sees the drop
    expect(slow.started).toEqual({ a: 0, b: 50, c: 50 });
    await advance(clock, 200, 50);
    expect((await pending).status).toBe('succeeded');
    await executor.close();
  });

  it('run one task at a time while load stays high, so nothing starves', async () => {
    const { clock, executor, slow } = gated(0.95);
    const pending = executor.run('fan');
    await advance(clock, 400, 50);
    const result = await pending;
    expect(result.status).toBe('succeeded');
    expect(slow.started).toEqual({ a: 0, b: 100, c: 200 });
    expect(slow.peak()).toBe(1);
    await executor.close();
  });

  it('run every task at once when measured load is under the threshold', async () => {
    const { clock, executor, slow } = gated(0.2);
    const pending = executor.run('fan');
    await advance(clock, 150, 50);
    expect((await pending).status).toBe('succeeded');
    expect(slow.started).toEqual({ a: 0, b: 0, c: 0 });
    await executor.close();
  });
});

describe("a phase's resource_allocation", () => {
  function meta(allocation: Record<string, number> | undefined) {
    const clock = simulatedClock(0);
    const registry = new PatternRegistry();
    const slow = slowAgent(clock, ['a', 'b', 'c', 'd']);
    const executor = new PatternExecutor(registry, { clock, agents: [slow.agent] });
    registry.registerPattern(
      new ParallelCoordinationPattern({
        name: 'work',
        tasks: ['a', 'b', 'c', 'd'].map((name) => ({ name, resources: { cpu: 0.2, memory: 0.1 } })),
        resourceThreshold: 0.8,
      }),
    );
    registry.registerPattern(
      new MetaOrchestrationPattern('meta', 'd', {
        phases: [
          {
            name: 'execution',
            patterns: ['work'],
            coordination: 'parallel',
            ...(allocation ? { resource_allocation: allocation } : {}),
          },
        ],
      }),
    );
    return { clock, executor, slow };
  }

  it("caps the declared cpu of the phase's patterns below their own resourceThreshold", async () => {
    for (const [allocation, peak] of [
      [undefined, 4],
      [{ cpu: 0.4, memory: 0.7 }, 2],
      [{ memory: 0.1 }, 1],
    ] as const) {
      const { clock, executor, slow } = meta(allocation);
      const pending = executor.run('meta');
      await advance(clock, 500, 50);
      expect((await pending).status).toBe('succeeded');
      expect(slow.peak()).toBe(peak);
      await executor.close();
    }
  });

  it('rejects a key other than cpu and memory, naming it', () => {
    let error: unknown;
    try {
      new MetaOrchestrationPattern('m', 'd', {
        phases: [{ name: 'p', patterns: ['x'], resource_allocation: { gpu: 0.5 } as never }],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PatternValidationError);
    expect((error as Error).message).toMatch(/gpu/);
  });
});
