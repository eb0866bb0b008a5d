import { describe, expect, it } from 'vitest';
import { ExecutionTracer } from '../../../src/tracing/ExecutionTracer.js';
import { memorySink } from '../../../src/tracing/memorySink.js';
import { parseTraceparent } from '../../../src/tracing/traceContext.js';
import type { TraceSpan } from '../../../src/tracing/span.js';
import { isPatternValidationError } from '../../../src/core/errors.js';
import { T0, sagaRun } from './tracerFixture.js';

/** `kind name` lines, indented by depth, children in start order. */
function tree(spans: readonly TraceSpan[]): string[] {
  const byParent = new Map<string | undefined, TraceSpan[]>();
  for (const s of [...spans].sort((x, y) => x.startedAt - y.startedAt)) {
    const list = byParent.get(s.parentSpanId) ?? [];
    list.push(s);
    byParent.set(s.parentSpanId, list);
  }
  const out: string[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    for (const s of byParent.get(parent) ?? []) {
      out.push(`${'  '.repeat(depth)}${s.name} ${s.status}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return out;
}

describe('ExecutionTracer', () => {
  it('builds the span tree of a sequential run with a retry and a compensation', async () => {
    const sink = memorySink();
    const { result, agent } = await sagaRun(new ExecutionTracer({ level: 'standard', sinks: [sink] }));
    expect(result.status).toBe('rolledBack');
    expect(tree(sink.spans)).toEqual([
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
    const traceIds = new Set(sink.spans.map((s) => s.traceId));
    expect(traceIds.size).toBe(1);
    const run = sink.spans.find((s) => s.kind === 'run')!;
    expect(run.attributes).toMatchObject({
      'ndf.run.id': 'r1',
      'ndf.run.status': 'rolledBack',
      'error.type': 'rolledBack',
    });
    const b = sink.spans.find((s) => s.name === 'step b')!;
    expect(b.attributes).toMatchObject({ 'ndf.attempts': 2, 'ndf.idempotency_key': 'r1/saga/b' });
    expect(b.events).toEqual([
      {
        name: 'ndf.retry',
        at: T0,
        attributes: {
          'ndf.attempt': 1,
          'error.type': 'ND_AGENT_ERROR',
          'error.message': 'b failed (scripted)',
        },
      },
    ]);
    const attemptsOfB = sink.spans.filter((s) => s.kind === 'attempt' && s.parentSpanId === b.spanId);
    expect(
      attemptsOfB.map((s) => [
        s.attributes['ndf.attempt'],
        s.startedAt - T0,
        s.attributes['gen_ai.agent.name'],
      ]),
    ).toEqual([
      [1, 0, 'w'],
      [2, 100, 'w'],
    ]);
    // the agent saw the attempt's own span as its parent
    const callsOfB = agent.calls.filter((c) => c.step === 'b');
    expect(callsOfB.map((c) => parseTraceparent(c.traceContext?.traceparent)?.spanId)).toEqual(
      attemptsOfB.map((s) => s.spanId),
    );
    const c = sink.spans.find((s) => s.name === 'step c')!;
    expect(c.error).toEqual({ type: 'ND_AGENT_ERROR', message: 'c failed (scripted)' });
    const pattern = sink.spans.find((s) => s.kind === 'pattern')!;
    expect(pattern.events.map((e) => [e.name, e.attributes['ndf.step']])).toEqual([
      ['ndf.compensation', 'b'],
      ['ndf.compensation', 'a'],
    ]);
  });

  it('records only the run at minimal, and waits at detailed', async () => {
    const minimal = memorySink();
    await sagaRun(new ExecutionTracer({ level: 'minimal', sinks: [minimal] }));
    expect(minimal.spans.map((s) => s.name)).toEqual(['run saga']);

    const detailed = memorySink();
    await sagaRun(new ExecutionTracer({ level: 'detailed', sinks: [detailed] }));
    const waits = detailed.spans
      .filter((s) => s.kind === 'wait')
      .map((s) => [s.name, s.startedAt - T0, (s.endedAt ?? 0) - T0]);
    expect(waits).toEqual([
      ['wait queue a', 0, 0],
      ['wait queue b', 0, 0],
      ['wait backoff b', 0, 100],
      ['wait queue b', 100, 100],
      ['wait queue c', 100, 100],
    ]);
  });

  it('adds machine transitions as events at debug', async () => {
    const sink = memorySink();
    await sagaRun(new ExecutionTracer({ level: 'debug', sinks: [sink] }));
    const run = sink.spans.find((s) => s.kind === 'run')!;
    const transitions = run.events.filter((e) => e.name === 'ndf.transition');
    expect(transitions.length).toBeGreaterThan(10);
    expect(transitions[0]?.attributes['ndf.machine']).toBeTypeOf('string');
  });

  it('sends no trace context when the run is not traced', async () => {
    const { agent } = await sagaRun(undefined);
    expect(agent.calls.map((c) => c.traceContext)).toEqual(agent.calls.map(() => undefined));
  });

  it('keeps the ids a sink assigns, and survives a sink that throws', async () => {
    let n = 0;
    const errors: unknown[] = [];
    const sink = memorySink();
    const tracer = new ExecutionTracer({
      sinks: [
        { onStart: () => ({ traceId: 'a'.repeat(32), spanId: (++n).toString(16).padStart(16, '0') }) },
        {
          onEnd: () => {
            throw new Error('sink broke');
          },
        },
        sink,
      ],
      onSinkError: (e) => errors.push(e),
    });
    const { result, agent } = await sagaRun(tracer);
    expect(result.status).toBe('rolledBack');
    expect(new Set(sink.spans.map((s) => s.traceId))).toEqual(new Set(['a'.repeat(32)]));
    expect(agent.calls[0]?.traceContext?.traceparent).toMatch(/^00-a{32}-0{15}[0-9a-f]-01$/);
    expect(errors.length).toBe(sink.spans.length);
  });

  it('rejects an unknown level, naming it', () => {
    try {
      new ExecutionTracer({ level: 'verbose' as never });
      expect.unreachable();
    } catch (error) {
      expect(isPatternValidationError(error)).toBe(true);
      expect(String(error)).toContain('level');
    }
  });
});
