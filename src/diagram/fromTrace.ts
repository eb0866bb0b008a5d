import { isDeepStrictEqual } from 'node:util';
import type { RunEvent } from '../core/events.js';
import { DiagramBuilder, type Diagram } from './graph.js';
import { formatMs } from './machineLabels.js';
import { compensationChain, ranBefore, stepRuns, type Interval, type StepRun } from './traceSteps.js';

interface Item extends Interval {
  readonly id: string;
}

const seg = (s: string): string => encodeURIComponent(s);
const clusterId = (path: readonly string[]): string => `run/${path.map(seg).join('/')}`;
const stepId = (run: StepRun): string => `${clusterId(run.path)}/s:${seg(run.step)}`;

function stepLabel(run: StepRun): string {
  const facts = [run.agent === undefined ? undefined : `agent: ${run.agent}`, `attempts: ${run.attempts}`];
  const lines = [
    run.step,
    facts.filter((f) => f !== undefined).join(' · '),
    `${run.status} · ran ${formatMs(run.endAt - run.startAt)}`,
  ];
  if (run.error !== undefined)
    lines.push(`error: ${run.error.length > 60 ? `${run.error.slice(0, 59)}…` : run.error}`);
  return lines.join('\n');
}

/** One line per agent whose circuit breaker changed state: `breaker flaky: closed → open → halfOpen`. */
function breakerLines(events: readonly RunEvent[]): string[] {
  const paths = new Map<string, string[]>();
  for (const e of events) {
    if (e.type !== 'breaker.state') continue;
    const states = paths.get(e.agent) ?? [e.from];
    if (states[states.length - 1] !== e.from) states.push(e.from);
    states.push(e.to);
    paths.set(e.agent, states);
  }
  return [...paths].map(([agent, states]) => `breaker ${agent}: ${states.join(' → ')}`);
}

/**
 * The diagram of a finished (or interrupted) run from its trace: one cluster per pattern
 * (nested by pattern path), each step coloured by its final status with its agent, attempts,
 * duration and last error in the label, steps linked in the order they actually ran (parallel
 * tasks side by side), the compensation chain as dashed edges in the order it ran, and the
 * run's outcome (from `run.finished`) as the final state; phases and circuit-breaker changes are
 * listed under the root pattern's name. Pure.
 *
 * @example
 * const diagram = fromTrace(parseTrace(await readFile('run.jsonl', 'utf8')));
 */
export function fromTrace(events: readonly RunEvent[]): Diagram {
  const started = events.find((e) => e.type === 'run.started');
  const finished = events.find((e) => e.type === 'run.finished');
  const title =
    `run ${started?.runId ?? finished?.runId ?? ''}`.trim() +
    (started === undefined ? '' : `: ${started.pattern}`);
  const b = new DiagramBuilder(
    finished === undefined ? `${title} (unfinished)` : `${title} (${finished.status})`,
  );
  const runs = stepRuns(events);
  const phases = events.filter((e) => e.type === 'phase.status');

  const ensureCluster = (path: readonly string[]): void => {
    for (let depth = 1; depth <= path.length; depth++) {
      const id = clusterId(path.slice(0, depth));
      if (b.has(id)) continue;
      const here = path.slice(0, depth);
      const phaseLines = phases
        .filter((p) => isDeepStrictEqual(p.path, here))
        .reduce((m, p) => m.set(p.phase, p.status), new Map<string, string>());
      const label = [
        here[depth - 1] ?? '',
        ...[...phaseLines].map(([phase, status]) => `phase ${phase}: ${status}`),
        ...(depth === 1 ? breakerLines(events) : []),
      ].join('\n');
      b.node({
        id,
        label,
        kind: 'compound',
        parent: depth === 1 ? undefined : clusterId(path.slice(0, depth - 1)),
      });
      b.node({ id: `${id}/init`, label: '', kind: 'initial', parent: id });
    }
  };
  if (started !== undefined) ensureCluster([started.pattern]);

  for (const run of runs) ensureCluster(run.path);
  const clusters = new Map<string, readonly string[]>();
  for (const run of runs)
    for (let d = 1; d <= run.path.length; d++)
      clusters.set(clusterId(run.path.slice(0, d)), run.path.slice(0, d));
  if (started !== undefined) clusters.set(clusterId([started.pattern]), [started.pattern]);
  const under = (path: readonly string[]): StepRun[] =>
    runs.filter((r) => path.every((p, i) => r.path[i] === p));

  for (const [id, path] of clusters) {
    const own = runs.filter((r) => r.path.length === path.length && under(path).includes(r));
    for (const run of own)
      b.node({ id: stepId(run), label: stepLabel(run), kind: 'state', parent: id, status: run.status });
    const children = [...clusters].filter(
      ([, p]) => p.length === path.length + 1 && path.every((x, i) => p[i] === x),
    );
    const items: Item[] = [
      ...own.map((r) => ({ id: stepId(r), start: r.start, end: r.end })),
      ...children.map(([childId, p]) => {
        const inside = under(p);
        return {
          id: childId,
          start: Math.min(...inside.map((r) => r.start)),
          end: Math.max(...inside.map((r) => r.end)),
        };
      }),
    ];
    const edges = ranBefore(items);
    for (const item of items) if (!edges.some(([, to]) => to === item)) b.edge(`${id}/init`, item.id);
    for (const [from, to] of edges) b.edge(from.id, to.id);
    if (finished !== undefined && path.length === 1 && path[0] === finished.pattern) {
      const end = `${id}/end`;
      b.node({
        id: end,
        label: `${finished.status} in ${formatMs(finished.durationMs)}`,
        kind: 'final',
        parent: id,
        status: finished.status,
      });
      const sinks = items.filter((item) => !edges.some(([from]) => from === item));
      for (const item of sinks) b.edge(item.id, end);
      if (items.length === 0) b.edge(`${id}/init`, end);
    }
  }
  const chain = compensationChain(runs);
  chain
    .slice(1)
    .forEach((run, i) => b.edge(stepId(chain[i] ?? run), stepId(run), 'compensate', 'compensation'));
  return b.build();
}
