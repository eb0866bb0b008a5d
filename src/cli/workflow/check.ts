import { existsSync } from 'node:fs';
import path from 'node:path';
import { checkExecutable } from './agents.js';
import type { WorkflowIssue } from './issues.js';
import type { Workflow } from './schema.js';
import { candidateAgents, fileSteps } from './steps.js';
import type { AgentRef } from './steps.js';

/**
 * Checks what the schema cannot: references to agents, patterns and tasks, steps no agent can
 * perform, and dependency cycles (between tasks, and between meta patterns).
 */
export function checkReferences(workflow: Workflow, extra: readonly AgentRef[] = []): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const agentIds = [...Object.keys(workflow.agents), ...extra.map((a) => a.id)];
  const known = (id: string): boolean => agentIds.includes(id);
  const knownAgents = agentIds.length > 0 ? agentIds.join(', ') : 'none';
  const runPattern = workflow.run.pattern;
  if (runPattern !== undefined && !(runPattern in workflow.patterns)) {
    issues.push({
      path: ['run', 'pattern'],
      message: `unknown pattern "${runPattern}" (declared: ${Object.keys(workflow.patterns).join(', ')})`,
    });
  }
  for (const [patternName, pattern] of Object.entries(workflow.patterns)) {
    const steps = fileSteps(patternName, pattern);
    const names = new Set<string>();
    for (const step of steps) {
      if (names.has(step.name))
        issues.push({ path: [...step.path, 'name'], message: `duplicate step name "${step.name}"` });
      names.add(step.name);
      if (step.assigned !== undefined && !known(step.assigned)) {
        const path =
          step.agent !== undefined
            ? [...step.path, 'agent']
            : ['patterns', patternName, 'agentMapping', step.name];
        issues.push({ path, message: `unknown agent "${step.assigned}" (declared: ${knownAgents})` });
      } else if (step.waitFor === undefined && candidateAgents(workflow, step, extra).length === 0) {
        issues.push({
          path: step.path,
          message: `no agent can perform step "${step.name}": none has capability "${step.needs}"`,
        });
      }
      const undoAgent = step.compensate && 'agent' in step.compensate ? step.compensate.agent : undefined;
      if (undoAgent !== undefined && !known(undoAgent)) {
        issues.push({
          path: [...step.path, 'compensate', 'agent'],
          message: `unknown agent "${undoAgent}" (declared: ${knownAgents})`,
        });
      }
    }
    if (pattern.type !== 'meta') {
      for (const [stepName, agent] of Object.entries(pattern.agentMapping ?? {})) {
        const path = ['patterns', patternName, 'agentMapping', stepName];
        if (!names.has(stepName))
          issues.push({ path, message: `no step named "${stepName}" in this pattern` });
        else if (!known(agent) && steps.some((s) => s.name === stepName && s.agent !== undefined)) {
          issues.push({ path, message: `unknown agent "${agent}" (declared: ${knownAgents})` });
        }
      }
    }
    if (pattern.type === 'parallel') issues.push(...checkDependencies(patternName, steps));
    if (pattern.type === 'meta') {
      pattern.phases.forEach((phase, p) =>
        phase.patterns.forEach((ref, i) => {
          const path = ['patterns', patternName, 'phases', p, 'patterns', i];
          if (!(ref in workflow.patterns)) issues.push({ path, message: `unknown pattern "${ref}"` });
          else if (reaches(workflow, ref, patternName))
            issues.push({ path, message: `pattern "${ref}" includes "${patternName}" again (a cycle)` });
        }),
      );
    }
  }
  return issues;
}

function checkDependencies(patternName: string, steps: ReturnType<typeof fileSteps>): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const byName = new Map(steps.map((s) => [s.name, s]));
  for (const step of steps) {
    (step.dependsOn ?? []).forEach((dep, i) => {
      if (!byName.has(dep))
        issues.push({
          path: [...step.path, 'dependsOn', i],
          message: `unknown task "${dep}" in pattern "${patternName}"`,
        });
    });
  }
  const cycle = findCycle(steps.map((s) => [s.name, (s.dependsOn ?? []).filter((d) => byName.has(d))]));
  if (cycle) {
    const first = byName.get(cycle[0] ?? '');
    issues.push({
      path: first ? [...first.path, 'dependsOn'] : ['patterns', patternName],
      message: `cyclic dependencies: ${cycle.join(' → ')}`,
    });
  }
  return issues;
}

/** A cycle in a dependency graph as `[a, b, …, a]`, or undefined (depth-first search). */
export function findCycle(edges: readonly (readonly [string, readonly string[]])[]): string[] | undefined {
  const graph = new Map(edges);
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const [node] of edges) {
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

/** Whether meta pattern `from` (transitively) includes pattern `target`. */
function reaches(workflow: Workflow, from: string, target: string, seen = new Set<string>()): boolean {
  if (from === target) return true;
  if (seen.has(from)) return false;
  seen.add(from);
  const pattern = workflow.patterns[from];
  if (pattern?.type !== 'meta') return false;
  return pattern.phases.some((phase) => phase.patterns.some((ref) => reaches(workflow, ref, target, seen)));
}

/**
 * The static part of building agents: commands must exist (on PATH or relative to their cwd),
 * module and `.creds` files must be there. Nothing is imported, run or contacted (`ndf validate`
 * without `--deep`).
 */
export function checkAgentFiles(workflow: Workflow, dir: string): WorkflowIssue[] {
  return Object.entries(workflow.agents).flatMap(([id, spec]): WorkflowIssue[] => {
    const at = ['agents', id];
    if (spec.kind === 'command') {
      const cwd = path.resolve(dir, spec.cwd ?? '.');
      return [
        ...checkExecutable(spec.command, cwd, spec.env, [...at, 'command']),
        ...(spec.compensate ? checkExecutable(spec.compensate, cwd, spec.env, [...at, 'compensate']) : []),
      ];
    }
    if (spec.kind === 'module') return missingFile(dir, spec.module, [...at, 'module'], 'module');
    if (spec.kind === 'nats' && spec.credsFile !== undefined)
      return missingFile(dir, spec.credsFile, [...at, 'credsFile'], 'credentials file');
    return [];
  });
}

function missingFile(dir: string, file: string, at: WorkflowIssue['path'], what: string): WorkflowIssue[] {
  const full = path.resolve(dir, file);
  return existsSync(full) ? [] : [{ path: at, message: `${what} ${file} not found (looked for ${full})` }];
}
