import type { AnyActor } from 'xstate';

/**
 * The live actors of succeeded meta-orchestration runs, one per pattern (its latest), kept
 * so `triggerRollback` can compensate them later.
 */
export class LiveMetaRuns {
  private readonly actors = new Map<string, AnyActor>();

  /** A new run of `pattern` starts: the previous one's actor is stopped and forgotten. */
  replace(pattern: string): void {
    this.actors.get(pattern)?.stop();
    this.actors.delete(pattern);
  }

  /** Keeps the actor of a succeeded run. */
  keep(pattern: string, actor: AnyActor): void {
    this.actors.set(pattern, actor);
  }

  /** Forgets `actor` if it is still the one kept for `pattern` (it reached a final state). */
  forget(pattern: string, actor: AnyActor): void {
    if (this.actors.get(pattern) === actor) this.actors.delete(pattern);
  }

  /** Stops every kept actor. */
  stopAll(): void {
    for (const a of this.actors.values()) a.stop();
    this.actors.clear();
  }
}
