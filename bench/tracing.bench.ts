/**
 * `npm run bench:tracing`: what tracing costs a run. A sequential pattern on a no-op local agent,
 * without a tracer (the baseline) against the same run with an ExecutionTracer at each level
 * (its spans handed to a sink that drops them), and with the OpenTelemetry bridge on an SDK
 * tracer provider whose exporter drops every batch (a no-op exporter). Pairs are measured in
 * alternating rounds in the same run (bench/measure.ts); the ratio is on ops per CPU-second.
 * Sizes 10 and 1,000 steps show that the cost grows with the steps, not faster.
 * BENCH_MS (default 1500) is the time per measurement.
 */
import Table from 'cli-table3';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { lib } from './lib.js';
import { measurePair, type Row } from './measure.js';
import type * as Tracing from '../src/tracing/index.js';

const tracing = (await import(new URL('./.lib/tracing/index.js', import.meta.url).href)) as typeof Tracing;
const { defineAgent, PatternExecutor, PatternRegistry, SequentialDelegationPattern } = lib;
const { ExecutionTracer, openTelemetrySink } = tracing;

const durationMs = Number(process.env['BENCH_MS'] ?? 1500);

function executorFor(steps: number) {
  const names = Array.from({ length: steps }, (_, i) => `step${i}`);
  const registry = new PatternRegistry();
  const executor = new PatternExecutor(registry, {
    agents: [defineAgent({ id: 'noop', capabilities: names, maxConcurrent: 1_000_000, handler: () => 1 })],
  });
  registry.registerPattern(new SequentialDelegationPattern({ name: 'seq', steps: names }));
  return executor;
}

/** An exporter that drops every batch at once. */
const noopExporter: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => undefined,
};
const drop: Tracing.TraceSink = { onEnd: () => undefined };

/** A traced row with the no-tracer row it was measured against (alternating rounds). */
const rows: { ours: Row; base: Row }[] = [];
for (const steps of [10, 1000]) {
  const executor = executorFor(steps);
  const baseline = `no tracer: sequential ${steps} steps`;
  const levels =
    steps === 10 ? (['minimal', 'standard', 'detailed', 'debug'] as const) : (['standard'] as const);
  for (const level of levels) {
    const tracer = new ExecutionTracer({ level, sinks: [drop] });
    const [base, ours] = await measurePair(
      { baseline, ours: `tracer ${level}: sequential ${steps} steps` },
      durationMs,
      () => executor.run('seq'),
      () => executor.run('seq', {}, { tracer }),
    );
    rows.push({ ours, base });
  }
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(noopExporter)] });
  const meterProvider = new MeterProvider();
  const otel = await openTelemetrySink({ tracerProvider, meterProvider });
  const tracer = new ExecutionTracer({ level: 'standard', sinks: [otel] });
  const [base, ours] = await measurePair(
    { baseline, ours: `tracer standard + OpenTelemetry (no-op exporter): sequential ${steps} steps` },
    durationMs,
    () => executor.run('seq'),
    () => executor.run('seq', {}, { tracer }),
  );
  rows.push({ ours, base });
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
  await executor.close();
}

const table = new Table({
  head: ['benchmark', 'runs/CPU-s', 'no tracer runs/CPU-s', 'vs no tracer', 'p50 ms', 'no tracer p50 ms'],
});
for (const { ours, base } of rows) {
  table.push([
    ours.name,
    (ours.opsPerCpuSec ?? 0).toLocaleString('en'),
    (base.opsPerCpuSec ?? 0).toLocaleString('en'),
    ours.ratio === undefined ? '' : `${ours.ratio}×`,
    ours.p50Ms,
    base.p50Ms,
  ]);
}
console.log(table.toString());
console.log(
  `node ${process.version}; ${durationMs} ms per measurement, alternating rounds with the baseline`,
);
process.exit(0);
