/**
 * Errors of the run stores. Each has a stable `code` (the `ND_STORE_*` family) like the errors of
 * src/core/errors.ts; they are kept here until the store is wired into the runtime.
 */

/** Stable codes of {@link RunStoreError}. */
export const StoreErrorCode = {
  /** `append` was given an `expectedSeq` that is not the run's last seq: another writer appended first. */
  CONFLICT: 'ND_STORE_CONFLICT',
  /** The facts do not make a valid journal (first fact not `runStarted`, a fact after the run ended…). */
  INVALID: 'ND_STORE_INVALID',
  /** A journal file is corrupt before its last record; `file` and `offset` say where. */
  CORRUPT: 'ND_STORE_CORRUPT',
  /** The store is closed, the run is locked by another live process, or a write failed and the store must be reopened. */
  UNAVAILABLE: 'ND_STORE_UNAVAILABLE',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** Where a {@link RunStoreError} happened; every field is optional. */
export interface StoreErrorDetails {
  runId?: string;
  expectedSeq?: number;
  actualSeq?: number;
  /** Path of the journal file. */
  file?: string;
  /** Byte offset in `file` of the first bad record. */
  offset?: number;
  /** Pid of the live process that holds a run's lock. */
  pid?: number;
}

/** An error of a {@link RunStore}; `code` says which kind, `details` where. */
export class RunStoreError extends Error {
  override readonly name = 'RunStoreError';
  readonly code: StoreErrorCode;
  readonly details: StoreErrorDetails;

  constructor(code: StoreErrorCode, message: string, details: StoreErrorDetails = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }
}

/** True when `error` is a {@link RunStoreError} with `code` (any store code when omitted). */
export function isRunStoreError(error: unknown, code?: StoreErrorCode): error is RunStoreError {
  if (!(error instanceof RunStoreError)) return false;
  return code === undefined || error.code === code;
}

/** The `ND_STORE_CONFLICT` error of an append whose `expectedSeq` is stale. */
export function conflictError(runId: string, expectedSeq: number, actualSeq: number): RunStoreError {
  return new RunStoreError(
    StoreErrorCode.CONFLICT,
    `Append to run ${runId} expected last seq ${expectedSeq} but it is ${actualSeq}: another writer appended first`,
    { runId, expectedSeq, actualSeq },
  );
}
