import type { AnyActor } from 'xstate';
import type { OrchestrationContext, RollbackEvent } from '../machines/orchestration.machine.js';
import { PatternExecutionError } from '../core/errors.js';
import type { PhaseProgress } from './patterns/BuiltInPattern.js';

/** Driving a run's root actor: waiting for its end, reading it, rolling it back. */

/** Resolves when the root actor is done or parked in `succeeded`; with the crash error if it failed. */
export function waitForEnd(actor: AnyActor, signal: AbortSignal | undefined): Promise<unknown> {
  return new Promise((resolve) => {
    let finished = false;
    const finish = (crash?: unknown) => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      queueMicrotask(() => sub.unsubscribe());
      resolve(crash);
    };
    const onAbort = () => actor.send({ type: 'CANCEL' });
    const sub = actor.subscribe({
      next: (s: { status: string; value?: unknown }) => {
        if (s.status === 'done' || s.value === 'succeeded') finish();
      },
      error: (err: unknown) => finish(err ?? new Error('actor failed')),
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    actor.start();
    if (signal?.aborted) onAbort();
    const s = actor.getSnapshot() as { status: string; value?: unknown; error?: unknown };
    if (s.status === 'done' || s.value === 'succeeded') finish();
    else if (s.status === 'error') finish(s.error);
  });
}

/**
 * Lets go of a run whose root actor is parked in `succeeded` (a top-level sequential or
 * parallel run that nobody will ask to compensate) instead of `stop()`ping it. Such a run is
 * idle: its steps wait in `completed`, no attempt is in flight, and leaving `running` cancelled
 * the pattern's overall timeout (`cancelAll` is a guard should a machine ever schedule in
 * `succeeded`). Once unreferenced, the whole actor system is garbage, and stopping it would be
 * work for nothing (finished steps' actors are already stopped, see the pattern machines).
 */
export function releaseIdle(actor: AnyActor): void {
  actor.system.scheduler.cancelAll(actor);
}

export function actorPath(ref: AnyActor): string {
  const parts: string[] = [];
  let cur: { id: string; _parent?: unknown } | undefined = ref;
  while (cur) {
    parts.unshift(cur.id);
    cur = cur._parent as typeof cur;
  }
  return parts.join('/');
}

export function phaseProgressOf(actor: AnyActor): Record<string, PhaseProgress> {
  const { phases } = (actor.getSnapshot() as { context: OrchestrationContext }).context;
  return Object.fromEntries(
    phases.map((p) => {
      const succeeded = p.outcomes.filter((o) => o.success).length;
      return [
        p.name,
        {
          status: p.status,
          completionPercentage: p.total === 0 ? 1 : p.outcomes.length / p.total,
          succeeded,
          failed: p.outcomes.length - succeeded,
          total: p.total,
        },
      ];
    }),
  );
}

/**
 * Sends `ROLLBACK` to a succeeded meta-orchestration actor and resolves once compensation is
 * over: true if every compensation succeeded. `onDone` runs when the actor reached a final state.
 * @throws PatternExecutionError (as a rejection) when the actor is not parked in `succeeded`
 */
export function rollbackMeta(
  actor: AnyActor,
  level: 'pattern' | 'phase' | 'complete',
  targetPhase: string | undefined,
  onDone: () => void,
): Promise<boolean> {
  const current = actor.getSnapshot() as { status: string; value: unknown; context: OrchestrationContext };
  if (current.status !== 'active' || current.value !== 'succeeded') {
    const name = current.context.name;
    return Promise.reject(
      new PatternExecutionError(
        `${name}: no succeeded run to roll back (the latest run failed or was rolled back)`,
        {
          patternName: name,
        },
      ),
    );
  }
  const before = current.context.compensationFailures;
  return new Promise((resolve) => {
    const check = (): void => {
      const snap = actor.getSnapshot() as { value: unknown; status: string; context: OrchestrationContext };
      if (snap.value === 'compensating' || snap.value === 'compensationFinished') return;
      sub.unsubscribe();
      if (snap.status === 'done') onDone();
      resolve(snap.context.compensationFailures === before);
    };
    const sub = actor.subscribe({ next: check, error: () => resolve(false) });
    const event: RollbackEvent = { type: 'ROLLBACK', level, targetPhase };
    actor.send(event);
    check();
  });
}
