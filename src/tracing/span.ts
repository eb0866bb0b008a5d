/** The kinds of span a run is made of: run → pattern → phase → pattern … → step → attempt. */
export type SpanKind = 'run' | 'pattern' | 'phase' | 'step' | 'attempt' | 'wait' | 'compensation';

/** A span attribute value (OpenTelemetry's primitive attribute values). */
export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

/** Something that happened at one instant inside a span (a retry, a breaker transition…). */
export interface SpanEvent {
  readonly name: string;
  /** Epoch ms (the executor's clock). */
  readonly at: number;
  readonly attributes: Attributes;
}

/**
 * One timed operation of a run. Times are epoch ms of the executor's clock; ids are W3C hex
 * (trace 32, span 16). `endedAt` is set once the span has ended.
 */
export interface TraceSpan {
  traceId: string;
  spanId: string;
  /** Absent on a run's root span. */
  readonly parentSpanId?: string | undefined;
  readonly kind: SpanKind;
  readonly name: string;
  readonly runId: string;
  readonly startedAt: number;
  endedAt?: number | undefined;
  status: 'unset' | 'ok' | 'error';
  /** Set with status `error`: the error's code (or the run status) and message. */
  error?: { readonly type: string; readonly message: string } | undefined;
  readonly attributes: Attributes;
  readonly events: SpanEvent[];
  /** W3C trace flags of the span (bit 0: sampled). */
  flags: number;
}

/** Ids a sink assigns to a span it mirrors (an OpenTelemetry span's own ids). */
export interface SpanIds {
  readonly traceId: string;
  readonly spanId: string;
  readonly flags?: number | undefined;
}

/**
 * Where an {@link ExecutionTracer} sends spans. `onStart` may return the ids of the span the sink
 * made for it (the OpenTelemetry bridge does), which then become the span's ids, so the trace
 * file, the propagated `traceparent` and the exported spans agree. Calls are synchronous and
 * must not throw (a throw is reported through `onSinkError`, never into the run).
 */
export interface TraceSink {
  onStart?(span: TraceSpan): SpanIds | undefined;
  onEvent?(span: TraceSpan, event: SpanEvent): void;
  onEnd?(span: TraceSpan): void;
}

/** Attribute names: OpenTelemetry GenAI conventions, plus ours under `ndf.`. */
export const Attr = {
  OPERATION: 'gen_ai.operation.name',
  AGENT_NAME: 'gen_ai.agent.name',
  AGENT_ID: 'gen_ai.agent.id',
  ERROR_TYPE: 'error.type',
  RUN_ID: 'ndf.run.id',
  PATTERN: 'ndf.pattern',
  PATTERN_TYPE: 'ndf.pattern.type',
  PHASE: 'ndf.phase',
  STEP: 'ndf.step',
  STEP_STATUS: 'ndf.step.status',
  ATTEMPT: 'ndf.attempt',
  ATTEMPTS: 'ndf.attempts',
  IDEMPOTENCY_KEY: 'ndf.idempotency_key',
  WAIT: 'ndf.wait',
  RUN_STATUS: 'ndf.run.status',
  BREAKER_FROM: 'ndf.breaker.from',
  BREAKER_TO: 'ndf.breaker.to',
  COMPENSATION: 'ndf.compensation',
  ACTOR: 'ndf.actor',
  MACHINE: 'ndf.machine',
  EVENT: 'ndf.event',
} as const;
