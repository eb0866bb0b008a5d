/**
 * Cancellation of one step attempt. The `AbortSignal` an agent sees (`task.signal`) is created
 * on first access: constructing an `AbortController` was a measurable share of a no-op step in
 * bench/, and most local handlers never look at it.
 */
export class AttemptCancellation {
  private controller: AbortController | undefined;
  private listener: (() => void) | undefined;
  private cancelled = false;

  get aborted(): boolean {
    return this.cancelled;
  }

  /** The signal handed to agents (aborted already if the attempt was cancelled before). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort();
    }
    return this.controller.signal;
  }

  /** Sets the runtime's own abort hook (called once, before the signal's listeners); undefined clears it. */
  onAbort(listener: (() => void) | undefined): void {
    this.listener = listener;
  }

  /** Cancels the attempt; later calls do nothing. */
  abort(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
    this.controller?.abort();
  }
}
