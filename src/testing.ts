/**
 * Helpers for testing code built on natural-delegation (`natural-delegation/testing`):
 * simulated time and scripted agents.
 */
import { SimulatedClock } from 'xstate';
import { defineAgent, type Agent, type AgentTask } from './actors/agent.js';
import { AgentError } from './core/errors.js';

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

/** Lets pending promises and XState's microtasks run (`setImmediate` is not simulated). */
export async function flush(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Advances a simulated clock by `ms` (in steps of `step` ms), flushing promises in between. */
export async function advance(clock: SimulatedClock, ms: number, step = ms): Promise<void> {
  await flush();
  for (let done = 0; done < ms; done += step) {
    clock.increment(Math.min(step, ms - done));
    await flush();
  }
}

/**
 * Drives a simulated clock in `step`-ms increments until `promise` settles (at most
 * `maxSteps` increments), and returns it: for runs whose exact timing is not under test.
 */
export async function settle<T>(
  clock: SimulatedClock,
  promise: Promise<T>,
  step = 10,
  maxSteps = 2_000,
): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  // Handled now, so a rejection while time is still being advanced is not reported as unhandled.
  tracked.catch(() => undefined);
  for (let i = 0; i < maxSteps && !done; i++) {
    await flush(4);
    if (!done) clock.increment(step);
  }
  return tracked;
}
