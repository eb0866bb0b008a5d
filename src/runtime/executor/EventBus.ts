import type { RunEvent, RunEventListener } from '../../core/events.js';

/** The executor's event bus: listeners of every run, plus one run's own listener per emit. */
export class EventBus {
  private readonly listeners = new Set<RunEventListener>();

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
    for (const l of this.listeners) l(event);
    extra?.(event);
  }
}
