import type { MetaSpec, ParallelSpec, PatternSpec, SequentialSpec } from '../core/spec.js';
import { DiagramBuilder, type Diagram } from './graph.js';
import { formatMs } from './machineLabels.js';
import { percent, stepLabel } from './stepLabel.js';

/** Looks up a registered pattern's spec by name (to expand the patterns of a meta phase). */
export type PatternResolver = (name: string) => PatternSpec | undefined;

/** Options of {@link fromPattern} and {@link fromPatterns}. */
export interface FromPatternOptions {
  readonly title?: string | undefined;
  /** Expands the patterns named in meta phases into their own steps; otherwise only names are shown. */
  readonly resolve?: PatternResolver | undefined;
}

const seg = (s: string): string => encodeURIComponent(s);

/** The pattern name, then its notes joined by ` · `, wrapped at about 40 characters a line. */
function header(name: string, notes: readonly (string | undefined)[]): string {
  const lines = [name];
  let line = '';
  for (const note of notes.filter((n): n is string => n !== undefined)) {
    if (line !== '' && line.length + note.length > 40) {
      lines.push(line);
      line = note;
    } else line = line === '' ? note : `${line} · ${note}`;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

function addSequential(b: DiagramBuilder, id: string, spec: SequentialSpec): void {
  const end = (outcome: 'succeeded' | 'failed' | 'rolledBack'): string => {
    const endId = `${id}/end:${outcome}`;
    b.node({
      id: endId,
      label: outcome === 'rolledBack' ? 'rolled back' : outcome,
      kind: 'final',
      parent: id,
      status: outcome,
    });
    return endId;
  };
  const steps = spec.steps.map((s) => ({
    spec: s,
    id: `${id}/s:${seg(s.name)}`,
    undo: `${id}/c:${seg(s.name)}`,
  }));
  const succeeded = end('succeeded');
  const failed = end('failed');
  const rolledBack = spec.rollbackEnabled && steps.length > 1 ? end('rolledBack') : undefined;
  b.node({ id: `${id}/init`, label: '', kind: 'initial', parent: id });
  b.edge(`${id}/init`, steps[0]?.id ?? succeeded);
  steps.forEach((step, i) => {
    b.node({ id: step.id, label: stepLabel(step.spec), kind: 'state', parent: id });
    if (step.spec.retry.maxAttempts > 1) b.edge(step.id, step.id, 'failed: retry');
    b.edge(step.id, steps[i + 1]?.id ?? succeeded, 'completed');
  });
  steps.forEach((step, i) => {
    const previous = steps[i - 1];
    const undoTarget = rolledBack !== undefined && previous !== undefined ? previous.undo : failed;
    b.edge(step.id, undoTarget, 'failed', undoTarget === failed ? undefined : 'compensation');
    if (rolledBack === undefined || i === steps.length - 1) return;
    b.node({ id: step.undo, label: `compensate ${step.spec.name}`, kind: 'state', parent: id });
    b.edge(step.undo, previous?.undo ?? rolledBack, 'compensated', 'compensation');
  });
}

function addParallel(b: DiagramBuilder, id: string, spec: ParallelSpec): void {
  const done = `${id}/end:succeeded`;
  const tolerance =
    spec.failureTolerance > 0 ? `at most ${percent(spec.failureTolerance)} failed` : 'all completed';
  b.node({ id: `${id}/init`, label: '', kind: 'initial', parent: id });
  const ids = new Map(spec.tasks.map((t) => [t.name, `${id}/s:${seg(t.name)}`]));
  const needed = new Set(spec.tasks.flatMap((t) => t.dependsOn));
  for (const task of spec.tasks) {
    const taskId = ids.get(task.name) ?? task.name;
    b.node({ id: taskId, label: stepLabel(task), kind: 'state', parent: id });
    if (task.dependsOn.length === 0) b.edge(`${id}/init`, taskId);
    for (const dep of task.dependsOn) b.edge(ids.get(dep) ?? dep, taskId, undefined, 'dependency');
  }
  b.node({ id: done, label: `done\n(${tolerance})`, kind: 'final', parent: id, status: 'succeeded' });
  if (spec.tasks.length === 0) b.edge(`${id}/init`, done);
  for (const task of spec.tasks) if (!needed.has(task.name)) b.edge(ids.get(task.name) ?? task.name, done);
}

function addMeta(
  b: DiagramBuilder,
  id: string,
  spec: MetaSpec,
  options: FromPatternOptions,
  seen: ReadonlySet<string>,
): void {
  b.node({ id: `${id}/init`, label: '', kind: 'initial', parent: id });
  const done = `${id}/end:succeeded`;
  const rolledBack = `${id}/end:rolledBack`;
  let previous = `${id}/init`;
  for (const phase of spec.phases) {
    const phaseId = `${id}/ph:${seg(phase.name)}`;
    const c = phase.successCriteria;
    b.node({
      id: phaseId,
      kind: 'compound',
      parent: id,
      label: header(`phase ${phase.name}`, [
        `${phase.coordination} coordination`,
        c.minSuccessRate === undefined ? undefined : `success ≥ ${percent(c.minSuccessRate)}`,
        c.maxErrorCount === undefined ? undefined : `≤ ${c.maxErrorCount} errors`,
        c.responseTimeThresholdMs === undefined ? undefined : `mean ≤ ${formatMs(c.responseTimeThresholdMs)}`,
      ]),
    });
    b.edge(previous, phaseId, previous === `${id}/init` ? undefined : 'criteria met');
    b.edge(phaseId, rolledBack, 'criteria not met', 'compensation');
    b.node({ id: `${phaseId}/init`, label: '', kind: 'initial', parent: phaseId });
    let before = `${phaseId}/init`;
    for (const name of phase.patterns) {
      const patternId = `${phaseId}/pt:${seg(name)}`;
      const nested = seen.has(name) ? undefined : options.resolve?.(name);
      if (nested === undefined) b.node({ id: patternId, label: name, kind: 'state', parent: phaseId });
      else addPattern(b, patternId, name, nested, phaseId, options, new Set([...seen, name]));
      b.edge(before, patternId);
      if (phase.coordination === 'sequential') before = patternId;
    }
    previous = phaseId;
  }
  b.node({ id: done, label: 'succeeded', kind: 'final', parent: id, status: 'succeeded' });
  b.node({
    id: rolledBack,
    label: `rolled back\n(${spec.rollbackStrategy.replace('_', ' ')})`,
    kind: 'final',
    parent: id,
    status: 'rolledBack',
  });
  b.edge(previous, done, previous === `${id}/init` ? undefined : 'criteria met');
}

function addPattern(
  b: DiagramBuilder,
  id: string,
  name: string,
  spec: PatternSpec,
  parent: string | undefined,
  options: FromPatternOptions,
  seen: ReadonlySet<string>,
): void {
  const timeout = spec.timeoutMs === undefined ? undefined : `timeout ${formatMs(spec.timeoutMs)}`;
  if (spec.kind === 'sequential') {
    b.node({
      id,
      parent,
      kind: 'compound',
      label: header(name, ['sequential', `rollback ${spec.rollbackEnabled ? 'on' : 'off'}`, timeout]),
    });
    addSequential(b, id, spec);
  } else if (spec.kind === 'parallel') {
    const notes = [
      'parallel',
      `maxConcurrent ${spec.maxConcurrent}`,
      `failure tolerance ${percent(spec.failureTolerance)}`,
      `rollback ${spec.rollbackEnabled ? 'on' : 'off'}`,
      timeout,
    ];
    b.node({ id, parent, kind: 'compound', label: header(name, notes) });
    addParallel(b, id, spec);
  } else {
    b.node({
      id,
      parent,
      kind: 'compound',
      label: header(name, ['meta-orchestration', `rollback: ${spec.rollbackStrategy}`, timeout]),
    });
    addMeta(b, id, spec, options, seen);
  }
}

/**
 * The diagram of one pattern spec, as a cluster named after the pattern. Sequential: the steps
 * in order (retries, timeouts, agents annotated), and on failure the compensation chain in
 * reverse order ending in `rolled back` (dashed). Parallel: the dependency DAG, with
 * maxConcurrent and the failure tolerance noted. Meta: phases as clusters holding their
 * patterns (chained when coordination is sequential), with success criteria and the rollback
 * strategy noted. Pure.
 *
 * @example
 * toMermaid(fromPattern('etl', { kind: 'sequential', steps: [stepSpec('a'), stepSpec('b')], rollbackEnabled: true }));
 */
export function fromPattern(name: string, spec: PatternSpec, options: FromPatternOptions = {}): Diagram {
  return fromPatterns([[name, spec]], { title: name, ...options });
}

/** Several patterns side by side (e.g. every pattern of a workflow file), one cluster each. */
export function fromPatterns(
  patterns: Iterable<readonly [string, PatternSpec]>,
  options: FromPatternOptions = {},
): Diagram {
  const b = new DiagramBuilder(options.title);
  for (const [name, spec] of patterns)
    addPattern(b, `p:${seg(name)}`, name, spec, undefined, options, new Set([name]));
  return b.build();
}
