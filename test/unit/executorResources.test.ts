import { describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/actors/agent.js';
import { ResourceExhaustionError } from '../../src/core/errors.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../src/runtime/patterns/index.js';
import { ResourceMonitor } from '../../src/runtime/resources/ResourceMonitor.js';
import { simulatedClock } from '../../src/testing.js';
import { scriptedSource } from './resourceFixtures.js';

const MIB = 1024 * 1024;

describe('configureExecution({ memoryLimitMb })', () => {
  it('a run does not start while the process is over the limit, naming the limit and the figure', async () => {
    const { state, source } = scriptedSource();
    const registry = new PatternRegistry();
    const executor = new PatternExecutor(registry, {
      resourceMonitor: new ResourceMonitor({ source }),
      agents: [defineAgent({ id: 'a', capabilities: ['x'], handler: () => 'ran' })],
    });
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['x']));
    executor.configureExecution({ memoryLimitMb: 512 });
    state.rss = 600 * MIB;
    const error = await executor.run('p').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceExhaustionError);
    expect((error as Error).message).toBe(
      'Pattern "p" not started: process memory (resident set) is 600.0 MiB, over memoryLimitMb 512',
    );
    expect((error as ResourceExhaustionError).details).toEqual({
      patternName: 'p',
      field: 'memoryLimitMb',
      threshold: 512,
    });
    expect(registry.getPattern('p').executionCount).toBe(0);
    state.rss = 100 * MIB;
    expect((await executor.run('p')).steps[0]!.output).toBe('ran');
    await executor.close();
  });
});

describe('PatternAnalytics.resourceUsage', () => {
  it('holds the measured CPU time, wall time and peak RSS of the pattern runs', async () => {
    const clock = simulatedClock(0);
    const { state, source } = scriptedSource();
    const registry = new PatternRegistry();
    let run = 0;
    const executor = new PatternExecutor(registry, {
      clock,
      resourceMonitor: new ResourceMonitor({ source, clock }),
      agents: [
        defineAgent({
          id: 'a',
          capabilities: ['x'],
          handler: () => {
            run += 1;
            state.cpuMs += run === 1 ? 40 : 20; // CPU spent inside the run
            state.rss = (run === 1 ? 300 : 200) * MIB;
            return run;
          },
        }),
      ],
    });
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['x']));
    expect(registry.getPatternAnalytics('p').resourceUsage).toEqual({});
    state.cpuMs = 1_000; // before the runs: not counted
    await executor.run('p');
    await executor.run('p');
    expect(registry.getPatternAnalytics('p').resourceUsage).toEqual({
      measuredRuns: 2,
      avgWallTimeMs: 0,
      avgCpuTimeMs: 30,
      peakRssMb: 300,
    });
    await executor.close();
  });

  it('measures real CPU time on the host', async () => {
    const registry = new PatternRegistry();
    const executor = new PatternExecutor(registry, {
      agents: [
        defineAgent({
          id: 'busy',
          capabilities: ['spin'],
          handler: () => {
            const until = process.cpuUsage().user + 30_000;
            while (process.cpuUsage().user < until);
            return 'spun';
          },
        }),
      ],
    });
    registry.registerPattern(new SequentialDelegationPattern('spin', 'd', ['spin']));
    await executor.run('spin');
    const usage = registry.getPatternAnalytics('spin').resourceUsage;
    expect(usage['avgCpuTimeMs']).toBeGreaterThanOrEqual(30);
    expect(usage['peakRssMb']).toBeGreaterThan(1);
    await executor.close();
  });
});
