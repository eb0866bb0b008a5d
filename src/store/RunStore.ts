/**
 * The `RunStore` interface: where runs' journals live. {@link MemoryRunStore} keeps them in
 * memory (tests, embedded use without persistence); {@link FileRunStore} is the embedded
 * default (a directory, `.nd/` by default). See docs/durability.md.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { parseWith } from '../core/validate.js';
import { journalEntrySchema, runIdSchema, type JournalEntry, type JournalFact } from './journal.js';
import { bySummaryOrder, matches, type ListRunsFilter, type RunState, type RunSummary } from './summary.js';

export type { ListRunsFilter, RunSummary, StoredRunStatus } from './summary.js';

/** Options of {@link RunStore.append}. */
export interface AppendOptions {
  /**
   * The seq of the run's last fact as the writer knows it (0 for a new run). The append fails
   * with `ND_STORE_CONFLICT` when the run's last seq differs: another writer appended first
   * (optimistic concurrency; a distributed store fences on it).
   */
  expectedSeq: number;
}

/** Options of {@link RunStore.cleanupRuns}. */
export interface CleanupOptions {
  /** Removes runs that ended more than this many days ago (may be fractional; 0 = all ended runs). */
  olderThanDays: number;
}

/** A store of run journals. Every method rejects with a `RunStoreError` after `close()`. */
export interface RunStore {
  /**
   * Appends facts to a run's journal, atomically for the batch: all are stored or none. The
   * store assigns `runId`, `seq` (expectedSeq + 1, + 2, …) and `at` when omitted (its clock).
   * Resolves, once the facts are durable at the store's level, with the entries as stored.
   * @throws {RunStoreError} `ND_STORE_CONFLICT` when `expectedSeq` is not the run's last seq;
   *   `ND_STORE_INVALID` when the facts cannot follow (first fact not `runStarted`, a fact after
   *   the run ended); `ND_STORE_UNAVAILABLE` when closed or a write failed.
   * @throws {PatternValidationError} when `runId` or a fact does not match its schema.
   */
  append(runId: string, facts: readonly JournalFact[], options: AppendOptions): Promise<JournalEntry[]>;
  /** The run's journal, in seq order; an empty array for an unknown run. */
  read(runId: string): Promise<JournalEntry[]>;
  /** Summaries of the stored runs that pass `filter`, ordered by start time then run id. */
  listRuns(filter?: ListRunsFilter): Promise<RunSummary[]>;
  /** Removes the runs that ended more than `olderThanDays` ago; resolves with their ids. */
  cleanupRuns(options: CleanupOptions): Promise<string[]>;
  /** Waits for pending appends, then releases files; later calls reject. Idempotent. */
  close(): Promise<void>;
  /**
   * Optional (stores shared by several processes): queues a request for a run that another
   * process executes (its lock makes `append` fail with `ND_STORE_UNAVAILABLE`); that process
   * takes it with {@link takeRequests} and journals it.
   */
  post?(runId: string, request: RunRequest): Promise<void>;
  /** Optional: the requests queued for these runs, oldest first; each is returned once. */
  takeRequests?(runIds: readonly string[]): Promise<PostedRequest[]>;
}

/** A request to a run executed elsewhere: deliver a signal, or cancel it. */
export type RunRequest =
  | { readonly kind: 'signal'; readonly signal: string; readonly payload?: JsonValue | undefined }
  | { readonly kind: 'cancel'; readonly reason?: string | undefined };

/** A request taken from a store's queue, with the run it is for. */
export interface PostedRequest {
  readonly runId: string;
  readonly request: RunRequest;
}

/** The schema of a {@link RunRequest} (requests are files other processes wrote). */
export const runRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('signal'), signal: z.string().min(1), payload: z.json().optional() }).strict(),
  z.object({ kind: z.literal('cancel'), reason: z.string().optional() }).strict(),
]);
type JsonValue = z.infer<ReturnType<typeof z.json>>;

/** A new run id (a random UUID). */
export const generateRunId = (): string => randomUUID();

const appendOptionsSchema = z.object({ expectedSeq: z.number().int().nonnegative() }).strict();
const cleanupOptionsSchema = z.object({ olderThanDays: z.number().nonnegative().finite() }).strict();
const statusSchema = z.enum([
  'running',
  'waiting',
  'cancelled',
  'succeeded',
  'failed',
  'timedOut',
  'rolledBack',
]);
const listFilterSchema = z
  .object({
    status: z.union([statusSchema, z.array(statusSchema)]).optional(),
    pattern: z.string().optional(),
    since: z.number().nonnegative().optional(),
  })
  .strict();

/**
 * Validates an append's arguments and builds the entries it will store (shared by the stores).
 * @throws {PatternValidationError} naming the first bad field (e.g. `RunStore.append.facts.2.step`).
 */
export function buildEntries(
  runId: string,
  facts: readonly JournalFact[],
  options: AppendOptions,
  clock: Clock,
): JournalEntry[] {
  parseWith(runIdSchema, runId, 'RunStore.append.runId');
  const { expectedSeq } = parseWith(appendOptionsSchema, options, 'RunStore.append.options');
  const now = clock.now();
  const raw = facts.map((fact, i) => ({ at: now, ...fact, runId, seq: expectedSeq + i + 1 }));
  return parseWith(entriesSchema, raw, 'RunStore.append.facts');
}

/** Built once: a zod schema costs far more to build than to run. */
const entriesSchema = z.array(journalEntrySchema).min(1);

/** Validates `listRuns`' filter. */
export const parseListFilter = (filter: ListRunsFilter): ListRunsFilter =>
  parseWith(listFilterSchema, filter, 'RunStore.listRuns.filter');

/**
 * `listRuns` over the runs a store holds: validates `filter`, keeps the summaries it matches,
 * in listing order.
 * @throws PatternValidationError naming the bad filter field
 */
export function selectRuns(runs: Iterable<{ state: RunState }>, filter: ListRunsFilter): RunSummary[] {
  const f = parseListFilter(filter);
  return [...runs]
    .map((r) => r.state.summary)
    .filter((s) => matches(s, f))
    .sort(bySummaryOrder);
}

/** Validates `cleanupRuns`' options and returns the cutoff, epoch ms. */
export function cleanupCutoff(options: CleanupOptions, clock: Clock): number {
  const { olderThanDays } = parseWith(cleanupOptionsSchema, options, 'RunStore.cleanupRuns.options');
  return clock.now() - olderThanDays * 86_400_000;
}
