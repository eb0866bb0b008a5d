/** Exit codes of `ndf`. */
export const ExitCode = {
  /** The run succeeded, the file is valid, the help was shown. */
  OK: 0,
  /** The run failed (a step failed, a timeout, criteria not met); a signal exits with 128 + its number. */
  RUN_FAILED: 1,
  /** Bad input: the workflow file, an option, the run input. */
  BAD_INPUT: 2,
} as const;
/** One of the {@link ExitCode} values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A problem with what the user gave (an option, the run input): printed as is, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'ND_USAGE';
}
