import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import type { AnyStateMachine } from 'xstate';
import {
  fromMachine,
  fromPattern,
  fromPatterns,
  fromTrace,
  parseTrace,
  renderSvg,
  statusStyle,
  toDot,
  toMermaid,
  TraceParseError,
} from '../../src/diagram/index.js';
import type { Diagram } from '../../src/diagram/index.js';
import { stepSpec } from '../../src/core/spec.js';
import type { StepStatus } from '../../src/core/status.js';
import type { MetaSpec, ParallelSpec } from '../../src/core/spec.js';
import { buildStates, machineArb, nameArb, patternArb, type StateArb } from './diagramArbitraries.js';
import { awkwardNames, saga, sagaTrace, sampleMachine } from './diagramFixtures.js';
import { parseMermaid } from './mermaidParser.js';

const edge = (from: string, to: string, label?: string): Record<string, string> =>
  label === undefined ? { from, to } : { from, to, label };
const labelOf = (d: Diagram, id: string): string | undefined => d.nodes.find((n) => n.id === id)?.label;

beforeAll(async () => {
  // Load the Graphviz WASM before the Mermaid helper installs a jsdom `window`.
  expect(await renderSvg('digraph { a }')).toContain('<svg');
  expect(await parseMermaid('stateDiagram-v2\n  [*] --> a\n')).toBe('stateDiagram');
});

describe('the Mermaid parser used by these tests', () => {
  it('rejects malformed diagrams', async () => {
    await expect(parseMermaid('stateDiagram-v2\n  a-b --> c\n')).rejects.toThrow(/Parse error/);
    await expect(parseMermaid('stateDiagram-v2\n  state "say "hi"" as a\n')).rejects.toThrow(/Parse error/);
    await expect(parseMermaid('stateDiagram-v2\n  state "a" as x {\n')).rejects.toThrow();
  });
});

describe('fromMachine', () => {
  const d = fromMachine(sampleMachine);

  it('has every state node with its kind and parent', () => {
    const nodes = d.nodes.map((n) => [n.id, n.kind, n.parent ?? null]);
    expect(nodes).toEqual([
      ['sample', 'compound', null],
      ['sample::initial', 'initial', 'sample'],
      ['sample.idle', 'state', 'sample'],
      ['sample.working', 'state', 'sample'],
      ['sample.both', 'parallel', 'sample'],
      ['sample.both.left', 'compound', 'sample.both'],
      ['sample.both.left::initial', 'initial', 'sample.both.left'],
      ['sample.both.left.l1', 'state', 'sample.both.left'],
      ['sample.both.left.l2', 'final', 'sample.both.left'],
      ['sample.both.right', 'compound', 'sample.both'],
      ['sample.both.right::initial', 'initial', 'sample.both.right'],
      ['sample.both.right.r1', 'state', 'sample.both.right'],
      ['sample.both.right.r2', 'final', 'sample.both.right'],
      ['sample.stopped', 'final', 'sample'],
    ]);
    expect(labelOf(d, 'sample.working')).toBe('working\ninvoke work (job)');
  });

  it('has every transition: events, guards, after, always, done/error of actors, onDone, targetless', () => {
    expect(d.edges).toEqual(
      expect.arrayContaining([
        edge('sample::initial', 'sample.idle'),
        edge('sample.both.left::initial', 'sample.both.left.l1'),
        edge('sample', 'sample.stopped', 'STOP'),
        edge('sample.idle', 'sample.working', 'GO [ok]'),
        edge('sample.idle', 'sample.both', 'GO [ok && !big]'),
        edge('sample.idle', 'sample.idle', 'PING'),
        edge('sample.idle', 'sample.working', 'after 1 s'),
        edge('sample.idle', 'sample.both', 'after retryDelay (500 ms)'),
        edge('sample.working', 'sample.both', 'done: job'),
        edge('sample.working', 'sample.idle', 'error: job'),
        edge('sample.working', 'sample.stopped', 'always [big]'),
        edge('sample.both', 'sample.stopped', 'done'),
        edge('sample.both.right.r1', 'sample.both.right.r2', 'GO'),
      ]),
    );
    expect(d.edges).toHaveLength(15);
    expect(fromMachine(sampleMachine, { targetless: false }).edges).toHaveLength(14);
  });

  it('renders Mermaid the real parser accepts, with parallel regions and final states', async () => {
    const text = toMermaid(d);
    expect(await parseMermaid(text)).toBe('stateDiagram');
    expect(text).toMatch(/^ +--$/m);
    expect(text).toContain('sample_idle --> sample_working : GO [ok]');
    expect(text).toContain('sample_stopped --> [*]');
    expect(text).toContain('[*] --> sample_idle');
  });

  it('renders DOT to an SVG with clusters and labels', async () => {
    const dot = toDot(d);
    expect(dot).toContain('subgraph "cluster_sample.both"');
    const svg = await renderSvg(dot);
    expect(svg).toContain('<svg');
    expect(svg).toContain('after retryDelay (500 ms)');
    expect(svg).toContain('GO [ok &amp;&amp; !big]');
    await expect(renderSvg('digraph { a -> }')).rejects.toThrow(/syntax error/);
  });
});

describe('fromPattern', () => {
  it('draws a saga: steps in order, retries and timeouts, compensation in reverse', async () => {
    const d = fromPattern('etl', saga);
    const p = 'p:etl';
    expect(labelOf(d, `${p}/s:transform`)).toBe(
      'transform\nretry: 3 attempts, backoff 100 ms ×2 (max 1 s)\ntimeout: 5 s',
    );
    expect(labelOf(d, `${p}/s:extract`)).toBe('extract\nagent: reader');
    const kinds = d.edges.map((e) => [e.from, e.to, e.label, e.kind ?? 'transition']);
    expect(kinds).toEqual(
      expect.arrayContaining([
        [`${p}/s:extract`, `${p}/s:transform`, 'completed', 'transition'],
        [`${p}/s:load`, `${p}/end:succeeded`, 'completed', 'transition'],
        [`${p}/s:extract`, `${p}/end:failed`, 'failed', 'transition'],
        [`${p}/s:load`, `${p}/c:transform`, 'failed', 'compensation'],
        [`${p}/c:transform`, `${p}/c:extract`, 'compensated', 'compensation'],
        [`${p}/c:extract`, `${p}/end:rolledBack`, 'compensated', 'compensation'],
        [`${p}/s:transform`, `${p}/s:transform`, 'failed: retry', 'transition'],
      ]),
    );
    expect(await parseMermaid(toMermaid(d))).toBe('stateDiagram');
    expect(await renderSvg(toDot(d))).toContain('compensate transform');
  });

  it('draws a parallel DAG with maxConcurrent and failure tolerance', () => {
    const spec: ParallelSpec = {
      kind: 'parallel',
      maxConcurrent: 2,
      resourceThreshold: 0.8,
      failureTolerance: 0.25,
      rollbackEnabled: false,
      tasks: [stepSpec('a'), stepSpec('b'), stepSpec('c', { dependsOn: ['a', 'b'] })],
    };
    const d = fromPattern('fan', spec);
    expect(labelOf(d, 'p:fan')).toBe('fan\nparallel · maxConcurrent 2\nfailure tolerance 25% · rollback off');
    expect(d.edges.map((e) => [e.from, e.to, e.kind])).toEqual([
      ['p:fan/init', 'p:fan/s:a', undefined],
      ['p:fan/init', 'p:fan/s:b', undefined],
      ['p:fan/s:a', 'p:fan/s:c', 'dependency'],
      ['p:fan/s:b', 'p:fan/s:c', 'dependency'],
      ['p:fan/s:c', 'p:fan/end:succeeded', undefined],
    ]);
  });

  it('draws meta phases as clusters holding their patterns, expanded when resolvable', async () => {
    const meta: MetaSpec = {
      kind: 'meta',
      rollbackStrategy: 'phase_level',
      complexityThreshold: 0.5,
      phases: [
        { name: 'prepare', patterns: ['etl'], coordination: 'sequential', successCriteria: {} },
        {
          name: 'report',
          patterns: ['x', 'y'],
          coordination: 'parallel',
          successCriteria: { minSuccessRate: 0.5 },
        },
      ],
    };
    const d = fromPattern('all', meta, { resolve: (n) => (n === 'etl' ? saga : undefined) });
    const phase = d.nodes.find((n) => n.id === 'p:all/ph:report');
    expect(phase).toMatchObject({
      kind: 'compound',
      parent: 'p:all',
      label: 'phase report\nparallel coordination · success ≥ 50%',
    });
    expect(
      d.nodes.filter((n) => n.parent === 'p:all/ph:report' && n.kind === 'state').map((n) => n.label),
    ).toEqual(['x', 'y']);
    expect(d.nodes.find((n) => n.label === 'extract\nagent: reader')?.parent).toBe('p:all/ph:prepare/pt:etl');
    expect(d.edges).toContainEqual({
      from: 'p:all/ph:prepare',
      to: 'p:all/ph:report',
      label: 'criteria met',
    });
    expect(d.edges).toContainEqual({
      from: 'p:all/ph:report',
      to: 'p:all/end:rolledBack',
      label: 'criteria not met',
      kind: 'compensation',
    });
    expect(await parseMermaid(toMermaid(d))).toBe('stateDiagram');
    expect(await renderSvg(toDot(d))).toContain('phase report');
  });
});

describe('fromTrace', () => {
  const d = fromTrace(sagaTrace);

  it('colours each step by its final status, with agent and attempts, in the order they ran', () => {
    expect(d.title).toBe('run r1: etl (rolledBack)');
    const steps = d.nodes.filter((n) => n.kind === 'state').map((n) => [n.label.split('\n')[0], n.status]);
    expect(steps).toEqual([
      ['extract', 'compensated'],
      ['transform', 'compensated'],
      ['load', 'failed'],
    ]);
    expect(labelOf(d, 'run/etl/s:transform')).toBe(
      'transform\nagent: tx · attempts: 2\ncompensated · ran 9 ms',
    );
    expect(labelOf(d, 'run/etl/s:load')).toContain('error: disk full');
    expect(d.edges).toEqual([
      { from: 'run/etl/init', to: 'run/etl/s:extract' },
      { from: 'run/etl/s:extract', to: 'run/etl/s:transform' },
      { from: 'run/etl/s:transform', to: 'run/etl/s:load' },
      { from: 'run/etl/s:load', to: 'run/etl/end' },
      { from: 'run/etl/s:load', to: 'run/etl/s:transform', label: 'compensate', kind: 'compensation' },
      { from: 'run/etl/s:transform', to: 'run/etl/s:extract', label: 'compensate', kind: 'compensation' },
    ]);
  });

  it('puts concurrent tasks side by side', () => {
    const ev = (step: string, status: 'running' | 'completed', at: number) =>
      ({ type: 'step.status', at, runId: 'r', path: ['p'], step, status, attempt: 1 }) as const;
    const t = fromTrace([
      ev('a', 'running', 0),
      ev('b', 'running', 1),
      ev('a', 'completed', 5),
      ev('b', 'completed', 6),
      ev('c', 'running', 7),
      ev('c', 'completed', 8),
    ]);
    expect(t.edges).toEqual([
      { from: 'run/p/init', to: 'run/p/s:a' },
      { from: 'run/p/init', to: 'run/p/s:b' },
      { from: 'run/p/s:a', to: 'run/p/s:c' },
      { from: 'run/p/s:b', to: 'run/p/s:c' },
    ]);
  });

  it('keeps trace order for events in the same millisecond and chains a rollback across patterns', () => {
    const ev = (path: string[], step: string, status: StepStatus) =>
      ({ type: 'step.status', at: 7, runId: 'r', path, step, status, attempt: 1 }) as const;
    const t = fromTrace([
      ev(['m', 'a'], 'x', 'running'),
      ev(['m', 'a'], 'x', 'completed'),
      ev(['m', 'b'], 'y', 'running'),
      ev(['m', 'b'], 'y', 'failed'),
      ev(['m', 'a'], 'x', 'compensating'),
      ev(['m', 'a'], 'x', 'compensated'),
    ]);
    expect(t.edges).toEqual([
      { from: 'run/m/init', to: 'run/m/a' },
      { from: 'run/m/a', to: 'run/m/b' },
      { from: 'run/m/a/init', to: 'run/m/a/s:x' },
      { from: 'run/m/b/init', to: 'run/m/b/s:y' },
      { from: 'run/m/b/s:y', to: 'run/m/a/s:x', label: 'compensate', kind: 'compensation' },
    ]);
  });

  it('lists phases and circuit-breaker changes under the root pattern', () => {
    const t = fromTrace([
      ...sagaTrace,
      { type: 'phase.status', at: 2, runId: 'r1', path: ['etl'], phase: 'load', status: 'running' },
      { type: 'phase.status', at: 30, runId: 'r1', path: ['etl'], phase: 'load', status: 'failed' },
      { type: 'breaker.state', at: 12, runId: 'r1', agent: 'tx', from: 'closed', to: 'open' },
      { type: 'breaker.state', at: 14, runId: 'r1', agent: 'tx', from: 'open', to: 'halfOpen' },
      { type: 'breaker.state', at: 18, runId: 'r1', agent: 'tx', from: 'halfOpen', to: 'closed' },
    ]);
    expect(labelOf(t, 'run/etl')).toBe(
      'etl\nphase load: failed\nbreaker tx: closed → open → halfOpen → closed',
    );
  });

  it('renders coloured Mermaid and SVG', async () => {
    const text = toMermaid(d);
    expect(await parseMermaid(text)).toBe('stateDiagram');
    expect(text).toContain(`classDef failed fill:${statusStyle.failed.fill}`);
    expect(text).toMatch(/class run_etl_s_extract,run_etl_s_transform compensated/);
    const svg = await renderSvg(toDot(d));
    expect(svg).toContain('<svg');
    expect(svg).toContain('agent: tx · attempts: 2');
    expect(svg).toContain(`fill="${statusStyle.failed.fill}"`);
    expect(svg).toContain(`fill="${statusStyle.compensated.fill}"`);
  });

  it('parses a JSONL trace, skipping events it does not draw, naming a bad line', () => {
    const text = sagaTrace.map((e) => JSON.stringify(e)).join('\n') + '\n\n';
    expect(parseTrace(text)).toHaveLength(sagaTrace.length - 1);
    expect(() =>
      parseTrace('{"type":"breaker.state","at":1,"runId":"r","agent":"a","from":"shut","to":"open"}'),
    ).toThrow(/line 1: invalid breaker.state event: from/);
    expect(() => parseTrace('{"type":"run.started"}\nnot json')).toThrow(TraceParseError);
    expect(() => parseTrace('\nnot json')).toThrow(/line 2/);
  });
});

describe('escaping', () => {
  it('keeps awkward names intact in Mermaid and DOT', async () => {
    const patterns = awkwardNames.map(
      (name) => [name, { ...saga, steps: [stepSpec(name), stepSpec(`${name}-2`)] }] as const,
    );
    const d = fromPatterns(patterns, { title: 'awkward "title"' });
    const text = toMermaid(d);
    expect(await parseMermaid(text)).toBe('stateDiagram');
    expect(text).toContain('say #34;hi#34;');
    const svg = await renderSvg(toDot(d));
    for (const needle of [
      'say &quot;hi&quot;',
      'ünïcødé ✓ 日本',
      'back\\slash',
      '&lt;br/&gt; &amp; &lt;b&gt;',
      'arrow &#45;&#45;&gt; x',
      'semi;colon',
    ]) {
      expect(svg).toContain(needle);
    }
  });
});

async function assertRenders(d: Diagram): Promise<void> {
  expect(await parseMermaid(toMermaid(d))).toBe('stateDiagram');
  expect(await renderSvg(toDot(d))).toContain('<svg');
}

describe('properties', () => {
  it('random small machines give Mermaid the parser accepts and DOT that renders', async () => {
    await fc.assert(
      fc.asyncProperty(machineArb.states, machineArb.states, nameArb, async (top, nested, id) => {
        const machine: AnyStateMachine = createMachine({
          id,
          initial: top.keys[0],
          states: buildStates(
            top.keys,
            top.configs as StateArb[],
            nested as { keys: string[]; configs: StateArb[] },
            1,
          ),
        });
        await assertRenders(fromMachine(machine));
      }),
      { numRuns: 60 },
    );
  });

  it('random pattern specs give Mermaid the parser accepts and DOT that renders', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(nameArb, patternArb), { selector: (p) => p[0], minLength: 1, maxLength: 3 }),
        async (patterns) => {
          await assertRenders(fromPatterns(patterns));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('docs/diagrams.md', () => {
  it('embeds Mermaid the parser accepts', async () => {
    const doc = readFileSync(new URL('../../docs/diagrams.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) expect(await parseMermaid(block)).toBe('stateDiagram');
  });
});
