/**
 * natural-delegation/tracing: the execution tracer (levels, span tree), its sinks, W3C trace
 * context helpers, the OpenTelemetry bridge (loaded lazily; a no-op without
 * `@opentelemetry/api`) and timeline analysis. See docs/observability.md.
 */
export { ExecutionTracer } from './ExecutionTracer.js';
export type { ExecutionTracerOptions, RunTraceHooks, RunTracer } from './ExecutionTracer.js';
export { TraceLevel, TRACE_LEVELS } from './levels.js';
export { memorySink } from './memorySink.js';
export type { MemorySink } from './memorySink.js';
export { Attr } from './span.js';
export type {
  Attributes,
  AttributeValue,
  SpanEvent,
  SpanIds,
  SpanKind,
  TraceSink,
  TraceSpan,
} from './span.js';
export {
  formatTraceparent,
  parseTraceparent,
  remoteSpanContext,
  traceContextFromHeaders,
  traceContextSchema,
  traceHeaders,
} from './traceContext.js';
export type { ParsedTraceparent } from './traceContext.js';
export { openTelemetrySink, INSTRUMENTATION_SCOPE } from './otel.js';
export type {
  OpenTelemetrySink,
  OpenTelemetrySinkOptions,
  OtelMeterProvider,
  OtelTracerProvider,
} from './otel.js';
export { MetricName } from './metricNames.js';
export type { TraceContext } from '../core/agent.js';
