import type { InspectionEvent, Observer } from 'xstate';
import { notifyAll, type ListenerErrorLog } from '../../core/listeners.js';

/** An XState inspection observer: a function, or an observer with `next` (Stately's inspector, `@statelyai/inspect`, passes either). */
export type InspectObserver = ((event: InspectionEvent) => void) | Partial<Observer<InspectionEvent>>;

/** Whether `value` can be handed to XState's `inspect` option. */
export function isInspectObserver(value: unknown): value is InspectObserver {
  return (
    typeof value === 'function' ||
    (typeof value === 'object' && value !== null && typeof (value as { next?: unknown }).next === 'function')
  );
}

/**
 * One `inspect` callback for a run's root actor from several observers (the runtime's own
 * transition tracer, the caller's `RunOptions.inspect`), or undefined when there is none (XState
 * then skips inspection entirely). An observer that throws is logged at `warn` and ignored: it
 * never fails the run (as with every listener, `core/listeners`).
 */
export function combineInspect(
  observers: readonly (InspectObserver | undefined)[],
  log: ListenerErrorLog,
  runId: string,
): ((event: InspectionEvent) => void) | undefined {
  const fns = observers
    .filter((o): o is InspectObserver => o !== undefined)
    .map((o) => (typeof o === 'function' ? o : (event: InspectionEvent) => o.next?.(event)));
  if (fns.length === 0) return undefined;
  return (event) => void notifyAll(fns, event, log, 'XState inspect observer', { runId });
}
