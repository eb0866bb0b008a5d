import type * as Api from '@opentelemetry/api';
import { z } from 'zod';
import { parseWith } from '../core/validate.js';
import { importOptional } from './loadOptional.js';
import { SpanMetrics } from './otelMetrics.js';
import type { SpanIds, TraceSink, TraceSpan } from './span.js';

/** The instrumentation scope name of our spans and metrics. */
export const INSTRUMENTATION_SCOPE = 'natural-delegation';

/** A TracerProvider of `@opentelemetry/api` (structural, so this file's types need no OTel install). */
export interface OtelTracerProvider {
  getTracer(name: string, version?: string): unknown;
}
/** A MeterProvider of `@opentelemetry/api`. */
export interface OtelMeterProvider {
  getMeter(name: string, version?: string): unknown;
}

const optionsSchema = z
  .object({
    tracerProvider: z
      .custom<OtelTracerProvider>((p) => typeof (p as OtelTracerProvider | null)?.getTracer === 'function', {
        message: 'tracerProvider must have getTracer()',
      })
      .optional(),
    meterProvider: z
      .custom<OtelMeterProvider>((p) => typeof (p as OtelMeterProvider | null)?.getMeter === 'function', {
        message: 'meterProvider must have getMeter()',
      })
      .optional(),
    /** Record metrics too (default true). */
    metrics: z.boolean().default(true),
  })
  .strict();
/** Options of {@link openTelemetrySink}: the providers default to the global ones of `@opentelemetry/api`. */
export type OpenTelemetrySinkOptions = z.input<typeof optionsSchema>;

/** A {@link TraceSink} that mirrors spans into OpenTelemetry; `enabled` is false when `@opentelemetry/api` is absent. */
export interface OpenTelemetrySink extends TraceSink {
  readonly enabled: boolean;
}

/**
 * Mirrors an {@link ExecutionTracer}'s spans into OpenTelemetry spans (same tree, times, attributes
 * and events; error status with `error.type`), and records the metrics of {@link MetricName}. Our
 * spans take the OpenTelemetry span ids, so the `traceparent` sent to agents names the exported
 * span. A run's span is a child of the OpenTelemetry context active when the run starts.
 * `@opentelemetry/api` is an optional peer dependency, imported here on first use: without it the
 * sink does nothing (`enabled` false). With the API but no registered SDK, its spans are no-ops and
 * our own ids are kept.
 *
 * Span names and attributes follow the OpenTelemetry GenAI agent conventions: `invoke_workflow
 * <pattern>`, `invoke_agent <agent>` with `gen_ai.operation.name`, `gen_ai.agent.name`,
 * `gen_ai.agent.id`, `error.type`; ours are under `ndf.` (docs/observability.md).
 *
 * @throws PatternValidationError for bad options
 * @example
 * const tracer = new ExecutionTracer({ sinks: [await openTelemetrySink()] });
 */
export async function openTelemetrySink(options: OpenTelemetrySinkOptions = {}): Promise<OpenTelemetrySink> {
  const o = parseWith(optionsSchema, options, 'openTelemetrySink');
  const api = await importOptional<typeof Api>('@opentelemetry/api');
  if (!api) return { enabled: false };
  const tracer = (
    (o.tracerProvider as Api.TracerProvider | undefined) ?? api.trace.getTracerProvider()
  ).getTracer(INSTRUMENTATION_SCOPE);
  const metrics = o.metrics
    ? new SpanMetrics(
        ((o.meterProvider as Api.MeterProvider | undefined) ?? api.metrics.getMeterProvider()).getMeter(
          INSTRUMENTATION_SCOPE,
        ),
      )
    : undefined;
  return new OtelBridge(api, tracer, metrics);
}

/** The OpenTelemetry spans of the spans in flight, and the contexts of every span of runs in flight. */
class OtelBridge implements OpenTelemetrySink {
  readonly enabled = true;
  private readonly live = new Map<string, Api.Span>();
  /** Span contexts by span id (an ended step still parents its compensation), per run. */
  private readonly contexts = new Map<string, Map<string, Api.SpanContext>>();

  constructor(
    private readonly api: typeof Api,
    private readonly tracer: Api.Tracer,
    private readonly metrics: SpanMetrics | undefined,
  ) {}

  onStart(span: TraceSpan): SpanIds | undefined {
    const { api } = this;
    let runContexts = this.contexts.get(span.runId);
    if (!runContexts) {
      runContexts = new Map();
      this.contexts.set(span.runId, runContexts);
    }
    const parent = span.parentSpanId === undefined ? undefined : runContexts.get(span.parentSpanId);
    const context = parent ? api.trace.setSpanContext(api.ROOT_CONTEXT, parent) : api.context.active();
    const otel = this.tracer.startSpan(
      span.name,
      {
        startTime: span.startedAt,
        attributes: span.attributes,
        kind: span.kind === 'attempt' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL,
      },
      context,
    );
    this.metrics?.started(span);
    const sc = otel.spanContext();
    if (!api.isSpanContextValid(sc)) return undefined;
    this.live.set(sc.spanId, otel);
    runContexts.set(sc.spanId, sc);
    return { traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags };
  }

  onEvent(span: TraceSpan, event: TraceSpan['events'][number]): void {
    this.live.get(span.spanId)?.addEvent(event.name, event.attributes, event.at);
    this.metrics?.event(event);
  }

  onEnd(span: TraceSpan): void {
    this.metrics?.ended(span);
    const otel = this.live.get(span.spanId);
    if (otel) {
      this.live.delete(span.spanId);
      otel.setAttributes(span.attributes);
      if (span.status === 'error') {
        otel.setStatus({ code: this.api.SpanStatusCode.ERROR, message: span.error?.message ?? '' });
      }
      otel.end(span.endedAt);
    }
    if (span.kind === 'run') this.contexts.delete(span.runId);
  }
}
