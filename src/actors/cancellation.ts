/**
 * The part of an `AbortSignal` that the runtime's own I/O needs (a transport request, a lock
 * wait): whether it aborted, why, and an `abort` event. Every `AbortSignal` is one, so callers
 * may pass either; {@link AttemptCancellation} is one that allocates no `AbortSignal`.
 */
export interface CancellationSignal {
  readonly aborted: boolean;
  /** Why it aborted (an Error for runtime cancellations); undefined while not aborted. */
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * Cancellation of one step attempt. The `AbortSignal` an agent sees (`task.signal`) is created
 * on first access: constructing an `AbortController` was a measurable share of a no-op step in
 * bench/, and most local handlers never look at it. The runtime's own listeners (a remote
 * agent's request, a lock wait) subscribe to the cancellation itself, which is a
 * {@link CancellationSignal} with a plain listener list.
 *
 * @example
 * const cancel = new AttemptCancellation();
 * await agent.execute({ ...task, signal: cancel.signal, cancellation: cancel });
 */
export class AttemptCancellation implements CancellationSignal {
  private controller: AbortController | undefined;
  private hook: (() => void) | undefined;
  private listeners: (() => void)[] | undefined;
  private why: Error | undefined;

  get aborted(): boolean {
    return this.why !== undefined;
  }

  get reason(): Error | undefined {
    return this.why;
  }

  /** The signal handed to agents (aborted already, with the same reason, if the attempt was cancelled before). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.why) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }

  /** Sets the runtime's own abort hook (called once, before every listener); undefined clears it. */
  onAbort(hook: (() => void) | undefined): void {
    this.hook = hook;
  }

  /** Calls `listener` once on abort (never if already aborted: check {@link aborted} first, as with an AbortSignal). */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.why) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.listeners?.splice(at, 1);
  }

  /** Cancels the attempt with `reason` (default: an Error "attempt cancelled"); later calls do nothing. */
  abort(reason: Error = new Error('attempt cancelled')): void {
    if (this.why) return;
    this.why = reason;
    const hook = this.hook;
    this.hook = undefined;
    hook?.();
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
    this.controller?.abort(reason);
  }
}
