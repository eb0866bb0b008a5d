import { z } from 'zod';
import type { RunEvent } from '../core/events.js';
import { parseTrace, TraceParseError } from '../diagram/parseTrace.js';
import { ExecutionTracer } from './ExecutionTracer.js';
import { memorySink } from './memorySink.js';
import type { TraceSink, TraceSpan } from './span.js';

/**
 * A span as a line of a JSONL trace (`ndf run --trace`), written when the span ends; the other
 * lines are RunEvents, as before, so older readers skip these.
 */
export interface SpanRecord {
  readonly type: 'span';
  /** When the span ended, epoch ms. */
  readonly at: number;
  readonly runId: string;
  readonly span: TraceSpan;
}

const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const spanSchema = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  spanId: z.string().regex(/^[0-9a-f]{16}$/),
  parentSpanId: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .optional(),
  kind: z.enum(['run', 'pattern', 'phase', 'step', 'attempt', 'wait', 'compensation']),
  name: z.string(),
  runId: z.string(),
  startedAt: z.number(),
  endedAt: z.number().optional(),
  status: z.enum(['unset', 'ok', 'error']),
  error: z.object({ type: z.string(), message: z.string() }).optional(),
  attributes,
  events: z.array(z.object({ name: z.string(), at: z.number(), attributes })),
  flags: z.number().int().min(0).max(255),
});
const spanRecordSchema = z.object({
  type: z.literal('span'),
  at: z.number(),
  runId: z.string(),
  span: spanSchema,
});

/** A sink that hands each ended span to `write` as a {@link SpanRecord}. */
export function spanRecordSink(write: (record: SpanRecord) => void): TraceSink {
  return {
    onEnd: (span) => write({ type: 'span', at: span.endedAt ?? span.startedAt, runId: span.runId, span }),
  };
}

/** What a trace file holds. `replayed`: it had no span records, so spans were rebuilt from its events. */
export interface TraceFileContents {
  readonly events: RunEvent[];
  readonly spans: TraceSpan[];
  readonly replayed: boolean;
}

/**
 * Reads a JSONL trace: its RunEvents (see `parseTrace`) and its span records. A file written
 * before span records existed (events only) is replayed through an {@link ExecutionTracer} at
 * level `standard`, which rebuilds the same tree (waits need the live run's hooks, so they are missing).
 *
 * @throws TraceParseError naming the line of a malformed event or span record
 */
export function readTraceFile(text: string): TraceFileContents {
  const events = parseTrace(text);
  const spans: TraceSpan[] = [];
  text.split('\n').forEach((raw, index) => {
    if (!raw.includes('"type":"span"')) return;
    const parsed = spanRecordSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TraceParseError(
        index + 1,
        `span record: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      );
    }
    spans.push(parsed.data.span);
  });
  if (spans.length > 0) return { events, spans, replayed: false };
  const sink = memorySink();
  const tracer = new ExecutionTracer({ level: 'standard', sinks: [sink] });
  for (const event of events) tracer.onEvent(event);
  return { events, spans: sink.spans, replayed: true };
}
