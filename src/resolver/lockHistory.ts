/**
 * The conflict history of a lock table: a bounded log of {@link ConflictRecord}s (contention,
 * deadlocks, preemptions, wounds, timeouts, lease expiries, ordering refusals), each stamped with
 * the strategy in effect when it was recorded. The adaptive strategy reads it back.
 */
import type { ConflictRecord, ConflictStrategy } from './lockTypes.js';

/** A bounded, append-only conflict log. */
export class ConflictHistory {
  private readonly records: ConflictRecord[] = [];

  /**
   * @param limit - records kept: up to 25% more accumulate before the oldest are trimmed
   * @param strategyNow - the strategy to stamp on a record (read before it is appended)
   */
  constructor(
    private readonly limit: number,
    private readonly strategyNow: () => Exclude<ConflictStrategy, 'adaptive'>,
  ) {}

  /** Every kept record, oldest first (a live view: do not mutate). */
  get entries(): readonly ConflictRecord[] {
    return this.records;
  }

  /** Appends a record stamped with the current strategy. */
  record(entry: Omit<ConflictRecord, 'strategy'>): void {
    this.records.push({ ...entry, strategy: this.strategyNow() });
    // trim in chunks: amortised O(1) per record
    if (this.records.length > this.limit * 1.25) this.records.splice(0, this.records.length - this.limit);
  }
}
