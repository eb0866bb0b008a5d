/** Executors sharing one run store, with agents that log every call: "crash" one, resume in another. */
import { vi } from 'vitest';
import { defineAgent } from '../../../src/actors/agent.js';
import { createLogger } from '../../../src/core/logger.js';
import type { AgentTask } from '../../../src/core/agent.js';
import type { RunResult } from '../../../src/core/result.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../../src/runtime/patterns/index.js';
import type { StepLike } from '../../../src/runtime/patterns/stepOptions.js';
import type { RunStore } from '../../../src/store/RunStore.js';

/** What the agents did, across every executor of a test. */
export interface SideEffects {
  calls: { step: string; attempt: number; key: string }[];
  compensations: { step: string; key: string }[];
}

/** How a step's agent behaves: answer, fail (attempts listed), or hang (this executor "crashes"). */
export interface Behaviour {
  failOn?: number[];
  failAlways?: boolean;
  hang?: boolean;
  hangCompensation?: boolean;
}

export const never = new Promise<never>(() => undefined);

/** An executor on `store` running pattern `p` of `steps`, its agents behaving as `behave` says. */
export function executor(
  store: RunStore,
  effects: SideEffects,
  steps: StepLike[],
  behave: Record<string, Behaviour> = {},
  pattern = (registry: PatternRegistry) =>
    registry.registerPattern(new SequentialDelegationPattern({ name: 'p', steps })),
): PatternExecutor {
  const registry = new PatternRegistry();
  pattern(registry);
  const names = steps.map((s) => (typeof s === 'string' ? s : s.name));
  const agents = names.map((name) =>
    defineAgent({
      id: `agent-${name}`,
      capabilities: [name],
      handler: (task: AgentTask) => {
        effects.calls.push({ step: task.step, attempt: task.attempt, key: task.idempotencyKey });
        const b = behave[name] ?? {};
        if (b.hang) return never;
        if (b.failAlways || b.failOn?.includes(task.attempt)) throw new Error(`${name} failed`);
        return { done: name, after: Object.keys(task.input.results) };
      },
      compensate: (task) => {
        effects.compensations.push({ step: task.step, key: task.idempotencyKey });
        if (behave[name]?.hangCompensation) return never;
        return undefined;
      },
    }),
  );
  // the executor a test abandons logs its fenced journal appends: keep test output clean
  return new PatternExecutor(registry, { agents, store, logger: createLogger('test', 'silent') });
}

/** Waits until the run's journal holds a fact `kind` (for `step`, when given). */
export async function journalShows(
  store: RunStore,
  runId: string,
  kind: string,
  step?: string,
): Promise<void> {
  await vi.waitFor(
    async () => {
      const entries = await store.read(runId);
      if (
        !entries.some(
          (e) => e.kind === kind && (step === undefined || (e as { step?: string }).step === step),
        )
      )
        throw new Error(`no ${kind} ${step ?? ''} yet`);
    },
    { timeout: 5_000, interval: 5 },
  );
}

/** The parts of a RunResult that must not depend on a crash: statuses, outputs, attempts, errors. */
export function essence(result: RunResult) {
  return {
    pattern: result.pattern,
    status: result.status,
    error: result.error?.code,
    steps: result.steps.map((s) => ({
      name: s.name,
      status: s.status,
      agent: s.agent,
      attempts: s.attempts,
      output: s.output,
      error: s.error?.message,
      compensation: s.compensation,
    })),
  };
}
