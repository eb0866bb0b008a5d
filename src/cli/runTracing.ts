import pc from 'picocolors';
import { ExecutionTracer } from '../tracing/ExecutionTracer.js';
import { TRACE_LEVELS, type TraceLevel } from '../tracing/levels.js';
import type { TraceSink } from '../tracing/span.js';
import { spanRecordSink } from '../tracing/traceFile.js';
import type { OtlpExport } from '../tracing/otlp.js';
import { UsageError } from './exit.js';
import type { TraceWriter } from './output/trace.js';

/** The tracing of one `ndf run`: the tracer to pass to the run, and what to close after it. */
export interface RunTracing {
  readonly tracer: ExecutionTracer | undefined;
  /** Flushes the OTLP export (an export failure is reported on stderr, not fatal). */
  close(): Promise<void>;
}

/**
 * Builds the tracer of `ndf run`: span records into the `--trace` file, and spans and metrics to
 * `--otlp` (or `OTEL_EXPORTER_OTLP_ENDPOINT`). No tracer without either.
 *
 * @throws UsageError for an unknown `--trace-level`, or a missing OTLP package or bad URL
 */
export async function startRunTracing(options: {
  trace: TraceWriter | undefined;
  traceLevel: string | undefined;
  otlp: string | undefined;
}): Promise<RunTracing> {
  const level = options.traceLevel ?? 'standard';
  if (!(TRACE_LEVELS as readonly string[]).includes(level))
    throw new UsageError(`--trace-level: ${level} is not one of ${TRACE_LEVELS.join(', ')}`);
  if (!options.trace && options.otlp === undefined) {
    if (options.traceLevel !== undefined)
      throw new UsageError('--trace-level needs --trace <file> or --otlp <url>');
    return { tracer: undefined, close: async () => undefined };
  }
  const sinks: TraceSink[] = [];
  const { trace } = options;
  if (trace) sinks.push(spanRecordSink((record) => trace.write(record)));
  let otlp: OtlpExport | undefined;
  if (options.otlp !== undefined) {
    const { otlpExport } = await import('../tracing/otlp.js');
    try {
      otlp = await otlpExport({ url: options.otlp });
    } catch (error) {
      throw new UsageError(`--otlp: ${error instanceof Error ? error.message : String(error)}`);
    }
    sinks.push(otlp.sink);
  }
  return {
    tracer: new ExecutionTracer({ level: level as TraceLevel, sinks }),
    close: async () => {
      try {
        await otlp?.shutdown();
      } catch (error) {
        process.stderr.write(
          `${pc.yellow('!')} --otlp: export failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      }
    },
  };
}
