import type { FieldPath } from './issues.js';
import type { PatternSpecFile, StepSpecFile, Workflow } from './schema.js';

/** A step or task of a sequential/parallel pattern in the file, with the shorthand expanded. */
export interface FileStep extends StepSpecFile {
  /** Capability needed: `capability`, else the step name. */
  readonly needs: string;
  /** Agent named for it: `agent`, else the pattern's `agentMapping[name]`. */
  readonly assigned?: string | undefined;
  /** Where it is in the file. */
  readonly path: FieldPath;
}

/** The steps (sequential) or tasks (parallel) of a pattern; none for a meta pattern. */
export function fileSteps(patternName: string, pattern: PatternSpecFile): FileStep[] {
  if (pattern.type === 'meta') return [];
  const key = pattern.type === 'sequential' ? 'steps' : 'tasks';
  const items: readonly (string | StepSpecFile)[] =
    pattern.type === 'sequential' ? pattern.steps : pattern.tasks;
  return items.map((item, index) => {
    const step: StepSpecFile = typeof item === 'string' ? { name: item } : item;
    return {
      ...step,
      needs: step.capability ?? step.name,
      assigned: step.agent ?? pattern.agentMapping?.[step.name],
      path: ['patterns', patternName, key, index],
    };
  });
}

/** Ids of the agents that can perform a step: the assigned one, else every agent (declared or `extra`) with the capability. */
export function candidateAgents(
  workflow: Workflow,
  step: FileStep,
  extra: readonly AgentRef[] = [],
): string[] {
  if (step.assigned !== undefined) return [step.assigned];
  return [
    ...Object.entries(workflow.agents).map(([id, agent]) => ({ id, capabilities: agent.capabilities })),
    ...extra,
  ]
    .filter((agent) => agent.capabilities.includes(step.needs))
    .map((agent) => agent.id);
}

/** An agent that is not declared in the file (e.g. discovered over NATS with `ndf run --nats`). */
export interface AgentRef {
  readonly id: string;
  readonly capabilities: readonly string[];
}
