import { describe, expect, it } from 'vitest';
import { defineAgent, type AgentTask, type LocalAgentOptions } from '../../src/actors/agent.js';
import { AgentPool } from '../../src/runtime/AgentPool.js';
import type { BreakerStateChange } from '../../src/runtime/CircuitBreaker.js';
import type { PatternError } from '../../src/core/errors.js';
import {
  AgentError,
  CircuitOpenError,
  NoCapableAgentError,
  PatternValidationError,
} from '../../src/core/errors.js';
import { stepSpec } from '../../src/core/spec.js';
import type { SharedAdmission, SharedBreakerState } from '../../src/core/sharedBreakers.js';
import { scriptedAgent, simulatedClock } from '../../src/testing.js';

const T0 = 5_000_000;

function task(step: string, attempt = 1): AgentTask {
  return {
    runId: 'r',
    pattern: 'p',
    step,
    capability: step,
    attempt,
    idempotencyKey: `r/p/${step}`,
    input: { params: undefined, runInput: undefined, results: {} },
    context: { domain: 'general', agentType: 'general', priority: 1, attributes: {} },
    signal: new AbortController().signal,
  };
}

function thrown(fn: () => unknown): PatternError {
  try {
    fn();
  } catch (error) {
    return error as PatternError;
  }
  throw new Error('expected an error');
}

describe('defineAgent', () => {
  it('builds a local agent with defaults', async () => {
    const agent = defineAgent({ id: 'v', capabilities: ['validate'], handler: (t) => ({ step: t.step }) });
    expect(agent).toMatchObject({ id: 'v', capabilities: ['validate'], maxConcurrent: 16, kind: 'local' });
    expect('compensate' in agent).toBe(false);
    await expect(agent.execute(task('validate'))).resolves.toEqual({ step: 'validate' });
  });

  it('turns a throwing handler into a rejection and awaits async handlers', async () => {
    const failing = defineAgent({
      id: 'f',
      capabilities: ['x'],
      handler: () => {
        throw new Error('nope');
      },
    });
    await expect(failing.execute(task('x'))).rejects.toThrow('nope');
    const slow = defineAgent({ id: 's', capabilities: ['x'], maxConcurrent: 2, handler: async () => 42 });
    expect(slow.maxConcurrent).toBe(2);
    await expect(slow.execute(task('x'))).resolves.toBe(42);
  });

  it('wraps compensate so it resolves to undefined', async () => {
    const undone: unknown[] = [];
    const agent = defineAgent({
      id: 'c',
      capabilities: ['x'],
      handler: () => 1,
      compensate: (t) => {
        undone.push(t.output);
        return 'ignored';
      },
    });
    await expect(agent.compensate!({ ...task('x'), output: 'out' })).resolves.toBeUndefined();
    expect(undone).toEqual(['out']);
  });

  it.each<[string, LocalAgentOptions]>([
    ['agent v.handler', { id: 'v', capabilities: ['a'], handler: undefined as never }],
    ['agent.capabilities', { id: 'v', capabilities: [], handler: () => 1 }],
    ['agent.id', { id: '', capabilities: ['a'], handler: () => 1 }],
    ['agent.maxConcurrent', { id: 'v', capabilities: ['a'], maxConcurrent: 0, handler: () => 1 }],
  ])('rejects a bad option naming %s', (field, options) => {
    const error = thrown(() => defineAgent(options));
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error.details.field).toBe(field);
  });
});

describe('testing helpers', () => {
  it('simulatedClock starts at the given time and fires timers on increment', () => {
    const clock = simulatedClock(T0);
    expect(clock.now()).toBe(T0);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 100);
    clock.increment(99);
    expect(fired).toEqual([]);
    clock.increment(1);
    expect(fired).toEqual([T0 + 100]);
    expect(simulatedClock().now()).toBe(0);
  });

  it('scriptedAgent follows its script per attempt and records calls', async () => {
    const agent = scriptedAgent('s', ['a', 'b'], { a: ['fail', 'fatal'] });
    const first = (await agent.execute(task('a', 1)).catch((e: unknown) => e)) as AgentError;
    expect(first).toBeInstanceOf(AgentError);
    expect(first.message).toBe('a failed (scripted)');
    expect(first.details).toEqual({ agentId: 's', step: 'a', retryable: true });
    const second = (await agent.execute(task('a', 2)).catch((e: unknown) => e)) as AgentError;
    expect(second.details.retryable).toBe(false);
    await expect(agent.execute(task('a', 3))).resolves.toBe('a:3');
    await expect(agent.execute(task('b', 1))).resolves.toBe('b:1');
    expect(agent.calls.map((c) => `${c.step}#${c.attempt}`)).toEqual(['a#1', 'a#2', 'a#3', 'b#1']);
    await agent.compensate!({ ...task('b'), output: 'b:1' });
    expect(agent.compensated).toEqual(['b']);
  });
});

describe('AgentPool', () => {
  function pool(breaker = { failureThreshold: 1, recoveryTimeoutMs: 1_000 }) {
    const clock = simulatedClock(T0);
    const changes: BreakerStateChange[] = [];
    const p = new AgentPool({ clock, breaker, onBreakerChange: (c) => changes.push(c) });
    return { clock, pool: p, changes };
  }

  it('indexes agents by id and capability', () => {
    const { pool: p } = pool();
    const a = scriptedAgent('a', ['x', 'y']);
    const b = scriptedAgent('b', ['y', 'z']);
    p.register(a);
    p.register(b);
    expect(p.get('a')).toBe(a);
    expect(p.get('c')).toBeUndefined();
    expect(p.list()).toEqual([a, b]);
    expect(p.capabilities()).toEqual(['x', 'y', 'z']);
    expect(p.breaker('a')!.state).toBe('closed');
    expect(p.canPerform(stepSpec('z'))).toBe(true);
    expect(p.canPerform(stepSpec('w'))).toBe(false);
    expect(p.canPerform(stepSpec('w', { agent: 'a' }))).toBe(true);
    expect(p.canPerform(stepSpec('x', { agent: 'ghost' }))).toBe(false);
  });

  it('rejects a duplicate agent id', () => {
    const { pool: p } = pool();
    p.register(scriptedAgent('a', ['x']));
    const error = thrown(() => p.register(scriptedAgent('a', ['y'])));
    expect(error).toBeInstanceOf(PatternValidationError);
    expect(error.details).toEqual({ field: 'agent.id', agentId: 'a' });
  });

  it('check throws NoCapableAgentError naming the step, the pattern path and the capabilities', () => {
    const { pool: p } = pool();
    p.register(scriptedAgent('a', ['x']));
    const error = thrown(() => p.check(stepSpec('deploy', { capability: 'ship' }), ['meta', 'child']));
    expect(error).toBeInstanceOf(NoCapableAgentError);
    expect(error.message).toBe(
      'No agent can perform step "deploy" of "meta/child": it needs capability "ship"; capabilities available: x',
    );
    expect(error.details).toEqual({ step: 'deploy', capabilities: ['x'], retryable: false });
  });

  it('acquire leases the least loaded capable agent and holds a slot until reported', async () => {
    const { pool: p } = pool();
    p.register(defineAgent({ id: 'one', capabilities: ['x'], maxConcurrent: 1, handler: () => 1 }));
    p.register(defineAgent({ id: 'two', capabilities: ['x'], maxConcurrent: 4, handler: () => 1 }));
    const first = await p.acquire(stepSpec('x'), ['p']);
    const second = await p.acquire(stepSpec('x'), ['p']);
    const third = await p.acquire(stepSpec('x'), ['p']);
    expect([first.agent.id, second.agent.id, third.agent.id]).toEqual(['one', 'two', 'two']);
    first.succeed(12);
    expect(p.breaker('one')!.metrics()).toMatchObject({ calls: 1, successes: 1, meanDurationMs: 12 });
    first.fail();
    expect(p.breaker('one')!.metrics().failures).toBe(0);
    second.release();
    third.fail();
    expect(p.breaker('two')!.metrics()).toMatchObject({ calls: 2, successes: 0, failures: 1 });
  });

  it('routes around an open breaker and fails fast when every capable breaker is open', async () => {
    const { clock, pool: p, changes } = pool();
    p.register(scriptedAgent('a', ['x']));
    p.register(scriptedAgent('b', ['x']));
    (await p.acquire(stepSpec('x'), ['p'])).fail();
    expect(changes).toEqual([{ agentId: 'a', from: 'closed', to: 'open', at: T0 }]);
    const routed = await p.acquire(stepSpec('x'), ['p']);
    expect(routed.agent.id).toBe('b');
    routed.fail();
    const error = (await p.acquire(stepSpec('x'), ['p']).catch((e: unknown) => e)) as CircuitOpenError;
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error.message).toBe(
      `Circuit open for agents "a", "b" (step "x"); next retry at ${new Date(T0 + 1_000).toISOString()}`,
    );
    expect(error.details).toEqual({ agentId: 'a', step: 'x', retryAt: T0 + 1_000, retryable: true });
    clock.increment(1_000);
    expect((await p.acquire(stepSpec('x'), ['p'])).agent.id).toBe('a');
  });

  it('counts only agent faults: bad input and a lost connection leave the breaker closed', async () => {
    const { pool: p } = pool({ failureThreshold: 1, recoveryTimeoutMs: 1_000 });
    p.register(scriptedAgent('a', ['x']));
    for (let i = 0; i < 3; i++) {
      (await p.acquire(stepSpec('x'), ['p'])).fail(
        new PatternValidationError('bad input', { field: 'input', retryable: false }),
      );
    }
    (await p.acquire(stepSpec('x'), ['p'])).fail(
      new AgentError('lost', { agentId: 'a', retryable: true, connectionLost: true }),
    );
    expect(p.breaker('a')!.state).toBe('closed');
    expect(p.breaker('a')!.metrics()).toMatchObject({ failures: 0, calls: 4 });
    (await p.acquire(stepSpec('x'), ['p'])).fail(new AgentError('crashed', { agentId: 'a' }));
    expect(p.breaker('a')!.state).toBe('open');
  });

  it('waits for the half-open time when it is before the deadline, and fails fast when it is not', async () => {
    const { clock, pool: p } = pool({ failureThreshold: 1, recoveryTimeoutMs: 1_000 });
    p.register(scriptedAgent('a', ['x']));
    (await p.acquire(stepSpec('x'), ['p'])).fail();
    const late = await p.acquire(stepSpec('x'), ['p'], undefined, T0 + 999).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(CircuitOpenError);
    let lease: { agent: { id: string } } | undefined;
    const waiting = p.acquire(stepSpec('x'), ['p'], undefined, T0 + 1_500).then((l) => (lease = l));
    clock.increment(999);
    await Promise.resolve();
    expect(lease).toBeUndefined();
    clock.increment(1);
    await waiting;
    expect(lease?.agent.id).toBe('a');
    expect(p.breaker('a')!.state).toBe('halfOpen');
  });

  it('a waiter refused by a busy probe slot is admitted once the probe succeeds', async () => {
    const { clock, pool: p } = pool({ failureThreshold: 1, recoveryTimeoutMs: 1_000 });
    p.register(scriptedAgent('a', ['x']));
    (await p.acquire(stepSpec('x'), ['p'])).fail();
    clock.increment(1_000);
    const probe = await p.acquire(stepSpec('x'), ['p']);
    const waiting = p.acquire(stepSpec('x'), ['p'], undefined, T0 + 5_000);
    probe.succeed(3);
    expect((await waiting).agent.id).toBe('a');
    expect(p.breaker('a')!.state).toBe('closed');
  });

  it('a wait for the breaker ends when the attempt is cancelled', async () => {
    const { pool: p } = pool({ failureThreshold: 1, recoveryTimeoutMs: 1_000 });
    p.register(scriptedAgent('a', ['x']));
    (await p.acquire(stepSpec('x'), ['p'])).fail();
    const cancel = new AbortController();
    const waiting = p.acquire(stepSpec('x'), ['p'], cancel.signal, T0 + 5_000).catch((e: Error) => e.message);
    cancel.abort(new Error('run cancelled'));
    expect(await waiting).toBe('run cancelled');
  });

  it('acquire rejects for an unmapped or unknown agent', async () => {
    const { pool: p } = pool();
    await expect(p.acquire(stepSpec('x'), ['p'])).rejects.toBeInstanceOf(NoCapableAgentError);
    await expect(p.acquire(stepSpec('x', { agent: 'ghost' }), ['p'])).rejects.toThrow(
      'Step "x" of "p" is mapped to agent "ghost", which is not registered (agents: none)',
    );
  });

  it('waits for a slot, and gives the breaker permit back when the wait is aborted', async () => {
    const { pool: p } = pool({ failureThreshold: 1, recoveryTimeoutMs: 1_000 });
    p.register(defineAgent({ id: 'solo', capabilities: ['x'], maxConcurrent: 1, handler: () => 1 }));
    const held = await p.acquire(stepSpec('x'), ['p']);
    const controller = new AbortController();
    const waiting = p.acquire(stepSpec('x'), ['p'], controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    held.succeed(1);
    const next = await p.acquire(stepSpec('x'), ['p']);
    expect(next.agent.id).toBe('solo');
    expect(p.breaker('solo')!.metrics()).toMatchObject({ calls: 3, successes: 1, failures: 0 });
  });

  it('acquireDirect takes a slot without a breaker check', async () => {
    const { pool: p } = pool();
    p.register(defineAgent({ id: 'solo', capabilities: ['x'], maxConcurrent: 1, handler: () => 1 }));
    (await p.acquire(stepSpec('x'), ['p'])).fail();
    expect(p.breaker('solo')!.state).toBe('open');
    const slot = await p.acquireDirect('solo');
    expect(slot!.agent.id).toBe('solo');
    slot!.release();
    expect(await p.acquireDirect('ghost')).toBeUndefined();
  });

  it('close stops breakers and closes every agent', async () => {
    const { pool: p } = pool();
    const closed: string[] = [];
    p.register({ ...scriptedAgent('a', ['x']), close: async () => void closed.push('a') });
    p.register({
      ...scriptedAgent('b', ['x']),
      close: async () => {
        closed.push('b');
        throw new Error('already closed');
      },
    });
    p.register(scriptedAgent('c', ['x']));
    await p.close();
    expect(closed).toEqual(['a', 'b']);
  });
});

describe('AgentPool with a shared (cluster) breaker state', () => {
  /** A gate scripted by the test: its state per agent, its admission answer, and what it was told. */
  function gate() {
    const states = new Map<string, SharedBreakerState>();
    const listeners = new Set<(s: SharedBreakerState) => void>();
    const calls: string[] = [];
    const g = {
      owner: 'me',
      admission: { ok: true, probe: true, generation: 7 } as SharedAdmission | Error,
      state: (agentId: string) =>
        states.get(agentId) ?? { agentId, state: 'closed' as const, generation: 0, by: 'x' },
      admit: (agentId: string) => {
        calls.push(`admit ${agentId}`);
        return g.admission instanceof Error ? Promise.reject(g.admission) : Promise.resolve(g.admission);
      },
      recordOpened: (agentId: string) => {
        calls.push(`opened ${agentId}`);
        return Promise.resolve(g.state(agentId));
      },
      recordProbe: (agentId: string, generation: number, success: boolean) => {
        calls.push(`probe ${agentId} ${generation} ${success}`);
        return Promise.resolve(true);
      },
      releaseProbe: (agentId: string, generation: number) => {
        calls.push(`release ${agentId} ${generation}`);
        return Promise.resolve(true);
      },
      onChange: (l: (s: SharedBreakerState) => void) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      /** A transition made elsewhere, as the watch delivers it. */
      move: (agentId: string, state: SharedBreakerState['state']) => {
        const s = { agentId, state, generation: 1, by: 'other' };
        states.set(agentId, s);
        for (const l of listeners) l(s);
      },
    };
    return { g, calls };
  }

  function setup() {
    const clock = simulatedClock(T0);
    const { g, calls } = gate();
    const warnings: string[] = [];
    const p = new AgentPool({
      clock,
      breaker: { failureThreshold: 1, recoveryTimeoutMs: 1_000 },
      shared: g,
      logger: { warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? '') },
    });
    p.register(defineAgent({ id: 'a', capabilities: ['x'], handler: () => 1 }));
    return { clock, g, calls, pool: p, warnings };
  }

  it('opens the cluster circuit when the local breaker opens, and follows transitions made elsewhere', async () => {
    const { g, calls, pool: p } = setup();
    (await p.acquire(stepSpec('x'), ['p'])).fail(new AgentError('down'));
    expect(p.breaker('a')!.state).toBe('open');
    expect(calls).toEqual(['opened a']);
    g.move('a', 'closed');
    expect(p.breaker('a')!.state).toBe('closed');
    g.move('a', 'open');
    expect(p.breaker('a')!.state).toBe('open');
    expect(calls).toEqual(['opened a']); // following the cluster writes nothing back
  });

  it('while the cluster circuit is not closed, only the shared state admits: the probe reports there', async () => {
    const { g, calls, pool: p } = setup();
    g.move('a', 'open');
    g.admission = { ok: false, retryAt: T0 + 500, state: 'open' };
    await expect(p.acquire(stepSpec('x'), ['p'])).rejects.toBeInstanceOf(CircuitOpenError);
    g.admission = { ok: true, probe: true, generation: 7 };
    const probe = await p.acquire(stepSpec('x'), ['p']);
    probe.succeed(3);
    expect(calls).toEqual(['admit a', 'admit a', 'probe a 7 true']);
    expect(p.breaker('a')!.metrics().successes).toBe(0); // counted by the cluster, not locally
    const cancelled = await p.acquire(stepSpec('x'), ['p']);
    cancelled.release();
    const refusedForInput = await p.acquire(stepSpec('x'), ['p']);
    refusedForInput.fail(new PatternValidationError('bad input'));
    expect(calls.slice(3)).toEqual(['admit a', 'release a 7', 'admit a', 'release a 7']);
  });

  it('lets the local breaker decide when the shared state cannot be reached, and says so', async () => {
    const { g, pool: p, warnings } = setup();
    g.move('a', 'open'); // the local breaker follows: open
    g.admission = new Error('kv down');
    await expect(p.acquire(stepSpec('x'), ['p'])).rejects.toBeInstanceOf(CircuitOpenError);
    expect(warnings).toEqual(['shared circuit breaker unreachable; the local breaker decides']);
    g.move('a', 'halfOpen');
    p.breaker('a')!.reset();
    const lease = await p.acquire(stepSpec('x'), ['p']);
    lease.succeed(1);
    expect(p.breaker('a')!.metrics().successes).toBe(1);
  });
});
