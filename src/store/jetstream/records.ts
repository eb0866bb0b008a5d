/**
 * What the JetStream run store writes. One stream message per append (a batch of facts is one
 * message, so it is stored whole or not at all) carrying the entries and the run's state after
 * them; the last message of a run's subject therefore holds its current state, from which the
 * summary index is rebuilt without re-reading the journal. The index (a KV bucket) holds each
 * run's summary and how many journal messages it reflects.
 */
import { z } from 'zod';
import { parseWith } from '../../core/validate.js';
import { journalEntrySchema, runIdSchema, type JournalEntry } from '../journal.js';
import type { RunState, RunSummary } from '../summary.js';

const statusSchema = z.enum([
  'running',
  'waiting',
  'cancelled',
  'succeeded',
  'failed',
  'timedOut',
  'rolledBack',
]);

const summarySchema = z.object({
  runId: runIdSchema,
  pattern: z.string(),
  status: statusSchema,
  startedAt: z.number(),
  finishedAt: z.number().optional(),
  lastSeq: z.number().int().min(1),
});

const stateSchema = z.object({
  summary: summarySchema,
  inFlight: z.array(z.string()),
  retriesDue: z.array(z.string()),
  awaiting: z.array(z.string()).default([]),
});

/** One journal message: the appended entries and the run's state after them. */
const appendRecordSchema = z.object({
  entries: z.array(journalEntrySchema).min(1),
  state: stateSchema,
  /** 1-based ordinal of this message among the run's journal messages. */
  message: z.number().int().min(1),
});

/** One value of the summary index: the run's summary as of its `messages`-th journal message. */
const indexRecordSchema = z.object({ summary: summarySchema, messages: z.number().int().min(1) });

export interface AppendRecord {
  entries: JournalEntry[];
  state: RunState;
  /** 1-based ordinal of this message among the run's journal messages. */
  message: number;
}

export interface IndexRecord {
  summary: RunSummary;
  /** Number of journal messages of the run this summary reflects. */
  messages: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes one journal message. */
export const encodeAppend = (
  entries: readonly JournalEntry[],
  state: RunState,
  message: number,
): Uint8Array =>
  encoder.encode(
    JSON.stringify({
      entries,
      state: {
        summary: state.summary,
        inFlight: [...state.inFlight],
        retriesDue: [...state.retriesDue],
        awaiting: [...state.awaiting],
      },
      message,
    }),
  );

/**
 * Decodes one journal message.
 * @throws PatternValidationError naming `where` (stream and sequence) when it is not one
 */
export function decodeAppend(data: Uint8Array, where: string): AppendRecord {
  const parsed = parseWith(appendRecordSchema, JSON.parse(decoder.decode(data)), where);
  return {
    entries: parsed.entries,
    state: {
      summary: parsed.state.summary,
      inFlight: new Set(parsed.state.inFlight),
      retriesDue: new Set(parsed.state.retriesDue),
      awaiting: new Set(parsed.state.awaiting),
    },
    message: parsed.message,
  };
}

/** Encodes one index value. */
export const encodeIndex = (record: IndexRecord): Uint8Array => encoder.encode(JSON.stringify(record));

/**
 * Decodes one index value.
 * @throws PatternValidationError naming `where` when it is not one
 */
export const decodeIndex = (data: Uint8Array, where: string): IndexRecord =>
  parseWith(indexRecordSchema, JSON.parse(decoder.decode(data)), where);
