import { randomBytes } from 'node:crypto';
import type { TraceContext } from '../core/agent.js';
import type { RunEvent } from '../core/events.js';
import { parseWith } from '../core/validate.js';
import { z } from 'zod';
import { TRACE_LEVELS, levelRank, type TraceLevel } from './levels.js';
import { RunTrace, type SpanFactory } from './runTrace.js';
import { onStepStatus } from './stepStatus.js';
import { Attr, type Attributes, type SpanKind, type TraceSink, type TraceSpan } from './span.js';
import { formatTraceparent } from './traceContext.js';

/** What the runtime asks of a tracer during one run (the executor binds it to the run). */
export interface RunTraceHooks {
  /** The trace context of the step's current attempt (or compensation) span, to send to its agent. */
  context(path: readonly string[], step: string): TraceContext | undefined;
  /** Attempt `attempt` of the step starts waiting for an agent (slot, breaker). */
  queued(path: readonly string[], step: string, attempt: number, idempotencyKey: string): void;
  /** The step's attempt now holds its named locks (it waited for them since it started running). */
  locked(path: readonly string[], step: string): void;
}

/** What {@link PatternExecutor.run} accepts as `tracer` (an {@link ExecutionTracer}). */
export interface RunTracer {
  readonly level: TraceLevel;
  /** Feeds one run event (the executor calls it for every event of the traced run). */
  onEvent(event: RunEvent): void;
  /** The hooks of run `runId`; `now` reads the executor's clock (epoch ms). */
  forRun(runId: string, now: () => number): RunTraceHooks;
}

const optionsSchema = z
  .object({
    level: z.enum(TRACE_LEVELS).default('standard'),
    sinks: z
      .array(z.custom<TraceSink>((s) => typeof s === 'object' && s !== null, 'not a TraceSink'))
      .default([]),
    onSinkError: z.custom<(error: unknown) => void>((f) => typeof f === 'function').optional(),
  })
  .strict();
/** Options of {@link ExecutionTracer}. */
export type ExecutionTracerOptions = z.input<typeof optionsSchema>;

/** Random bytes drawn 4 KiB at a time (one `randomBytes` call per ~170 spans). */
let pool = Buffer.alloc(0);
let offset = 0;
function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

const STANDARD = levelRank('standard');
const DETAILED = levelRank('detailed');
const DEBUG = levelRank('debug');

/**
 * Turns a run's events into a tree of spans: run → pattern (`invoke_workflow`) → phase → pattern
 * … → step → attempt (`invoke_agent`, one per agent call) plus waits and compensations, each with
 * its parent id, handed to its sinks as they start and end (see docs/observability.md). Retries,
 * breaker transitions, compensations and (at `debug`) machine transitions are span events.
 * Pass it as `executor.run(name, ctx, { tracer })`; one tracer may serve many runs at once.
 * Without a tracer the executor does none of this work.
 *
 * @throws PatternValidationError for bad options (an unknown level names the field)
 * @example
 * const spans = memorySink();
 * const tracer = new ExecutionTracer({ level: 'standard', sinks: [spans] });
 * await executor.run('pipeline', {}, { tracer });
 * spans.spans.filter((s) => s.kind === 'attempt');
 */
export class ExecutionTracer implements RunTracer {
  readonly level: TraceLevel;
  private readonly rank: number;
  private readonly sinks: readonly TraceSink[];
  private readonly onSinkError: (error: unknown) => void;
  private readonly runs = new Map<string, RunTrace>();
  private readonly factory: SpanFactory;
  private lastBreakerEvent: RunEvent | undefined;

  constructor(options: ExecutionTracerOptions = {}) {
    const o = parseWith(optionsSchema, options, 'ExecutionTracer');
    this.level = o.level;
    this.rank = levelRank(o.level);
    this.sinks = o.sinks;
    let warned = false;
    this.onSinkError =
      o.onSinkError ??
      ((error) => {
        if (warned) return;
        warned = true;
        process.emitWarning(`a trace sink threw (later errors are not reported): ${String(error)}`);
      });
    this.factory = {
      start: (run, kind, name, parent, at, attributes) =>
        this.startSpan(run, kind, name, parent, at, attributes),
      end: (span, at, error) => this.endSpan(span, at, error),
      event: (span, name, at, attributes) => this.spanEvent(span, name, at, attributes),
    };
  }

  /** Runs being traced now. */
  get activeRuns(): number {
    return this.runs.size;
  }

  onEvent(event: RunEvent): void {
    if (event.type === 'run.started') return this.runStarted(event);
    if (event.type === 'breaker.state' && event.runId === '*') return this.breakerChanged(event);
    const run = this.runs.get(event.runId);
    if (!run) return;
    switch (event.type) {
      case 'run.finished':
        return this.runFinished(run, event);
      case 'step.status':
        if (this.rank >= STANDARD) onStepStatus(run, event, this.factory, this.rank >= DETAILED);
        return;
      case 'phase.status':
        if (this.rank < STANDARD) return;
        if (event.status === 'running') run.phaseStarted(event.path, event.phase, event.at);
        else run.phaseEnded(event.path, event.phase, event.at, event.status);
        return;
      case 'breaker.state':
        if (this.rank < STANDARD) return;
        return this.spanEvent(run.root, 'ndf.breaker.state', event.at, breakerAttributes(event));
      case 'transition':
        if (this.rank < DEBUG) return;
        return this.spanEvent(run.root, 'ndf.transition', event.at, {
          [Attr.ACTOR]: event.actor,
          [Attr.MACHINE]: event.machine,
          [Attr.EVENT]: event.event,
          state: JSON.stringify(event.state),
        });
    }
  }

  forRun(runId: string, now: () => number): RunTraceHooks {
    return {
      context: (path, step) => {
        const run = this.runs.get(runId);
        if (!run) return undefined;
        const s = run.peek(path, step);
        return contextOf(s?.compensation ?? s?.attempt ?? run.root);
      },
      queued: (path, step, _attempt, idempotencyKey) => {
        if (this.rank < STANDARD) return;
        const run = this.runs.get(runId);
        if (!run) return;
        const at = now();
        const s = run.markQueued(path, step, at, idempotencyKey);
        if (s) run.endWait(s, at); // a retry's backoff ends
      },
      locked: (path, step) => {
        if (this.rank < DETAILED) return;
        const s = this.runs.get(runId)?.peek(path, step);
        if (!s?.attempt) return;
        const span = this.startSpan(runId, 'wait', `wait lock ${step}`, s.attempt, s.attempt.startedAt, {
          [Attr.WAIT]: 'lock',
          [Attr.STEP]: step,
        });
        this.endSpan(span, now());
      },
    };
  }

  /**
   * An executor-wide breaker change: an event on every traced run in flight (each run's executor
   * hands it over once per run, so the same event object is seen more than once).
   */
  private breakerChanged(event: Extract<RunEvent, { type: 'breaker.state' }>): void {
    if (this.rank < STANDARD || event === this.lastBreakerEvent) return;
    this.lastBreakerEvent = event;
    for (const run of this.runs.values())
      this.spanEvent(run.root, 'ndf.breaker.state', event.at, breakerAttributes(event));
  }

  private runStarted(event: Extract<RunEvent, { type: 'run.started' }>): void {
    const root = this.startSpan(event.runId, 'run', `run ${event.pattern}`, undefined, event.at, {
      [Attr.RUN_ID]: event.runId,
      [Attr.PATTERN]: event.pattern,
      [Attr.PATTERN_TYPE]: event.patternType,
    });
    const run = new RunTrace(event.runId, root, this.factory);
    this.runs.set(event.runId, run);
    if (this.rank >= STANDARD)
      run.pattern([event.pattern], event.at).attributes[Attr.PATTERN_TYPE] = event.patternType;
  }

  private runFinished(run: RunTrace, event: Extract<RunEvent, { type: 'run.finished' }>): void {
    run.closeAll(event.at);
    run.root.attributes[Attr.RUN_STATUS] = event.status;
    this.endSpan(
      run.root,
      event.at,
      event.status === 'succeeded' ? undefined : { type: event.status, message: `run ${event.status}` },
    );
    this.runs.delete(run.runId);
  }

  private startSpan(
    runId: string,
    kind: SpanKind,
    name: string,
    parent: TraceSpan | undefined,
    at: number,
    attributes: Attributes,
  ): TraceSpan {
    const span: TraceSpan = {
      traceId: parent?.traceId ?? randomHex(16),
      spanId: randomHex(8),
      parentSpanId: parent?.spanId,
      kind,
      name,
      runId,
      startedAt: at,
      endedAt: undefined,
      status: 'unset',
      error: undefined,
      attributes,
      events: [],
      flags: parent?.flags ?? 1,
    };
    for (const sink of this.sinks) {
      if (!sink.onStart) continue;
      try {
        const ids = sink.onStart(span);
        if (ids) {
          span.traceId = ids.traceId;
          span.spanId = ids.spanId;
          if (ids.flags !== undefined) span.flags = ids.flags;
        }
      } catch (error) {
        this.onSinkError(error);
      }
    }
    return span;
  }

  private endSpan(span: TraceSpan, at: number, error?: { type: string; message: string }): void {
    if (span.endedAt !== undefined) return;
    span.endedAt = at;
    if (error) {
      span.status = 'error';
      span.error = error;
      span.attributes[Attr.ERROR_TYPE] = error.type;
    } else span.status = 'ok';
    for (const sink of this.sinks) {
      try {
        sink.onEnd?.(span);
      } catch (e) {
        this.onSinkError(e);
      }
    }
  }

  private spanEvent(span: TraceSpan, name: string, at: number, attributes: Attributes): void {
    const event = { name, at, attributes };
    span.events.push(event);
    for (const sink of this.sinks) {
      try {
        sink.onEvent?.(span, event);
      } catch (e) {
        this.onSinkError(e);
      }
    }
  }
}

function breakerAttributes(event: Extract<RunEvent, { type: 'breaker.state' }>): Attributes {
  return { [Attr.AGENT_NAME]: event.agent, [Attr.BREAKER_FROM]: event.from, [Attr.BREAKER_TO]: event.to };
}

/** The W3C context of a span. */
function contextOf(span: TraceSpan): TraceContext {
  return { traceparent: formatTraceparent(span.traceId, span.spanId, span.flags) };
}
