import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../../src/actors/agent.js';
import type { RunEvent } from '../../../src/core/events.js';
import { seededRandom } from '../../../src/learning/random.js';
import { LearningConfig } from '../../../src/runtime/LearningConfig.js';
import { PatternConfig } from '../../../src/runtime/PatternConfig.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../../src/runtime/patterns/index.js';

afterEach(() => {
  PatternConfig.reset();
  LearningConfig.reset();
});

/** Three agents able to `work`, succeeding with the given rates in domain `a`, the reverse in `b`. */
function setup(options: { agentSelection?: 'learned' | 'leastLoaded' | 'roundRobin'; seed?: number } = {}) {
  const rates: Record<string, [number, number]> = { good: [0.95, 0.2], mid: [0.5, 0.5], poor: [0.2, 0.95] };
  const outcome = seededRandom((options.seed ?? 1) + 77);
  const events: RunEvent[] = [];
  const registry = new PatternRegistry();
  const executor = new PatternExecutor(registry, {
    random: seededRandom(options.seed ?? 1),
    ...(options.agentSelection ? { agentSelection: options.agentSelection } : {}),
    onEvent: (e) => events.push(e),
    agents: Object.entries(rates).map(([id, [a, b]]) =>
      defineAgent({
        id,
        capabilities: ['work'],
        handler: (task) => {
          const rate = (task.context as { domain: string }).domain === 'a' ? a : b;
          if (outcome() >= rate) throw new Error(`${id} failed`);
          return id;
        },
      }),
    ),
  });
  registry.registerPattern(new SequentialDelegationPattern({ name: 'p', steps: ['work'] }));
  registry.registerPattern(
    new SequentialDelegationPattern({ name: 'mapped', steps: [{ name: 'work', agent: 'poor' }] }),
  );
  const agentOf = async (domain: string, pattern = 'p') =>
    (await executor.run(pattern, { domain })).steps[0]!.agent;
  return { executor, events, agentOf };
}

async function picks(agentOf: (d: string) => Promise<string | undefined>, domain: string, n: number) {
  const out: (string | undefined)[] = [];
  for (let i = 0; i < n; i++) out.push(await agentOf(domain));
  return out;
}

describe('learned agent selection', () => {
  it('learns the best agent per context cell', async () => {
    const { agentOf } = setup();
    const inA = await picks(agentOf, 'a', 150);
    const inB = await picks(agentOf, 'b', 150);
    expect(inA.slice(-50).filter((x) => x === 'good').length).toBeGreaterThanOrEqual(45);
    expect(inB.slice(-50).filter((x) => x === 'poor').length).toBeGreaterThanOrEqual(45);
  });

  it('leastLoaded and roundRobin ignore outcomes', async () => {
    const least = setup({ agentSelection: 'leastLoaded' });
    expect(new Set(await picks(least.agentOf, 'a', 20))).toEqual(new Set(['good']));
    const rr = setup({ agentSelection: 'roundRobin' });
    expect(await picks(rr.agentOf, 'a', 6)).toEqual(['good', 'mid', 'poor', 'good', 'mid', 'poor']);
  });

  it('an explicit step → agent mapping wins', async () => {
    const { agentOf } = setup();
    await picks(agentOf, 'a', 40);
    for (let i = 0; i < 5; i++) expect(await agentOf('a', 'mapped')).toBe('poor');
  });

  it('emits a decision record per learned choice: arms, means, rule, excluded', async () => {
    const { agentOf, events } = setup();
    await picks(agentOf, 'a', 3);
    const decisions = events.filter((e) => e.type === 'learning.decision');
    expect(decisions).toHaveLength(3);
    const first = decisions[0]!;
    if (first.type !== 'learning.decision') return;
    expect(first).toMatchObject({ kind: 'agent', step: 'work', path: ['p'] });
    expect(first.decision.arms.map((a) => [a.arm, a.mean, a.samples])).toEqual([
      ['good', 0.5, 0],
      ['mid', 0.5, 0],
      ['poor', 0.5, 0],
    ]);
    expect(first.decision.rule).toBe('thompson');
    expect(Object.keys(first.decision.sampled!)).toEqual(['good', 'mid', 'poor']);
  });

  it('exploration rate: a floor of uniform picks even after convergence', async () => {
    LearningConfig.setExplorationRate(0.6);
    const { agentOf, events } = setup({ seed: 4 });
    await picks(agentOf, 'a', 150);
    const rules = events.flatMap((e) => (e.type === 'learning.decision' ? [e.decision.rule] : []));
    const explored = rules.filter((r) => r === 'explore').length / rules.length;
    expect(explored).toBeGreaterThan(0.5);
    expect(explored).toBeLessThan(0.7);
  });

  it('convergence threshold: exploitation starts once P(best) reaches it; 1 never', async () => {
    const rulesWith = async (threshold: number) => {
      LearningConfig.setConvergenceThreshold(threshold);
      const { agentOf, events } = setup({ seed: 2 });
      await picks(agentOf, 'a', 120);
      return events.flatMap((e) => (e.type === 'learning.decision' ? [e.decision.rule] : []));
    };
    expect((await rulesWith(0.9)).slice(-30).filter((r) => r === 'exploit').length).toBeGreaterThan(20);
    expect(await rulesWith(1)).not.toContain('exploit');
    expect(PatternConfig.getCurrentConfig().convergenceThreshold).toBe(1);
  });

  it('passes over an agent at maxConcurrent when another has a free slot', async () => {
    const gate: { open?: () => void } = {};
    const registry = new PatternRegistry();
    const events: RunEvent[] = [];
    const executor = new PatternExecutor(registry, {
      random: seededRandom(1),
      onEvent: (e) => events.push(e),
      agents: [
        defineAgent({
          id: 'x',
          capabilities: ['work'],
          maxConcurrent: 1,
          handler: () => new Promise((r) => (gate.open = () => r('x'))),
        }),
        defineAgent({ id: 'y', capabilities: ['work'], maxConcurrent: 1, handler: () => 'y' }),
      ],
    });
    registry.registerPattern(new SequentialDelegationPattern({ name: 'p', steps: ['work'] }));
    // Teach the pool that x is excellent, so only load can send work to y.
    for (let i = 0; i < 50; i++)
      executor.agentLearning('work')!.record('x', {
        at: i,
        success: true,
        latencyMs: 1,
        context: { domain: 'general', agentType: 'general' },
      });
    const first = executor.run('p');
    await new Promise((r) => setTimeout(r, 5));
    const second = await executor.run('p');
    expect(second.steps[0]!.agent).toBe('y');
    const d = events.filter((e) => e.type === 'learning.decision').at(-1);
    expect(d?.type === 'learning.decision' && d.decision.excluded).toEqual([
      { arm: 'x', why: 'busy: 1 of 1 slots, 0 waiting' },
    ]);
    gate.open?.();
    expect((await first).steps[0]!.agent).toBe('x');
  });
});
