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
 * const running = agent.execute(withCancellation({ runId, pattern, step, … }, cancel));
 * cancel.abort(new Error('no longer needed'));
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

  /**
   * Calls `listener` once on abort, as an AbortSignal's `abort` listener: never if already
   * aborted (check {@link aborted} first), once if added twice, not if removed before its turn.
   * They run after the runtime's hook and before the listeners of {@link signal}.
   */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.why) return;
    const listeners = (this.listeners ??= []);
    if (!listeners.includes(listener)) listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.listeners?.splice(at, 1);
  }

  /**
   * Cancels the attempt with `reason` (default: an Error "attempt cancelled"); later calls do
   * nothing. A hook or listener that throws does not stop the others or the signal: its error
   * is rethrown in a microtask, as an EventTarget reports a listener's error.
   */
  abort(reason: Error = new Error('attempt cancelled')): void {
    if (this.why) return;
    this.why = reason;
    let failure: { error: unknown } | undefined;
    const call = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        failure ??= { error };
      }
    };
    const hook = this.hook;
    this.hook = undefined;
    if (hook) call(hook);
    const listeners = this.listeners;
    if (listeners) for (const listener of [...listeners]) if (listeners.includes(listener)) call(listener);
    this.listeners = undefined;
    this.controller?.abort(reason);
    if (failure) {
      const { error } = failure;
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/** The `signal` of a task made by {@link withCancellation}: one accessor shared by every task. */
const SIGNAL_PROPERTY: PropertyDescriptor = {
  get(this: { readonly cancellation: AttemptCancellation }): AbortSignal {
    return this.cancellation.signal;
  },
  enumerable: true,
  configurable: true,
};

/**
 * Gives `task` two views of one cancellation: `signal`, an own enumerable getter (so a spread
 * copy carries the AbortSignal, made when the copy reads it), and `cancellation`, own but not
 * enumerable (so a copy that replaces `signal` does not take the old cancellation along, and
 * `task.cancellation ?? task.signal` reads the new signal). One shared accessor rather than a
 * getter in each object literal: a per-literal getter costs V8 a new hidden class per task.
 */
export function withCancellation<T extends object>(
  task: T,
  cancellation: AttemptCancellation,
): T & { readonly signal: AbortSignal; readonly cancellation: AttemptCancellation } {
  Object.defineProperty(task, 'cancellation', { value: cancellation, configurable: true });
  return Object.defineProperty(task, 'signal', SIGNAL_PROPERTY) as T & {
    readonly signal: AbortSignal;
    readonly cancellation: AttemptCancellation;
  };
}
