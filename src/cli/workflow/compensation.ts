import path from 'node:path';
import type { Agent, CompensationTask } from '../../core/agent.js';
import { runCommand } from '../../actors/commandAgent.js';
import { toTaskRequest } from '../../protocol/protocol.js';
import { checkExecutable } from './agents.js';
import type { WorkflowIssue } from './issues.js';
import type { Workflow } from './schema.js';
import { fileSteps } from './steps.js';

type Undo = (task: CompensationTask) => Promise<void>;

interface StepUndo {
  readonly pattern: string;
  readonly step: string;
  readonly undo: Undo;
}

/** Reports step-level compensation commands whose executable cannot be found. */
export function checkStepCompensations(workflow: Workflow, dir: string): WorkflowIssue[] {
  return Object.entries(workflow.patterns).flatMap(([name, pattern]) =>
    fileSteps(name, pattern).flatMap((step) => {
      const undo = step.compensate;
      if (!undo || !('command' in undo)) return [];
      return checkExecutable(undo.command, path.resolve(dir, undo.cwd ?? '.'), undo.env, [
        ...step.path,
        'compensate',
        'command',
      ]);
    }),
  );
}

/**
 * Step-level `compensate: { agent | command }` mapped onto agents: every agent gets a
 * `compensate` that runs the step's compensation when there is one (matched by pattern and step),
 * else its own. Agents are wrapped, not mutated; ids and capabilities are unchanged.
 */
export function applyStepCompensations(
  workflow: Workflow,
  dir: string,
  agents: ReadonlyMap<string, Agent>,
): Agent[] {
  const undos: StepUndo[] = Object.entries(workflow.patterns).flatMap(([patternName, pattern]) =>
    fileSteps(patternName, pattern).flatMap((step): StepUndo[] => {
      const spec = step.compensate;
      if (!spec) return [];
      if ('agent' in spec) {
        const target = agents.get(spec.agent);
        if (!target) return [];
        return [
          { pattern: patternName, step: step.name, undo: async (task) => void (await target.execute(task)) },
        ];
      }
      const opts = {
        id: `${patternName}.${step.name}.compensate`,
        cwd: path.resolve(dir, spec.cwd ?? '.'),
        env: spec.env ?? {},
        timeoutMs: spec.timeoutMs,
        taskVia: 'stdin' as const,
        taskEnv: 'NDF_TASK',
        source: `patterns.${patternName}.${step.name}`,
      };
      return [
        {
          pattern: patternName,
          step: step.name,
          undo: async (task) =>
            void (await runCommand(
              opts,
              spec.command,
              'compensate.command',
              toTaskRequest(task, 'compensate'),
              task,
            )),
        },
      ];
    }),
  );
  const all = [...agents.values()];
  if (undos.length === 0) return all;
  return all.map((agent) => wrap(agent, undos));
}

function find(undos: readonly StepUndo[], task: CompensationTask): Undo | undefined {
  const byStep = undos.filter((u) => u.step === task.step);
  return (byStep.find((u) => u.pattern === task.pattern) ?? (byStep.length === 1 ? byStep[0] : undefined))
    ?.undo;
}

function wrap(agent: Agent, undos: readonly StepUndo[]): Agent {
  const wrapped: Agent = {
    id: agent.id,
    capabilities: agent.capabilities,
    maxConcurrent: agent.maxConcurrent,
    kind: agent.kind,
    execute: (task) => agent.execute(task),
    compensate: async (task) => {
      const undo = find(undos, task);
      if (undo) return undo(task);
      if (agent.compensate) return agent.compensate(task);
    },
  };
  return agent.close ? { ...wrapped, close: () => agent.close?.() ?? Promise.resolve() } : wrapped;
}
