import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../../src/actors/agent.js';
import { isPatternValidationError } from '../../../src/core/errors.js';
import { LearningConfig } from '../../../src/runtime/LearningConfig.js';
import { PatternConfig } from '../../../src/runtime/PatternConfig.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';

afterEach(() => {
  PatternConfig.reset();
  LearningConfig.reset();
});

function thrown(f: () => void): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('LearningConfig', () => {
  it('validates every setter and names the field', () => {
    for (const [f, field] of [
      [() => LearningConfig.setExplorationRate(1.5), 'explorationRate'],
      [() => LearningConfig.setPatternSimilarityThreshold(-1), 'patternSimilarityThreshold'],
      [() => LearningConfig.setLearningAlgorithm('magic' as 'statistical_bayes'), 'learningAlgorithm'],
      [() => LearningConfig.configure({ discount: 0 }), 'discount'],
      [() => LearningConfig.setConvergenceThreshold(2), 'convergenceThreshold'],
    ] as const) {
      const error = thrown(f);
      expect(isPatternValidationError(error)).toBe(true);
      expect((error as Error).message).toContain(field);
    }
  });

  it('params() joins PatternConfig and LearningConfig, and stays the same object until a change', () => {
    const a = LearningConfig.params();
    expect(LearningConfig.params()).toBe(a);
    PatternConfig.setLearningRate(0.3);
    const b = LearningConfig.params();
    expect(b).not.toBe(a);
    expect(b.learningRate).toBe(0.3);
    LearningConfig.setExplorationRate(0.2);
    expect(LearningConfig.params().explorationRate).toBe(0.2);
  });

  it('setPatternSimilarityThreshold decides whether a new cell starts from a similar one', () => {
    const executor = new PatternExecutor(new PatternRegistry(), {
      agents: [defineAgent({ id: 'w', capabilities: ['work'], handler: () => 'ok' })],
    });
    const learner = () => executor.agentLearning('work')!;
    for (let i = 0; i < 20; i++)
      learner().record('w', {
        at: i,
        success: true,
        latencyMs: 1,
        context: { domain: 'shop', agentType: 'web' },
      });
    const fresh = { domain: 'shop', agentType: 'mobile' }; // similarity 0.8
    expect(learner().view('w', fresh).cell).toBe('transfer:shop|web');
    LearningConfig.setPatternSimilarityThreshold(0.9);
    expect(learner().view('w', fresh).cell).toBe('shop|*');
  });
});
