import { describe, expect, it } from 'vitest';
import { analyzeTimeline } from '../../../src/tracing/timeline.js';
import { ganttHtml, ganttSvg } from '../../../src/tracing/gantt.js';
import type { Attributes, SpanKind, TraceSpan } from '../../../src/tracing/span.js';
import { ExecutionTracer } from '../../../src/tracing/ExecutionTracer.js';
import { memorySink } from '../../../src/tracing/memorySink.js';
import { T0, sagaRun } from './tracerFixture.js';

let n = 0;
function span(
  kind: SpanKind,
  parent: TraceSpan | undefined,
  from: number,
  to: number,
  attributes: Attributes = {},
  status: TraceSpan['status'] = 'ok',
): TraceSpan {
  n += 1;
  return {
    traceId: 'f'.repeat(32),
    spanId: n.toString(16).padStart(16, '0'),
    parentSpanId: parent?.spanId,
    kind,
    name: `${kind} ${n}`,
    runId: 'r',
    startedAt: from,
    endedAt: to,
    status,
    attributes,
    events: [],
    flags: 1,
  };
}

describe('analyzeTimeline', () => {
  it('finds the critical path of a parallel run, waits, and per-agent concurrency', () => {
    const run = span('run', undefined, 0, 45, { 'ndf.pattern': 'par', 'ndf.run.status': 'succeeded' });
    const p = span('pattern', run, 0, 45);
    const step = (name: string, from: number, to: number) =>
      span('step', p, from, to, { 'ndf.step': name, 'ndf.pattern': 'par', 'ndf.step.status': 'completed' });
    const x = step('x', 0, 10);
    const y = step('y', 0, 30);
    const z = step('z', 30, 45);
    const call = (
      s: TraceSpan,
      from: number,
      to: number,
      agent: string,
      status: TraceSpan['status'] = 'ok',
    ) => span('attempt', s, from, to, { 'gen_ai.agent.name': agent }, status);
    const spans = [
      run,
      p,
      x,
      y,
      z,
      call(x, 0, 10, 'A'),
      span('wait', y, 0, 5, { 'ndf.wait': 'queue' }),
      call(y, 5, 12, 'A', 'error'),
      span('wait', y, 12, 20, { 'ndf.wait': 'backoff' }),
      call(y, 20, 30, 'B'),
      call(z, 30, 45, 'A'),
    ];
    const [t] = analyzeTimeline(spans);
    expect(t?.criticalPath.map((s) => s.name)).toEqual(['y', 'z']);
    expect(t?.criticalPathMs).toBe(45);
    const yt = t?.steps.find((s) => s.name === 'y');
    expect(yt).toMatchObject({
      durationMs: 30,
      runMs: 17,
      waitMs: 13,
      queueMs: 5,
      backoffMs: 8,
      failedMs: 7,
    });
    expect(t?.agents.map((a) => [a.agent, a.calls, a.failures, a.busyMs, a.peakConcurrency])).toEqual([
      ['A', 3, 1, 27, 2],
      ['B', 1, 0, 10, 1],
    ]);
    expect(t?.agents[0]?.utilisation).toBeCloseTo(27 / 45);
    expect(t?.agents[0]?.concurrency).toEqual([
      { at: 0, active: 1 },
      { at: 5, active: 2 },
      { at: 10, active: 1 },
      { at: 12, active: 0 },
      { at: 30, active: 1 },
      { at: 45, active: 0 },
    ]);
    expect(t?.time).toEqual({ calls: 35, failedCalls: 7, queue: 5, locks: 0, backoff: 8, compensation: 0 });
  });

  it('analyses a traced saga: retries, compensations, every step on the critical path', async () => {
    const sink = memorySink();
    await sagaRun(new ExecutionTracer({ level: 'detailed', sinks: [sink] }));
    const [t] = analyzeTimeline(sink.spans);
    expect(t).toMatchObject({ name: 'saga', status: 'rolledBack', startedAt: T0, durationMs: 100 });
    expect(t?.criticalPath.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect(t?.retries).toEqual([{ step: 'b', attempt: 1, at: T0, errorType: 'ND_AGENT_ERROR' }]);
    expect(t?.compensations.map((c) => [c.step, c.status]).sort()).toEqual([
      ['a', 'compensated'],
      ['b', 'compensated'],
    ]);
    expect(t?.steps.find((s) => s.name === 'b')).toMatchObject({
      attempts: 2,
      durationMs: 100,
      backoffMs: 100,
    });
  });

  it('draws a Gantt chart as SVG and HTML with a row per step', async () => {
    const sink = memorySink();
    await sagaRun(new ExecutionTracer({ sinks: [sink] }));
    const [t] = analyzeTimeline(sink.spans);
    const svg = ganttSvg(t!);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const name of ['a', 'b', 'c']) expect(svg).toContain(`>${name}</text>`);
    expect(svg).toContain('b attempt 1 on w: failed');
    const html = ganttHtml([t!], 'Trace <x>');
    expect(html).toContain('<title>Trace &#60;x&#62;</title>');
    expect(html).toContain('<td>ND_AGENT_ERROR</td>');
  });
});
