/**
 * Errors of the cluster features (leases, work queue, shared breaker state). Each has a stable
 * `code` and an `is…` guard, like the errors of src/core/errors.ts.
 */

/** Why a holder lost its lease. */
export type LeaseLossReason =
  /** Another owner holds it now (a renewal or fence lost its compare-and-set). */
  | 'taken'
  /** No renewal succeeded within the TTL (paused process, partitioned connection). */
  | 'expired'
  /** The key was deleted by someone else. */
  | 'deleted';

/** The lease on a run is no longer this owner's: stop driving the run. Code `ND_LEASE_LOST`. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  readonly code = 'ND_LEASE_LOST';

  constructor(
    readonly key: string,
    readonly owner: string,
    readonly reason: LeaseLossReason,
    cause?: unknown,
  ) {
    super(
      `Lease ${key} is no longer held by ${owner}: ${reason}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/** True when `error` is a {@link LeaseLostError}. */
export const isLeaseLostError = (error: unknown): error is LeaseLostError =>
  error instanceof Error && (error as { code?: unknown }).code === 'ND_LEASE_LOST';
