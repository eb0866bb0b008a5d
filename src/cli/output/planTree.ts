import type { SuccessCriteriaFile, Workflow } from '../workflow/schema.js';
import { candidateAgents, fileSteps } from '../workflow/steps.js';
import type { AgentRef } from '../workflow/steps.js';

/** A node of the tree shown by `--dry-run` and the live progress: a pattern, a phase or a step. */
export interface PlanNode {
  readonly kind: 'pattern' | 'phase' | 'step';
  readonly name: string;
  /** Matches run events: see {@link stepKey} and {@link phaseKey}. */
  readonly key: string;
  /** Short facts for the plan (type, agents, retry, dependencies…). */
  readonly facts: readonly string[];
  readonly children: PlanNode[];
}

/** Key of a step: the pattern path of its run events (root → its pattern) and its name. */
export function stepKey(path: readonly string[], step: string): string {
  return `step:${path.join('/')}:${step}`;
}

/** Key of a phase: the pattern path of the meta pattern and the phase name. */
export function phaseKey(path: readonly string[], phase: string): string {
  return `phase:${path.join('/')}:${phase}`;
}

/** Key of a pattern node: its pattern path. */
export function patternKey(path: readonly string[]): string {
  return `pattern:${path.join('/')}`;
}

/** The tree of what `patternName` runs, as declared in the workflow (`extra`: agents not declared in it). */
export function planTree(
  workflow: Workflow,
  patternName: string,
  parents: readonly string[] = [],
  extra: readonly AgentRef[] = [],
): PlanNode {
  const pattern = workflow.patterns[patternName];
  const path = [...parents, patternName];
  if (!pattern)
    return { kind: 'pattern', name: patternName, key: patternKey(path), facts: ['unknown'], children: [] };
  if (pattern.type === 'meta') {
    const children = pattern.phases.map((phase): PlanNode => ({
      kind: 'phase',
      name: phase.name,
      key: phaseKey(path, phase.name),
      facts: [phase.coordination, ...criteria(phase.successCriteria)],
      children: phase.patterns.map((ref) => planTree(workflow, ref, path, extra)),
    }));
    const facts = ['meta', `rollback ${pattern.rollbackStrategy ?? 'default'}`];
    return { kind: 'pattern', name: patternName, key: patternKey(path), facts, children };
  }
  const steps = fileSteps(patternName, pattern).map((step): PlanNode => ({
    kind: 'step',
    name: step.name,
    key: stepKey(path, step.name),
    facts: [
      `agent ${candidateAgents(workflow, step, extra).join('|')}`,
      ...(step.needs !== step.name ? [`capability ${step.needs}`] : []),
      ...(step.dependsOn?.length ? [`after ${step.dependsOn.join(', ')}`] : []),
      ...(step.retry && step.retry.maxAttempts > 1 ? [`retry ×${step.retry.maxAttempts}`] : []),
      ...(step.timeoutMs !== undefined ? [`timeout ${step.timeoutMs} ms`] : []),
      ...(step.locks?.length ? [`locks ${step.locks.join(', ')}`] : []),
      ...(step.compensate
        ? [`undo ${'agent' in step.compensate ? step.compensate.agent : step.compensate.command.join(' ')}`]
        : []),
    ],
    children: [],
  }));
  const facts =
    pattern.type === 'sequential'
      ? ['sequential', ...(pattern.rollbackEnabled === false ? ['no rollback'] : [])]
      : [
          'parallel',
          ...(pattern.maxConcurrent !== undefined ? [`max ${pattern.maxConcurrent} at once`] : []),
          ...(pattern.failureTolerance !== undefined
            ? [`tolerates ${Math.round(pattern.failureTolerance * 100)}% failures`]
            : []),
        ];
  const timeout = pattern.timeoutSeconds !== undefined ? [`timeout ${pattern.timeoutSeconds} s`] : [];
  return {
    kind: 'pattern',
    name: patternName,
    key: patternKey(path),
    facts: [...facts, ...timeout],
    children: steps,
  };
}

function criteria(c: SuccessCriteriaFile | undefined): string[] {
  if (!c) return [];
  return [
    ...(c.minSuccessRate !== undefined ? [`success ≥ ${Math.round(c.minSuccessRate * 100)}%`] : []),
    ...(c.maxErrorCount !== undefined ? [`errors ≤ ${c.maxErrorCount}`] : []),
    ...(c.responseTimeThresholdMs !== undefined ? [`mean ≤ ${c.responseTimeThresholdMs} ms`] : []),
  ];
}
