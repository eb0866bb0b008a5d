import type { SerializedError } from '../core/errors.js';
import { Attr, type Attributes, type SpanKind, type TraceSpan } from './span.js';

/** What a run's span bookkeeping needs from its tracer. */
export interface SpanFactory {
  /** Starts a span (ids assigned, sinks told). */
  start(
    run: string,
    kind: SpanKind,
    name: string,
    parent: TraceSpan | undefined,
    at: number,
    attributes: Attributes,
  ): TraceSpan;
  end(span: TraceSpan, at: number, error?: { type: string; message: string }): void;
  event(span: TraceSpan, name: string, at: number, attributes: Attributes): void;
}

/** The open spans of one step. */
export interface StepSpans {
  readonly span: TraceSpan;
  attempt?: TraceSpan | undefined;
  wait?: TraceSpan | undefined;
  compensation?: TraceSpan | undefined;
  /** When the current attempt began waiting for an agent (until it runs). */
  queuedSince?: number | undefined;
}

const SEP = '\u0000';

/** The error part of a span from a run event's serialized error. */
export function spanError(
  error: SerializedError | undefined,
  fallback: string,
): { type: string; message: string } {
  return { type: error?.code ?? error?.name ?? fallback, message: error?.message ?? fallback };
}

/** The spans of one run in flight: the run, its patterns, current phases and steps. */
export class RunTrace {
  private readonly patterns = new Map<string, TraceSpan>();
  /** The running phase of each meta pattern (phases run one at a time). */
  private readonly phases = new Map<string, TraceSpan>();
  private readonly steps = new Map<string, StepSpans>();
  /**
   * Steps queued for their first attempt, whose span is not started yet: it starts (back-dated to
   * this time) at the step's first status, by when a meta pattern has reported the phase that
   * spawned it (XState starts the children of an initial state before that report).
   */
  private readonly queued = new Map<string, { at: number; idempotencyKey: string }>();

  constructor(
    readonly runId: string,
    readonly root: TraceSpan,
    private readonly spans: SpanFactory,
  ) {}

  /** The `invoke_workflow` span of the pattern at `path`, started on first use. */
  pattern(path: readonly string[], at: number): TraceSpan {
    const key = path.join(SEP);
    const found = this.patterns.get(key);
    if (found) return found;
    const name = path[path.length - 1] ?? '';
    const above = path.slice(0, -1);
    const parent =
      above.length === 0 ? this.root : (this.phases.get(above.join(SEP)) ?? this.pattern(above, at));
    const span = this.spans.start(this.runId, 'pattern', `invoke_workflow ${name}`, parent, at, {
      [Attr.OPERATION]: 'invoke_workflow',
      [Attr.PATTERN]: name,
      [Attr.RUN_ID]: this.runId,
    });
    this.patterns.set(key, span);
    return span;
  }

  phaseStarted(path: readonly string[], phase: string, at: number): void {
    const parent = this.pattern(path, at);
    const key = path.join(SEP);
    const open = this.phases.get(key);
    if (open) this.spans.end(open, at);
    this.phases.set(
      key,
      this.spans.start(this.runId, 'phase', `phase ${phase}`, parent, at, { [Attr.PHASE]: phase }),
    );
  }

  phaseEnded(path: readonly string[], phase: string, at: number, status: string): void {
    const key = path.join(SEP);
    const open = this.phases.get(key);
    if (!open || open.attributes[Attr.PHASE] !== phase) return;
    this.endPatternsUnder(open, at);
    this.spans.end(
      open,
      at,
      status === 'succeeded' ? undefined : { type: status, message: `phase ${status}` },
    );
    this.phases.delete(key);
  }

  /** Ends the child patterns started under `phase` (they ran inside it); they stay known for a later rollback. */
  private endPatternsUnder(phase: TraceSpan, at: number): void {
    for (const [key, span] of this.patterns) {
      if (span.parentSpanId !== phase.spanId) continue;
      this.closeUnder(key, at);
      this.spans.end(span, at);
    }
  }

  /** Ends the steps of the pattern at `key` still open. */
  private closeUnder(key: string, at: number): void {
    for (const [stepKey, s] of this.steps) {
      if (!stepKey.startsWith(key + SEP)) continue;
      this.closeStep(s, at, { type: 'unfinished', message: 'the pattern ended first' });
    }
  }

  /** An attempt of the step starts waiting for an agent at `at`. */
  markQueued(
    path: readonly string[],
    step: string,
    at: number,
    idempotencyKey: string,
  ): StepSpans | undefined {
    const key = `${path.join(SEP)}${SEP}${step}`;
    const found = this.steps.get(key);
    if (found) found.queuedSince = at;
    else if (!this.queued.has(key)) this.queued.set(key, { at, idempotencyKey });
    return found;
  }

  /** The spans of a step, its span started on first use (back-dated to when it was queued). */
  step(path: readonly string[], step: string, at: number): StepSpans {
    const key = `${path.join(SEP)}${SEP}${step}`;
    const found = this.steps.get(key);
    if (found) return found;
    const queued = this.queued.get(key);
    this.queued.delete(key);
    const startedAt = queued?.at ?? at;
    const idempotencyKey = queued?.idempotencyKey;
    const parent = this.pattern(path, startedAt);
    const attributes: Attributes = {
      [Attr.STEP]: step,
      [Attr.PATTERN]: path[path.length - 1] ?? '',
    };
    if (idempotencyKey !== undefined) attributes[Attr.IDEMPOTENCY_KEY] = idempotencyKey;
    const spans: StepSpans = {
      span: this.spans.start(this.runId, 'step', `step ${step}`, parent, startedAt, attributes),
      queuedSince: queued?.at,
    };
    this.steps.set(key, spans);
    return spans;
  }

  /** The step's spans if it has any (no span is started). */
  peek(path: readonly string[], step: string): StepSpans | undefined {
    return this.steps.get(`${path.join(SEP)}${SEP}${step}`);
  }

  /** Ends a step's open attempt, wait and compensation, then the step itself when open. */
  closeStep(s: StepSpans, at: number, error?: { type: string; message: string }): void {
    this.endWait(s, at);
    if (s.attempt) this.spans.end(s.attempt, at, error);
    s.attempt = undefined;
    if (s.compensation) this.spans.end(s.compensation, at, error);
    s.compensation = undefined;
    if (s.span.endedAt === undefined) this.spans.end(s.span, at, error);
  }

  endWait(s: StepSpans, at: number): void {
    if (s.wait) this.spans.end(s.wait, at);
    s.wait = undefined;
  }

  /** Ends everything still open (the run ended), innermost first. */
  closeAll(at: number): void {
    for (const s of this.steps.values()) {
      this.closeStep(s, at, { type: 'unfinished', message: 'the run ended first' });
    }
    this.steps.clear();
    for (const span of this.phases.values()) this.spans.end(span, at);
    this.phases.clear();
    for (const span of [...this.patterns.values()].reverse()) this.spans.end(span, at);
    this.patterns.clear();
  }
}
