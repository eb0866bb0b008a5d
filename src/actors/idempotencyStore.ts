import type { Clock } from '../core/clock.js';
import { AttemptCancellation } from '../core/cancellation.js';
import type { IdempotencyRecord } from './idempotencyFile.js';

/** Where an {@link IdempotencyStore} keeps its completed keys besides memory (e.g. an `IdempotencyFile`). */
export interface IdempotencyPersistence<T> {
  /** Saves a completed key; the live records are given for a compaction. Returns an error instead of throwing. */
  append(record: IdempotencyRecord<T>, live: () => Iterable<IdempotencyRecord<T>>): Error | undefined;
}

interface Running<T> {
  readonly state: 'running';
  readonly promise: Promise<T>;
  readonly cancellation: AttemptCancellation;
  /** Highest attempt number that joined this call. */
  attempt: number;
}
interface Done<T> {
  readonly state: 'done';
  readonly value: T;
  readonly expiresAt: number;
}

/** How {@link IdempotencyStore.run} answered. */
export type IdempotentOutcome = 'executed' | 'joined' | 'replayed';

/**
 * Agent-side deduplication by idempotency key: a completed key answers with the stored result
 * (for `ttlMs`), an in-flight key joins the running call, and a result that `keep` rejects (a
 * retryable failure) is forgotten so a retry runs again. Keeps at most `maxEntries` completed
 * keys (oldest evicted first). With `persistence`, each completed key is also saved there before
 * its answer is returned, and `records` (loaded from it) answer as completed keys: a restarted agent
 * replays what it completed before.
 */
export class IdempotencyStore<T> {
  private readonly entries = new Map<string, Running<T> | Done<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly keep: (value: T) => boolean,
    private readonly persistence?: {
      readonly file: IdempotencyPersistence<T>;
      readonly records: readonly IdempotencyRecord<T>[];
      /** Called when saving fails (the answer is returned anyway). */
      readonly onError: (error: Error) => void;
    },
  ) {
    for (const r of persistence?.records ?? [])
      this.entries.set(r.key, { state: 'done', value: r.value, expiresAt: r.expiresAt });
  }

  /**
   * Runs `fn` once per key; `fn` gets the call's {@link AttemptCancellation} (aborted by {@link cancel}).
   * @param attempt - the caller's attempt number (a cancel for an older attempt is ignored)
   */
  async run(
    key: string,
    attempt: number,
    fn: (cancellation: AttemptCancellation) => Promise<T>,
  ): Promise<{ value: T; outcome: IdempotentOutcome }> {
    const entry = this.entries.get(key);
    if (entry?.state === 'done') {
      if (entry.expiresAt > this.clock.now()) return { value: entry.value, outcome: 'replayed' };
      this.entries.delete(key);
    } else if (entry?.state === 'running') {
      entry.attempt = Math.max(entry.attempt, attempt);
      return { value: await entry.promise, outcome: 'joined' };
    }
    const cancellation = new AttemptCancellation();
    const promise = fn(cancellation).then(
      (value) => {
        if (this.keep(value)) this.remember(key, value);
        else this.entries.delete(key);
        return value;
      },
      (error: unknown) => {
        // a call that threw (e.g. refused as busy) is forgotten: the next attempt runs again
        this.entries.delete(key);
        throw error;
      },
    );
    this.entries.set(key, { state: 'running', promise, cancellation, attempt });
    return { value: await promise, outcome: 'executed' };
  }

  /** Aborts the running call of `key` unless a newer attempt joined it; true when aborted. */
  cancel(key: string, attempt: number | undefined, reason: string): boolean {
    const entry = this.entries.get(key);
    if (entry?.state !== 'running') return false;
    if (attempt !== undefined && entry.attempt > attempt) return false;
    entry.cancellation.abort(new Error(reason));
    return true;
  }

  /** Aborts every running call (on stop). */
  abortAll(reason: string): void {
    for (const entry of this.entries.values())
      if (entry.state === 'running') entry.cancellation.abort(new Error(reason));
  }

  /** The completed keys that have not expired, oldest first. */
  private *completed(): Iterable<IdempotencyRecord<T>> {
    const now = this.clock.now();
    for (const [key, e] of this.entries)
      if (e.state === 'done' && e.expiresAt > now) yield { key, value: e.value, expiresAt: e.expiresAt };
  }

  get running(): number {
    let n = 0;
    for (const entry of this.entries.values()) if (entry.state === 'running') n += 1;
    return n;
  }

  private remember(key: string, value: T): void {
    const expiresAt = this.clock.now() + this.ttlMs;
    this.entries.delete(key);
    this.entries.set(key, { state: 'done', value, expiresAt });
    if (this.persistence) {
      const error = this.persistence.file.append({ key, value, expiresAt }, () => this.completed());
      if (error) this.persistence.onError(error);
    }
    if (this.entries.size <= this.maxEntries) return;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (e.state === 'done') this.entries.delete(k);
    }
  }
}
