import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../../src/actors/agent.js';
import { AgentError, PatternNotFoundError, PatternValidationError } from '../../../src/core/errors.js';
import {
  addOutcome,
  emptyArm,
  initialTestState,
  lookAt,
  type ArmStats,
} from '../../../src/learning/abtest/index.js';
import { ABTester, type ABTestDefinitionInput } from '../../../src/runtime/abtest/ABTester.js';
import { PatternConfig } from '../../../src/runtime/PatternConfig.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import { PatternStorage } from '../../../src/runtime/PatternStorage.js';
import { SequentialDelegationPattern } from '../../../src/runtime/patterns/index.js';
import { simulatedClock, type SimulatedClock } from '../../../src/testing.js';
import { tempDir } from '../../helpers/tempDir.js';

afterEach(() => PatternConfig.reset());

/** Per step: whether the next call succeeds and how long it takes (simulated ms). */
interface Behaviour {
  succeeds: () => boolean;
  ms: () => number;
}

interface World {
  clock: SimulatedClock;
  registry: PatternRegistry;
  executor: PatternExecutor;
  behaviour: Record<'current' | 'optimized', Behaviour>;
}

/** Two patterns, `current` (step ctl) and `optimized` (step trt), on one agent whose outcome and latency the test scripts. */
function world(): World {
  const clock = simulatedClock(1_000_000);
  const registry = new PatternRegistry({ clock });
  registry.registerPattern(new SequentialDelegationPattern('current', 'today', ['ctl']));
  registry.registerPattern(new SequentialDelegationPattern('optimized', 'candidate', ['trt']));
  const behaviour: World['behaviour'] = {
    current: { succeeds: () => true, ms: () => 10 },
    optimized: { succeeds: () => true, ms: () => 10 },
  };
  const agent = defineAgent({
    id: 'worker',
    capabilities: ['ctl', 'trt'],
    handler: (task) => {
      const b = task.step === 'ctl' ? behaviour.current : behaviour.optimized;
      clock.increment(b.ms());
      if (b.succeeds()) return 'ok';
      throw new AgentError(`${task.step} failed`, { agentId: 'worker', step: task.step, retryable: false });
    },
  });
  // a breaker that never opens: these tests are about the A/B test, not about protecting the agent
  const breaker = { failureThreshold: 1_000_000, minimumThroughput: 1_000_000 };
  const executor = new PatternExecutor(registry, { agents: [agent], clock, breaker });
  return { clock, registry, executor, behaviour };
}

const definition: ABTestDefinitionInput = {
  name: 'workflow_optimization_test',
  controlPattern: 'current',
  treatmentPattern: 'optimized',
  successMetric: 'success_rate',
  trafficSplit: 0.5,
};

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/** Alternates control, treatment, control… through an injected random (split 0.5). */
function alternating(): () => number {
  let i = 0;
  return () => (i++ % 2 === 0 ? 0.9 : 0.1);
}

/** A cycle of booleans: `pattern(7, 10)` succeeds 7 times in each 10 calls. */
function cycle(successes: number, of: number): () => boolean {
  let i = 0;
  return () => i++ % of < successes;
}

describe('ABTester.defineTest', () => {
  it('rejects a split outside 0 < split < 1, equal or unknown patterns and unknown fields, naming the field', async () => {
    const { registry, executor } = world();
    const ab = new ABTester(registry, executor);
    for (const [input, field] of [
      [{ ...definition, trafficSplit: 1.5 }, 'defineTest.trafficSplit'],
      [{ ...definition, trafficSplit: 0 }, 'defineTest.trafficSplit'],
      [{ ...definition, treatmentPattern: 'current' }, 'defineTest.treatmentPattern'],
      [{ ...definition, successMetric: 'latency' }, 'defineTest.successMetric'],
      [{ ...definition, colour: 'red' }, 'defineTest'],
    ] as const) {
      const error = await ab.defineTest(input as ABTestDefinitionInput).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PatternValidationError);
      expect((error as PatternValidationError).details.field).toBe(field);
    }
    await expect(ab.defineTest({ ...definition, treatmentPattern: 'nope' })).rejects.toThrow(
      PatternNotFoundError,
    );
    await expect(ab.defineTest({ ...definition, treatmentPattern: 'nope' })).rejects.toThrow(/"nope"/);
    await expect(ab.getResults(definition.name)).rejects.toThrow(/not defined \(defined: none\)/);
  });

  it('is idempotent for the same definition and refuses another one under the same name', async () => {
    const { registry, executor } = world();
    const ab = new ABTester(registry, executor, { random: alternating() });
    await ab.defineTest(definition);
    await ab.execute(definition.name);
    const again = await ab.defineTest({ ...definition });
    expect(again.control.n + again.treatment.n).toBe(1);
    await expect(ab.defineTest({ ...definition, trafficSplit: 0.3 })).rejects.toThrow(
      /already exists with another definition/,
    );
  });

  it('rejects an executor of another registry and bad options', () => {
    const a = world();
    const b = world();
    expect(() => new ABTester(a.registry, b.executor)).toThrow(/another registry/);
    expect(() => new ABTester(a.registry, a.executor, { random: 3 } as never)).toThrow(/ABTester\.random/);
  });
});

describe('ABTester.execute', () => {
  it('assigns a unit key to the same arm every time, and about trafficSplit of the keys to the treatment', async () => {
    const { registry, executor } = world();
    const ab = new ABTester(registry, executor, {
      random: () => {
        throw new Error('random must not be used with a unit key');
      },
    });
    await ab.defineTest({ ...definition, trafficSplit: 0.2 });
    const first = await ab.execute(definition.name, { attributes: { unitKey: 'user-42' } });
    for (let i = 0; i < 3; i++) {
      const again = await ab.execute(definition.name, { attributes: { unitKey: 'user-42' } });
      expect(again.arm).toBe(first.arm);
    }
    let treated = 0;
    for (let i = 0; i < 400; i++) {
      const r = await ab.execute(definition.name, { attributes: { unitKey: i } });
      expect(r.pattern).toBe(r.arm === 'treatment' ? 'optimized' : 'current');
      expect(r.result.pattern).toBe(r.pattern);
      if (r.arm === 'treatment') treated += 1;
    }
    // 400 independent uniform hashes at 0.2: 80 ± 3 sd (sd = 8)
    expect(treated).toBeGreaterThan(56);
    expect(treated).toBeLessThan(104);
    const results = await ab.getResults(definition.name);
    expect(results.treatment.n).toBe(treated + (first.arm === 'treatment' ? 4 : 0));
    await expect(ab.execute(definition.name, { attributes: { unitKey: { id: 1 } } })).rejects.toThrow(
      /context\.attributes\.unitKey/,
    );
  });

  it('uses the injected random without a unit key, and another attribute when told', async () => {
    const { registry, executor } = world();
    let next = 0.1;
    const ab = new ABTester(registry, executor, { random: () => next });
    await ab.defineTest({ ...definition, trafficSplit: 0.2 });
    expect((await ab.execute(definition.name, { domain: 'web' })).arm).toBe('treatment');
    next = 0.5;
    expect((await ab.execute(definition.name, { domain: 'web' })).arm).toBe('control');
    await ab.defineTest({ ...definition, name: 'by_tenant', unitKeyAttribute: 'tenant' });
    const arms = new Set<string>();
    for (let i = 0; i < 5; i++)
      arms.add((await ab.execute('by_tenant', { attributes: { tenant: 'acme' } })).arm);
    expect(arms.size).toBe(1);
  });

  it('records nothing when the run cannot start', async () => {
    const { registry, executor } = world();
    const ab = new ABTester(registry, executor, { random: () => 0.9 });
    await ab.defineTest(definition);
    registry.unregister('current');
    await expect(ab.execute(definition.name)).rejects.toThrow(PatternNotFoundError);
    expect((await ab.getResults(definition.name)).control.n).toBe(0);
  });
});

describe('ABTester.getResults', () => {
  it('reports per arm n, success rate and mean response time, and the mSPRT over the same outcomes', async () => {
    const w = world();
    let c = 0;
    let t = 0;
    w.behaviour.current = { succeeds: cycle(7, 10), ms: () => [10, 30][c++ % 2]! };
    w.behaviour.optimized = { succeeds: cycle(9, 10), ms: () => [5, 15][t++ % 2]! };
    const ab = new ABTester(w.registry, w.executor, { random: alternating() });
    await ab.defineTest(definition);
    let control: ArmStats = emptyArm;
    let treatment: ArmStats = emptyArm;
    let state = initialTestState;
    const spec = { metric: 'success_rate' as const, alpha: 0.05, minSamplesPerArm: 20 };
    for (let i = 0; i < 80; i++) {
      const r = await ab.execute(definition.name);
      if (r.arm === 'control') control = addOutcome(control, r.result.success, r.result.durationMs);
      else treatment = addOutcome(treatment, r.result.success, r.result.durationMs);
      state = lookAt(state, spec, control, treatment);
    }
    const results = await ab.getResults(definition.name);
    expect({ ...results.control, meanResponseTimeMs: round(results.control.meanResponseTimeMs) }).toEqual({
      pattern: 'current',
      n: 40,
      successes: 28,
      successRate: 0.7,
      // successful runs only: per 10 calls, 4 of 10 ms and 3 of 30 ms
      meanResponseTimeMs: round(130 / 7),
    });
    expect({ ...results.treatment, meanResponseTimeMs: round(results.treatment.meanResponseTimeMs) }).toEqual(
      {
        pattern: 'optimized',
        n: 40,
        successes: 36,
        successRate: 0.9,
        // per 10 calls, 5 of 5 ms and 4 of 15 ms
        meanResponseTimeMs: round(85 / 9),
      },
    );
    expect(results.looks).toBe(41); // one per outcome from the 40th (20 in each arm) on
    expect(results.pValue).toBeCloseTo(state.pValue, 12);
    expect(results.confidence).toBeCloseTo(1 - state.pValue, 12);
    expect(results.effect.estimate).toBeCloseTo(0.2, 12);
    expect(results.effect.lower).toBeCloseTo(state.lower!, 12);
    expect(results.effect.upper).toBeCloseTo(state.upper!, 12);
    expect(results.effect.level).toBe(0.95);
    expect(results.treatmentBetter).toBe(true);
  });

  it('flips decided and treatmentBetter as the evidence comes in', async () => {
    const w = world();
    w.behaviour.current.succeeds = cycle(1, 2);
    w.behaviour.optimized.succeeds = cycle(0, 1);
    const ab = new ABTester(w.registry, w.executor, { random: alternating() });
    await ab.defineTest(definition);
    const early = await ab.getResults(definition.name);
    expect([early.decided, early.treatmentBetter, early.winner, early.confidence]).toEqual([
      false,
      false,
      undefined,
      0,
    ]);
    expect(early.effect.lower).toBe(-Infinity);
    for (let i = 0; i < 60; i++) await ab.execute(definition.name);
    const worse = await ab.getResults(definition.name);
    expect(worse.treatmentBetter).toBe(false);
    expect(worse.decided).toBe(true);
    expect(worse.winner).toBe('control');
    expect(worse.effect.upper).toBeLessThan(0);

    // a test the treatment wins: 50% against 100%
    w.behaviour.optimized.succeeds = () => true;
    await ab.defineTest({ ...definition, name: 'second' });
    let decidedAt = 0;
    for (let i = 1; i <= 200 && decidedAt === 0; i++) {
      await ab.execute('second');
      const r = await ab.getResults('second');
      if (r.control.n >= 20 && r.treatment.n >= 20) expect(r.treatmentBetter).toBe(true);
      if (r.decided) decidedAt = i;
      else expect(r.confidence).toBeLessThan(0.95);
    }
    const won = await ab.getResults('second');
    expect(decidedAt).toBeGreaterThanOrEqual(40);
    expect([won.decided, won.treatmentBetter, won.winner]).toEqual([true, true, 'treatment']);
    expect(won.confidence).toBeGreaterThanOrEqual(0.95);
    expect(won.effect.lower).toBeGreaterThan(0);
  });

  it('response_time: a faster treatment is better, the effect in ms and negative', async () => {
    const w = world();
    let c = 0;
    let t = 0;
    w.behaviour.current.ms = () => 100 + (c++ % 5) * 4; // mean 108
    w.behaviour.optimized.ms = () => 80 + (t++ % 5) * 4; // mean 88
    const ab = new ABTester(w.registry, w.executor, { random: alternating() });
    await ab.defineTest({ ...definition, successMetric: 'response_time' });
    for (let i = 0; i < 60; i++) await ab.execute(definition.name);
    const r = await ab.getResults(definition.name);
    expect(r.control.meanResponseTimeMs).toBeCloseTo(108, 9);
    expect(r.treatment.meanResponseTimeMs).toBeCloseTo(88, 9);
    expect(r.effect.metric).toBe('response_time');
    expect(r.effect.estimate).toBeCloseTo(-20, 9);
    expect([r.decided, r.treatmentBetter, r.winner]).toEqual([true, true, 'treatment']);
    expect(r.effect.upper).toBeLessThan(0);
  });

  it('response_time counts successful runs only: a treatment that fails fast does not win', async () => {
    const w = world();
    let c = 0;
    w.behaviour.current.ms = () => 100 + (c++ % 5) * 4;
    // the treatment fails half its calls after 1 ms, and takes as long as the control otherwise
    let t = 0;
    let k = 0;
    w.behaviour.optimized.succeeds = () => k++ % 2 === 0;
    w.behaviour.optimized.ms = () => (t++ % 2 === 0 ? 100 + ((t >> 1) % 5) * 4 : 1);
    const ab = new ABTester(w.registry, w.executor, { random: alternating() });
    await ab.defineTest({ ...definition, successMetric: 'response_time' });
    for (let i = 0; i < 120; i++) await ab.execute(definition.name);
    const r = await ab.getResults(definition.name);
    expect(r.treatment.successes).toBe(30);
    expect(r.treatment.meanResponseTimeMs).toBeCloseTo(108, 9);
    expect(r.control.meanResponseTimeMs).toBeCloseTo(108, 9);
    expect(r.effect.estimate).toBeCloseTo(0, 9);
    expect(r.decided).toBe(false);
  });
});

describe('ABTester definition options', () => {
  /** The results of one test fed 60% against 80% successes, alternating arms, 60 calls. */
  async function resultsWith(extra: Partial<ABTestDefinitionInput>) {
    const w = world();
    w.behaviour.current.succeeds = cycle(3, 5);
    w.behaviour.optimized.succeeds = cycle(4, 5);
    const ab = new ABTester(w.registry, w.executor, { random: alternating() });
    await ab.defineTest({ ...definition, ...extra });
    for (let i = 0; i < 60; i++) await ab.execute(definition.name);
    return ab.getResults(definition.name);
  }

  it('confidenceLevel, mixingSd and minSamplesPerArm each change the results of the same outcomes', async () => {
    const base = await resultsWith({});
    expect(base.effect.estimate).toBeCloseTo(0.2, 12);
    expect(base.looks).toBe(21);
    const lax = await resultsWith({ confidenceLevel: 0.3 });
    expect(lax.pValue).toBe(base.pValue);
    expect(lax.effect.level).toBe(0.3);
    expect(lax.effect.upper - lax.effect.lower).toBeLessThan(base.effect.upper - base.effect.lower);
    // p ≈ 0.61: undecided at 0.95, decided once α = 0.7
    expect(base.pValue).toBeGreaterThan(0.3);
    expect(base.pValue).toBeLessThan(0.7);
    expect([base.decided, lax.decided, lax.winner]).toEqual([false, true, 'treatment']);
    const wide = await resultsWith({ mixingSd: 0.5 });
    expect(wide.pValue).not.toBeCloseTo(base.pValue, 6);
    const later = await resultsWith({ minSamplesPerArm: 25 });
    expect(later.looks).toBe(11);
    const never = await resultsWith({ minSamplesPerArm: 31 });
    expect([never.looks, never.pValue, never.effect.estimate]).toEqual([0, 1, undefined]);
  });
});

describe('ABTester.promoteTreatment', () => {
  it('closes the test and takes the control out of selection', async () => {
    const w = world();
    const ab = new ABTester(w.registry, w.executor, { random: alternating(), clock: w.clock });
    await ab.defineTest(definition);
    for (let i = 0; i < 4; i++) await ab.execute(definition.name);
    // Both arms have 2 successes of 2: Thompson sampling picks either, so look at several picks
    // (one pick, with the executor's Math.random, failed half the time).
    const before = new Set(
      Array.from({ length: 20 }, () => w.executor.selectPattern({ domain: 'any' })?.name),
    );
    expect(before.has('current')).toBe(true);
    const promoted = await ab.promoteTreatment(definition.name);
    expect(promoted.status).toBe('promoted');
    expect(promoted.promotedAt).toBe(w.clock.now());
    expect(w.registry.has('current')).toBe(false);
    expect(w.executor.selectPattern({ domain: 'any' })?.name).toBe('optimized');
    const after = await ab.execute(definition.name);
    expect([after.arm, after.pattern, after.recorded, after.result.success]).toEqual([
      'treatment',
      'optimized',
      false,
      true,
    ]);
    const results = await ab.getResults(definition.name);
    expect(results.control.n + results.treatment.n).toBe(4);
    expect((await ab.promoteTreatment(definition.name)).promotedAt).toBe(promoted.promotedAt);
  });
});

describe('ABTester persistence', () => {
  it('a new ABTester on the same storage sees the tests, their data and their promotion', async () => {
    const storage = new PatternStorage({ storagePath: tempDir('nd-ab-') });
    const w = world();
    w.behaviour.optimized.succeeds = cycle(1, 2);
    const ab = new ABTester(w.registry, w.executor, { storage, random: alternating() });
    await ab.defineTest(definition);
    await ab.defineTest({ ...definition, name: 'later', successMetric: 'response_time' });
    await Promise.all(Array.from({ length: 30 }, () => ab.execute(definition.name)));
    const before = await ab.getResults(definition.name);
    expect(before.control.n + before.treatment.n).toBe(30);

    const again = new ABTester(w.registry, w.executor, { storage });
    expect(await again.getResults(definition.name)).toEqual(before);
    expect((await again.listTests()).map((t) => t.name)).toEqual(['later', definition.name]);
    await again.execute(definition.name);
    await again.promoteTreatment('later');

    // a fresh process: the control is registered again, the stored promotion takes it out
    const fresh = world();
    const third = new ABTester(fresh.registry, fresh.executor, { storage });
    const later = await third.getResults('later');
    expect(later.status).toBe('promoted');
    expect(fresh.registry.has('current')).toBe(false);
    const reloaded = await third.getResults(definition.name);
    expect(reloaded.control.n + reloaded.treatment.n).toBe(31);
  });

  it('stores one JSON file per test under abtests/, named like pattern files', async () => {
    const dir = tempDir('nd-ab-');
    const storage = new PatternStorage({ storagePath: dir });
    const w = world();
    const ab = new ABTester(w.registry, w.executor, { storage, random: alternating() });
    await ab.defineTest({ ...definition, name: 'Web/Checkout' });
    await ab.execute('Web/Checkout');
    const file = path.join(dir, 'abtests', '^web%2F^checkout.json');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as {
      definition: { name: string };
      control: { n: number };
    };
    expect(stored.definition.name).toBe('Web/Checkout');
    expect(stored.control.n).toBe(1);
    // a file whose name does not match the test it holds is refused, naming the file
    renameSync(file, path.join(dir, 'abtests', 'other.json'));
    const error = await new ABTester(w.registry, w.executor, { storage })
      .listTests()
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/other\.json: holds test 'Web\/Checkout'/);
  });

  it('names the file of a corrupt stored test', async () => {
    const dir = tempDir('nd-ab-');
    mkdirSync(path.join(dir, 'abtests'), { recursive: true });
    const file = path.join(dir, 'abtests', 'broken.json');
    writeFileSync(file, JSON.stringify({ version: 1, definition: { name: 'broken' } }));
    const w = world();
    const ab = new ABTester(w.registry, w.executor, { storage: new PatternStorage({ storagePath: dir }) });
    const error = await ab.listTests().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PatternValidationError);
    expect((error as Error).message).toContain(file);
  });
});
