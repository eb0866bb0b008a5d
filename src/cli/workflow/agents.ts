import path from 'node:path';
import type { Agent } from '../../core/agent.js';
import { createCommandAgent, resolveExecutable } from '../../actors/commandAgent.js';
import { httpAgent } from '../../actors/httpAgent.js';
import { loadModuleAgent } from '../../actors/moduleAgent.js';
import { isPatternError } from '../../core/errors.js';
import type { FieldPath, WorkflowIssue } from './issues.js';
import type { AgentSpec, Workflow } from './schema.js';
import { createNatsAgent } from './natsAgent.js';

/** Builds one agent from its spec; `dir` is the workflow file's directory. */
export type AgentFactory = (id: string, spec: AgentSpec, dir: string) => Promise<Agent>;

/**
 * How each agent kind is built. A kind the schema declares without a factory here is reported
 * by the loader as "not available in this build".
 */
export const agentFactories: Partial<Record<AgentSpec['kind'], AgentFactory>> = {
  command: async (id, spec, dir) => {
    if (spec.kind !== 'command') throw new Error('not a command agent');
    return createCommandAgent({
      id,
      capabilities: spec.capabilities,
      ...(spec.maxConcurrent === undefined ? {} : { maxConcurrent: spec.maxConcurrent }),
      command: spec.command,
      cwd: path.resolve(dir, spec.cwd ?? '.'),
      env: spec.env ?? {},
      ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
      ...(spec.taskVia === undefined ? {} : { taskVia: spec.taskVia }),
      ...(spec.taskEnv === undefined ? {} : { taskEnv: spec.taskEnv }),
      ...(spec.compensate === undefined ? {} : { compensate: spec.compensate }),
      source: `agents.${id}`,
    });
  },
  module: async (id, spec, dir) => {
    if (spec.kind !== 'module') throw new Error('not a module agent');
    return loadModuleAgent({
      id,
      capabilities: spec.capabilities,
      ...(spec.maxConcurrent === undefined ? {} : { maxConcurrent: spec.maxConcurrent }),
      module: path.resolve(dir, spec.module),
      ...(spec.export === undefined ? {} : { export: spec.export }),
      source: `agents.${id}`,
    });
  },
  http: async (id, spec) => {
    if (spec.kind !== 'http') throw new Error('not an http agent');
    return httpAgent({
      id,
      url: spec.url,
      capabilities: spec.capabilities,
      ...(spec.maxConcurrent === undefined ? {} : { maxConcurrent: spec.maxConcurrent }),
      ...(spec.headers === undefined ? {} : { headers: spec.headers }),
      ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
    });
  },
  nats: async (id, spec, dir) => {
    if (spec.kind !== 'nats') throw new Error('not a nats agent');
    return createNatsAgent(id, spec, dir);
  },
};

/**
 * An agent that could not be built, as an issue at the field its error names
 * (`agents.<id>.module`, `agents.<id>.servers`…), else at the agent.
 */
function factoryIssue(id: string, error: unknown): WorkflowIssue {
  const field = isPatternError(error) ? error.details.field : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const prefix = `agents.${id}.`;
  if (field === undefined || !field.startsWith(prefix)) return { path: ['agents', id], message };
  const short = message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
  return { path: ['agents', id, ...field.slice(prefix.length).split('.')], message: short };
}

/** Reports an argv whose executable cannot be found, at `path` (its `[0]` element). */
export function checkExecutable(
  argv: readonly string[],
  cwd: string,
  env: Record<string, string> | undefined,
  path: FieldPath,
): WorkflowIssue[] {
  const [file] = argv;
  if (file === undefined) return [];
  const found = resolveExecutable(file, cwd, { ...process.env, ...env });
  return found
    ? []
    : [
        {
          path: [...path, 0],
          message: `command "${file}" not found (looked in ${file.includes('/') ? cwd : 'PATH'})`,
        },
      ];
}

/**
 * Builds every agent of the workflow: checks that commands exist and imports modules (so a
 * module that throws at import is reported here, naming the field). Issues are collected, not thrown.
 */
export async function buildAgents(
  workflow: Workflow,
  dir: string,
): Promise<{ agents: Map<string, Agent>; issues: WorkflowIssue[] }> {
  const agents = new Map<string, Agent>();
  const issues: WorkflowIssue[] = [];
  for (const [id, spec] of Object.entries(workflow.agents)) {
    const at: FieldPath = ['agents', id];
    const factory = agentFactories[spec.kind];
    if (!factory) {
      issues.push({
        path: [...at, 'kind'],
        message: `agent kind "${spec.kind}" is not available in this build`,
      });
      continue;
    }
    if (spec.kind === 'command') {
      const cwd = path.resolve(dir, spec.cwd ?? '.');
      const found = [
        ...checkExecutable(spec.command, cwd, spec.env, [...at, 'command']),
        ...(spec.compensate ? checkExecutable(spec.compensate, cwd, spec.env, [...at, 'compensate']) : []),
      ];
      issues.push(...found);
      if (found.length > 0) continue;
    }
    try {
      agents.set(id, await factory(id, spec, dir));
    } catch (error) {
      issues.push(factoryIssue(id, error));
    }
  }
  if (issues.length > 0) await Promise.all([...agents.values()].map(async (agent) => agent.close?.()));
  return { agents, issues };
}
