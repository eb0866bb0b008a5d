import { describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/actors/agent.js';
import { AgentError, PatternValidationError } from '../../src/core/errors.js';
import type { RunEvent } from '../../src/core/events.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../src/runtime/patterns/SequentialDelegationPattern.js';
import { settle, simulatedClock } from '../../src/testing.js';

const T0 = 10_000_000;

function executor(handler: () => unknown, breaker: Record<string, number>, timeoutMs?: number) {
  const clock = simulatedClock(T0);
  const registry = new PatternRegistry();
  registry.registerPattern(
    new SequentialDelegationPattern({
      name: 'p',
      description: 'one step',
      steps: [{ name: 'work', capability: 'work', ...(timeoutMs === undefined ? {} : { timeoutMs }) }],
    }),
  );
  const events: RunEvent[] = [];
  const ex = new PatternExecutor(registry, {
    clock,
    breaker,
    agents: [defineAgent({ id: 'w', capabilities: ['work'], handler })],
    onEvent: (e) => events.push(e),
  });
  return { clock, ex, events };
}

describe('short faults do not fail runs', () => {
  it("a caller's bad input does not open the agent's breaker", async () => {
    const { clock, ex } = executor(
      () => {
        throw new PatternValidationError('input.name: required', { field: 'input.name', retryable: false });
      },
      { failureThreshold: 1 },
    );
    for (let i = 0; i < 3; i++) {
      const result = await settle(clock, ex.run('p', {}, { runId: `bad-${i}` }));
      expect(result.status).not.toBe('succeeded');
    }
    expect(ex.agentBreaker('w')).toMatchObject({ state: 'closed', failures: 0, calls: 3 });
    await ex.close();
  });

  it('a call lost with the connection is sent again within the same attempt and not counted', async () => {
    let calls = 0;
    const { clock, ex } = executor(
      () => {
        calls += 1;
        if (calls === 1)
          throw new AgentError('lost', { agentId: 'w', retryable: true, connectionLost: true });
        return 'done';
      },
      { failureThreshold: 1 },
      1_000,
    );
    const result = await settle(clock, ex.run('p', {}, { runId: 'lost' }));
    expect(result.status).toBe('succeeded');
    expect(result.steps[0]).toMatchObject({ attempts: 1, output: 'done' });
    expect(calls).toBe(2);
    expect(ex.agentBreaker('w')).toMatchObject({ state: 'closed', failures: 0, successes: 1 });
    await ex.close();
  });

  it('an attempt refused by an open breaker waits for the half-open probe when it is within its deadline', async () => {
    let calls = 0;
    const { clock, ex, events } = executor(
      () => {
        calls += 1;
        if (calls === 1) throw new AgentError('boom', { agentId: 'w' });
        return 'ok';
      },
      { failureThreshold: 1, recoveryTimeoutMs: 500 },
      2_000,
    );
    expect((await settle(clock, ex.run('p', {}, { runId: 'first' }))).status).not.toBe('succeeded');
    expect(ex.agentBreaker('w')?.state).toBe('open');
    const result = await settle(clock, ex.run('p', {}, { runId: 'second' }));
    expect(result.status).toBe('succeeded');
    expect(result.steps[0]).toMatchObject({ attempts: 1, output: 'ok' });
    expect(ex.agentBreaker('w')?.state).toBe('closed');
    expect(events.filter((e) => e.type === 'breaker.state').map((e) => (e as { to: string }).to)).toEqual([
      'open',
      'halfOpen',
      'closed',
    ]);
    await ex.close();
  });

  it('fails fast with ND_CIRCUIT_OPEN when the half-open time is after the deadline', async () => {
    let calls = 0;
    const { clock, ex } = executor(
      () => {
        calls += 1;
        throw new AgentError('boom', { agentId: 'w' });
      },
      { failureThreshold: 1, recoveryTimeoutMs: 5_000 },
      1_000,
    );
    await settle(clock, ex.run('p', {}, { runId: 'first' }));
    const result = await settle(clock, ex.run('p', {}, { runId: 'second' }));
    expect(result.status).not.toBe('succeeded');
    expect(JSON.stringify(result)).toContain('ND_CIRCUIT_OPEN');
    expect(calls).toBe(1);
    await ex.close();
  });
});
