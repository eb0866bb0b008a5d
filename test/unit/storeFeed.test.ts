import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.js';
import type { RunResult } from '../../src/core/result.js';
import { InspectorServer, JournalReplay, StoreFeed } from '../../src/inspector/index.js';
import { MemoryRunStore } from '../../src/store/MemoryRunStore.js';
import { executor, journalShows, type SideEffects } from './durable/harness.js';

/** The inspector fed from a durable run store: a run's journal told as the RunEvents of a live run. */

const fresh = (): SideEffects => ({ calls: [], compensations: [] });
const quickRetry = { maxAttempts: 2, backoff: { initialDelayMs: 1, jitter: 'none' as const } };
const STEPS = ['a', { name: 'b', retry: quickRetry }, 'c', 'd'];

/** Each step's statuses in order, `name:status`, from `step.status` events. */
function statuses(events: readonly RunEvent[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of events)
    if (e.type === 'step.status') (out[[...e.path, e.step].join('/')] ??= []).push(e.status);
  return out;
}

function collector(): {
  events: RunEvent[];
  results: RunResult[];
  publish: (e: RunEvent) => void;
  record: (r: RunResult) => void;
} {
  const events: RunEvent[] = [];
  const results: RunResult[] = [];
  return { events, results, publish: (e) => events.push(e), record: (r) => results.push(r) };
}

/** A rolled-back run: a completes, b fails once then completes, c fails, b and a are compensated, d never runs. */
async function rolledBackRun(store: MemoryRunStore, runId: string) {
  const live: RunEvent[] = [];
  const result = await executor(store, fresh(), STEPS, { b: { failOn: [1] }, c: { failAlways: true } }).run(
    'p',
    {},
    { runId, onEvent: (e) => live.push(e) },
  );
  expect(result.status).toBe('rolledBack');
  return { live, result };
}

const servers: InspectorServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('JournalReplay', () => {
  it('tells a journal as the step states a live run reports, ending in the same state per step', async () => {
    const store = new MemoryRunStore();
    const { live, result } = await rolledBackRun(store, 'r1');
    const replay = new JournalReplay(() => 'sequential');
    const told = (await store.read('r1')).flatMap((entry) => replay.push(entry));

    expect(told[0]).toMatchObject({
      type: 'run.started',
      runId: 'r1',
      pattern: 'p',
      patternType: 'sequential',
    });
    expect(told[told.length - 1]).toMatchObject({
      type: 'run.finished',
      runId: 'r1',
      pattern: 'p',
      status: 'rolledBack',
      durationMs: result.durationMs,
    });
    expect(statuses(told)).toEqual({
      'p/a': ['running', 'completed', 'compensating', 'compensated'],
      'p/b': ['running', 'retrying', 'running', 'completed', 'compensating', 'compensated'],
      'p/c': ['running', 'failed'],
      'p/d': ['skipped'],
    });
    // the last state of every step is the one the live run reported last
    const last = (m: Record<string, string[]>) =>
      Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v[v.length - 1]]));
    expect(last(statuses(told))).toEqual(last(statuses(live)));
    // a failure carries the agent, the attempt and the error the live run reported
    const find = (events: RunEvent[], step: string, status: string) =>
      events.find((e) => e.type === 'step.status' && e.step === step && e.status === status);
    const failed = find(told, 'c', 'failed');
    expect(failed).toMatchObject({ agent: 'agent-c', attempt: 1 });
    expect(failed).toMatchObject({ error: (find(live, 'c', 'failed') as { error: object }).error });
    expect(JSON.stringify(failed)).toContain('c failed');
    const retried = find(told, 'b', 'retrying');
    expect(retried).toMatchObject({ agent: 'agent-b', attempt: 1 });
    expect(retried).toMatchObject({ error: (find(live, 'b', 'retrying') as { error: object }).error });
    expect(replay.result).toEqual(JSON.parse(JSON.stringify(result)));
    expect(replay.lastSeq).toBe((await store.read('r1')).length);
  });

  it('ignores entries it already has and refuses a gap', async () => {
    const store = new MemoryRunStore();
    await executor(store, fresh(), ['a']).run('p', {}, { runId: 'r1' });
    const journal = await store.read('r1');
    const replay = new JournalReplay();
    expect(replay.push(journal[0]!)).toHaveLength(1);
    expect(replay.push(journal[0]!)).toEqual([]);
    expect(() => replay.push(journal[2]!)).toThrow('journal of run r1: expected seq 2, got 3');
  });
});

describe('StoreFeed', () => {
  it('publishes each stored run once, then only what the store gained', async () => {
    const store = new MemoryRunStore();
    await rolledBackRun(store, 'r1');
    const target = collector();
    const feed = new StoreFeed(store, target);
    expect(await feed.poll()).toBe(1);
    const first = target.events.length;
    expect(target.results.map((r) => [r.runId, r.status])).toEqual([['r1', 'rolledBack']]);
    expect(await feed.poll()).toBe(1);
    expect(target.events).toHaveLength(first);

    // a run in flight shows its progress, then its end at a later poll
    const effects = fresh();
    const hanging = executor(store, effects, ['a', 'b'], { b: { hang: true } });
    void hanging.run('p', {}, { runId: 'r2' });
    await journalShows(store, 'r2', 'attemptDispatched', 'p/b');
    expect(await feed.poll()).toBe(2);
    const r2 = target.events.filter((e) => e.runId === 'r2');
    expect(statuses(r2)).toEqual({ 'p/a': ['running', 'completed'], 'p/b': ['running'] });
    expect(target.results).toHaveLength(1);
  });

  it('serves the store’s runs on the inspector page: run list, step states, outputs', async () => {
    const store = new MemoryRunStore();
    await rolledBackRun(store, 'r1');
    await executor(store, fresh(), ['a', 'b']).run('p', {}, { runId: 'r2' });
    const inspector = await InspectorServer.start({});
    servers.push(inspector);
    await new StoreFeed(store, inspector).poll();

    const runs = (await (await fetch(`${inspector.url}api/runs`)).json()) as Array<Record<string, unknown>>;
    expect(runs.map((r) => [r['runId'], r['pattern'], r['status'], r['hasOutputs']])).toEqual([
      ['r1', 'p', 'rolledBack', true],
      ['r2', 'p', 'succeeded', true],
    ]);
    const run = (await (await fetch(`${inspector.url}api/runs/r1`)).json()) as { events: RunEvent[] };
    expect(statuses(run.events)['p/c']).toEqual(['running', 'failed']);
    const outputs = (await (await fetch(`${inspector.url}api/runs/r2/outputs`)).json()) as {
      outputs: Array<{ key: string; output: unknown }>;
    };
    expect(outputs.outputs).toEqual([
      { key: '["p","a"]', output: { done: 'a', after: [] } },
      { key: '["p","b"]', output: { done: 'b', after: ['a'] } },
    ]);
    const diagram = (await (await fetch(`${inspector.url}api/runs/r1/diagram`)).json()) as {
      source: string;
      nodes: Record<string, { key: string }>;
    };
    expect(diagram.source).toBe('trace');
    expect(Object.values(diagram.nodes).map((n) => n.key)).toEqual(
      expect.arrayContaining(['["p","a"]', '["p","b"]', '["p","c"]']),
    );
  });

  it('reports a journal it cannot read and goes on with the others', async () => {
    const store = new MemoryRunStore();
    await executor(store, fresh(), ['a']).run('p', {}, { runId: 'r1' });
    await executor(store, fresh(), ['a']).run('p', {}, { runId: 'r2' });
    const errors: Array<[string, string | undefined]> = [];
    const broken = {
      listRuns: () => store.listRuns(),
      read: (runId: string) => (runId === 'r1' ? Promise.reject(new Error('corrupt')) : store.read(runId)),
    };
    const target = collector();
    const feed = new StoreFeed(broken, target, { onError: (e, id) => errors.push([String(e), id]) });
    expect(await feed.poll()).toBe(1);
    expect(errors).toEqual([['Error: corrupt', 'r1']]);
    expect(target.results.map((r) => r.runId)).toEqual(['r2']);
  });
});
