import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../../src/actors/agent.js';
import type { RunEvent } from '../../../src/core/events.js';
import { seededRandom } from '../../../src/learning/random.js';
import { LearningConfig } from '../../../src/runtime/LearningConfig.js';
import { PatternConfig } from '../../../src/runtime/PatternConfig.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../../src/runtime/patterns/index.js';
import { isConfidenceThresholdError } from '../../../src/core/errors.js';

afterEach(() => {
  PatternConfig.reset();
  LearningConfig.reset();
});

function demo(seed: number) {
  const registry = new PatternRegistry();
  const outcome = seededRandom(seed + 1000);
  const events: RunEvent[] = [];
  const executor = new PatternExecutor(registry, {
    random: seededRandom(seed),
    onEvent: (e) => events.push(e),
    agents: [
      defineAgent({
        id: 'flaky',
        capabilities: ['a'],
        handler: () => {
          if (outcome() >= 0.02) throw new Error('flaky failed');
          return 'ok';
        },
      }),
      defineAgent({ id: 'solid', capabilities: ['b'], handler: () => 'ok' }),
    ],
  });
  const a = new SequentialDelegationPattern({ name: 'A', steps: ['a'], domains: ['shop'] });
  const b = new SequentialDelegationPattern({ name: 'B', steps: ['b'], domains: ['shop'] });
  registry.registerPattern(a);
  // A has a history: 2 successes in 100 (the 2% pattern); B was never tried.
  for (let i = 0; i < 100; i++) a.recordExecution(i < 2, 'shop', 10, i);
  registry.registerPattern(b);
  return { registry, executor, events };
}

describe('pattern selection (Thompson sampling)', () => {
  it('the issue demo: a 2% pattern against an untried 100% one picks the good one in ≥ 95% of the last 100 of 200', async () => {
    const { executor } = demo(7);
    const chosen: string[] = [];
    for (let i = 0; i < 200; i++) {
      const [, message] = await executor.executeBestPattern({ domain: 'shop' });
      chosen.push(/Executed "(\w+)"/.exec(message)![1]!);
    }
    const good = chosen.slice(100).filter((n) => n === 'B').length;
    expect(good).toBeGreaterThanOrEqual(95);
    expect(chosen.length).toBe(200);
  });

  it('records each decision in the events: rule, means, draws', () => {
    const { executor, events } = demo(3);
    const picked = executor.selectPattern({ domain: 'shop' });
    const d = events.find((e) => e.type === 'learning.decision');
    expect(d?.type).toBe('learning.decision');
    if (d?.type !== 'learning.decision') return;
    expect(d.kind).toBe('pattern');
    expect(d.decision.chosen).toBe(picked?.name);
    const means = Object.fromEntries(d.decision.arms.map((x) => [x.arm, x.mean]));
    expect(means.A).toBeCloseTo(3 / 102, 10); // Beta(1 + 2, 1 + 98)
    expect(means.B).toBe(0.5); // the prior
    expect(['thompson', 'exploit']).toContain(d.decision.rule);
  });

  it('excludes patterns below their confidence threshold and says why; none left is ConfidenceThresholdError', () => {
    const { registry, executor, events } = demo(5);
    registry.getPattern('A').setConfidenceThreshold(0.5);
    expect(executor.selectPattern({ domain: 'shop' })?.name).toBe('B');
    const d = events.filter((e) => e.type === 'learning.decision').at(-1);
    expect(d?.type === 'learning.decision' && d.decision.excluded).toEqual([
      { arm: 'A', why: 'confidence 0.020 below threshold 0.5' },
    ]);
    registry.unregister('B');
    let error: unknown;
    try {
      executor.selectPattern({ domain: 'shop' });
    } catch (e) {
      error = e;
    }
    expect(isConfidenceThresholdError(error)).toBe(true);
  });

  it('adaptive_gradient also moves away from the 2% pattern', async () => {
    LearningConfig.setLearningAlgorithm('adaptive_gradient');
    PatternConfig.setLearningRate(0.5);
    const { executor } = demo(11);
    const chosen: string[] = [];
    for (let i = 0; i < 200; i++) {
      const [, message] = await executor.executeBestPattern({ domain: 'shop' });
      chosen.push(/Executed "(\w+)"/.exec(message)![1]!);
    }
    expect(chosen.slice(100).filter((n) => n === 'B').length).toBeGreaterThanOrEqual(90);
  });

  it('returns undefined when nothing matches', () => {
    const { executor } = demo(1);
    expect(executor.selectPattern({ domain: 'elsewhere' })).toBeUndefined();
  });
});
