import { describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/actors/agent.js';
import type { RunEvent } from '../../src/core/events.js';
import { fromTrace } from '../../src/diagram/index.js';
import {
  RunBook,
  lastEventId,
  registrySpecs,
  sseComment,
  sseFrame,
  stepKey,
  stepNodeOf,
  stepNodes,
} from '../../src/inspector/index.js';
import { fromPattern } from '../../src/diagram/index.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import {
  MetaOrchestrationPattern,
  ParallelCoordinationPattern,
  SequentialDelegationPattern,
} from '../../src/runtime/patterns/index.js';

/** Parses SSE text the way a browser does (WHATWG HTML 9.2.6), for the framing tests. */
function parseSse(text: string): Array<{ id?: string; event?: string; data: string }> {
  const out: Array<{ id?: string; event?: string; data: string }> = [];
  for (const block of text.split('\n\n')) {
    if (block === '') continue;
    const data: string[] = [];
    let id: string | undefined;
    let event: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, '');
      if (name === 'data') data.push(value);
      else if (name === 'id') id = value;
      else if (name === 'event') event = value;
    }
    if (data.length > 0)
      out.push({ ...(id === undefined ? {} : { id }), ...(event ? { event } : {}), data: data.join('\n') });
  }
  return out;
}

describe('SSE framing', () => {
  it('frames id, event and data, ending with a blank line', () => {
    expect(sseFrame({ id: 7, event: 'run', data: '{"a":1}' })).toBe('id: 7\nevent: run\ndata: {"a":1}\n\n');
    expect(sseFrame({ data: 'x' })).toBe('data: x\n\n');
  });

  it('splits multi-line data into data lines that a browser joins back', () => {
    const data = 'line one\nline two\r\nline three\rfour';
    const frame = sseFrame({ id: 'a', data });
    expect(frame).toBe('id: a\ndata: line one\ndata: line two\ndata: line three\ndata: four\n\n');
    expect(parseSse(frame)).toEqual([{ id: 'a', data: 'line one\nline two\nline three\nfour' }]);
  });

  it('keeps several messages apart, and comments are ignored', () => {
    const text =
      sseComment('hello\nworld') +
      sseFrame({ id: 1, event: 'run', data: 'a' }) +
      sseFrame({ id: 2, data: '' });
    expect(sseComment('hello\nworld')).toBe(': hello world\n\n');
    expect(parseSse(text)).toEqual([
      { id: '1', event: 'run', data: 'a' },
      { id: '2', data: '' },
    ]);
  });

  it('refuses an id or event name with a line break', () => {
    expect(() => sseFrame({ id: '1\n2', data: '' })).toThrow(/id may not contain a line break/);
    expect(() => sseFrame({ event: 'a\rb', data: '' })).toThrow(RangeError);
  });

  it('reads Last-Event-ID: digits, else 0', () => {
    expect(lastEventId('42')).toBe(42);
    expect(lastEventId([' 3 '])).toBe(3);
    expect(lastEventId(undefined)).toBe(0);
    expect(lastEventId('-1')).toBe(0);
    expect(lastEventId('abc')).toBe(0);
  });
});

const started = (runId: string, at = 0): RunEvent => ({
  type: 'run.started',
  at,
  runId,
  pattern: 'p',
  patternType: 'sequential',
});
const finished = (runId: string, at = 1): RunEvent => ({
  type: 'run.finished',
  at,
  runId,
  pattern: 'p',
  status: 'succeeded',
  durationMs: 1,
});
const step = (runId: string, name: string, status: 'running' | 'completed'): RunEvent => ({
  type: 'step.status',
  at: 0,
  runId,
  path: ['p'],
  step: name,
  status,
  attempt: 1,
});

describe('RunBook', () => {
  it('numbers events across runs and replays after a sequence number', () => {
    const book = new RunBook({ maxRuns: 10, maxEventsPerRun: 100 });
    book.add(started('a'));
    book.add(started('b'));
    book.add(step('a', 's', 'running'));
    book.add(finished('b'));
    expect(book.since(0).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(book.since(2).map((e) => [e.seq, e.event.runId, e.event.type])).toEqual([
      [3, 'a', 'step.status'],
      [4, 'b', 'run.finished'],
    ]);
    expect(book.list().map((r) => [r.runId, r.status])).toEqual([
      ['a', 'running'],
      ['b', 'succeeded'],
    ]);
  });

  it('keeps executor-wide events (breaker changes, runId *) apart from runs, numbered with them', () => {
    const book = new RunBook({ maxRuns: 10, maxEventsPerRun: 2 });
    book.add(started('a'));
    for (const to of ['open', 'halfOpen', 'closed'] as const)
      book.add({ type: 'breaker.state', at: 1, runId: '*', agent: 'w', from: 'closed', to });
    expect(book.list().map((r) => r.runId)).toEqual(['a']);
    expect(book.since(0).map((e) => [e.seq, e.event.runId])).toEqual([
      [1, 'a'],
      [3, '*'],
      [4, '*'],
    ]);
  });

  it('does not keep machine transitions', () => {
    const book = new RunBook({ maxRuns: 10, maxEventsPerRun: 100 });
    const kept = book.add({
      type: 'transition',
      at: 0,
      runId: 'a',
      actor: 'x',
      machine: 'm',
      state: 's',
      event: 'e',
    });
    expect(kept).toBeUndefined();
    expect(book.lastSeq).toBe(0);
    expect(book.list()).toEqual([]);
  });

  it('drops the oldest finished run first when over maxRuns', () => {
    const book = new RunBook({ maxRuns: 2, maxEventsPerRun: 100 });
    book.add(started('running-old'));
    book.add(started('done'));
    book.add(finished('done'));
    book.add(started('new'));
    expect(book.list().map((r) => r.runId)).toEqual(['running-old', 'new']);
    book.add(started('newer'));
    expect(book.list().map((r) => r.runId)).toEqual(['new', 'newer']);
  });

  it('keeps at most maxEventsPerRun events of a run and counts the rest', () => {
    const book = new RunBook({ maxRuns: 10, maxEventsPerRun: 2 });
    book.add(started('a'));
    book.add(step('a', 's', 'running'));
    expect(book.add(step('a', 's', 'completed'))).toBeUndefined();
    book.add(finished('a'));
    expect(book.get('a')?.events.map((e) => e.type)).toEqual(['run.started', 'step.status']);
    expect(book.get('a')?.summary.status).toBe('succeeded');
    expect(book.droppedEvents).toBe(2);
  });

  it('records results (outputs) and opens runs it has not heard of', () => {
    const book = new RunBook({ maxRuns: 10, maxEventsPerRun: 10 });
    book.record({
      runId: 'r',
      pattern: 'p',
      status: 'failed',
      success: false,
      startedAt: 5,
      durationMs: 9,
      steps: [],
    });
    expect(book.list()).toEqual([
      {
        runId: 'r',
        pattern: 'p',
        patternType: '',
        startedAt: 5,
        status: 'failed',
        durationMs: 9,
        hasOutputs: true,
      },
    ]);
  });
});

describe('step nodes of diagrams', () => {
  it('parses fromPattern and fromTrace node ids, names URI-encoded', () => {
    expect(stepNodeOf('p:etl/s:load')).toEqual({ key: '["etl","load"]', role: 'step' });
    expect(stepNodeOf('p:etl/c:load')).toEqual({ key: '["etl","load"]', role: 'compensation' });
    expect(stepNodeOf('p:m/ph:one/pt:a%2Fb/s:x%20y')).toEqual({ key: '["m","a/b","x y"]', role: 'step' });
    expect(stepNodeOf('run/m/a%2Fb/s:x')).toEqual({ key: '["m","a/b","x"]', role: 'step' });
    expect(stepNodeOf('p:etl/end:failed')).toBeUndefined();
    expect(stepNodeOf('p:etl')).toBeUndefined();
    expect(stepNodeOf('s:orphan')).toBeUndefined();
  });

  it('finds, in the pattern diagram and in the trace diagram, a node for every step a real meta run reports', async () => {
    const registry = new PatternRegistry();
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'load/ing',
        description: 'd',
        steps: [
          { name: 'fetch data', capability: 'c' },
          { name: 'store', capability: 'c' },
        ],
      }),
    );
    registry.registerPattern(
      new ParallelCoordinationPattern({
        name: 'checks',
        description: 'd',
        tasks: [
          { name: 'a', capability: 'c' },
          { name: 'b', capability: 'c', dependsOn: ['a'] },
        ],
      }),
    );
    registry.registerPattern(
      new MetaOrchestrationPattern({
        name: 'release',
        description: 'd',
        strategy: {
          phases: [
            { name: 'prepare', patterns: ['load/ing'], coordination: 'sequential' },
            { name: 'verify', patterns: ['checks'], coordination: 'parallel' },
          ],
        },
      }),
    );
    const events: RunEvent[] = [];
    const executor = new PatternExecutor(registry, {
      agents: [defineAgent({ id: 'w', capabilities: ['c'], handler: () => 'ok' })],
      onEvent: (e) => events.push(e),
    });
    const result = await executor.run('release', {});
    await executor.close();
    expect(result.status).toBe('succeeded');
    const reported = new Set(
      events.flatMap((e) => (e.type === 'step.status' ? [stepKey(e.path, e.step)] : [])),
    );
    expect([...reported].sort()).toEqual(
      [
        '["release","load/ing","fetch data"]',
        '["release","load/ing","store"]',
        '["release","checks","a"]',
        '["release","checks","b"]',
      ].sort(),
    );
    const specs = registrySpecs(registry);
    const spec = specs('release');
    if (spec === undefined) throw new Error('no spec for release');
    const fromSpec = Object.values(stepNodes(fromPattern('release', spec, { resolve: specs })));
    expect(new Set(fromSpec.filter((n) => n.role === 'step').map((n) => n.key))).toEqual(reported);
    const fromRun = Object.values(stepNodes(fromTrace(events)));
    expect(new Set(fromRun.map((n) => n.key))).toEqual(reported);
  });

  it('registrySpecs: undefined for an unknown pattern', () => {
    expect(registrySpecs(new PatternRegistry())('nope')).toBeUndefined();
  });
});
