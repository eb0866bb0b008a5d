/**
 * Where the JetStream run store keeps things: the journal stream, the subject of each run, and
 * the key of each run in the summary bucket. A run id may hold `.` (a subject token separator in
 * NATS), so it is encoded as a single token by replacing `.` with `=`, a character run ids never
 * contain: the mapping is one-to-one.
 */

/** Defaults of {@link JetStreamRunStoreOptions}. */
export const defaultNames = {
  stream: 'NDF_JOURNAL',
  subjectPrefix: 'ndf.journal',
  bucket: 'ndf_runs',
} as const;

/** A run id as one subject token and KV key (`a.b` → `a=b`). */
export const runToken = (runId: string): string => runId.replaceAll('.', '=');

/** The run id of a {@link runToken}. */
export const runIdOfToken = (token: string): string => token.replaceAll('=', '.');

/** The journal subject of a run: `<prefix>.<token>`. */
export const journalSubject = (prefix: string, runId: string): string => `${prefix}.${runToken(runId)}`;
