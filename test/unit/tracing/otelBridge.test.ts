import { describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics';
import { ExecutionTracer } from '../../../src/tracing/ExecutionTracer.js';
import { openTelemetrySink } from '../../../src/tracing/otel.js';
import { memorySink } from '../../../src/tracing/memorySink.js';
import { parseTraceparent } from '../../../src/tracing/traceContext.js';
import { sagaRun } from './tracerFixture.js';

/** `name status` lines indented by depth (children in start order). */
function otelTree(spans: readonly ReadableSpan[]): string[] {
  const ms = (s: ReadableSpan) => s.startTime[0] * 1e3 + s.startTime[1] / 1e6;
  const sorted = [...spans].sort((a, b) => ms(a) - ms(b));
  const out: string[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    for (const s of sorted.filter((x) => x.parentSpanId === parent)) {
      const status = s.status.code === SpanStatusCode.ERROR ? 'error' : 'ok';
      out.push(`${'  '.repeat(depth)}${s.name} ${status}`);
      walk(s.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return out;
}

describe('OpenTelemetry bridge', () => {
  it('exports the span tree, span events and metrics of a run with a retry and a compensation', async () => {
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider();
    tracerProvider.addSpanProcessor(new SimpleSpanProcessor(exporter));
    const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({
      exporter: metricExporter,
      exportIntervalMillis: 600_000,
    });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const otel = await openTelemetrySink({ tracerProvider, meterProvider });
    expect(otel.enabled).toBe(true);
    const ours = memorySink();
    const { agent } = await sagaRun(new ExecutionTracer({ sinks: [otel, ours] }));

    const spans = exporter.getFinishedSpans();
    expect(otelTree(spans)).toEqual([
      'run saga error',
      '  invoke_workflow saga ok',
      '    step a ok',
      '      invoke_agent w ok',
      '      compensate a ok',
      '    step b ok',
      '      invoke_agent w error',
      '      invoke_agent w ok',
      '      compensate b ok',
      '    step c error',
      '      invoke_agent w error',
    ]);
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    // our spans carry the exported ids, and so does the traceparent each agent call received
    expect(new Set(ours.spans.map((s) => s.spanId))).toEqual(
      new Set(spans.map((s) => s.spanContext().spanId)),
    );
    const attempts = spans.filter((s) => s.name === 'invoke_agent w');
    expect(agent.calls.map((c) => parseTraceparent(c.traceContext?.traceparent)?.spanId).sort()).toEqual(
      attempts.map((s) => s.spanContext().spanId).sort(),
    );
    const failed = attempts.find((s) => s.attributes['ndf.step'] === 'c')!;
    expect(failed.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'w',
      'gen_ai.agent.id': 'w',
      'error.type': 'ND_AGENT_ERROR',
      'ndf.attempt': 1,
    });
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'c failed (scripted)' });
    const b = spans.find((s) => s.name === 'step b')!;
    expect(b.events.map((e) => [e.name, e.attributes?.['ndf.attempt']])).toEqual([['ndf.retry', 1]]);
    const workflow = spans.find((s) => s.name === 'invoke_workflow saga')!;
    expect(workflow.events.map((e) => e.attributes?.['ndf.step'])).toEqual(['b', 'a']);

    await reader.forceFlush();
    const metrics = metricExporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const named = (name: string) => metrics.find((m) => m.descriptor.name === name);
    const attemptsMetric = named('ndf.step.attempts')!;
    expect(attemptsMetric.descriptor.unit).toBe('{attempt}');
    const attemptsByStep = Object.fromEntries(
      (attemptsMetric.dataPoints as DataPoint<Histogram>[]).map((p) => [
        p.attributes['ndf.step'],
        p.value.sum,
      ]),
    );
    expect(attemptsByStep).toEqual({ a: 1, b: 2, c: 1 });
    expect(named('ndf.step.duration')?.descriptor.unit).toBe('s');
    const calls = (named('ndf.agent.duration')!.dataPoints as DataPoint<Histogram>[]).map((p) => [
      p.attributes['error.type'] ?? 'ok',
      p.value.count,
    ]);
    expect(calls.sort()).toEqual([
      ['ND_AGENT_ERROR', 2],
      ['ok', 2],
    ]);
    const active = named('ndf.agent.active')!.dataPoints.map((p) => p.value);
    expect(active).toEqual([0]);
    expect(
      named('ndf.compensations')!.dataPoints.map((p) => [p.attributes['ndf.compensation'], p.value]),
    ).toEqual([['compensated', 2]]);
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
  });

  it('keeps our own ids when no OpenTelemetry SDK is registered (the API is a no-op)', async () => {
    const ours = memorySink();
    const otel = await openTelemetrySink();
    const { agent } = await sagaRun(new ExecutionTracer({ sinks: [otel, ours] }));
    expect(ours.spans.every((s) => /^[0-9a-f]{16}$/.test(s.spanId) && !/^0+$/.test(s.spanId))).toBe(true);
    expect(parseTraceparent(agent.calls[0]?.traceContext?.traceparent)?.traceId).toBe(ours.spans[0]?.traceId);
  });

  it('rejects options that are not providers, naming them', async () => {
    await expect(openTelemetrySink({ tracerProvider: {} as never })).rejects.toThrow(/tracerProvider/);
  });
});

describe('importOptional', () => {
  it('answers undefined for a package that is not installed, and loads one that is', async () => {
    const { importOptional } = await import('../../../src/tracing/loadOptional.js');
    await expect(importOptional('@opentelemetry/no-such-package')).resolves.toBeUndefined();
    const api = await importOptional<{ trace: unknown }>('@opentelemetry/api');
    expect(api?.trace).toBeTypeOf('object');
  });
});
