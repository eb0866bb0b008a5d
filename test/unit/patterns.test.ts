import { afterEach, describe, expect, it } from 'vitest';
import { ConfidenceLevel } from '../../src/learning/ConfidenceLevel.js';
import { PatternConfig } from '../../src/runtime/PatternConfig.js';
import { PatternContext, type PatternContextInput } from '../../src/runtime/PatternContext.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import {
  ErrorCode,
  InvalidPatternError,
  PatternError,
  PatternExecutionError,
  PatternValidationError,
} from '../../src/core/errors.js';
import {
  DelegationPattern,
  MetaOrchestrationPattern,
  ParallelCoordinationPattern,
  SequentialDelegationPattern,
  contextComplexity,
  registerPatternType,
  revivePattern,
  type PatternSnapshot,
} from '../../src/runtime/patterns/index.js';
import { scriptedAgent, simulatedClock } from '../../src/testing.js';

afterEach(() => PatternConfig.reset());

/** Runs `fn` and returns the PatternError it throws (failing if it does not throw one). */
function thrown(fn: () => unknown): PatternError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PatternError);
    return error as PatternError;
  }
  throw new Error('expected a PatternError');
}

const ctx = (input: PatternContextInput) => new PatternContext(input);

/** A custom pattern: matches `ops.*`, succeeds unless the context says `fail`. */
class NightlyPattern extends DelegationPattern {
  readonly runs: string[] = [];
  constructor(
    name: string,
    readonly window: string,
  ) {
    super(name, 'nightly maintenance');
  }
  matches(context: PatternContext): boolean {
    return context.matchesDomain('ops.*');
  }
  async execute(context: PatternContext): Promise<boolean> {
    this.runs.push(context.domain);
    const ok = !context.hasAttribute('fail', true);
    this.recordExecution(ok, context.domain, 5);
    return ok;
  }
  protected override configJSON(): unknown {
    return { window: this.window };
  }
}

describe('SequentialDelegationPattern constructor', () => {
  it('accepts the positional form of the integration guide', () => {
    const p = new SequentialDelegationPattern('validation_flow', 'Sequential validation workflow', [
      'validate',
      'process',
      'store',
    ]);
    expect(p.name).toBe('validation_flow');
    expect(p.description).toBe('Sequential validation workflow');
    expect(p.stepNames).toEqual(['validate', 'process', 'store']);
    expect(p.rollbackEnabled).toBe(true);
    expect(p.timeoutSeconds).toBeUndefined();
    expect(p.kind).toBe('sequential');
    expect(p.type).toBe('SequentialDelegationPattern');
  });

  it('accepts positional timeoutSeconds and rollbackEnabled', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['a'], 300, false);
    expect(p.timeoutSeconds).toBe(300);
    expect(p.rollbackEnabled).toBe(false);
    expect(p.toSpec()).toMatchObject({ kind: 'sequential', timeoutMs: 300_000, rollbackEnabled: false });
  });

  it('accepts the options form with step options and an agent mapping', () => {
    const p = new SequentialDelegationPattern({
      name: 'etl',
      steps: ['extract', { name: 'load', capability: 'db', retry: { maxAttempts: 3 }, timeoutMs: 500 }],
      agentMapping: { extract: 'reader' },
      domains: ['data.*'],
    });
    expect(p.description).toBe('');
    expect(p.domains).toEqual(['data.*']);
    const [extract, load] = p.stepSpecs();
    expect(extract).toMatchObject({ name: 'extract', capability: 'extract', agent: 'reader', dependsOn: [] });
    expect(load).toMatchObject({ name: 'load', capability: 'db', agent: undefined, timeoutMs: 500 });
    expect(load!.retry).toEqual({
      maxAttempts: 3,
      backoff: { initialDelayMs: 100, maxDelayMs: 30_000, multiplier: 2, jitter: 'full' },
    });
  });

  it('uses the executor default timeout when it declares none', () => {
    expect(new SequentialDelegationPattern('p', 'd', ['a']).toSpec(9_000).timeoutMs).toBe(9_000);
    expect(new SequentialDelegationPattern('p', 'd', ['a'], 2).toSpec(9_000).timeoutMs).toBe(2_000);
  });

  it.each([
    [
      'an empty name',
      () => new SequentialDelegationPattern('', 'd', ['a']),
      'SequentialDelegationPattern.name',
    ],
    [
      'an empty step name',
      () => new SequentialDelegationPattern('p', 'd', ['a', '']),
      'SequentialDelegationPattern.steps.1',
    ],
    [
      'a zero timeout',
      () => new SequentialDelegationPattern('p', 'd', ['a'], 0),
      'SequentialDelegationPattern.timeoutSeconds',
    ],
    [
      'a bad retry',
      () => new SequentialDelegationPattern({ name: 'p', steps: [{ name: 'a', retry: { maxAttempts: 0 } }] }),
      'p.steps[0].retry.maxAttempts',
    ],
    [
      'an unknown option',
      () => new SequentialDelegationPattern({ name: 'p', steps: [], rollback: true } as never),
      'SequentialDelegationPattern',
    ],
  ])('rejects %s with PatternValidationError naming the field', (_what, make, field) => {
    const error = thrown(make);
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error.details.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('rejects duplicate step names with InvalidPatternError naming the step', () => {
    const error = thrown(() => new SequentialDelegationPattern('p', 'd', ['a', 'b', 'a']));
    expect(error).toBeInstanceOf(InvalidPatternError);
    expect(error.details.step).toBe('a');
    expect(error.message).toBe('p: step "a" appears twice');
  });

  it('takes its confidence threshold from the global configuration', () => {
    PatternConfig.setGlobalConfidenceThreshold(0.6);
    expect(new SequentialDelegationPattern('p', 'd', ['a']).confidenceThreshold).toBe(0.6);
  });
});

describe('SequentialDelegationPattern steps', () => {
  it('addStep appends, or inserts at a position', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['validate', 'store']);
    p.addStep('send_notifications');
    p.addStep('pre_validation', 0);
    p.addStep({ name: 'transform', capability: 'xform' }, 2);
    expect(p.stepNames).toEqual(['pre_validation', 'validate', 'transform', 'store', 'send_notifications']);
    expect(p.stepSpecs()[2]!.capability).toBe('xform');
  });

  it('addStep applies the agent mapping to the new step', () => {
    const p = new SequentialDelegationPattern({ name: 'p', steps: ['a'], agentMapping: { b: 'agent-b' } });
    p.addStep('b');
    expect(p.stepSpecs()[1]!.agent).toBe('agent-b');
  });

  it('addStep rejects a duplicate and a bad position, leaving the steps unchanged', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['a', 'b']);
    expect(thrown(() => p.addStep('a'))).toBeInstanceOf(InvalidPatternError);
    const bad = thrown(() => p.addStep('c', 5));
    expect(bad).toBeInstanceOf(PatternValidationError);
    expect(bad.details.field).toBe('position');
    expect(thrown(() => p.addStep('c', -1)).details.field).toBe('position');
    expect(thrown(() => p.addStep('c', 0.5)).details.field).toBe('position');
    expect(p.stepNames).toEqual(['a', 'b']);
  });

  it('removeStep reports whether the step existed', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['a', 'b', 'c']);
    expect(p.removeStep('b')).toBe(true);
    expect(p.removeStep('b')).toBe(false);
    expect(p.stepNames).toEqual(['a', 'c']);
  });

  it('getStepStatus is pending before any run and rejects an unknown step', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['a', 'b']);
    expect(p.getStepStatus('a')).toBe('pending');
    const error = thrown(() => p.getStepStatus('zzz'));
    expect(error).toBeInstanceOf(InvalidPatternError);
    expect(error.message).toBe('p: no step "zzz" (steps: a, b)');
    expect(error.details.step).toBe('zzz');
  });

  it('setStepTimeout stores the per-attempt timeout in ms', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['a', 'heavy']);
    p.setStepTimeout('heavy', 600);
    p.setStepTimeout('a', 0.25);
    expect(p.stepSpecs().map((s) => s.timeoutMs)).toEqual([250, 600_000]);
    expect(p.toSpec().steps[1]!.timeoutMs).toBe(600_000);
  });

  it('setStepTimeout rejects a non-positive timeout and an unknown step', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['a']);
    const error = thrown(() => p.setStepTimeout('a', 0));
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error.details).toMatchObject({ field: 'timeoutSeconds', step: 'a' });
    expect(thrown(() => p.setStepTimeout('nope', 5))).toBeInstanceOf(InvalidPatternError);
    expect(p.stepSpecs()[0]!.timeoutMs).toBeUndefined();
  });
});

describe('ParallelCoordinationPattern constructor', () => {
  it('accepts the reference positional form with tasks', () => {
    const p = new ParallelCoordinationPattern('deploy', 'Deploy services', ['fe', 'be', 'db'], 3, 0.7, 0.1);
    expect(p.taskNames).toEqual(['fe', 'be', 'db']);
    expect([p.maxConcurrent, p.resourceThreshold, p.failureTolerance]).toEqual([3, 0.7, 0.1]);
    expect(p.resources).toEqual([]);
    expect(p.rollbackEnabled).toBe(true);
    expect(p.type).toBe('ParallelCoordinationPattern');
  });

  it('accepts the integration guide positional form with a Set of resources', () => {
    const p = new ParallelCoordinationPattern(
      'resource_manager',
      'Resource-based parallel execution',
      new Set(['cpu', 'memory', 'network']),
    );
    expect(p.resources).toEqual(['cpu', 'memory', 'network']);
    expect(p.taskNames).toEqual([]);
    expect([p.maxConcurrent, p.resourceThreshold, p.failureTolerance]).toEqual([5, 0.8, 0.2]);
  });

  it('accepts the options form with dependencies and resources', () => {
    const p = new ParallelCoordinationPattern({
      name: 'p',
      tasks: ['db', { name: 'api', dependsOn: ['db'], resources: { cpu: 0.5, memory: 0.2 } }],
      maxConcurrent: 2,
      rollbackEnabled: false,
      timeoutSeconds: 10,
    });
    expect(p.toSpec()).toMatchObject({
      kind: 'parallel',
      maxConcurrent: 2,
      rollbackEnabled: false,
      timeoutMs: 10_000,
    });
    expect(p.taskSpecs()[1]).toMatchObject({ dependsOn: ['db'], resources: { cpu: 0.5, memory: 0.2 } });
  });

  it.each([
    ['maxConcurrent', () => new ParallelCoordinationPattern('p', 'd', ['a'], 0)],
    ['resourceThreshold', () => new ParallelCoordinationPattern('p', 'd', ['a'], 2, 1.5)],
    ['failureTolerance', () => new ParallelCoordinationPattern('p', 'd', ['a'], 2, 0.5, -0.1)],
    ['name', () => new ParallelCoordinationPattern({ name: '' })],
  ])('rejects a bad %s naming the field', (field, make) => {
    const error = thrown(make);
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error.details.field).toBe(`ParallelCoordinationPattern.${field}`);
  });

  it('rejects an unknown dependency, a duplicate task, a cycle and an oversized task', () => {
    expect(
      thrown(() => new ParallelCoordinationPattern({ name: 'p', tasks: [{ name: 'a', dependsOn: ['x'] }] }))
        .message,
    ).toBe('p: task "a" depends on unknown task "x"');
    expect(thrown(() => new ParallelCoordinationPattern('p', 'd', ['a', 'a'])).message).toBe(
      'p: task "a" appears twice',
    );
    const cycle = thrown(
      () =>
        new ParallelCoordinationPattern({
          name: 'p',
          tasks: [
            { name: 'a', dependsOn: ['b'] },
            { name: 'b', dependsOn: ['a'] },
          ],
        }),
    );
    expect(cycle).toBeInstanceOf(InvalidPatternError);
    expect(cycle.details.cycle).toEqual(['a', 'b', 'a']);
    const big = thrown(
      () =>
        new ParallelCoordinationPattern({
          name: 'p',
          resourceThreshold: 0.5,
          tasks: [{ name: 'a', resources: { cpu: 0.6, memory: 0.1 } }],
        }),
    );
    expect(big).toBeInstanceOf(InvalidPatternError);
    expect(big.message).toContain('above resourceThreshold 0.5');
  });
});

describe('ParallelCoordinationPattern methods', () => {
  it('addTaskDependency records the edge once', () => {
    const p = new ParallelCoordinationPattern('p', 'd', ['create_database', 'deploy_app']);
    p.addTaskDependency('deploy_app', 'create_database');
    p.addTaskDependency('deploy_app', 'create_database');
    expect(p.taskSpecs().map((t) => t.dependsOn)).toEqual([[], ['create_database']]);
  });

  it('addTaskDependency rejects a cycle with InvalidPatternError naming it and leaves the pattern unchanged', () => {
    const p = new ParallelCoordinationPattern('p', 'd', ['a', 'b', 'c']);
    p.addTaskDependency('b', 'a');
    p.addTaskDependency('c', 'b');
    const before = p.taskSpecs();
    const error = thrown(() => p.addTaskDependency('a', 'c'));
    expect(error).toBeInstanceOf(InvalidPatternError);
    expect(error.code).toBe(ErrorCode.INVALID_PATTERN);
    expect(error.message).toBe('p: dependency cycle a -> c -> b -> a');
    expect(error.details).toEqual({ patternName: 'p', cycle: ['a', 'c', 'b', 'a'] });
    expect(p.taskSpecs()).toBe(before);
    expect(p.taskSpecs().map((t) => t.dependsOn)).toEqual([[], ['a'], ['b']]);
  });

  it('addTaskDependency rejects a self-dependency and unknown tasks', () => {
    const p = new ParallelCoordinationPattern('p', 'd', ['a']);
    expect(thrown(() => p.addTaskDependency('a', 'a')).details.cycle).toEqual(['a', 'a']);
    const unknown = thrown(() => p.addTaskDependency('a', 'ghost'));
    expect(unknown.message).toBe('p: no task "ghost" (tasks: a)');
    expect(p.taskSpecs()[0]!.dependsOn).toEqual([]);
  });

  it('addTask appends a task whose dependencies exist', () => {
    const p = new ParallelCoordinationPattern('p', 'd', ['a']);
    p.addTask({ name: 'b', dependsOn: ['a'] });
    expect(p.taskNames).toEqual(['a', 'b']);
    expect(thrown(() => p.addTask({ name: 'c', dependsOn: ['zz'] }))).toBeInstanceOf(InvalidPatternError);
    expect(p.taskNames).toEqual(['a', 'b']);
  });

  it('setTaskResourceRequirement stores cpu and memory', () => {
    const p = new ParallelCoordinationPattern('p', 'd', ['heavy', 'light'], 2, 0.9);
    p.setTaskResourceRequirement('heavy', 0.8, 0.6);
    expect(p.taskSpecs()[0]!.resources).toEqual({ cpu: 0.8, memory: 0.6 });
    expect(p.taskSpecs()[1]!.resources).toBeUndefined();
  });

  it('setTaskResourceRequirement rejects fractions out of range, above the threshold, and unknown tasks', () => {
    const p = new ParallelCoordinationPattern('p', 'd', ['t'], 2, 0.7);
    const range = thrown(() => p.setTaskResourceRequirement('t', 1.2, 0.1));
    expect(range).toBeInstanceOf(PatternValidationError);
    expect(range.details).toMatchObject({ field: 'resources', step: 't' });
    expect(thrown(() => p.setTaskResourceRequirement('t', 0.5, 0.8))).toBeInstanceOf(InvalidPatternError);
    expect(thrown(() => p.setTaskResourceRequirement('nope', 0.1, 0.1))).toBeInstanceOf(InvalidPatternError);
    expect(p.taskSpecs()[0]!.resources).toBeUndefined();
  });

  it('getTaskStatusAll is all pending before any run', () => {
    const p = new ParallelCoordinationPattern('p', 'd', ['a', 'b']);
    expect(p.getTaskStatusAll()).toEqual({ a: 'pending', b: 'pending' });
  });

  it('waitForCompletion resolves false when it never ran', async () => {
    expect(await new ParallelCoordinationPattern('p', 'd', ['a']).waitForCompletion()).toBe(false);
  });
});

describe('MetaOrchestrationPattern constructor', () => {
  const strategy = {
    phases: [
      {
        name: 'preparation',
        patterns: ['system_backup', 'validation_checks'],
        coordination: 'sequential' as const,
        success_criteria: { min_success_rate: 1.0 },
      },
      {
        name: 'execution',
        patterns: ['migrate_data', 'update_services'],
        coordination: 'parallel' as const,
        resource_allocation: { cpu: 0.8, memory: 0.7 },
      },
    ],
    rollback_strategy: 'complete' as const,
  };

  it('accepts the reference positional form with a snake_case strategy', () => {
    const p = new MetaOrchestrationPattern('enterprise_migration', 'Migration', strategy, 7);
    expect(p.phaseNames).toEqual(['preparation', 'execution']);
    expect(p.rollbackStrategy).toBe('complete');
    expect(p.complexityThreshold).toBe(7);
    expect(p.phaseSpecs()).toEqual([
      {
        name: 'preparation',
        patterns: ['system_backup', 'validation_checks'],
        coordination: 'sequential',
        successCriteria: { minSuccessRate: 1, maxErrorCount: undefined, responseTimeThresholdMs: undefined },
        resourceAllocation: undefined,
      },
      {
        name: 'execution',
        patterns: ['migrate_data', 'update_services'],
        coordination: 'parallel',
        successCriteria: {},
        resourceAllocation: { cpu: 0.8, memory: 0.7 },
      },
    ]);
    expect(p.type).toBe('MetaOrchestrationPattern');
  });

  it('accepts the integration guide positional form with a Set of domains', () => {
    const p = new MetaOrchestrationPattern(
      'domain_coordinator',
      'Cross-domain orchestration',
      new Set(['auth', 'data', 'network', 'compute']),
    );
    expect(p.coordinatedDomains).toEqual(['auth', 'data', 'network', 'compute']);
    expect(p.phaseNames).toEqual([]);
    expect(p.rollbackStrategy).toBe('phase_level');
    expect(p.complexityThreshold).toBe(5);
  });

  it('accepts the options form with camelCase keys', () => {
    const p = new MetaOrchestrationPattern({
      name: 'm',
      strategy: { phases: [{ name: 'one', patterns: ['x'] }], rollbackStrategy: 'pattern_level' },
      timeoutSeconds: 30,
    });
    expect(p.rollbackStrategy).toBe('pattern_level');
    expect(p.phaseSpecs()[0]!.coordination).toBe('sequential');
    expect(p.toSpec()).toMatchObject({ kind: 'meta', timeoutMs: 30_000, complexityThreshold: 5 });
  });

  it('rejects a bad coordination and rollback strategy naming the field', () => {
    const coordination = thrown(
      () =>
        new MetaOrchestrationPattern('m', 'd', {
          phases: [{ name: 'a', patterns: ['x'], coordination: 'random' as 'parallel' }],
        }),
    );
    expect(coordination).toBeInstanceOf(PatternValidationError);
    expect(coordination.details.field).toBe('MetaOrchestrationPattern.strategy.phases.0.coordination');
    const rollback = thrown(
      () => new MetaOrchestrationPattern('m', 'd', { rollback_strategy: 'all' as 'complete' }),
    );
    expect(rollback.details.field).toBe('MetaOrchestrationPattern.strategy.rollback_strategy');
    const empty = thrown(
      () => new MetaOrchestrationPattern('m', 'd', { phases: [{ name: 'a', patterns: [] }] }),
    );
    expect(empty.details.field).toBe('MetaOrchestrationPattern.strategy.phases.0.patterns');
  });

  it('rejects duplicate phases, a pattern used twice and itself as a phase pattern', () => {
    expect(
      thrown(
        () =>
          new MetaOrchestrationPattern('m', 'd', {
            phases: [
              { name: 'a', patterns: ['x'] },
              { name: 'a', patterns: ['y'] },
            ],
          }),
      ).message,
    ).toBe('m: phase "a" appears twice');
    expect(
      thrown(
        () =>
          new MetaOrchestrationPattern('m', 'd', {
            phases: [
              { name: 'a', patterns: ['x'] },
              { name: 'b', patterns: ['x'] },
            ],
          }),
      ),
    ).toBeInstanceOf(InvalidPatternError);
    const self = thrown(
      () => new MetaOrchestrationPattern('m', 'd', { phases: [{ name: 'a', patterns: ['m'] }] }),
    );
    expect(self.details.cycle).toEqual(['m', 'm']);
  });
});

describe('MetaOrchestrationPattern methods', () => {
  it('addPhase appends a phase (sequential by default)', () => {
    const p = new MetaOrchestrationPattern('m', 'd', { phases: [] });
    p.addPhase('validation_phase', ['integration_tests', 'performance_tests'], 'parallel');
    p.addPhase('report', ['summary']);
    expect(p.phaseSpecs().map((ph) => [ph.name, ph.patterns, ph.coordination])).toEqual([
      ['validation_phase', ['integration_tests', 'performance_tests'], 'parallel'],
      ['report', ['summary'], 'sequential'],
    ]);
  });

  it('addPhase rejects a duplicate phase and an empty pattern list, leaving phases unchanged', () => {
    const p = new MetaOrchestrationPattern('m', 'd', { phases: [{ name: 'a', patterns: ['x'] }] });
    expect(thrown(() => p.addPhase('a', ['y']))).toBeInstanceOf(InvalidPatternError);
    expect(thrown(() => p.addPhase('b', [])).details.field).toBe('m.addPhase.patterns');
    expect(p.phaseNames).toEqual(['a']);
  });

  it('setPhaseSuccessCriteria accepts snake_case keys', () => {
    const p = new MetaOrchestrationPattern('m', 'd', {
      phases: [{ name: 'testing_phase', patterns: ['t'] }],
    });
    p.setPhaseSuccessCriteria('testing_phase', {
      min_success_rate: 0.95,
      max_error_count: 5,
      response_time_threshold: 100,
    });
    expect(p.phaseSpecs()[0]!.successCriteria).toEqual({
      minSuccessRate: 0.95,
      maxErrorCount: 5,
      responseTimeThresholdMs: 100,
    });
  });

  it('setPhaseSuccessCriteria accepts camelCase keys and replaces earlier criteria', () => {
    const p = new MetaOrchestrationPattern('m', 'd', { phases: [{ name: 'a', patterns: ['t'] }] });
    p.setPhaseSuccessCriteria('a', { min_success_rate: 0.5, max_error_count: 1 });
    p.setPhaseSuccessCriteria('a', { minSuccessRate: 0.75, responseTimeThresholdMs: 250 });
    expect(p.phaseSpecs()[0]!.successCriteria).toEqual({
      minSuccessRate: 0.75,
      maxErrorCount: undefined,
      responseTimeThresholdMs: 250,
    });
  });

  it('setPhaseSuccessCriteria rejects an unknown phase and bad values', () => {
    const p = new MetaOrchestrationPattern('m', 'd', { phases: [{ name: 'a', patterns: ['t'] }] });
    expect(thrown(() => p.setPhaseSuccessCriteria('zz', {})).message).toBe('m: no phase "zz" (phases: a)');
    const bad = thrown(() => p.setPhaseSuccessCriteria('a', { min_success_rate: 2 }));
    expect(bad).toBeInstanceOf(PatternValidationError);
    expect(bad.details.field).toBe('m.a.successCriteria.min_success_rate');
    expect(thrown(() => p.setPhaseSuccessCriteria('a', { max_errors: 1 } as never))).toBeInstanceOf(
      PatternValidationError,
    );
  });

  it('getPhaseProgress is all pending before any run', () => {
    const p = new MetaOrchestrationPattern('m', 'd', {
      phases: [
        { name: 'a', patterns: ['x', 'y'] },
        { name: 'b', patterns: ['z'] },
      ],
    });
    expect(p.getPhaseProgress()).toEqual({
      a: { status: 'pending', completionPercentage: 0, succeeded: 0, failed: 0, total: 2 },
      b: { status: 'pending', completionPercentage: 0, succeeded: 0, failed: 0, total: 1 },
    });
  });

  it('triggerRollback without a succeeded run rejects with PatternExecutionError', async () => {
    const p = new MetaOrchestrationPattern('m', 'd', { phases: [{ name: 'a', patterns: ['x'] }] });
    await expect(p.triggerRollback()).rejects.toBeInstanceOf(PatternExecutionError);
    await expect(p.triggerRollback('phase', 'nope')).rejects.toThrow('m: no phase "nope" (phases: a)');
  });
});

describe('matches()', () => {
  const seq = new SequentialDelegationPattern('validation_flow', 'd', ['validate', 'process', 'store']);
  const par = new ParallelCoordinationPattern('resource_manager', 'd', new Set(['cpu', 'memory', 'network']));
  const meta = new MetaOrchestrationPattern(
    'domain_coordinator',
    'd',
    new Set(['auth', 'data', 'network', 'compute']),
  );

  it('required_steps / requiredSteps: all must be steps of a sequential pattern', () => {
    expect(
      seq.matches(ctx({ agentType: 'sequential', attributes: { required_steps: ['validate', 'store'] } })),
    ).toBe(true);
    expect(seq.matches(ctx({ attributes: { requiredSteps: ['process'] } }))).toBe(true);
    expect(seq.matches(ctx({ attributes: { required_steps: ['validate', 'deploy'] } }))).toBe(false);
  });

  it('required_resources / requiredResources: all must be resources of a parallel pattern', () => {
    expect(
      par.matches(ctx({ agentType: 'parallel', attributes: { required_resources: ['cpu', 'memory'] } })),
    ).toBe(true);
    expect(par.matches(ctx({ attributes: { requiredResources: ['network'] } }))).toBe(true);
    expect(par.matches(ctx({ attributes: { required_resources: ['gpu'] } }))).toBe(false);
  });

  it('required_domains / requiredDomains: all must be coordinated by a meta pattern', () => {
    expect(
      meta.matches(ctx({ agentType: 'orchestrator', attributes: { required_domains: ['auth', 'data'] } })),
    ).toBe(true);
    expect(meta.matches(ctx({ attributes: { requiredDomains: ['compute'] } }))).toBe(true);
    expect(meta.matches(ctx({ attributes: { required_domains: ['auth', 'billing'] } }))).toBe(false);
  });

  it('an agent type naming a pattern kind excludes the other kinds', () => {
    expect(seq.matches(ctx({ agentType: 'parallel' }))).toBe(false);
    expect(par.matches(ctx({ agentType: 'sequential' }))).toBe(false);
    expect(meta.matches(ctx({ agentType: 'meta' }))).toBe(true);
    expect(seq.matches(ctx({ agentType: 'orchestrator' }))).toBe(false);
    expect(seq.matches(ctx({ agentType: 'data_processor' }))).toBe(true);
  });

  it('declared domains match with wildcards; no declared domains matches any', () => {
    const web = new SequentialDelegationPattern({
      name: 'w',
      steps: ['a'],
      domains: ['web_development.*', 'mobile'],
    });
    expect(web.matches(ctx({ domain: 'web_development.frontend' }))).toBe(true);
    expect(web.matches(ctx({ domain: 'mobile' }))).toBe(true);
    expect(web.matches(ctx({ domain: 'data_processing' }))).toBe(false);
    expect(seq.matches(ctx({ domain: 'anything.at.all' }))).toBe(true);
  });

  it('a meta pattern needs the context complexity to reach its threshold', () => {
    const m = new MetaOrchestrationPattern('m', 'd', { phases: [] }, 7);
    expect(m.matches(ctx({ attributes: { complexity: 8 } }))).toBe(true);
    expect(m.matches(ctx({ attributes: { complexity: 'enterprise' } }))).toBe(true);
    expect(m.matches(ctx({ attributes: { complexity: 'medium' } }))).toBe(false);
    expect(m.matches(ctx({ attributes: { complexity: 3 } }))).toBe(false);
    expect(m.matches(ctx({}))).toBe(true);
  });

  it('contextComplexity reads numbers and words', () => {
    expect(contextComplexity(ctx({ attributes: { complexity: 4 } }))).toBe(4);
    expect(contextComplexity(ctx({ attributes: { complexity: 'High' } }))).toBe(7);
    expect(contextComplexity(ctx({ attributes: { complexity: 'unheard-of' } }))).toBeUndefined();
    expect(contextComplexity(ctx({}))).toBeUndefined();
  });
});

describe('confidence, threshold, learning and stats', () => {
  it('recordExecution updates counts, rate, score and level', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['a']);
    expect([p.executionCount, p.successRate, p.confidenceScore, p.confidenceLevel]).toEqual([
      0,
      0,
      0,
      ConfidenceLevel.LOW,
    ]);
    for (let i = 0; i < 4; i++) p.recordExecution(true, 'web', 10, 1_000 + i);
    expect(p.executionCount).toBe(4);
    expect(p.successRate).toBe(1);
    // simple_average is the sample mean; the level needs minSamples (5) and a narrow interval.
    expect(p.confidenceScore).toBe(1);
    expect(p.confidenceLevel).toBe(ConfidenceLevel.LOW);
    p.recordExecution(true, 'web', 10, 2_000);
    expect(p.confidenceScore).toBe(1);
    expect(p.confidenceLevel).toBe(ConfidenceLevel.MEDIUM); // Wilson lower bound of 5/5: 0.57
    p.recordExecution(false, 'data', 30, 3_000);
    expect(p.successRate).toBeCloseTo(5 / 6);
    expect(p.confidenceLevel).toBe(ConfidenceLevel.LOW); // Wilson lower bound of 5/6: 0.44
    expect(p.outcomeStats.byDomain).toEqual({
      web: { successes: 5, failures: 0 },
      data: { successes: 0, failures: 1 },
    });
    expect(p.outcomeStats.totalDurationMs).toBe(80);
    expect(p.lastUsedAt).toBe(3_000);
  });

  it('setConfidenceThreshold validates 0..1', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['a']);
    p.setConfidenceThreshold(0.85);
    expect(p.confidenceThreshold).toBe(0.85);
    for (const bad of [-0.1, 1.1, Number.NaN]) {
      const error = thrown(() => p.setConfidenceThreshold(bad));
      expect(error).toBeInstanceOf(PatternValidationError);
      expect(error.details).toEqual({ field: 'confidenceThreshold', patternName: 'p' });
    }
    expect(p.confidenceThreshold).toBe(0.85);
  });

  it('setLearningEnabled(false) ignores outcomes but still tracks last use', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['a']);
    expect(p.learningEnabled).toBe(true);
    p.setLearningEnabled(false);
    expect(p.learningEnabled).toBe(false);
    p.recordExecution(true, 'x', 1, 42);
    expect(p.executionCount).toBe(0);
    expect(p.lastUsedAt).toBe(42);
    p.setLearningEnabled(true);
    p.recordExecution(true, 'x', 1, 43);
    expect(p.executionCount).toBe(1);
  });

  it('resetStats clears the learning data', () => {
    const p = new SequentialDelegationPattern('p', 'd', ['a']);
    p.recordExecution(true);
    p.recordExecution(false);
    p.resetStats();
    expect([p.executionCount, p.successRate, p.confidenceScore]).toEqual([0, 0, 0]);
    expect(p.outcomeStats.history).toEqual([]);
  });

  it('the scoring follows PatternConfig.minSamples', () => {
    PatternConfig.configureConfidenceCalculation('simple_average', 2);
    const p = new SequentialDelegationPattern('p', 'd', ['a']);
    for (let i = 0; i < 20; i++) p.recordExecution(true);
    expect(p.confidenceScore).toBe(1);
    expect(p.confidenceLevel).toBe(ConfidenceLevel.HIGH);
    PatternConfig.configureConfidenceCalculation('simple_average', 30);
    expect(p.confidenceLevel).toBe(ConfidenceLevel.LOW);
  });
});

describe('toSnapshot → revivePattern', () => {
  function roundTrip<P extends DelegationPattern>(p: P): DelegationPattern {
    const snapshot = JSON.parse(JSON.stringify(p.toSnapshot())) as PatternSnapshot;
    const revived = revivePattern(snapshot);
    expect(revived.constructor).toBe(p.constructor);
    const { createdAt: _a, ...after } = revived.toSnapshot();
    const { createdAt: _b, ...before } = p.toSnapshot();
    expect(JSON.parse(JSON.stringify(after))).toEqual(JSON.parse(JSON.stringify(before)));
    return revived;
  }

  it('round-trips a sequential pattern with its learning data and settings', () => {
    const p = new SequentialDelegationPattern({
      name: 'seq',
      description: 'desc',
      steps: [
        'a',
        {
          name: 'b',
          capability: 'bee',
          retry: { maxAttempts: 2, backoff: { jitter: 'none' } },
          input: { k: 1 },
        },
      ],
      timeoutSeconds: 12,
      rollbackEnabled: false,
      domains: ['web.*'],
      agentMapping: { a: 'agent-a' },
    });
    p.setStepTimeout('b', 3);
    p.recordExecution(true, 'web.x', 10, 5_000);
    p.recordExecution(false, 'web.y', 20, 6_000);
    p.setConfidenceThreshold(0.4);
    p.setLearningEnabled(false);
    const revived = roundTrip(p) as SequentialDelegationPattern;
    expect(revived.stepSpecs()).toEqual(p.stepSpecs());
    expect(revived.executionCount).toBe(2);
    expect(revived.confidenceThreshold).toBe(0.4);
    expect(revived.learningEnabled).toBe(false);
    expect(revived.lastUsedAt).toBe(6_000);
    expect(revived.domains).toEqual(['web.*']);
    expect(revived.timeoutSeconds).toBe(12);
  });

  it('round-trips a parallel pattern with dependencies, resources and named resources', () => {
    const p = new ParallelCoordinationPattern({
      name: 'par',
      tasks: ['db', 'api', 'web'],
      maxConcurrent: 2,
      resourceThreshold: 0.9,
      failureTolerance: 0.5,
      resources: ['cpu'],
    });
    p.addTaskDependency('api', 'db');
    p.setTaskResourceRequirement('web', 0.3, 0.4);
    const revived = roundTrip(p) as ParallelCoordinationPattern;
    expect(revived.taskSpecs()).toEqual(p.taskSpecs());
    expect(revived.resources).toEqual(['cpu']);
    expect([revived.maxConcurrent, revived.resourceThreshold, revived.failureTolerance]).toEqual([
      2, 0.9, 0.5,
    ]);
  });

  it('round-trips a meta pattern with phases, criteria and coordinated domains', () => {
    const p = new MetaOrchestrationPattern({
      name: 'meta',
      strategy: {
        phases: [
          { name: 'one', patterns: ['a', 'b'], coordination: 'parallel', resource_allocation: { cpu: 0.5 } },
          { name: 'two', patterns: ['c'] },
        ],
        rollback_strategy: 'complete',
      },
      complexityThreshold: 3,
      coordinatedDomains: ['auth'],
    });
    p.setPhaseSuccessCriteria('two', { max_error_count: 2 });
    const revived = roundTrip(p) as MetaOrchestrationPattern;
    expect(revived.phaseSpecs()).toEqual(p.phaseSpecs());
    expect(revived.rollbackStrategy).toBe('complete');
    expect(revived.coordinatedDomains).toEqual(['auth']);
  });

  it('rejects an unknown type naming the field', () => {
    const snapshot = { ...new NightlyPattern('n', '2am').toSnapshot(), type: 'Nope' };
    const error = thrown(() => revivePattern(snapshot));
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error.details).toEqual({ field: 'type', patternName: 'n' });
    expect(error.message).toContain('registerPatternType');
  });

  it('rejects a malformed configuration', () => {
    const snapshot = {
      ...new SequentialDelegationPattern('s', 'd', ['a']).toSnapshot(),
      config: { steps: 'no' },
    };
    expect(thrown(() => revivePattern(snapshot))).toBeInstanceOf(PatternValidationError);
  });

  it('revives a custom pattern type once registered', () => {
    registerPatternType(
      'NightlyPattern',
      (s) => new NightlyPattern(s.name, (s.config as { window: string }).window),
    );
    const p = new NightlyPattern('nightly', '2am');
    p.recordExecution(true, 'ops.db', 7, 9_000);
    const snapshot = p.toSnapshot();
    expect(snapshot).toMatchObject({
      version: 1,
      name: 'nightly',
      type: 'NightlyPattern',
      config: { window: '2am' },
    });
    const revived = revivePattern(snapshot) as NightlyPattern;
    expect(revived).toBeInstanceOf(NightlyPattern);
    expect(revived.window).toBe('2am');
    expect(revived.executionCount).toBe(1);
    expect(revived.lastUsedAt).toBe(9_000);
  });
});

describe('a custom DelegationPattern subclass', () => {
  it('has name, description, type and base-class scoring', async () => {
    const p = new NightlyPattern('nightly', '2am');
    expect([p.name, p.description, p.type]).toEqual(['nightly', 'nightly maintenance', 'NightlyPattern']);
    expect(p.matches(ctx({ domain: 'ops.backup' }))).toBe(true);
    expect(p.matches(ctx({ domain: 'web' }))).toBe(false);
    expect(await p.execute(ctx({ domain: 'ops.backup' }))).toBe(true);
    expect(await p.execute(ctx({ domain: 'ops.backup', attributes: { fail: true } }))).toBe(false);
    expect(p.runs).toEqual(['ops.backup', 'ops.backup']);
    expect(p.executionCount).toBe(2);
    expect(p.successRate).toBe(0.5);
    expect(p.outcomeStats.byDomain).toEqual({ 'ops.backup': { successes: 1, failures: 1 } });
  });

  it('rejects an empty name with the subclass name in the message', () => {
    const error = thrown(() => new NightlyPattern(' ', 'x'));
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error.message).toBe('NightlyPattern: name must be a non-empty string');
    expect(error.details.field).toBe('name');
  });
});

describe('patterns bound to an executor', () => {
  function setup() {
    const clock = simulatedClock(1_000);
    const registry = new PatternRegistry();
    const agent = scriptedAgent('worker', ['a', 'b', 'c', 'x', 'y'], { b: ['fatal'], y: ['fatal'] });
    const executor = new PatternExecutor(registry, { clock, agents: [agent] });
    return { clock, registry, executor, agent };
  }

  it('a built-in pattern refuses to execute before an executor binds it', async () => {
    const p = new SequentialDelegationPattern('lonely', 'd', ['a']);
    await expect(p.execute(ctx({}))).rejects.toThrow(/not bound to a PatternExecutor/);
  });

  it('execute() runs through the bound executor; getStepStatus reports the latest run', async () => {
    const { registry, executor } = setup();
    const p = new SequentialDelegationPattern('seq', 'd', ['a', 'b', 'c'], undefined, false);
    registry.registerPattern(p);
    expect(await p.execute(ctx({}))).toBe(false);
    expect([p.getStepStatus('a'), p.getStepStatus('b'), p.getStepStatus('c')]).toEqual([
      'completed',
      'failed',
      'skipped', // never started: the run had failed
    ]);
    await executor.close();
  });

  it('getTaskStatusAll and waitForCompletion reflect the latest parallel run', async () => {
    const { registry, executor } = setup();
    const p = new ParallelCoordinationPattern({
      name: 'par',
      tasks: ['x', 'y', { name: 'c', dependsOn: ['y'] }],
      failureTolerance: 0,
    });
    registry.registerPattern(p);
    p.setTaskResourceRequirement('x', 0.1, 0.1);
    const result = await executor.run('par');
    expect(result.success).toBe(false);
    expect(p.getTaskStatusAll()).toEqual({ x: 'compensated', y: 'failed', c: 'skipped' });
    expect(await p.waitForCompletion()).toBe(false);
    expect(await p.waitForCompletion(5)).toBe(false);
    await executor.close();
  });

  it('waitForCompletion resolves true after a succeeded run', async () => {
    const { registry, executor } = setup();
    const p = new ParallelCoordinationPattern('ok', 'd', ['a', 'c']);
    registry.registerPattern(p);
    await executor.run('ok');
    expect(p.getTaskStatusAll()).toEqual({ a: 'completed', c: 'completed' });
    expect(await p.waitForCompletion(1)).toBe(true);
    await executor.close();
  });
});
