/**
 * Helpers for testing code built on natural-delegation (`natural-delegation/testing`):
 * simulated time and scripted agents.
 */
import { SimulatedClock } from 'xstate';
import { defineAgent, type Agent, type AgentTask } from './actors/agent.js';
import { AgentError } from './runtime/errors.js';

export { SimulatedClock };

/** A Clock backed by XState's SimulatedClock: advance it with `increment(ms)`. */
export function simulatedClock(startMs = 0): SimulatedClock {
  const clock = new SimulatedClock();
  clock.set(startMs);
  return clock;
}

/**
 * An agent that follows a script per step: `'ok'` succeeds (output `<step>:<attempt>`),
 * `'fail'` fails (retryable), `'fatal'` fails without retry. Attempts beyond the script
 * succeed. Records every call in `calls`.
 */
export function scriptedAgent(
  id: string,
  capabilities: string[],
  script: Record<string, ('ok' | 'fail' | 'fatal')[]> = {},
): Agent & { calls: AgentTask[]; compensated: string[] } {
  const calls: AgentTask[] = [];
  const compensated: string[] = [];
  const agent = defineAgent({
    id,
    capabilities,
    handler: (task) => {
      calls.push(task);
      const outcome = script[task.step]?.[task.attempt - 1] ?? 'ok';
      if (outcome === 'ok') return `${task.step}:${task.attempt}`;
      throw new AgentError(`${task.step} failed (scripted)`, {
        agentId: id,
        step: task.step,
        retryable: outcome === 'fail',
      });
    },
    compensate: (task) => {
      compensated.push(task.step);
    },
  });
  return Object.assign(agent, { calls, compensated });
}
