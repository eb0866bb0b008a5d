import type * as TraceBase from '@opentelemetry/sdk-trace-base';
import type * as SdkMetrics from '@opentelemetry/sdk-metrics';
import type * as TraceExporter from '@opentelemetry/exporter-trace-otlp-http';
import type * as MetricExporter from '@opentelemetry/exporter-metrics-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import { z } from 'zod';
import { PatternValidationError } from '../core/errors.js';
import { parseWith } from '../core/validate.js';
import { importOptional } from './loadOptional.js';
import { openTelemetrySink, type OpenTelemetrySink } from './otel.js';

const optionsSchema = z
  .object({
    /**
     * The collector's base URL (as `OTEL_EXPORTER_OTLP_ENDPOINT`): spans go to `<url>/v1/traces`,
     * metrics to `<url>/v1/metrics`.
     */
    url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
    /** `service.name` of the exported resource (default `OTEL_SERVICE_NAME`, else `ndf`). */
    serviceName: z.string().min(1).optional(),
    /** Export metrics too (default true). */
    metrics: z.boolean().default(true),
  })
  .strict();
/** Options of {@link otlpExport}. */
export type OtlpExportOptions = z.input<typeof optionsSchema>;

/** An OTLP/HTTP export: its sink for an ExecutionTracer, and its shutdown (flushes what is left). */
export interface OtlpExport {
  readonly sink: OpenTelemetrySink;
  /** Flushes every span and metric to the collector, then stops; rejects with the export error. */
  shutdown(): Promise<void>;
}

/** The packages an OTLP export needs, each named in the error when missing. */
const PACKAGES = [
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/sdk-metrics',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/exporter-metrics-otlp-http',
  '@opentelemetry/resources',
] as const;

async function load<T>(name: (typeof PACKAGES)[number]): Promise<T> {
  const mod = await importOptional<T>(name);
  if (mod === undefined) {
    throw new PatternValidationError(
      `OTLP export needs the package ${name}; install it with: npm install ${PACKAGES.join(' ')}`,
      { field: 'otlp' },
    );
  }
  return mod;
}

/**
 * Sets up an OTLP/HTTP (JSON) export of spans and metrics with the standard OpenTelemetry SDK
 * packages (optional dependencies, imported here on first use): a tracer provider with a batch
 * span processor and a meter provider with a periodic reader (every 10 s, and at shutdown), both
 * private to this export (nothing is registered globally).
 *
 * @throws PatternValidationError (field `otlp`) naming a missing package, or a bad URL
 * @example
 * const otlp = await otlpExport({ url: 'http://127.0.0.1:4318' });
 * await executor.run('p', {}, { tracer: new ExecutionTracer({ sinks: [otlp.sink] }) });
 * await otlp.shutdown();
 */
export async function otlpExport(options: OtlpExportOptions): Promise<OtlpExport> {
  const o = parseWith(optionsSchema, options, 'otlp');
  await load('@opentelemetry/api');
  const [traceBase, sdkMetrics, traceExporter, metricExporter, resources] = await Promise.all([
    load<typeof TraceBase>('@opentelemetry/sdk-trace-base'),
    load<typeof SdkMetrics>('@opentelemetry/sdk-metrics'),
    load<typeof TraceExporter>('@opentelemetry/exporter-trace-otlp-http'),
    load<typeof MetricExporter>('@opentelemetry/exporter-metrics-otlp-http'),
    load<typeof Resources>('@opentelemetry/resources'),
  ]);
  const base = o.url.replace(/\/+$/, '');
  const resource = new resources.Resource({
    'service.name': o.serviceName ?? process.env['OTEL_SERVICE_NAME'] ?? 'ndf',
  });
  const tracerProvider = new traceBase.BasicTracerProvider({
    resource,
    spanProcessors: [
      new traceBase.BatchSpanProcessor(new traceExporter.OTLPTraceExporter({ url: `${base}/v1/traces` })),
    ],
  });
  const meterProvider = o.metrics
    ? new sdkMetrics.MeterProvider({
        resource,
        readers: [
          new sdkMetrics.PeriodicExportingMetricReader({
            exporter: new metricExporter.OTLPMetricExporter({ url: `${base}/v1/metrics` }),
            exportIntervalMillis: 10_000,
          }),
        ],
      })
    : undefined;
  const sink = await openTelemetrySink({
    tracerProvider,
    ...(meterProvider ? { meterProvider } : {}),
    metrics: o.metrics,
  });
  return {
    sink,
    shutdown: async () => {
      await Promise.all([tracerProvider.forceFlush(), meterProvider?.forceFlush()]);
      await Promise.all([tracerProvider.shutdown(), meterProvider?.shutdown()]);
    },
  };
}
