import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedClock } from 'xstate';
import {
  defineAgent,
  type Agent,
  type AgentTask,
  type CompensationTask,
  type ResourceArbiter,
} from '../../src/actors/agent.js';
import { PatternConfig } from '../../src/runtime/PatternConfig.js';
import { PatternContext } from '../../src/runtime/PatternContext.js';
import { PatternExecutor, type ExecutorOptions } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import type { PatternError } from '../../src/core/errors.js';
import {
  AgentError,
  CircuitOpenError,
  ConfidenceThresholdError,
  NoCapableAgentError,
  PatternNotFoundError,
  PatternTimeoutError,
  PatternValidationError,
  errorFromJSON,
  isCircuitOpenError,
  isNoCapableAgentError,
} from '../../src/core/errors.js';
import type { RunEvent } from '../../src/core/events.js';
import {
  DelegationPattern,
  MetaOrchestrationPattern,
  ParallelCoordinationPattern,
  SequentialDelegationPattern,
  type MetaStrategy,
} from '../../src/runtime/patterns/index.js';
import type { RunResult, StepReport } from '../../src/core/result.js';
import { advance, flush, scriptedAgent, settle, simulatedClock } from '../../src/testing.js';

const T0 = 1_000_000;

afterEach(() => PatternConfig.reset());

/** Resolves after `ms` of simulated time, or rejects when the task is aborted. */
function wait(clock: SimulatedClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const id = clock.setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clock.clearTimeout(id);
      reject(new Error('aborted'));
    });
  });
}

interface Log {
  calls: string[];
  compensations: { step: string; output: unknown; key: string }[];
  running: number;
  peak: number;
}

/**
 * A local agent whose steps take `durations[step]` ms of simulated time (default 0) and fail
 * when listed in `failing` (`'fatal'`: no retry) or `'hang'` (never finish unless aborted).
 */
function timedAgent(
  clock: SimulatedClock,
  id: string,
  capabilities: string[],
  options: {
    durations?: Record<string, number>;
    failing?: Record<string, 'fatal' | 'retryable' | 'hang'>;
    maxConcurrent?: number;
  } = {},
  log: Log = { calls: [], compensations: [], running: 0, peak: 0 },
): Agent & { log: Log } {
  const agent = defineAgent({
    id,
    capabilities,
    maxConcurrent: options.maxConcurrent ?? 16,
    handler: async (task: AgentTask) => {
      log.calls.push(task.step);
      log.running += 1;
      log.peak = Math.max(log.peak, log.running);
      try {
        const mode = options.failing?.[task.step];
        if (mode === 'hang')
          await new Promise((_, reject) =>
            task.signal.addEventListener('abort', () => reject(new Error('aborted'))),
          );
        const ms = options.durations?.[task.step] ?? 0;
        if (ms > 0) await wait(clock, ms, task.signal);
        if (mode === 'fatal' || mode === 'retryable') {
          throw new AgentError(`${task.step} broke`, {
            agentId: id,
            step: task.step,
            retryable: mode === 'retryable',
          });
        }
        return { step: task.step, by: id, attempt: task.attempt };
      } finally {
        log.running -= 1;
      }
    },
    compensate: (task: CompensationTask) => {
      log.compensations.push({ step: task.step, output: task.output, key: task.idempotencyKey });
    },
  });
  return Object.assign(agent, { log });
}

function setup(options: Omit<ExecutorOptions, 'clock'> = {}) {
  const clock = simulatedClock(T0);
  const registry = new PatternRegistry();
  const executor = new PatternExecutor(registry, { clock, ...options });
  return { clock, registry, executor };
}

const byName = (result: RunResult): Record<string, StepReport> =>
  Object.fromEntries(result.steps.map((s) => [s.name, s]));

describe('PatternExecutor constructor and agents', () => {
  it('accepts the reference positional form (registry, threadPoolSize, timeoutDefault)', () => {
    const executor = new PatternExecutor(new PatternRegistry(), 8, 30);
    expect(executor.threadPoolSize).toBe(8);
  });

  it('rejects bad options naming the field', () => {
    const bad = (options: ExecutorOptions): PatternError => {
      try {
        new PatternExecutor(new PatternRegistry(), options);
      } catch (error) {
        return error as PatternError;
      }
      throw new Error('expected an error');
    };
    const pool = bad({ threadPoolSize: 0 });
    expect(pool).toBeInstanceOf(PatternValidationError);
    expect(pool.details.field).toBe('PatternExecutor.threadPoolSize');
    expect(bad({ timeoutDefault: -1 }).details.field).toBe('PatternExecutor.timeoutDefault');
    expect(bad({ clock: {} as never }).details.field).toBe('PatternExecutor.clock');
  });

  it('registers agents, lists them and rejects a duplicate id', () => {
    const { executor } = setup({ agents: [scriptedAgent('a', ['x'])] });
    executor.registerAgent(scriptedAgent('b', ['y']));
    expect(executor.agents().map((a) => a.id)).toEqual(['a', 'b']);
    expect(() => executor.registerAgent(scriptedAgent('a', ['z']))).toThrow(PatternValidationError);
    expect(executor.agentBreaker('a')!.state).toBe('closed');
    expect(executor.agentBreaker('nobody')).toBeUndefined();
  });

  it('configureExecution changes the pool size and default timeout', async () => {
    const { clock, registry, executor } = setup({
      agents: [timedAgent(simulatedClock(), 'w', ['slow'], { failing: { slow: 'hang' } })],
    });
    executor.configureExecution({ threadPoolSize: 2, timeoutDefault: 3 });
    expect(executor.threadPoolSize).toBe(2);
    expect(() => executor.configureExecution({ threadPoolSize: 0 })).toThrow(PatternValidationError);
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['slow']));
    const pending = executor.run('p');
    await advance(clock, 3_000);
    const result = await pending;
    expect(result.status).toBe('timedOut');
    expect(result.error!.message).toBe('Sequential pattern "p" timed out after 3000 ms');
  });

  it('getMemoryUsage is a fraction', () => {
    const usage = setup().executor.getMemoryUsage();
    expect(usage).toBeGreaterThan(0);
    expect(usage).toBeLessThan(1);
  });
});

describe('run(): sequential', () => {
  it('reports every step of a successful run', async () => {
    const { clock, registry, executor } = setup();
    const seen: AgentTask[] = [];
    const v = timedAgent(clock, 'validator', ['validate'], { durations: { validate: 100 } });
    const p = timedAgent(clock, 'processor', ['process', 'store'], {
      durations: { process: 200, store: 300 },
    });
    executor.registerAgent(v);
    executor.registerAgent(p);
    executor.registerAgent(
      defineAgent({ id: 'spy', capabilities: ['report'], handler: (t) => (seen.push(t), 'reported') }),
    );
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'pipeline',
        steps: ['validate', 'process', 'store', { name: 'report', input: { fmt: 'csv' } }],
      }),
    );
    const pending = executor.run(
      'pipeline',
      { domain: 'data', priority: 2 },
      { runId: 'run-1', input: { file: 'x.csv' } },
    );
    await advance(clock, 600, 100);
    const result = await pending;
    expect(result).toMatchObject({
      runId: 'run-1',
      pattern: 'pipeline',
      status: 'succeeded',
      success: true,
      startedAt: T0,
      durationMs: 600,
      error: undefined,
    });
    expect(result.steps).toEqual([
      {
        name: 'validate',
        path: ['pipeline'],
        status: 'completed',
        agent: 'validator',
        attempts: 1,
        durationMs: 100,
        output: { step: 'validate', by: 'validator', attempt: 1 },
        error: undefined,
        compensation: 'none',
        compensationError: undefined,
      },
      {
        name: 'process',
        path: ['pipeline'],
        status: 'completed',
        agent: 'processor',
        attempts: 1,
        durationMs: 200,
        output: { step: 'process', by: 'processor', attempt: 1 },
        error: undefined,
        compensation: 'none',
        compensationError: undefined,
      },
      {
        name: 'store',
        path: ['pipeline'],
        status: 'completed',
        agent: 'processor',
        attempts: 1,
        durationMs: 300,
        output: { step: 'store', by: 'processor', attempt: 1 },
        error: undefined,
        compensation: 'none',
        compensationError: undefined,
      },
      {
        name: 'report',
        path: ['pipeline'],
        status: 'completed',
        agent: 'spy',
        attempts: 1,
        durationMs: 0,
        output: 'reported',
        error: undefined,
        compensation: 'none',
        compensationError: undefined,
      },
    ]);
    const task = seen[0]!;
    expect(task).toMatchObject({
      runId: 'run-1',
      pattern: 'pipeline',
      step: 'report',
      capability: 'report',
      attempt: 1,
      idempotencyKey: 'run-1/pipeline/report',
      deadline: undefined,
      context: { domain: 'data', agentType: 'general', priority: 2, attributes: {} },
    });
    expect(task.input.params).toEqual({ fmt: 'csv' });
    expect(task.input.runInput).toEqual({ file: 'x.csv' });
    // The results of the steps before it, not its own (it had not completed when called).
    expect(Object.keys(task.input.results)).toEqual(['validate', 'process', 'store']);
    expect(task.input.results['process']).toEqual({ step: 'process', by: 'processor', attempt: 1 });
    expect(v.log.calls).toEqual(['validate']);
    expect(p.log.calls).toEqual(['process', 'store']);
  });

  it('on failure compensates the completed steps in reverse order, with their outputs', async () => {
    const { clock, registry, executor } = setup();
    const agent = timedAgent(clock, 'w', ['a', 'b', 'c', 'd', 'e'], { failing: { d: 'fatal' } });
    executor.registerAgent(agent);
    registry.registerPattern(new SequentialDelegationPattern('saga', 'd', ['a', 'b', 'c', 'd', 'e']));
    const result = await settle(clock, executor.run('saga', {}, { runId: 'r' }));
    expect(result.status).toBe('rolledBack');
    expect(result.success).toBe(false);
    expect(agent.log.calls).toEqual(['a', 'b', 'c', 'd']);
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['c', 'b', 'a']);
    expect(agent.log.compensations[0]).toEqual({
      step: 'c',
      output: { step: 'c', by: 'w', attempt: 1 },
      key: 'r/saga/c/compensate',
    });
    const steps = byName(result);
    expect(Object.values(steps).map((s) => [s.name, s.status, s.compensation])).toEqual([
      ['a', 'compensated', 'compensated'],
      ['b', 'compensated', 'compensated'],
      ['c', 'compensated', 'compensated'],
      ['d', 'failed', 'none'],
      ['e', 'skipped', 'none'],
    ]);
    expect(steps['d']!.error).toEqual({
      name: 'AgentError',
      code: 'ND_AGENT_ERROR',
      message: 'd broke',
      details: { agentId: 'w', step: 'd', retryable: false },
    });
    expect(steps['d']!.attempts).toBe(1);
    expect(steps['e']!.attempts).toBe(0);
    expect(result.error).toEqual(steps['d']!.error);
  });

  it('reports a compensation that fails, and the run as failed', async () => {
    const { clock, registry, executor } = setup();
    executor.registerAgent(
      defineAgent({
        id: 'w',
        capabilities: ['a', 'b'],
        handler: (t) => {
          if (t.step === 'b') throw new Error('b is broken');
          return 'ok';
        },
        compensate: () => {
          throw new Error('cannot undo');
        },
      }),
    );
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a', 'b']));
    const result = await settle(clock, executor.run('p'));
    expect(result.status).toBe('failed');
    const a = byName(result)['a']!;
    expect(a.status).toBe('compensationFailed');
    expect(a.compensation).toBe('compensationFailed');
    expect(a.compensationError).toMatchObject({
      code: 'ND_AGENT_ERROR',
      message: 'Agent "w" failed step "a": cannot undo',
    });
    expect(byName(result)['b']!.error).toMatchObject({
      name: 'AgentError',
      message: 'Agent "w" failed step "b": b is broken',
      details: { agentId: 'w', step: 'b', retryable: true },
    });
  });

  it('with rollbackEnabled false leaves completed steps alone', async () => {
    const { clock, registry, executor } = setup();
    const agent = timedAgent(clock, 'w', ['a', 'b', 'c'], { failing: { c: 'fatal' } });
    executor.registerAgent(agent);
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a', 'b', 'c'], undefined, false));
    const result = await settle(clock, executor.run('p'));
    expect(result.status).toBe('failed');
    expect(agent.log.compensations).toEqual([]);
    expect(result.steps.map((s) => [s.name, s.status, s.compensation])).toEqual([
      ['a', 'completed', 'none'],
      ['b', 'completed', 'none'],
      ['c', 'failed', 'none'],
    ]);
  });

  it('retries with exponential backoff on the injected clock (no jitter)', async () => {
    const { clock, registry, executor } = setup();
    const agent = scriptedAgent('w', ['flaky'], { flaky: ['fail', 'fail', 'ok'] });
    executor.registerAgent(agent);
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'p',
        steps: [
          {
            name: 'flaky',
            retry: { maxAttempts: 3, backoff: { initialDelayMs: 100, multiplier: 2, jitter: 'none' } },
          },
        ],
      }),
    );
    const events: RunEvent[] = [];
    const pending = executor.run('p', {}, { onEvent: (e) => events.push(e) });
    await flush();
    expect(agent.calls.map((c) => c.attempt)).toEqual([1]);
    await advance(clock, 99);
    expect(agent.calls).toHaveLength(1);
    await advance(clock, 1);
    expect(agent.calls.map((c) => c.attempt)).toEqual([1, 2]);
    await advance(clock, 199);
    expect(agent.calls).toHaveLength(2);
    await advance(clock, 1);
    const result = await pending;
    expect(agent.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(new Set(agent.calls.map((c) => c.idempotencyKey)).size).toBe(1);
    expect(result.steps[0]).toMatchObject({
      status: 'completed',
      attempts: 3,
      durationMs: 300,
      output: 'flaky:3',
      agent: 'w',
      error: undefined,
    });
    expect(result.durationMs).toBe(300);
    const statuses = events.flatMap((e) =>
      e.type === 'step.status' ? [`${e.status}@${e.at - T0}#${e.attempt}`] : [],
    );
    expect(statuses).toEqual([
      'running@0#1',
      'retrying@0#1',
      'running@100#2',
      'retrying@100#2',
      'running@300#3',
      'completed@300#3',
    ]);
  });

  it.each([
    ['full', 0.5, [50, 100]],
    ['equal', 0.5, [75, 150]],
  ] as const)('jitters the backoff (%s) with the injected random', async (jitter, r, delays) => {
    const { clock, registry, executor } = setup({ random: () => r });
    const agent = scriptedAgent('w', ['s'], { s: ['fail', 'fail'] });
    executor.registerAgent(agent);
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'p',
        steps: [{ name: 's', retry: { maxAttempts: 3, backoff: { initialDelayMs: 100, jitter } } }],
      }),
    );
    const pending = executor.run('p');
    await advance(clock, delays[0] - 1);
    expect(agent.calls).toHaveLength(1);
    await advance(clock, 1);
    expect(agent.calls).toHaveLength(2);
    await advance(clock, delays[1] - 1);
    expect(agent.calls).toHaveLength(2);
    await advance(clock, 1);
    expect((await pending).steps[0]!.attempts).toBe(3);
  });

  it('does not retry an error marked not retryable', async () => {
    const { clock, registry, executor } = setup();
    const agent = scriptedAgent('w', ['s'], { s: ['fatal'] });
    executor.registerAgent(agent);
    registry.registerPattern(
      new SequentialDelegationPattern({ name: 'p', steps: [{ name: 's', retry: { maxAttempts: 5 } }] }),
    );
    const result = await settle(clock, executor.run('p'));
    expect(agent.calls).toHaveLength(1);
    expect(result.steps[0]).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('times out each attempt (setStepTimeout) and aborts the agent', async () => {
    const { clock, registry, executor } = setup();
    const tasks: AgentTask[] = [];
    executor.registerAgent(
      defineAgent({
        id: 'w',
        capabilities: ['slow'],
        handler: (t) => {
          tasks.push(t);
          return new Promise(() => undefined);
        },
      }),
    );
    const p = new SequentialDelegationPattern({
      name: 'p',
      steps: [{ name: 'slow', retry: { maxAttempts: 2, backoff: { initialDelayMs: 50, jitter: 'none' } } }],
    });
    p.setStepTimeout('slow', 1);
    registry.registerPattern(p);
    const pending = executor.run('p', {}, { runId: 'r' });
    await flush();
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.deadline).toBe(T0 + 1_000);
    await advance(clock, 999);
    expect(tasks[0]!.signal.aborted).toBe(false);
    await advance(clock, 1);
    expect(tasks[0]!.signal.aborted).toBe(true);
    await advance(clock, 50);
    expect(tasks).toHaveLength(2);
    expect(tasks[1]!.deadline).toBe(T0 + 2_050);
    await advance(clock, 1_000);
    const result = await pending;
    expect(tasks[1]!.signal.aborted).toBe(true);
    expect(result.status).toBe('failed');
    expect(result.steps[0]).toMatchObject({ status: 'failed', attempts: 2, durationMs: 2_050, agent: 'w' });
    expect(result.steps[0]!.error).toEqual({
      name: 'TimeoutError',
      code: 'ND_TIMEOUT',
      message: 'Step "slow" timed out after 1000 ms (attempt 2)',
      details: { step: 'slow', timeoutMs: 1000, retryable: true },
    });
  });

  it('times out the whole pattern, cancels the running step and rolls back', async () => {
    const { clock, registry, executor } = setup();
    // Step a takes no time, so this does not depend on when the timer starts (see bugs.test.ts).
    const agent = timedAgent(clock, 'w', ['a', 'b', 'c'], { failing: { b: 'hang' } });
    executor.registerAgent(agent);
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a', 'b', 'c'], 5));
    const pending = executor.run('p');
    await advance(clock, 4_999, 100);
    expect(agent.log.calls).toEqual(['a', 'b']);
    await advance(clock, 1);
    const result = await pending;
    expect(result.status).toBe('timedOut');
    expect(result.durationMs).toBe(5_000);
    expect(result.error).toEqual({
      name: 'TimeoutError',
      code: 'ND_TIMEOUT',
      message: 'Sequential pattern "p" timed out after 5000 ms',
      details: { timeoutMs: 5_000, retryable: false },
    });
    expect(result.steps.map((s) => [s.name, s.status])).toEqual([
      ['a', 'compensated'],
      ['b', 'cancelled'],
      ['c', 'skipped'],
    ]);
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['a']);
  });
});

describe('run(): after success', () => {
  it('leaves no timer behind: the overall and per-step deadlines are cancelled', async () => {
    const sim = simulatedClock(T0);
    const live = new Set<unknown>();
    const clock = {
      now: () => sim.now(),
      setTimeout: (fn: () => void, ms: number) => {
        const id = sim.setTimeout(() => {
          live.delete(id);
          fn();
        }, ms);
        live.add(id);
        return id;
      },
      clearTimeout: (id: unknown) => {
        live.delete(id);
        sim.clearTimeout(id as never);
      },
    };
    const registry = new PatternRegistry();
    const executor = new PatternExecutor(registry, {
      clock,
      agents: [defineAgent({ id: 'a', capabilities: ['x', 'y', 'z'], handler: () => 1 })],
    });
    const seq = new SequentialDelegationPattern({ name: 'seq', steps: ['x', 'y'], timeoutSeconds: 60 });
    seq.setStepTimeout('x', 5);
    registry.registerPattern(seq);
    registry.registerPattern(
      new ParallelCoordinationPattern({ name: 'par', tasks: ['x', 'z'], timeoutSeconds: 60 }),
    );
    for (const name of ['seq', 'par']) {
      const pending = executor.run(name);
      await flush();
      const result = await pending;
      expect(result.status).toBe('succeeded');
      expect(live.size).toBe(0);
    }
  });
});

describe('run(): parallel', () => {
  it('never runs more than maxConcurrent tasks at once', async () => {
    const { clock, registry, executor } = setup();
    const names = ['t1', 't2', 't3', 't4', 't5', 't6', 't7'];
    const agent = timedAgent(clock, 'w', names, {
      durations: Object.fromEntries(names.map((n) => [n, 100])),
    });
    executor.registerAgent(agent);
    registry.registerPattern(new ParallelCoordinationPattern('fan', 'd', names, 3));
    const pending = executor.run('fan');
    await flush();
    expect(agent.log.running).toBe(3);
    const result = await settle(clock, pending, 100);
    expect(agent.log.peak).toBe(3);
    expect(agent.log.calls).toEqual(names);
    expect(result.status).toBe('succeeded');
    expect(result.durationMs).toBe(300);
    expect(result.steps.every((s) => s.status === 'completed' && s.durationMs === 100)).toBe(true);
  });

  it('skips the dependents of a failed task and still runs independent ones', async () => {
    const { clock, registry, executor } = setup();
    const agent = timedAgent(clock, 'w', ['a', 'b', 'c', 'd'], { failing: { a: 'fatal' } });
    executor.registerAgent(agent);
    const p = new ParallelCoordinationPattern({
      name: 'dag',
      tasks: ['a', 'b', 'c', 'd'],
      failureTolerance: 0.75,
    });
    p.addTaskDependency('b', 'a');
    p.addTaskDependency('c', 'b');
    registry.registerPattern(p);
    const events: RunEvent[] = [];
    const result = await settle(clock, executor.run('dag', {}, { onEvent: (e) => events.push(e) }));
    expect(agent.log.calls.sort()).toEqual(['a', 'd']);
    expect(result.status).toBe('succeeded');
    expect(Object.fromEntries(result.steps.map((s) => [s.name, [s.status, s.attempts]]))).toEqual({
      a: ['failed', 1],
      b: ['skipped', 0],
      c: ['skipped', 0],
      d: ['completed', 1],
    });
    expect(p.getTaskStatusAll()).toEqual({ a: 'failed', b: 'skipped', c: 'skipped', d: 'completed' });
    const skipped = events.flatMap((e) =>
      e.type === 'step.status' && e.status === 'skipped' ? [e.step] : [],
    );
    expect(skipped).toEqual(['b', 'c']);
  });

  it('fails and rolls back in reverse completion order when failures exceed failureTolerance', async () => {
    const { clock, registry, executor } = setup();
    const agent = timedAgent(clock, 'w', ['ok1', 'ok2', 'bad', 'slow'], {
      durations: { ok1: 10, ok2: 20, bad: 50, slow: 500 },
      failing: { bad: 'fatal' },
    });
    executor.registerAgent(agent);
    registry.registerPattern(
      new ParallelCoordinationPattern('p', 'd', ['ok1', 'ok2', 'bad', 'slow'], 4, 0.8, 0.2),
    );
    const result = await settle(clock, executor.run('p'), 10);
    expect(result.status).toBe('rolledBack');
    expect(result.durationMs).toBe(50);
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['ok2', 'ok1']);
    expect(Object.fromEntries(result.steps.map((s) => [s.name, s.status]))).toEqual({
      ok1: 'compensated',
      ok2: 'compensated',
      bad: 'failed',
      slow: 'cancelled',
    });
    expect(result.error).toMatchObject({ code: 'ND_AGENT_ERROR', message: 'bad broke' });
  });

  it('tolerates failures up to failureTolerance', async () => {
    const { clock, registry, executor } = setup();
    const agent = timedAgent(clock, 'w', ['ok1', 'ok2', 'bad', 'slow'], {
      durations: { slow: 500 },
      failing: { bad: 'fatal' },
    });
    executor.registerAgent(agent);
    registry.registerPattern(
      new ParallelCoordinationPattern('p', 'd', ['ok1', 'ok2', 'bad', 'slow'], 4, 0.8, 0.25),
    );
    const result = await settle(clock, executor.run('p'), 100);
    expect(result.status).toBe('succeeded');
    expect(agent.log.compensations).toEqual([]);
    expect(byName(result)['slow']!.status).toBe('completed');
    expect(byName(result)['bad']!.status).toBe('failed');
  });

  it('keeps running tasks within the resource threshold', async () => {
    const { clock, registry, executor } = setup();
    const heavyLog: Log = { calls: [], compensations: [], running: 0, peak: 0 };
    const heavy = timedAgent(
      clock,
      'heavy',
      ['h1', 'h2', 'h3'],
      { durations: { h1: 100, h2: 100, h3: 100 } },
      heavyLog,
    );
    const light = timedAgent(clock, 'light', ['l1', 'l2'], { durations: { l1: 100, l2: 100 } });
    executor.registerAgent(heavy);
    executor.registerAgent(light);
    const p = new ParallelCoordinationPattern('p', 'd', ['h1', 'h2', 'h3', 'l1', 'l2'], 5, 0.8);
    for (const h of ['h1', 'h2', 'h3']) p.setTaskResourceRequirement(h, 0.5, 0.1);
    registry.registerPattern(p);
    const pending = executor.run('p');
    await flush();
    expect(heavyLog.calls).toEqual(['h1']);
    expect(light.log.calls).toEqual(['l1', 'l2']);
    const result = await settle(clock, pending, 100);
    expect(heavyLog.peak).toBe(1);
    expect(heavyLog.calls).toEqual(['h1', 'h2', 'h3']);
    expect(result.success).toBe(true);
    expect(result.durationMs).toBe(300);
  });

  it('times out the whole parallel pattern', async () => {
    const { clock, registry, executor } = setup();
    executor.registerAgent(timedAgent(clock, 'w', ['a', 'b'], { failing: { b: 'hang' } }));
    registry.registerPattern(
      new ParallelCoordinationPattern({ name: 'p', tasks: ['a', 'b'], timeoutSeconds: 2 }),
    );
    const pending = executor.run('p');
    await advance(clock, 1_999);
    await advance(clock, 1);
    const result = await pending;
    expect(result.status).toBe('timedOut');
    expect(result.error!.message).toBe('Parallel pattern "p" timed out after 2000 ms');
    expect(result.steps.map((s) => [s.name, s.status])).toEqual([
      ['a', 'compensated'],
      ['b', 'cancelled'],
    ]);
  });
});

/** A registry with sub-patterns whose steps are named after them, performed by one agent. */
function metaSetup(
  options: { durations?: Record<string, number>; failing?: Record<string, 'fatal' | 'hang'> } = {},
) {
  const env = setup();
  const steps = ['s1', 's2', 's3', 's4', 'bad'];
  const agent = timedAgent(
    env.clock,
    'w',
    steps.map((s) => `${s}_step`),
    {
      durations: Object.fromEntries(
        Object.entries(options.durations ?? {}).map(([k, v]) => [`${k}_step`, v]),
      ),
      failing: {
        bad_step: 'fatal',
        ...Object.fromEntries(Object.entries(options.failing ?? {}).map(([k, v]) => [`${k}_step`, v])),
      },
    },
  );
  env.executor.registerAgent(agent);
  for (const s of steps) env.registry.registerPattern(new SequentialDelegationPattern(s, 'd', [`${s}_step`]));
  const meta = (strategy: MetaStrategy, name = 'meta') => {
    const m = new MetaOrchestrationPattern(name, 'd', strategy);
    env.registry.registerPattern(m);
    return m;
  };
  return { ...env, agent, meta };
}

describe('run(): meta-orchestration', () => {
  it('runs phases in order, patterns sequentially or in parallel', async () => {
    const { clock, executor, agent, meta } = metaSetup({ durations: { s1: 100, s2: 100, s3: 100, s4: 100 } });
    const m = meta({
      phases: [
        { name: 'prep', patterns: ['s1', 's2'], coordination: 'sequential' },
        { name: 'exec', patterns: ['s3', 's4'], coordination: 'parallel' },
      ],
    });
    const events: RunEvent[] = [];
    const pending = executor.run('meta', {}, { onEvent: (e) => events.push(e) });
    await advance(clock, 100);
    expect(agent.log.calls).toEqual(['s1_step', 's2_step']);
    await advance(clock, 100);
    expect(agent.log.calls).toEqual(['s1_step', 's2_step', 's3_step', 's4_step']);
    expect(agent.log.peak).toBe(2);
    await advance(clock, 100);
    const result = await pending;
    expect(result.status).toBe('succeeded');
    expect(result.durationMs).toBe(300);
    expect(result.steps.map((s) => [s.path.join('/'), s.name, s.status])).toEqual([
      ['meta/s1', 's1_step', 'completed'],
      ['meta/s2', 's2_step', 'completed'],
      ['meta/s3', 's3_step', 'completed'],
      ['meta/s4', 's4_step', 'completed'],
    ]);
    const phases = events.flatMap((e) => (e.type === 'phase.status' ? [`${e.phase}:${e.status}`] : []));
    expect(phases).toEqual(['prep:running', 'prep:succeeded', 'exec:running', 'exec:succeeded']);
    expect(m.getPhaseProgress()).toEqual({
      prep: { status: 'succeeded', completionPercentage: 1, succeeded: 2, failed: 0, total: 2 },
      exec: { status: 'succeeded', completionPercentage: 1, succeeded: 2, failed: 0, total: 2 },
    });
    await executor.close();
  });

  it('passes a phase that meets min_success_rate despite a failed pattern', async () => {
    const { clock, executor, meta } = metaSetup();
    const m = meta({
      phases: [
        {
          name: 'p',
          patterns: ['s1', 'bad'],
          coordination: 'parallel',
          success_criteria: { min_success_rate: 0.5 },
        },
      ],
    });
    const result = await settle(clock, executor.run('meta'));
    expect(result.status).toBe('succeeded');
    expect(m.getPhaseProgress()['p']).toEqual({
      status: 'succeeded',
      completionPercentage: 1,
      succeeded: 1,
      failed: 1,
      total: 2,
    });
    await executor.close();
  });

  it('fails a phase on max_error_count and names the criterion', async () => {
    const { clock, executor, meta } = metaSetup();
    const m = meta({ phases: [{ name: 'p', patterns: ['s1', 'bad'], coordination: 'parallel' }] });
    m.setPhaseSuccessCriteria('p', { min_success_rate: 0.5, max_error_count: 0 });
    const result = await settle(clock, executor.run('meta'));
    expect(result.success).toBe(false);
    expect(result.error!.message).toBe(
      'Phase "p" of "meta" failed its success criteria: error count 1 > max_error_count 0 (first error: bad_step broke)',
    );
    expect(m.getPhaseProgress()['p']!.status).toBe('failed');
  });

  it('fails a phase on response_time_threshold', async () => {
    const { clock, executor, meta } = metaSetup({ durations: { s1: 500 } });
    meta({ phases: [{ name: 'slow', patterns: ['s1'], successCriteria: { responseTimeThresholdMs: 100 } }] });
    const result = await settle(clock, executor.run('meta'), 100);
    expect(result.success).toBe(false);
    expect(result.error!.message).toBe(
      'Phase "slow" of "meta" failed its success criteria: mean response time 500 ms > response_time_threshold 100 ms',
    );
  });

  const twoPhases = (rollback_strategy: 'pattern_level' | 'phase_level' | 'complete'): MetaStrategy => ({
    phases: [
      { name: 'one', patterns: ['s1', 's2'] },
      // 'bad' is last: a pattern after it would be started anyway (see bugs.test.ts).
      { name: 'two', patterns: ['s4', 's3', 'bad'] },
    ],
    rollback_strategy,
  });

  it('pattern_level: only the failing pattern rolls back (itself)', async () => {
    const { clock, executor, agent, meta } = metaSetup();
    meta(twoPhases('pattern_level'));
    const result = await settle(clock, executor.run('meta'));
    expect(result.status).toBe('failed');
    expect(agent.log.calls).toEqual(['s1_step', 's2_step', 's4_step', 's3_step', 'bad_step']);
    expect(agent.log.compensations).toEqual([]);
    expect(result.steps.map((s) => [s.name, s.status])).toEqual([
      ['s1_step', 'completed'],
      ['s2_step', 'completed'],
      ['s4_step', 'completed'],
      ['s3_step', 'completed'],
      ['bad_step', 'failed'],
    ]);
  });

  it('phase_level: the failing phase is rolled back, earlier phases stay', async () => {
    const { clock, executor, agent, meta } = metaSetup();
    const m = meta(twoPhases('phase_level'));
    const result = await settle(clock, executor.run('meta'));
    expect(result.status).toBe('failed');
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['s3_step', 's4_step']);
    expect(m.getPhaseProgress()).toEqual({
      one: { status: 'succeeded', completionPercentage: 1, succeeded: 2, failed: 0, total: 2 },
      two: { status: 'failed', completionPercentage: 1, succeeded: 2, failed: 1, total: 3 },
    });
  });

  it('complete: every succeeded pattern of every phase is rolled back, in reverse order', async () => {
    const { clock, executor, agent, meta } = metaSetup();
    meta(twoPhases('complete'));
    const result = await settle(clock, executor.run('meta'));
    expect(result.status).toBe('rolledBack');
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['s3_step', 's4_step', 's2_step', 's1_step']);
    expect(agent.log.compensations[0]!.key).toMatch(/\/meta\/s3\/s3_step\/compensate$/);
  });

  it('triggerRollback after success compensates the last pattern, then the rest', async () => {
    const { clock, executor, agent, meta } = metaSetup();
    const m = meta({
      phases: [
        { name: 'one', patterns: ['s1'] },
        { name: 'two', patterns: ['s2', 's3'] },
      ],
    });
    const result = await settle(clock, executor.run('meta'));
    expect(result.success).toBe(true);
    expect(await settle(clock, m.triggerRollback('pattern'))).toBe(true);
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['s3_step']);
    expect(await settle(clock, m.triggerRollback('phase'))).toBe(true);
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['s3_step', 's2_step']);
    expect(await settle(clock, m.triggerRollback('complete'))).toBe(true);
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['s3_step', 's2_step', 's1_step']);
    await executor.close();
  });

  it('triggerRollback to a target phase undoes every later phase', async () => {
    const { clock, executor, agent, meta } = metaSetup();
    const m = meta({
      phases: [
        { name: 'one', patterns: ['s1'] },
        { name: 'two', patterns: ['s2'] },
        { name: 'three', patterns: ['s3', 's4'], coordination: 'parallel' },
      ],
    });
    await settle(clock, executor.run('meta'));
    expect(await settle(clock, m.triggerRollback('phase', 'one'))).toBe(true);
    expect(agent.log.compensations.map((c) => c.step).slice(-1)).toEqual(['s2_step']);
    expect(agent.log.compensations.map((c) => c.step).sort()).toEqual(['s2_step', 's3_step', 's4_step']);
    await executor.close();
  });

  it('rejects a phase naming an unregistered pattern before anything runs', async () => {
    const { executor, agent, meta } = metaSetup();
    meta({ phases: [{ name: 'p', patterns: ['s1', 'ghost'] }] });
    const error = (await executor.run('meta').catch((e: unknown) => e)) as PatternNotFoundError;
    expect(error).toBeInstanceOf(PatternNotFoundError);
    expect(error.message).toBe('Phase "p" of "meta" names pattern "ghost", which is not registered');
    expect(error.details).toEqual({ patternName: 'ghost' });
    expect(agent.log.calls).toEqual([]);
  });

  it('rejects meta-orchestrations that include each other, naming the cycle', async () => {
    const { executor, meta } = metaSetup();
    meta({ phases: [{ name: 'p', patterns: ['m2'] }] }, 'm1');
    meta({ phases: [{ name: 'p', patterns: ['m1'] }] }, 'm2');
    const error = await executor.run('m1').catch((e: unknown) => e as PatternError);
    expect(error).toMatchObject({
      code: 'ND_INVALID_PATTERN',
      message: 'Meta-orchestration cycle: m1 -> m2 -> m1',
    });
    expect((error as PatternError).details.cycle).toEqual(['m1', 'm2', 'm1']);
  });

  it('runs and compensates a custom pattern inside a meta-orchestration', async () => {
    const { clock, registry, executor, agent, meta } = metaSetup();
    const calls: string[] = [];
    class Custom extends DelegationPattern {
      matches(): boolean {
        return true;
      }
      async execute(context: PatternContext): Promise<boolean> {
        calls.push(`execute:${context.domain}`);
        this.recordExecution(true, context.domain);
        return true;
      }
      compensate(context: PatternContext): void {
        calls.push(`compensate:${context.domain}`);
      }
    }
    const custom = new Custom('custom', 'd');
    registry.registerPattern(custom);
    meta({
      phases: [
        { name: 'one', patterns: ['custom', 's1'] },
        { name: 'two', patterns: ['bad'] },
      ],
      rollback_strategy: 'complete',
    });
    const result = await settle(clock, executor.run('meta', { domain: 'ops' }));
    expect(result.status).toBe('rolledBack');
    expect(calls).toEqual(['execute:ops', 'compensate:ops']);
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['s1_step']);
    expect(custom.executionCount).toBe(1);
  });

  it('reports a custom pattern that returns false as a failed pattern', async () => {
    const { clock, registry, executor, meta } = metaSetup();
    class Nope extends DelegationPattern {
      matches(): boolean {
        return true;
      }
      async execute(): Promise<boolean> {
        return false;
      }
    }
    registry.registerPattern(new Nope('nope', 'd'));
    meta({ phases: [{ name: 'one', patterns: ['nope'] }] });
    const result = await settle(clock, executor.run('meta'));
    expect(result.success).toBe(false);
    expect(result.error!.message).toBe(
      'Phase "one" of "meta" failed its success criteria: success rate 0.00 < min_success_rate 1 (first error: Pattern "nope" reported failure)',
    );
  });

  it('runs a custom pattern on its own', async () => {
    const { clock, registry, executor } = setup();
    class Solo extends DelegationPattern {
      matches(): boolean {
        return true;
      }
      async execute(): Promise<boolean> {
        return true;
      }
    }
    registry.registerPattern(new Solo('solo', 'd'));
    const result = await settle(clock, executor.run('solo'));
    expect(result).toMatchObject({ pattern: 'solo', status: 'succeeded', steps: [] });
  });
});

describe('routing and circuit breakers', () => {
  it('routes a step away from an agent whose breaker opened', async () => {
    const { clock, registry, executor } = setup({
      breaker: { failureThreshold: 1, recoveryTimeoutMs: 10_000 },
      agentSelection: 'leastLoaded',
    });
    const flaky = timedAgent(clock, 'flaky', ['work'], { failing: { work: 'retryable' } });
    const steady = timedAgent(clock, 'steady', ['work']);
    executor.registerAgent(flaky);
    executor.registerAgent(steady);
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'p',
        steps: [{ name: 'work', retry: { maxAttempts: 2, backoff: { initialDelayMs: 10, jitter: 'none' } } }],
      }),
    );
    const events: RunEvent[] = [];
    const result = await settle(clock, executor.run('p', {}, { onEvent: (e) => events.push(e) }));
    expect(result.success).toBe(true);
    expect(result.steps[0]).toMatchObject({
      agent: 'steady',
      attempts: 2,
      output: { step: 'work', by: 'steady', attempt: 2 },
    });
    expect(flaky.log.calls).toEqual(['work']);
    expect(executor.agentBreaker('flaky')!.state).toBe('open');
    expect(executor.agentBreaker('steady')!.state).toBe('closed');
    const second = await settle(clock, executor.run('p'));
    expect(second.steps[0]).toMatchObject({ agent: 'steady', attempts: 1 });
    expect(flaky.log.calls).toEqual(['work']);
  });

  it('emits breaker.state events to executor listeners', async () => {
    const { clock, registry, executor } = setup({ breaker: { failureThreshold: 1 } });
    const seen: RunEvent[] = [];
    executor.onEvent((e) => seen.push(e));
    executor.registerAgent(timedAgent(clock, 'flaky', ['work'], { failing: { work: 'fatal' } }));
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['work']));
    await settle(clock, executor.run('p'));
    expect(seen.filter((e) => e.type === 'breaker.state')).toEqual([
      { type: 'breaker.state', at: T0, runId: '*', agent: 'flaky', from: 'closed', to: 'open' },
    ]);
  });

  it('fails fast with CircuitOpenError naming the agent and retryAt when no other agent can take the step', async () => {
    const { clock, registry, executor } = setup({
      breaker: { failureThreshold: 1, recoveryTimeoutMs: 10_000 },
    });
    const flaky = timedAgent(clock, 'flaky', ['work'], { failing: { work: 'fatal' } });
    executor.registerAgent(flaky);
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['work']));
    await settle(clock, executor.run('p'));
    await advance(clock, 1_000);
    const result = await settle(clock, executor.run('p'));
    expect(flaky.log.calls).toEqual(['work']);
    expect(result.status).toBe('failed');
    const retryAt = T0 + 10_000;
    expect(result.error).toEqual({
      name: 'CircuitOpenError',
      code: 'ND_CIRCUIT_OPEN',
      message: `Circuit open for agent "flaky" (step "work"); next retry at ${new Date(retryAt).toISOString()}`,
      details: { agentId: 'flaky', step: 'work', retryAt, retryable: true },
    });
    const rebuilt = errorFromJSON(result.error!);
    expect(rebuilt).toBeInstanceOf(CircuitOpenError);
    expect(isCircuitOpenError(rebuilt)).toBe(true);
    expect(result.steps[0]).toMatchObject({ status: 'failed', agent: undefined, durationMs: 0 });
  });

  it('lets a probe through once the recovery timeout has passed', async () => {
    const { clock, registry, executor } = setup({
      breaker: { failureThreshold: 1, recoveryTimeoutMs: 10_000 },
    });
    let healthy = false;
    executor.registerAgent(
      defineAgent({
        id: 'a',
        capabilities: ['work'],
        handler: () => {
          if (!healthy) throw new AgentError('down', { retryable: false });
          return 'up';
        },
      }),
    );
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['work']));
    await settle(clock, executor.run('p'));
    healthy = true;
    expect((await settle(clock, executor.run('p'))).error!.code).toBe('ND_CIRCUIT_OPEN');
    await advance(clock, 10_000);
    const result = await settle(clock, executor.run('p'));
    expect(result.success).toBe(true);
    expect(executor.agentBreaker('a')!.state).toBe('closed');
  });

  it('throws NoCapableAgentError naming the step and the capabilities before anything runs', async () => {
    const { clock, registry, executor } = setup();
    const agent = timedAgent(clock, 'w', ['validate', 'build']);
    executor.registerAgent(agent);
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['validate', 'deploy']));
    const events: RunEvent[] = [];
    const error = await executor.run('p', {}, { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoCapableAgentError);
    expect(isNoCapableAgentError(error)).toBe(true);
    const e = error as NoCapableAgentError;
    expect(e.message).toBe(
      'No agent can perform step "deploy" of "p": it needs capability "deploy"; capabilities available: build, validate',
    );
    expect(e.details).toEqual({ step: 'deploy', capabilities: ['build', 'validate'], retryable: false });
    expect(agent.log.calls).toEqual([]);
    expect(events).toEqual([]);
  });

  it('says when no agents are registered at all', async () => {
    const { registry, executor } = setup();
    registry.registerPattern(new ParallelCoordinationPattern('p', 'd', ['x']));
    await expect(executor.run('p')).rejects.toThrow(
      'No agent can perform step "x" of "p": it needs capability "x"; capabilities available: none (no agents registered)',
    );
  });

  it('delegates a mapped step to its agent whatever the capabilities', async () => {
    const { clock, registry, executor } = setup();
    const general = timedAgent(clock, 'general', ['a', 'b']);
    const special = timedAgent(clock, 'special', ['other']);
    executor.registerAgent(general);
    executor.registerAgent(special);
    registry.registerPattern(
      new SequentialDelegationPattern({ name: 'p', steps: ['a', 'b'], agentMapping: { b: 'special' } }),
    );
    const result = await settle(clock, executor.run('p'));
    expect(result.steps.map((s) => [s.name, s.agent])).toEqual([
      ['a', 'general'],
      ['b', 'special'],
    ]);
    expect(special.log.calls).toEqual(['b']);
  });

  it('rejects a mapping to an unregistered agent', async () => {
    const { clock, registry, executor } = setup();
    executor.registerAgent(timedAgent(clock, 'general', ['a']));
    registry.registerPattern(
      new SequentialDelegationPattern({ name: 'p', steps: ['a'], agentMapping: { a: 'ghost' } }),
    );
    const error = (await executor.run('p').catch((e: unknown) => e)) as NoCapableAgentError;
    expect(error).toBeInstanceOf(NoCapableAgentError);
    expect(error.message).toBe(
      'Step "a" of "p" is mapped to agent "ghost", which is not registered (agents: general)',
    );
    expect(error.details).toMatchObject({ step: 'a', agentId: 'ghost' });
  });

  it('spreads work over capable agents by load and respects each agent maxConcurrent', async () => {
    const { clock, registry, executor } = setup();
    const names = ['t1', 't2', 't3', 't4', 't5', 't6'];
    const log: Log = { calls: [], compensations: [], running: 0, peak: 0 };
    const one = timedAgent(clock, 'one', names, {
      durations: Object.fromEntries(names.map((n) => [n, 100])),
      maxConcurrent: 2,
    });
    const two = timedAgent(
      clock,
      'two',
      names,
      { durations: Object.fromEntries(names.map((n) => [n, 100])), maxConcurrent: 1 },
      log,
    );
    executor.registerAgent(one);
    executor.registerAgent(two);
    registry.registerPattern(new ParallelCoordinationPattern('p', 'd', names, 6));
    const result = await settle(clock, executor.run('p'), 100);
    expect(result.success).toBe(true);
    expect(one.log.peak).toBe(2);
    expect(log.peak).toBe(1);
    expect(one.log.calls.length + log.calls.length).toBe(6);
    expect(result.durationMs).toBe(200);
  });
});

describe('execute, executeWithFallback, batchExecute', () => {
  function env() {
    const e = setup({ threadPoolSize: 2 });
    const agent = timedAgent(e.clock, 'w', ['ok', 'bad', 'slow', 'hang'], {
      durations: { slow: 100 },
      failing: { bad: 'fatal', hang: 'hang' },
    });
    e.executor.registerAgent(agent);
    for (const s of ['ok', 'bad', 'slow', 'hang'])
      e.registry.registerPattern(new SequentialDelegationPattern(s, 'd', [s]));
    return { ...e, agent };
  }

  it('execute resolves true on success and false on failure', async () => {
    const { clock, executor } = env();
    expect(await settle(clock, executor.execute('ok', { domain: 'x' }))).toBe(true);
    expect(await settle(clock, executor.execute('bad'))).toBe(false);
  });

  it('execute throws PatternNotFoundError for an unknown pattern', async () => {
    await expect(env().executor.execute('nope')).rejects.toBeInstanceOf(PatternNotFoundError);
  });

  it('execute throws TimeoutError after timeoutSeconds', async () => {
    const { clock, executor } = env();
    const pending = executor.execute('hang', {}, 2).catch((e: unknown) => e);
    await advance(clock, 2_000);
    const error = (await pending) as PatternTimeoutError;
    expect(error).toBeInstanceOf(PatternTimeoutError);
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('Sequential pattern "hang" timed out after 2000 ms');
    expect(error.details).toEqual({ patternName: 'hang', timeoutMs: 2_000 });
  });

  it('executeWithFallback uses the primary when it succeeds', async () => {
    const { clock, executor, agent } = env();
    expect(await settle(clock, executor.executeWithFallback('ok', 'slow'))).toEqual([true, 'ok']);
    expect(agent.log.calls).toEqual(['ok']);
  });

  it('executeWithFallback runs the fallback when the primary fails or cannot run', async () => {
    const { clock, executor } = env();
    expect(await settle(clock, executor.executeWithFallback('bad', 'ok'))).toEqual([true, 'ok']);
    expect(await settle(clock, executor.executeWithFallback('missing', 'ok'))).toEqual([true, 'ok']);
    expect(await settle(clock, executor.executeWithFallback('bad', 'bad'))).toEqual([false, 'bad']);
  });

  it('executeWithFallback throws when the fallback cannot run either', async () => {
    const { clock, executor } = env();
    await expect(settle(clock, executor.executeWithFallback('bad', 'missing'))).rejects.toBeInstanceOf(
      PatternNotFoundError,
    );
  });

  it('batchExecute in parallel runs at most threadPoolSize patterns at once, results in order', async () => {
    const { clock, executor, agent } = env();
    const batch = executor.batchExecute([
      ['slow', {}],
      ['bad', undefined],
      ['missing', {}],
      ['ok', { domain: 'x' }],
      ['slow', {}],
      ['slow', {}],
    ]);
    const results = await settle(clock, batch, 100);
    expect(results).toEqual([
      ['slow', true],
      ['bad', false],
      ['missing', false],
      ['ok', true],
      ['slow', true],
      ['slow', true],
    ]);
    expect(agent.log.peak).toBe(2);
  });

  it('batchExecute sequentially runs one at a time in order', async () => {
    const { clock, executor, agent } = env();
    const results = await settle(
      clock,
      executor.batchExecute(
        [
          ['slow', {}],
          ['ok', {}],
          ['bad', {}],
        ],
        false,
      ),
      50,
    );
    expect(results).toEqual([
      ['slow', true],
      ['ok', true],
      ['bad', false],
    ]);
    expect(agent.log.calls).toEqual(['slow', 'ok', 'bad']);
    expect(agent.log.peak).toBe(1);
  });
});

describe('executeBestPattern (integration guide)', () => {
  function guide() {
    const e = setup();
    const agent = timedAgent(e.clock, 'w', ['validate', 'process', 'store']);
    e.executor.registerAgent(agent);
    e.registry.register(
      new SequentialDelegationPattern('validation_flow', 'Sequential validation workflow', [
        'validate',
        'process',
        'store',
      ]),
    );
    e.registry.register(
      new ParallelCoordinationPattern(
        'resource_manager',
        'Resource-based parallel execution',
        new Set(['cpu', 'memory', 'network']),
      ),
    );
    e.registry.register(
      new MetaOrchestrationPattern(
        'domain_coordinator',
        'Cross-domain orchestration',
        new Set(['auth', 'data', 'network', 'compute']),
      ),
    );
    return { ...e, agent };
  }

  it('picks the sequential pattern for agent_type "sequential" with required_steps', async () => {
    const { clock, executor, agent } = guide();
    const context = new PatternContext({
      domain: 'your_domain',
      agentType: 'sequential',
      attributes: { required_steps: ['validate', 'store'] },
    });
    expect(await settle(clock, executor.executeBestPattern(context))).toEqual([
      true,
      'Executed "validation_flow" (SequentialDelegationPattern): succeeded',
    ]);
    expect(agent.log.calls).toEqual(['validate', 'process', 'store']);
  });

  it('picks the parallel pattern for agent_type "parallel" with required_resources', async () => {
    const { clock, executor } = guide();
    expect(
      await settle(
        clock,
        executor.executeBestPattern({
          domain: 'your_domain',
          agentType: 'parallel',
          attributes: { required_resources: ['cpu', 'memory'] },
        }),
      ),
    ).toEqual([true, 'Executed "resource_manager" (ParallelCoordinationPattern): succeeded']);
  });

  it('picks the meta pattern for agent_type "orchestrator" with required_domains', async () => {
    const { clock, executor } = guide();
    expect(
      await settle(
        clock,
        executor.executeBestPattern({
          domain: 'your_domain',
          agentType: 'orchestrator',
          attributes: { required_domains: ['auth', 'data'] },
        }),
      ),
    ).toEqual([true, 'Executed "domain_coordinator" (MetaOrchestrationPattern): succeeded']);
  });

  it('reports when no pattern matches', async () => {
    const { executor } = guide();
    expect(
      await executor.executeBestPattern({
        domain: 'your_domain',
        agentType: 'sequential',
        attributes: { required_steps: ['deploy'] },
      }),
    ).toEqual([
      false,
      'No registered pattern matches the context (domain "your_domain", agent type "sequential")',
    ]);
  });

  it('prefers the most confident matching pattern and skips one below its threshold', async () => {
    const { clock, registry, executor } = guide();
    const better = new SequentialDelegationPattern('better', 'd', ['validate', 'store']);
    const confident = new SequentialDelegationPattern('confident_but_barred', 'd', ['validate', 'store']);
    for (let i = 0; i < 5; i++) better.recordExecution(true);
    for (let i = 0; i < 5; i++) confident.recordExecution(i < 4);
    confident.setConfidenceThreshold(0.9);
    registry.register(better);
    registry.register(confident);
    const [ok, message] = await settle(
      clock,
      executor.executeBestPattern({ agentType: 'sequential', attributes: { required_steps: ['validate'] } }),
    );
    expect(ok).toBe(true);
    expect(message).toMatch(/^Executed "\w+" \(SequentialDelegationPattern\): succeeded$/);
    expect(message).not.toContain('confident_but_barred');
  });

  it('reports a pattern that cannot run as a failure with the reason', async () => {
    const { clock, registry, executor } = guide();
    registry.register(
      new SequentialDelegationPattern({ name: 'deployer', steps: ['deploy'], domains: ['ops'] }),
    );
    expect(
      await settle(
        clock,
        executor.executeBestPattern({
          domain: 'ops',
          agentType: 'sequential',
          attributes: { required_steps: ['deploy'] },
        }),
      ),
    ).toEqual([
      false,
      'Executed "deployer" (SequentialDelegationPattern): No agent can perform step "deploy" of "deployer": it needs capability "deploy"; capabilities available: process, store, validate',
    ]);
  });
});

describe('events, tracing, cancellation, learning', () => {
  it('emits run.started, step.status and run.finished in order, to every listener', async () => {
    const { clock, registry, executor } = setup();
    executor.registerAgent(timedAgent(clock, 'w', ['a', 'b'], { durations: { a: 10, b: 20 } }));
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a', 'b']));
    const global: RunEvent[] = [];
    const local: RunEvent[] = [];
    const dispose = executor.onEvent((e) => global.push(e));
    const result = await settle(
      clock,
      executor.run('p', {}, { runId: 'r1', onEvent: (e) => local.push(e) }),
      10,
    );
    const brief = (e: RunEvent) =>
      e.type === 'step.status' ? `${e.type}:${e.step}:${e.status}@${e.at - T0}` : `${e.type}@${e.at - T0}`;
    expect(local.map(brief)).toEqual([
      'run.started@0',
      'step.status:a:running@0',
      'step.status:a:completed@10',
      'step.status:b:running@10',
      'step.status:b:completed@30',
      'run.finished@30',
    ]);
    expect(global).toEqual(local);
    expect(local[0]).toEqual({
      type: 'run.started',
      at: T0,
      runId: 'r1',
      pattern: 'p',
      patternType: 'SequentialDelegationPattern',
    });
    expect(local[5]).toEqual({
      type: 'run.finished',
      at: T0 + 30,
      runId: 'r1',
      pattern: 'p',
      status: 'succeeded',
      durationMs: 30,
    });
    expect(local[1]).toEqual({
      type: 'step.status',
      at: T0,
      runId: 'r1',
      path: ['p'],
      step: 'a',
      status: 'running',
      agent: 'w',
      attempt: 1,
      error: undefined,
    });
    expect(result.runId).toBe('r1');
    dispose();
    await settle(clock, executor.run('p'));
    expect(global).toHaveLength(6);
  });

  it('traceTransitions emits transition events for the machines', async () => {
    const { clock, registry, executor } = setup();
    executor.registerAgent(timedAgent(clock, 'w', ['a']));
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a']));
    const plain: RunEvent[] = [];
    await settle(clock, executor.run('p', {}, { onEvent: (e) => plain.push(e) }));
    expect(plain.some((e) => e.type === 'transition')).toBe(false);
    const traced: RunEvent[] = [];
    await settle(clock, executor.run('p', {}, { traceTransitions: true, onEvent: (e) => traced.push(e) }));
    const transitions = traced.flatMap((e) => (e.type === 'transition' ? [e] : []));
    expect(transitions.length).toBeGreaterThan(0);
    expect(new Set(transitions.map((t) => t.machine))).toEqual(new Set(['sequential', 'step']));
    const stepStates = transitions.filter((t) => t.machine === 'step').map((t) => t.state);
    expect(stepStates).toContain('running');
    expect(stepStates).toContain('completed');
    expect(transitions.find((t) => t.machine === 'step')!.actor).toMatch(/\/a$/);
    expect(transitions.every((t) => typeof t.event === 'string' && t.at === T0)).toBe(true);
  });

  it('cancels a run through its AbortSignal and rolls back completed steps', async () => {
    const { clock, registry, executor } = setup();
    const agent = timedAgent(clock, 'w', ['a', 'b', 'c'], { failing: { b: 'hang' } });
    executor.registerAgent(agent);
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a', 'b', 'c']));
    const controller = new AbortController();
    const pending = executor.run('p', {}, { signal: controller.signal });
    await flush();
    expect(agent.log.calls).toEqual(['a', 'b']);
    controller.abort();
    const result = await settle(clock, pending);
    expect(result.status).toBe('rolledBack');
    expect(result.error).toEqual({
      name: 'PatternExecutionError',
      code: 'ND_PATTERN_EXECUTION',
      message: 'Sequential pattern "p" was cancelled',
    });
    expect(result.steps.map((s) => [s.name, s.status])).toEqual([
      ['a', 'compensated'],
      ['b', 'cancelled'],
      ['c', 'skipped'],
    ]);
    expect(agent.log.calls).toEqual(['a', 'b']);
  });

  it('cancels a parallel run', async () => {
    const { clock, registry, executor } = setup();
    executor.registerAgent(timedAgent(clock, 'w', ['a', 'b'], { failing: { a: 'hang', b: 'hang' } }));
    registry.registerPattern(new ParallelCoordinationPattern('p', 'd', ['a', 'b']));
    const controller = new AbortController();
    const pending = executor.run('p', {}, { signal: controller.signal });
    await flush();
    controller.abort();
    const result = await settle(clock, pending);
    expect(result.status).toBe('failed');
    expect(result.error!.message).toBe('Parallel pattern "p" was cancelled');
    expect(result.steps.map((s) => s.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('records an execution for learning after each run, with domain and duration', async () => {
    const { clock, registry, executor } = setup();
    executor.registerAgent(
      timedAgent(clock, 'w', ['a', 'b'], { durations: { a: 40 }, failing: { b: 'fatal' } }),
    );
    const good = new SequentialDelegationPattern('good', 'd', ['a']);
    const poor = new SequentialDelegationPattern('poor', 'd', ['b']);
    registry.registerPattern(good);
    registry.registerPattern(poor);
    await settle(clock, executor.run('good', { domain: 'web' }), 10);
    await settle(clock, executor.run('good', { domain: 'data' }), 10);
    const secondEnd = clock.now();
    await settle(clock, executor.run('poor', { domain: 'web' }));
    expect(good.executionCount).toBe(2);
    expect(good.successRate).toBe(1);
    expect(good.outcomeStats.byDomain).toEqual({
      web: { successes: 1, failures: 0 },
      data: { successes: 1, failures: 0 },
    });
    expect(good.outcomeStats.history.map((o) => o.durationMs)).toEqual([40, 40]);
    expect(good.lastUsedAt).toBe(secondEnd);
    expect(good.outcomeStats.history.map((o) => o.at)).toEqual([T0 + 40, secondEnd]);
    expect(poor.executionCount).toBe(1);
    expect(poor.successRate).toBe(0);
    expect(registry.getPatternAnalytics('good').avgResponseTime).toBe(40);
  });

  it('records the children of a meta-orchestration too', async () => {
    const { clock, registry, executor, meta } = metaSetup();
    meta({
      phases: [
        {
          name: 'p',
          patterns: ['s1', 'bad'],
          coordination: 'parallel',
          success_criteria: { min_success_rate: 0.5 },
        },
      ],
    });
    await settle(clock, executor.run('meta', { domain: 'ops' }));
    expect(registry.getPattern('meta').executionCount).toBe(1);
    expect(registry.getPattern('s1').outcomeStats.byDomain).toEqual({ ops: { successes: 1, failures: 0 } });
    expect(registry.getPattern('bad').outcomeStats.byDomain).toEqual({ ops: { successes: 0, failures: 1 } });
    expect(registry.getPattern('s2').executionCount).toBe(0);
    await executor.close();
  });

  it('refuses a pattern whose confidence fell below its threshold', async () => {
    const { clock, registry, executor } = setup();
    const agent = timedAgent(clock, 'w', ['a']);
    executor.registerAgent(agent);
    const p = new SequentialDelegationPattern('p', 'd', ['a']);
    for (let i = 0; i < 5; i++) p.recordExecution(i < 3);
    p.setConfidenceThreshold(0.7);
    registry.registerPattern(p);
    const error = (await executor.run('p').catch((e: unknown) => e)) as ConfidenceThresholdError;
    expect(error).toBeInstanceOf(ConfidenceThresholdError);
    expect(error.message).toBe('Pattern "p" has confidence 0.60, below its threshold 0.7');
    expect(error.details).toEqual({ patternName: 'p', confidence: 0.6, threshold: 0.7 });
    expect(agent.log.calls).toEqual([]);
  });

  it('close() closes every agent', async () => {
    let closed = 0;
    const { executor } = setup({
      agents: [
        { ...scriptedAgent('a', ['x']), close: async () => void (closed += 1) },
        { ...scriptedAgent('b', ['y']), close: async () => void (closed += 1) },
      ],
    });
    await executor.close();
    expect(closed).toBe(2);
  });
});

describe('more run() cases', () => {
  it("holds a step's named locks through the resolver while the agent works", async () => {
    const requests: {
      names: readonly string[];
      owner: string;
      priority: number;
      deadline: number | undefined;
    }[] = [];
    const log: string[] = [];
    const resolver: ResourceArbiter = {
      acquire: async (names, request) => {
        requests.push({
          names,
          owner: request.owner,
          priority: request.priority,
          deadline: request.deadline,
        });
        log.push(`lock ${names.join('+')}`);
        return async () => void log.push(`unlock ${names.join('+')}`);
      },
    };
    const { clock, registry, executor } = setup({ resolver });
    executor.registerAgent(
      defineAgent({ id: 'w', capabilities: ['a', 'b'], handler: (t) => void log.push(`run ${t.step}`) }),
    );
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'p',
        steps: [{ name: 'a', locks: ['db', 'cache'], timeoutMs: 500 }, 'b'],
      }),
    );
    const result = await settle(clock, executor.run('p', { priority: 3 }, { runId: 'r' }));
    expect(result.success).toBe(true);
    expect(requests).toEqual([{ names: ['db', 'cache'], owner: 'r/p/a', priority: 3, deadline: T0 + 500 }]);
    expect(log).toEqual(['lock db+cache', 'run a', 'unlock db+cache', 'run b']);
  });

  it('succeeds at once with no steps or tasks', async () => {
    const { clock, registry, executor } = setup();
    registry.registerPattern(new SequentialDelegationPattern('empty', 'd', []));
    registry.registerPattern(new ParallelCoordinationPattern('none', 'd', []));
    expect(await settle(clock, executor.run('empty'))).toMatchObject({
      status: 'succeeded',
      steps: [],
      durationMs: 0,
    });
    expect(await settle(clock, executor.run('none'))).toMatchObject({ status: 'succeeded', steps: [] });
  });

  it('validates run options naming the field', async () => {
    const { registry, executor } = setup();
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', []));
    const error = (await executor
      .run('p', {}, { timeoutMs: -1 })
      .catch((e: unknown) => e)) as PatternValidationError;
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error.details.field).toBe('run options.timeoutMs');
    await expect(executor.run('p', { priority: 9 })).rejects.toBeInstanceOf(PatternValidationError);
  });

  it('wraps a thrown non-error as a retryable AgentError naming agent and step', async () => {
    const { clock, registry, executor } = setup();
    executor.registerAgent(
      defineAgent({
        id: 'w',
        capabilities: ['a'],
        handler: () => {
          throw 'plain string'; // eslint-disable-line @typescript-eslint/only-throw-error
        },
      }),
    );
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a']));
    const result = await settle(clock, executor.run('p'));
    expect(result.error).toEqual({
      name: 'AgentError',
      code: 'ND_AGENT_ERROR',
      message: 'Agent "w" failed step "a": plain string',
      details: { agentId: 'w', step: 'a', retryable: true },
    });
  });

  it('with rollbackEnabled false a parallel pattern beyond its tolerance fails without compensating', async () => {
    const { clock, registry, executor } = setup();
    const agent = timedAgent(clock, 'w', ['ok', 'bad'], { failing: { bad: 'fatal' } });
    executor.registerAgent(agent);
    registry.registerPattern(
      new ParallelCoordinationPattern({
        name: 'p',
        tasks: ['ok', 'bad'],
        failureTolerance: 0,
        rollbackEnabled: false,
      }),
    );
    const result = await settle(clock, executor.run('p'));
    expect(result.status).toBe('failed');
    expect(agent.log.compensations).toEqual([]);
    expect(Object.fromEntries(result.steps.map((s) => [s.name, s.status]))).toEqual({
      ok: 'completed',
      bad: 'failed',
    });
  });

  it('times out a meta-orchestration and rolls back what it completed', async () => {
    const { clock, registry, executor, agent } = metaSetup({ failing: { s2: 'hang' } });
    registry.registerPattern(
      new MetaOrchestrationPattern({
        name: 'meta',
        strategy: { phases: [{ name: 'one', patterns: ['s1', 's2'] }], rollbackStrategy: 'complete' },
        timeoutSeconds: 3,
      }),
    );
    const pending = executor.execute('meta').catch((e: unknown) => e);
    await advance(clock, 3_000, 500);
    const error = (await pending) as PatternTimeoutError;
    expect(error).toBeInstanceOf(PatternTimeoutError);
    expect(error.message).toBe('Meta-orchestration "meta" timed out after 3000 ms');
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['s1_step']);
  });

  it('runs a meta-orchestration nested in another one', async () => {
    const { clock, registry, executor, agent } = metaSetup();
    registry.registerPattern(
      new MetaOrchestrationPattern('inner', 'd', { phases: [{ name: 'i', patterns: ['s2', 's3'] }] }),
    );
    registry.registerPattern(
      new MetaOrchestrationPattern('outer', 'd', {
        phases: [
          { name: 'o1', patterns: ['s1'] },
          { name: 'o2', patterns: ['inner', 'bad'] },
        ],
        rollback_strategy: 'complete',
      }),
    );
    const result = await settle(clock, executor.run('outer'));
    expect(result.status).toBe('rolledBack');
    expect(agent.log.calls).toEqual(['s1_step', 's2_step', 's3_step', 'bad_step']);
    expect(agent.log.compensations.map((c) => c.step)).toEqual(['s3_step', 's2_step', 's1_step']);
    expect(result.steps.find((s) => s.name === 's3_step')!.path).toEqual(['outer', 'inner', 's3']);
  });

  it('keeps the statuses of the latest run on the pattern', async () => {
    const { clock, registry, executor } = setup();
    let fail = true;
    executor.registerAgent(
      defineAgent({
        id: 'w',
        capabilities: ['a'],
        handler: () => {
          if (fail) throw new AgentError('no', { retryable: false });
          return 1;
        },
      }),
    );
    const p = new SequentialDelegationPattern('p', 'd', ['a']);
    registry.registerPattern(p);
    await settle(clock, executor.run('p'));
    expect(p.getStepStatus('a')).toBe('failed');
    fail = false;
    await settle(clock, executor.run('p'));
    expect(p.getStepStatus('a')).toBe('completed');
  });
});

describe('live views and per-agent options', () => {
  it('getPhaseProgress and waitForCompletion follow a run in progress', async () => {
    const { clock, registry, executor, meta } = metaSetup({ durations: { s1: 100, s2: 100 } });
    const m = meta({
      phases: [
        { name: 'one', patterns: ['s1', 's2'] },
        { name: 'two', patterns: ['s3'] },
      ],
    });
    const par = new ParallelCoordinationPattern('par', 'd', ['s1_step', 's2_step']);
    registry.registerPattern(par);
    const pending = executor.run('meta');
    await advance(clock, 100);
    expect(m.getPhaseProgress()).toEqual({
      one: { status: 'running', completionPercentage: 0.5, succeeded: 1, failed: 0, total: 2 },
      two: { status: 'pending', completionPercentage: 0, succeeded: 0, failed: 0, total: 1 },
    });
    await advance(clock, 100);
    expect((await pending).success).toBe(true);
    const parRun = executor.run('par');
    let waited: boolean | undefined;
    void par.waitForCompletion().then((ok) => (waited = ok));
    await flush();
    expect(par.getTaskStatusAll()).toEqual({ s1_step: 'running', s2_step: 'running' });
    expect(waited).toBeUndefined();
    await advance(clock, 100);
    expect((await parRun).success).toBe(true);
    expect(waited).toBe(true);
    await executor.close();
  });

  it('checks every pattern of a meta-orchestration for capable agents before anything runs', async () => {
    const { registry, executor, agent, meta } = metaSetup();
    registry.registerPattern(new SequentialDelegationPattern('deploy', 'd', ['ship']));
    meta({
      phases: [
        { name: 'one', patterns: ['s1'] },
        { name: 'two', patterns: ['deploy'] },
      ],
    });
    const error = (await executor.run('meta').catch((e: unknown) => e)) as NoCapableAgentError;
    expect(error).toBeInstanceOf(NoCapableAgentError);
    expect(error.message).toMatch(
      /^No agent can perform step "ship" of "meta\/deploy": it needs capability "ship"/,
    );
    expect(agent.log.calls).toEqual([]);
  });

  it('registerAgent accepts breaker options for one agent', async () => {
    const { clock, registry, executor } = setup({ breaker: { failureThreshold: 1 } });
    executor.registerAgent(timedAgent(clock, 'tough', ['a'], { failing: { a: 'fatal' } }), {
      breaker: { failureThreshold: 3 },
    });
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['a']));
    await settle(clock, executor.run('p'));
    await settle(clock, executor.run('p'));
    expect(executor.agentBreaker('tough')).toMatchObject({
      state: 'closed',
      failures: 2,
      consecutiveFailures: 2,
    });
    await settle(clock, executor.run('p'));
    expect(executor.agentBreaker('tough')!.state).toBe('open');
  });
});
