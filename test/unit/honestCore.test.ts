import { describe, expect, it, vi } from 'vitest';
import { defineAgent, type Agent, type AgentTask } from '../../src/actors/agent.js';
import { notifyAll } from '../../src/core/listeners.js';
import type { RunEvent } from '../../src/core/events.js';
import { CircuitBreaker } from '../../src/runtime/CircuitBreaker.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import {
  ParallelCoordinationPattern,
  SequentialDelegationPattern,
} from '../../src/runtime/patterns/index.js';

const silentLog = () => ({ warn: vi.fn() });

describe('notifyAll', () => {
  it('calls every listener even when one throws, logs the error and counts failures', () => {
    const seen: number[] = [];
    const log = silentLog();
    const boom = new Error('listener bug');
    const failures = notifyAll(
      [
        (v: number) => seen.push(v),
        () => {
          throw boom;
        },
        (v: number) => seen.push(v * 10),
      ],
      3,
      log,
      'test listener',
    );
    expect(failures).toBe(1);
    expect(seen).toEqual([3, 30]);
    expect(log.warn).toHaveBeenCalledWith({ err: boom }, 'test listener threw; ignored');
  });
});

describe('listener isolation', () => {
  it('an onEvent listener that throws neither fails the run nor stops other listeners', async () => {
    const registry = new PatternRegistry();
    const log = { warn: vi.fn(), info: vi.fn(), debug: vi.fn(), error: vi.fn() };
    const events: RunEvent['type'][] = [];
    const executor = new PatternExecutor(registry, {
      logger: log as never,
      onEvent: () => {
        throw new Error('listener bug');
      },
      agents: [defineAgent({ id: 'a', capabilities: ['x', 'y'], handler: (t) => t.step })],
    });
    executor.onEvent((e) => events.push(e.type));
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['x', 'y']));
    const result = await executor.run(
      'p',
      {},
      {
        onEvent: () => {
          throw new Error('run listener bug');
        },
      },
    );
    expect(result.status).toBe('succeeded');
    expect(result.steps.map((s) => s.output)).toEqual(['x', 'y']);
    expect(events[0]).toBe('run.started');
    expect(events.at(-1)).toBe('run.finished');
    expect(log.warn).toHaveBeenCalledWith(
      {
        runId: result.runId,
        event: 'run.started',
        err: expect.objectContaining({ message: 'listener bug' }),
      },
      'run event listener threw; ignored',
    );
    await executor.close();
  });

  it('a circuit breaker listener that throws is logged and the others still hear the change', () => {
    const log = silentLog();
    const breaker = new CircuitBreaker('agent', { failureThreshold: 1 }, undefined, log);
    const heard: string[] = [];
    breaker.onStateChange(() => {
      throw new Error('hook bug');
    });
    breaker.onStateChange((c) => heard.push(c.to));
    expect(breaker.tryAcquire().ok).toBe(true);
    breaker.recordFailure();
    expect(heard).toEqual(['open']);
    expect(log.warn).toHaveBeenCalledWith(
      { err: expect.objectContaining({ message: 'hook bug' }) },
      'circuit breaker listener threw; ignored',
    );
    breaker.stop();
  });
});

describe('step results', () => {
  it('a step output that embeds input.results serialises (no cycle) and sees only earlier steps', async () => {
    const registry = new PatternRegistry();
    const executor = new PatternExecutor(registry, {
      agents: [
        defineAgent({ id: 'a', capabilities: ['one', 'two'], handler: (t) => ({ seen: t.input.results }) }),
      ],
    });
    registry.registerPattern(new SequentialDelegationPattern('p', 'd', ['one', 'two']));
    const result = await executor.run('p');
    expect(result.status).toBe('succeeded');
    expect(JSON.parse(JSON.stringify(result.steps.map((s) => s.output)))).toEqual([
      { seen: {} },
      { seen: { one: { seen: {} } } },
    ]);
    await executor.close();
  });

  it('a step cannot change what other steps see: results are frozen (strict mode throws)', async () => {
    const registry = new PatternRegistry();
    const seenByLast: string[][] = [];
    const executor = new PatternExecutor(registry, {
      agents: [
        defineAgent({
          id: 'a',
          capabilities: ['tamper', 'check'],
          handler: (t: AgentTask) => {
            if (t.step === 'check') {
              seenByLast.push(Object.keys(t.input.results));
              return 'ok';
            }
            (t.input.results as Record<string, unknown>)['injected'] = true;
            return 'tampered';
          },
        }),
      ],
    });
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'p',
        steps: [{ name: 'tamper', retry: { maxAttempts: 1 } }, 'check'],
      }),
    );
    const result = await executor.run('p');
    expect(result.status).toBe('failed');
    expect(result.steps[0]!.error?.message).toMatch(/read only|not extensible|Cannot add property/);
    expect(seenByLast).toEqual([]);
    await executor.close();
  });
});

describe('custom agents', () => {
  it('an agent whose execute returns a plain value succeeds and frees its slot for later runs', async () => {
    const registry = new PatternRegistry();
    const plain = {
      id: 'plain',
      kind: 'local',
      capabilities: ['x'],
      maxConcurrent: 1,
      execute: (task: AgentTask) => `done ${task.runId}`,
    } as unknown as Agent;
    const executor = new PatternExecutor(registry, { agents: [plain] });
    registry.registerPattern(new ParallelCoordinationPattern('p', 'd', ['x']));
    const first = await executor.run('p', {}, { runId: 'r1' });
    const second = await executor.run('p', {}, { runId: 'r2' });
    expect([first.status, second.status]).toEqual(['succeeded', 'succeeded']);
    expect(second.steps[0]!.output).toBe('done r2');
    await executor.close();
  });
});
