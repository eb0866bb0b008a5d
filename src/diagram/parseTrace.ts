import { z } from 'zod';
import type { RunEvent } from '../core/events.js';

const base = { at: z.number(), runId: z.string() };
const path = z.array(z.string());
const stepStatus = z.enum([
  'pending',
  'running',
  'retrying',
  'completed',
  'failed',
  'skipped',
  'cancelled',
  'compensating',
  'compensated',
  'compensationFailed',
]);
const runStatus = z.enum(['succeeded', 'failed', 'timedOut', 'rolledBack']);

/** The trace events a diagram uses, validated; other lines of a trace are skipped. */
const traceEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run.started'), ...base, pattern: z.string(), patternType: z.string() }),
  z.object({
    type: z.literal('run.finished'),
    ...base,
    pattern: z.string(),
    status: runStatus,
    durationMs: z.number(),
  }),
  z.object({
    type: z.literal('step.status'),
    ...base,
    path,
    step: z.string(),
    status: stepStatus,
    agent: z.string().optional(),
    attempt: z.number(),
    error: z.object({ name: z.string(), message: z.string() }).loose().optional(),
  }),
  z.object({
    type: z.literal('phase.status'),
    ...base,
    path,
    phase: z.string(),
    status: z.enum(['running', 'succeeded', 'failed', 'rolledBack']),
  }),
  z.object({
    type: z.literal('breaker.state'),
    ...base,
    agent: z.string(),
    from: z.enum(['closed', 'open', 'halfOpen']),
    to: z.enum(['closed', 'open', 'halfOpen']),
  }),
]);

/** A trace line that is not JSON, or a known event with wrong fields. */
export class TraceParseError extends Error {
  override readonly name = 'TraceParseError';
  readonly code = 'ND_TRACE_INVALID';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/**
 * Parses a JSONL trace (one RunEvent per line, as `ndf run --trace` writes it). Blank lines
 * and events a diagram does not use (`transition`…) are skipped.
 *
 * @throws TraceParseError naming the line when a line is not JSON or a step/run/phase event is malformed.
 */
export function parseTrace(text: string): RunEvent[] {
  const events: RunEvent[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new TraceParseError(index + 1, 'not a JSON object');
    }
    const type = typeof value === 'object' && value !== null && 'type' in value ? value.type : undefined;
    if (
      !['run.started', 'run.finished', 'step.status', 'phase.status', 'breaker.state'].includes(String(type))
    )
      return;
    const parsed = traceEventSchema.safeParse(value);
    if (!parsed.success)
      throw new TraceParseError(
        index + 1,
        `invalid ${String(type)} event: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
      );
    events.push(parsed.data as RunEvent);
  });
  return events;
}
