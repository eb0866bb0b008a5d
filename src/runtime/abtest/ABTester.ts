import { z } from 'zod';
import { systemClock, type Clock } from '../../core/clock.js';
import { PatternNotFoundError, PatternValidationError } from '../../core/errors.js';
import type { RunResult } from '../../core/result.js';
import { parseWith } from '../../core/validate.js';
import type { Arm } from '../../learning/abtest/sequentialTest.js';
import type { PatternExecutor, RunOptions } from '../PatternExecutor.js';
import { PatternContext, type PatternContextInput } from '../PatternContext.js';
import type { PatternRegistry } from '../PatternRegistry.js';
import type { PatternStorage } from '../PatternStorage.js';
import { resultsOf, type ABTestResults } from './abTestResults.js';
import { defineTestSchema, type ABTestDefinitionInput, type ABTestRecord } from './abTestSchema.js';
import { newRecord, sameDefinition, withOutcome } from './abTestState.js';
import type { ABTestStore } from './ABTestStore.js';
import { assignArm, unitKeyOf } from './assignArm.js';

export type { ABTestResults, ABTestDefinitionInput };
export type { ABTestArmResults, ABTestEffect } from './abTestResults.js';

/** Options of {@link ABTester}; every field optional, unknown fields rejected. */
export interface ABTesterOptions {
  /** Where tests are kept (`<storagePath>/abtests/`): they survive a new ABTester on the same storage. */
  readonly storage?: PatternStorage;
  /** Uniform in [0, 1): assigns a call without a unit key. Default `Math.random`. */
  readonly random?: () => number;
  /** Time of `createdAt` and `promotedAt`. Default the wall clock. */
  readonly clock?: Clock;
}

const optionsSchema = z
  .object({
    storage: z
      .custom<PatternStorage>(
        (s) => typeof (s as Partial<PatternStorage> | null)?.abTests === 'function',
        'expected a PatternStorage',
      )
      .optional(),
    random: z.custom<() => number>((f) => typeof f === 'function', 'expected a function').optional(),
    clock: z
      .custom<Clock>((c) => typeof (c as Partial<Clock> | null)?.now === 'function', 'expected a Clock')
      .optional(),
  })
  .strict();

/** One call of {@link ABTester.execute}. */
export interface ABTestExecution {
  /** The test's name. */
  readonly test: string;
  /** The arm the call was assigned to (always `treatment` once promoted). */
  readonly arm: Arm;
  /** The pattern that ran. */
  readonly pattern: string;
  /** The run, as `executor.run` reported it. */
  readonly result: RunResult;
  /** Whether the run counted as an outcome of the test (false once promoted). */
  readonly recorded: boolean;
}

/**
 * A/B tests of delegation patterns (the user guide's `ABTester`): a control pattern against a
 * treatment pattern, traffic split between them, compared with an always-valid sequential test
 * (mSPRT: Johari, Pekelis & Walsh, "Always Valid Inference", 2017; see
 * `src/learning/abtest/`), so `confidence > 0.95` keeps its meaning however often the results
 * are read. A posterior threshold checked after every outcome would declare a false winner in
 * most A/A tests; docs/ab-testing.md shows both.
 *
 * Each recorded outcome is one `executor.run` of the arm's pattern: success is
 * `result.success`, the response time `result.durationMs`. A run that cannot start
 * (`executor.run` throws) is not an outcome, and the error propagates.
 *
 * @example
 * ```ts
 * const ab = new ABTester(registry, executor, { storage: new PatternStorage('.nd/patterns') });
 * await ab.defineTest({ name: 'wf', controlPattern: 'current', treatmentPattern: 'optimized',
 *   successMetric: 'response_time', trafficSplit: 0.2 });
 * await ab.execute('wf', { domain: 'web', attributes: { unitKey: userId } });
 * const r = await ab.getResults('wf');
 * if (r.treatmentBetter && r.confidence > 0.95) await ab.promoteTreatment('wf');
 * ```
 */
export class ABTester {
  private readonly tests = new Map<string, ABTestRecord>();
  private readonly writes = new Map<string, Promise<void>>();
  private readonly store: ABTestStore | undefined;
  private readonly random: () => number;
  private readonly clock: Clock;
  private loading: Promise<void> | undefined;

  /**
   * @param registry - where the arms' patterns are registered
   * @param executor - runs them; it must run the patterns of `registry`
   * @throws PatternValidationError naming `ABTester.<option>` for a bad option, or the executor
   *   when it belongs to another registry
   */
  constructor(
    private readonly registry: PatternRegistry,
    private readonly executor: PatternExecutor,
    options: ABTesterOptions = {},
  ) {
    const o = parseWith(optionsSchema, options, 'ABTester');
    if (typeof (executor as Partial<PatternExecutor> | null)?.run !== 'function') {
      throw new PatternValidationError('ABTester: expected a PatternExecutor', { field: 'executor' });
    }
    if (executor.registry !== registry) {
      throw new PatternValidationError('ABTester: the executor runs the patterns of another registry', {
        field: 'executor',
      });
    }
    this.store = o.storage?.abTests();
    this.random = o.random ?? Math.random;
    this.clock = o.clock ?? systemClock;
  }

  /**
   * Defines a test. Defining it again with the same definition (say, on every start of a
   * service) keeps its data and returns its results.
   * @returns the test's results
   * @throws PatternValidationError naming the field (a split outside 0 < split < 1, equal
   *   patterns, an unknown field), or `name` when a test of that name has another definition
   * @throws PatternNotFoundError naming a pattern that is not registered
   */
  async defineTest(input: ABTestDefinitionInput): Promise<ABTestResults> {
    const definition = parseWith(defineTestSchema, input, 'defineTest');
    await this.ready();
    const existing = this.tests.get(definition.name);
    if (existing) {
      if (sameDefinition(existing.definition, definition)) return resultsOf(existing);
      throw new PatternValidationError(
        `A/B test '${definition.name}' already exists with another definition`,
        { field: 'defineTest.name' },
      );
    }
    this.registry.getPattern(definition.controlPattern);
    this.registry.getPattern(definition.treatmentPattern);
    const record = newRecord(definition, this.clock.now());
    this.tests.set(definition.name, record);
    await this.persist(definition.name);
    return resultsOf(record);
  }

  /**
   * Runs one call of a test: assigns it to an arm (a stable hash of the context's unit key
   * attribute, `unitKey` by default, when present; else `random`), runs that arm's pattern with
   * `executor.run` and records the outcome. Once promoted, runs the treatment and records nothing.
   * @throws PatternNotFoundError naming the test when it is not defined
   * @throws PatternValidationError naming `context.attributes.<unitKeyAttribute>` when it is not a
   *   non-empty string or a finite number
   * @throws whatever `executor.run` throws (nothing is recorded then)
   */
  async execute(
    name: string,
    context?: PatternContext | PatternContextInput,
    options?: RunOptions,
  ): Promise<ABTestExecution> {
    const { definition: d, status } = await this.test(name);
    const ctx = PatternContext.from(context);
    if (status === 'promoted') {
      const result = await this.executor.run(d.treatmentPattern, ctx, options);
      return { test: d.name, arm: 'treatment', pattern: d.treatmentPattern, result, recorded: false };
    }
    const arm = assignArm(d.name, unitKeyOf(ctx.attributes, d.unitKeyAttribute), d.trafficSplit, this.random);
    const pattern = arm === 'treatment' ? d.treatmentPattern : d.controlPattern;
    const result = await this.executor.run(pattern, ctx, options);
    const current = this.tests.get(d.name);
    if (current?.status !== 'running') return { test: d.name, arm, pattern, result, recorded: false };
    this.tests.set(d.name, withOutcome(current, arm, result.success, result.durationMs));
    await this.persist(d.name);
    return { test: d.name, arm, pattern, result, recorded: true };
  }

  /**
   * The results of a test: per arm n, success rate and mean response time; the effect with its
   * always-valid confidence interval; `confidence`, `decided`, `winner`, `treatmentBetter`.
   * @throws PatternNotFoundError naming the test when it is not defined
   */
  async getResults(name: string): Promise<ABTestResults> {
    return resultsOf(await this.test(name));
  }

  /** The results of every test, sorted by name. */
  async listTests(): Promise<ABTestResults[]> {
    await this.ready();
    return [...this.tests.values()]
      .sort((a, b) => (a.definition.name < b.definition.name ? -1 : 1))
      .map(resultsOf);
  }

  /**
   * Closes a test with the treatment as the winner: the test stops recording, `execute` runs
   * the treatment from now on, and the control pattern leaves selection (it is unregistered
   * from the registry, so `selectPattern` and `executeBestPattern` no longer see it; this is
   * done again when a new ABTester loads the test from storage while the control is
   * registered). Promoting a promoted test changes nothing. The caller decides when: typically
   * once `treatmentBetter && confidence > 0.95`.
   * @returns the test's results, `status: 'promoted'`
   * @throws PatternNotFoundError naming the test when it is not defined
   */
  async promoteTreatment(name: string): Promise<ABTestResults> {
    const record = await this.test(name);
    if (record.status === 'promoted') return resultsOf(record);
    const promoted: ABTestRecord = { ...record, status: 'promoted', promotedAt: this.clock.now() };
    this.tests.set(name, promoted);
    await this.persist(name);
    this.supersede(promoted);
    return resultsOf(promoted);
  }

  private supersede(record: ABTestRecord): void {
    const control = record.definition.controlPattern;
    if (this.registry.has(control)) this.registry.unregister(control);
  }

  private async test(name: string): Promise<ABTestRecord> {
    if (typeof name !== 'string' || name === '') {
      throw new PatternValidationError('Invalid name: expected a non-empty string', { field: 'name' });
    }
    await this.ready();
    const record = this.tests.get(name);
    if (record) return record;
    const known = [...this.tests.keys()];
    throw new PatternNotFoundError(
      `A/B test '${name}' is not defined (defined: ${known.length ? known.join(', ') : 'none'})`,
      { field: 'name' },
    );
  }

  /** Loads the stored tests once (again after a failed load). */
  private ready(): Promise<void> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    if (!this.store) return;
    for (const record of await this.store.list()) {
      if (this.tests.has(record.definition.name)) continue;
      this.tests.set(record.definition.name, record);
      if (record.status === 'promoted') this.supersede(record);
    }
  }

  /** Writes the test's latest state after every earlier write of it (writes of one test never reorder). */
  private async persist(name: string): Promise<void> {
    const store = this.store;
    if (!store) return;
    const run = (this.writes.get(name) ?? Promise.resolve()).then(() => {
      const record = this.tests.get(name);
      return record && store.write(record);
    });
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.writes.set(name, tail);
    try {
      await run;
    } finally {
      if (this.writes.get(name) === tail) this.writes.delete(name);
    }
  }
}
