import { afterEach, describe, expect, it } from 'vitest';
import { PatternConfig } from '../../src/runtime/PatternConfig.js';
import { PatternValidationError } from '../../src/core/errors.js';
import { emptyStats, recordOutcome, type OutcomeStats } from '../../src/learning/outcomes.js';

const defaults = {
  globalConfidenceThreshold: 0,
  learningRate: 0.1,
  memoryRetentionDays: 30,
  patternTimeoutSeconds: 60,
  confidenceAlgorithm: 'simple_average',
  minSamples: 5,
  convergenceThreshold: 0.85,
};

function fieldOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PatternValidationError);
    return (error as PatternValidationError).details.field;
  }
  throw new Error('expected a PatternValidationError');
}

function successes(n: number): OutcomeStats {
  let stats = emptyStats;
  for (let i = 0; i < n; i++) stats = recordOutcome(stats, { at: i, success: true, durationMs: 1 });
  return stats;
}

afterEach(() => PatternConfig.reset());

describe('PatternConfig', () => {
  it('starts with the documented defaults', () => {
    expect(PatternConfig.getCurrentConfig()).toEqual(defaults);
  });

  it('sets the global confidence threshold', () => {
    PatternConfig.setGlobalConfidenceThreshold(0.75);
    expect(PatternConfig.getCurrentConfig().globalConfidenceThreshold).toBe(0.75);
  });

  it('sets the learning rate', () => {
    PatternConfig.setLearningRate(0.3);
    expect(PatternConfig.getCurrentConfig().learningRate).toBe(0.3);
  });

  it('sets the memory retention in days', () => {
    PatternConfig.setMemoryRetentionDays(7);
    expect(PatternConfig.getCurrentConfig().memoryRetentionDays).toBe(7);
  });

  it('sets the pattern timeout in seconds', () => {
    PatternConfig.setPatternTimeout(120);
    expect(PatternConfig.getCurrentConfig().patternTimeoutSeconds).toBe(120);
  });

  it('configures confidence calculation with the defaults', () => {
    PatternConfig.configureConfidenceCalculation();
    expect(PatternConfig.getCurrentConfig()).toMatchObject({
      confidenceAlgorithm: 'adaptive_bayes',
      minSamples: 5,
      convergenceThreshold: 0.85,
    });
  });

  it('configures confidence calculation with explicit values', () => {
    PatternConfig.configureConfidenceCalculation('weighted_average', 10, 0.98);
    expect(PatternConfig.getCurrentConfig()).toMatchObject({
      confidenceAlgorithm: 'weighted_average',
      minSamples: 10,
      convergenceThreshold: 0.98,
    });
  });

  it.each([
    ['globalConfidenceThreshold', () => PatternConfig.setGlobalConfidenceThreshold(1.5)],
    ['globalConfidenceThreshold', () => PatternConfig.setGlobalConfidenceThreshold(-0.1)],
    ['learningRate', () => PatternConfig.setLearningRate(2)],
    ['memoryRetentionDays', () => PatternConfig.setMemoryRetentionDays(0)],
    ['memoryRetentionDays', () => PatternConfig.setMemoryRetentionDays(1.5)],
    ['patternTimeoutSeconds', () => PatternConfig.setPatternTimeout(0)],
    ['minSamples', () => PatternConfig.configureConfidenceCalculation('simple_average', 0)],
    ['convergenceThreshold', () => PatternConfig.configureConfidenceCalculation('simple_average', 5, 1.2)],
    ['confidenceAlgorithm', () => PatternConfig.configureConfidenceCalculation('magic' as 'simple_average')],
  ])('rejects a bad %s naming the field and keeps the previous value', (field, set) => {
    expect(fieldOf(set)).toBe(`PatternConfig.${field}`);
    expect(PatternConfig.getCurrentConfig()).toEqual(defaults);
  });

  it('returns a copy from getCurrentConfig', () => {
    const copy = PatternConfig.getCurrentConfig();
    copy.learningRate = 0.9;
    expect(PatternConfig.getCurrentConfig().learningRate).toBe(0.1);
  });

  it('reset restores the defaults', () => {
    PatternConfig.setLearningRate(0.5);
    PatternConfig.setPatternTimeout(5);
    PatternConfig.reset();
    expect(PatternConfig.getCurrentConfig()).toEqual(defaults);
  });

  it('scorer() follows the configured minSamples, and the level the Wilson interval', () => {
    expect(PatternConfig.scorer().score(successes(5))).toBe(1);
    PatternConfig.configureConfidenceCalculation('simple_average', 10);
    // simple_average is the sample mean; minSamples gates the level, not the score.
    expect(PatternConfig.scorer().score(successes(5))).toBe(1);
    expect(PatternConfig.scorer().level(successes(5))).toBe(0);
    // 10 of 10: Wilson lower bound 0.72 → MEDIUM; 30 of 30: 0.89 → HIGH.
    expect(PatternConfig.scorer().level(successes(10))).toBe(1);
    expect(PatternConfig.scorer().level(successes(30))).toBe(2);
  });
});
