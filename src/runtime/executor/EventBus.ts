import type { RunEvent, RunEventListener } from '../../core/events.js';
import { notifyAll, type ListenerErrorLog } from '../../core/listeners.js';

/**
 * The executor's event bus: listeners of every run, plus one run's own listener per emit.
 * A listener that throws is logged and ignored ({@link notifyAll}): it never fails a run.
 */
export class EventBus {
  private readonly listeners = new Set<RunEventListener>();

  constructor(private readonly log: ListenerErrorLog) {}

  /** How many executor-wide listeners there are. */
  get size(): number {
    return this.listeners.size;
  }

  /** Adds an executor-wide listener; returns a disposer. */
  add(listener: RunEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hands `event` to every executor-wide listener, then to `extra` (a run's own listener). */
  emit(event: RunEvent, extra?: RunEventListener): void {
    const bindings = { runId: event.runId, event: event.type };
    notifyAll(this.listeners, event, this.log, 'run event listener', bindings);
    if (extra) notifyAll([extra], event, this.log, 'run event listener', bindings);
  }
}
