import { describe, expect, it } from 'vitest';
import { RunRecorder } from '../../src/runtime/RunRecorder.js';
import type { RunEvent } from '../../src/core/events.js';

function recorder() {
  let now = 1_000;
  const events: RunEvent[] = [];
  const r = new RunRecorder(
    'run-1',
    () => now,
    (e) => events.push(e),
  );
  return {
    r,
    events,
    at: (t: number) => {
      now = t;
    },
  };
}

const error = { name: 'AgentError', code: 'ND_AGENT_ERROR', message: 'boom' };

describe('RunRecorder', () => {
  it('declares steps up front as pending reports', () => {
    const { r } = recorder();
    r.declare(['p'], ['a', 'b']);
    expect(r.stepReports()).toEqual([
      {
        name: 'a',
        path: ['p'],
        status: 'pending',
        agent: undefined,
        attempts: 0,
        durationMs: 0,
        output: undefined,
        error: undefined,
        compensation: 'none',
        compensationError: undefined,
      },
      {
        name: 'b',
        path: ['p'],
        status: 'pending',
        agent: undefined,
        attempts: 0,
        durationMs: 0,
        output: undefined,
        error: undefined,
        compensation: 'none',
        compensationError: undefined,
      },
    ]);
    expect(r.statuses(['p'])).toEqual({ a: 'pending', b: 'pending' });
  });

  it('tracks a step from first start to completion and emits step.status events', () => {
    const { r, events, at } = recorder();
    r.status(['p'], 'a', 'running', { attempt: 1, agent: 'w' });
    at(1_100);
    r.status(['p'], 'a', 'retrying', { attempt: 1, error });
    at(1_300);
    r.status(['p'], 'a', 'running', { attempt: 2, agent: 'w2' });
    at(1_450);
    r.status(['p'], 'a', 'completed', { attempt: 2, output: { ok: true } });
    expect(r.stepReports()).toEqual([
      {
        name: 'a',
        path: ['p'],
        status: 'completed',
        agent: 'w2',
        attempts: 2,
        durationMs: 450,
        output: { ok: true },
        error: undefined,
        compensation: 'none',
        compensationError: undefined,
      },
    ]);
    expect(events.map((e) => (e.type === 'step.status' ? [e.status, e.at, e.attempt, e.agent] : []))).toEqual(
      [
        ['running', 1_000, 1, 'w'],
        ['retrying', 1_100, 1, 'w'],
        ['running', 1_300, 2, 'w2'],
        ['completed', 1_450, 2, 'w2'],
      ],
    );
    expect(events[1]).toMatchObject({ type: 'step.status', runId: 'run-1', path: ['p'], step: 'a', error });
  });

  it('reports a running step duration up to now, and a failed step with its error', () => {
    const { r, at } = recorder();
    r.status(['p'], 'slow', 'running', { attempt: 1 });
    r.status(['p'], 'bad', 'running', { attempt: 1 });
    at(1_200);
    r.status(['p'], 'bad', 'failed', { attempt: 1, error });
    at(1_500);
    const [slow, bad] = r.stepReports();
    expect(slow).toMatchObject({ status: 'running', durationMs: 500 });
    expect(bad).toMatchObject({ status: 'failed', durationMs: 200, error });
  });

  it('records compensation outcomes separately from the step error', () => {
    const { r } = recorder();
    r.status(['p'], 'a', 'completed', { output: 1 });
    r.status(['p'], 'a', 'compensating');
    r.status(['p'], 'a', 'compensated');
    r.status(['p'], 'b', 'completed', { output: 2 });
    r.status(['p'], 'b', 'compensationFailed', { error });
    const [a, b] = r.stepReports();
    expect(a).toMatchObject({
      status: 'compensated',
      compensation: 'compensated',
      error: undefined,
      output: 1,
    });
    expect(b).toMatchObject({
      status: 'compensationFailed',
      compensation: 'compensationFailed',
      compensationError: error,
      error: undefined,
    });
  });

  it('keeps steps of different patterns apart by path', () => {
    const { r } = recorder();
    r.declare(['meta', 'x'], ['s']);
    r.declare(['meta', 'y'], ['s', 'only_y']);
    r.status(['meta', 'y'], 's', 'completed');
    expect(r.statuses(['meta', 'x'])).toEqual({ s: 'pending' });
    expect(r.statuses(['meta', 'y'])).toEqual({ s: 'completed', only_y: 'pending' });
    expect(r.statuses(['meta'])).toEqual({});
    expect(r.statusOf('s', ['meta', 'y'])).toBe('completed');
    expect(r.statusOf('s', ['meta', 'x'])).toBe('pending');
    expect(r.statusOf('only_y')).toBe('pending');
    expect(r.statusOf('s', ['other'])).toBeUndefined();
    expect(r.statusOf('nope')).toBeUndefined();
    expect(
      r
        .stepReports()
        .map((s) => `${s.path.join('/')}:${s.name}:${s.status}`)
        .sort(),
    ).toEqual(['meta/x:s:pending', 'meta/y:only_y:pending', 'meta/y:s:completed']);
  });

  it('emits phase.status events', () => {
    const { r, events } = recorder();
    r.phase(['meta'], 'prep', 'running');
    expect(events).toEqual([
      { type: 'phase.status', at: 1_000, runId: 'run-1', path: ['meta'], phase: 'prep', status: 'running' },
    ]);
  });

  it('works without a listener', () => {
    const r = new RunRecorder('r', () => 0, undefined);
    r.status(['p'], 'a', 'completed', { output: 'x' });
    r.phase(['p'], 'ph', 'succeeded');
    expect(r.stepReports()[0]!.output).toBe('x');
    expect(r.results).toEqual({});
  });
});
