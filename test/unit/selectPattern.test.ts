import { describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/actors/agent.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import {
  ParallelCoordinationPattern,
  SequentialDelegationPattern,
} from '../../src/runtime/patterns/index.js';

function setup() {
  const registry = new PatternRegistry();
  const executor = new PatternExecutor(registry, {
    agents: [defineAgent({ id: 'w', capabilities: ['validate', 'store', 'cpu'], handler: () => 'ok' })],
  });
  registry.registerPattern(new SequentialDelegationPattern('validation_flow', 'd', ['validate', 'store']));
  registry.registerPattern(
    new ParallelCoordinationPattern('resource_manager', 'd', new Set(['cpu', 'memory'])),
  );
  return { registry, executor };
}

describe('PatternExecutor.selectPattern', () => {
  it('picks the pattern whose kind and required items match the context', () => {
    const { executor } = setup();
    const seq = executor.selectPattern({
      agentType: 'sequential',
      attributes: { required_steps: ['validate'] },
    });
    expect(seq?.name).toBe('validation_flow');
    const par = executor.selectPattern({
      agentType: 'parallel',
      attributes: { required_resources: ['cpu'] },
    });
    expect(par?.name).toBe('resource_manager');
  });

  it('returns undefined when nothing matches', () => {
    const { executor } = setup();
    expect(
      executor.selectPattern({ agentType: 'sequential', attributes: { required_steps: ['deploy'] } }),
    ).toBeUndefined();
  });

  it('prefers the higher confidence among matching patterns', async () => {
    const { registry, executor } = setup();
    registry.registerPattern(new SequentialDelegationPattern('other_flow', 'd', ['validate']));
    for (let i = 0; i < 3; i++) await executor.run('other_flow');
    // Thompson sampling: Beta(4, 1) against an untried Beta(1, 1) wins with probability 0.8.
    const picks = Array.from(
      { length: 400 },
      () =>
        executor.selectPattern({ agentType: 'sequential', attributes: { required_steps: ['validate'] } })
          ?.name,
    );
    const share = picks.filter((n) => n === 'other_flow').length / picks.length;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.88);
  });

  it('a selected pattern runs with a full RunResult', async () => {
    const { executor } = setup();
    const best = executor.selectPattern({ agentType: 'sequential' });
    const result = await executor.run(best!.name);
    expect(result.steps.map((s) => [s.name, s.status, s.output])).toEqual([
      ['validate', 'completed', 'ok'],
      ['store', 'completed', 'ok'],
    ]);
  });
});
