import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../../src/actors/agent.js';
import { isPatternValidationError } from '../../../src/core/errors.js';
import { seededRandom } from '../../../src/learning/random.js';
import { LearningConfig } from '../../../src/runtime/LearningConfig.js';
import { PatternConfig } from '../../../src/runtime/PatternConfig.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry, type ExecutionMetrics } from '../../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../../src/runtime/patterns/index.js';

afterEach(() => {
  PatternConfig.reset();
  LearningConfig.reset();
});

const DAY = 86_400_000;
const seq = (name: string, steps: string[], domains: string[] = []) =>
  new SequentialDelegationPattern({ name, steps, domains });

describe('findSimilarPatterns', () => {
  it('an exact domain match scores 1 and passes the default threshold', () => {
    const r = new PatternRegistry();
    r.registerPattern(seq('web_flow', ['build', 'test'], ['web_development']));
    r.registerPattern(seq('data_flow', ['load'], ['data']));
    const found = r.findSimilarPatterns({ domain: 'web_development' });
    expect(found.map(([p, s]) => [p.name, s])).toEqual([['web_flow', 1]]);
  });

  it('finds through the index the same patterns a full scan does', () => {
    const r = new PatternRegistry();
    for (let i = 0; i < 300; i++) r.registerPattern(seq(`p${i}`, ['work', `s${i % 7}`], [`dom${i % 30}.*`]));
    const ctx = { domain: 'dom3.sub', attributes: { required_steps: ['s3'] } };
    const indexed = r.findSimilarPatterns(ctx, 0.3).map(([p, s]) => `${p.name}:${s.toFixed(6)}`);
    const scan = r
      .findSimilarPatterns(ctx, 0)
      .filter(([, s]) => s >= 0.3)
      .map(([p, s]) => `${p.name}:${s.toFixed(6)}`);
    expect(indexed.length).toBeGreaterThan(0);
    expect(indexed).toEqual(scan);
  });
});

describe('transfer, monitoring, retention', () => {
  it('enableTransferLearning links a target to a similar source; too dissimilar is rejected', () => {
    const r = new PatternRegistry();
    const web = seq('web', ['build', 'test', 'deploy'], ['web']);
    const mobile = seq('mobile', ['build', 'test', 'deploy'], ['web']);
    const data = seq('data', ['load'], ['data']);
    for (const p of [web, mobile, data]) r.registerPattern(p);
    for (let i = 0; i < 60; i++) web.recordExecution(i % 10 !== 0, 'web', 1, i);
    const before = r.patternLearner().view('mobile', PatternRegistry.patternCell('web'));
    expect(before.posterior).toEqual({ alpha: 1, beta: 1 });
    const similarity = r.enableTransferLearning({
      sourcePattern: 'web',
      targetPattern: 'mobile',
      similarityThreshold: 0.7,
    });
    expect(similarity).toBe(1);
    const after = r.patternLearner().view('mobile', PatternRegistry.patternCell('web'));
    expect(after.cell).toBe('link:web');
    // min(transferCap 200, 60) × 1 pseudo-counts at 54/60.
    expect(after.posterior.alpha).toBeCloseTo(1 + 54, 10);
    expect(after.posterior.beta).toBeCloseTo(1 + 6, 10);
    let error: unknown;
    try {
      r.enableTransferLearning({ sourcePattern: 'web', targetPattern: 'data', similarityThreshold: 0.7 });
    } catch (e) {
      error = e;
    }
    expect(isPatternValidationError(error)).toBe(true);
    expect((error as Error).message).toMatch(/below the threshold 0.7/);
  });

  it('calls the monitoring callback after each execution with its metrics', async () => {
    const r = new PatternRegistry();
    const executor = new PatternExecutor(r, {
      random: seededRandom(1),
      agents: [defineAgent({ id: 'w', capabilities: ['work'], handler: () => 'ok' })],
    });
    r.registerPattern(seq('p', ['work']));
    const seen: [string, ExecutionMetrics][] = [];
    r.setMonitoringCallback((name, m) => seen.push([name, m]));
    await executor.run('p');
    await executor.run('p');
    expect(seen.map(([n, m]) => [n, m.success_rate, m.sample_count, m.confidence])).toEqual([
      ['p', 1, 1, 1],
      ['p', 1, 2, 1],
    ]);
    expect(seen[0]![1].response_time).toBeGreaterThanOrEqual(0);
    r.setMonitoringCallback(undefined);
    await executor.run('p');
    expect(seen).toHaveLength(2);
  });

  it('memory retention: outcomes older than the configured days stop counting', () => {
    const r = new PatternRegistry({ clock: { now: () => 10 * DAY } as never });
    const p = seq('p', ['work']);
    r.registerPattern(p);
    p.recordExecution(false, 'd', 1, 1 * DAY);
    p.recordExecution(true, 'd', 1, 9 * DAY);
    PatternConfig.setMemoryRetentionDays(30);
    expect(r.applyRetention()).toBe(0);
    expect(r.getPatternAnalytics('p').executionCount).toBe(2);
    PatternConfig.setMemoryRetentionDays(5);
    expect(r.applyRetention()).toBe(1);
    const a = r.getPatternAnalytics('p');
    expect([a.executionCount, a.successRate]).toEqual([1, 1]);
  });

  it('setLearningRate changes weighted_average confidence', () => {
    const p = seq('p', ['work']);
    for (let i = 0; i < 10; i++) p.recordExecution(i >= 7, 'd', 1, i);
    PatternConfig.configureConfidenceCalculation('weighted_average', 5);
    PatternConfig.setLearningRate(0.1);
    const slow = p.confidenceScore;
    PatternConfig.setLearningRate(0.9);
    expect(p.confidenceScore).toBeGreaterThan(slow);
    PatternConfig.configureConfidenceCalculation('simple_average', 5);
    expect(p.confidenceScore).toBeCloseTo(0.3, 12);
    PatternConfig.configureConfidenceCalculation('adaptive_bayes', 5);
    expect(p.confidenceScore).toBeCloseTo(4 / 12, 12);
    LearningConfig.configure({ prior: { alpha: 5, beta: 1 } });
    expect(p.confidenceScore).toBeCloseTo(8 / 16, 12);
  });
});
