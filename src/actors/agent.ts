import { z } from 'zod';
import type { Agent, AgentTask, CompensationTask } from '../core/agent.js';
import { parseWith } from '../core/validate.js';

export type { Agent, AgentTask, CompensationTask, ResourceArbiter, StepInput } from '../core/agent.js';

export const agentOptionsSchema = z
  .object({
    id: z.string().min(1),
    capabilities: z.array(z.string().min(1)).min(1),
    maxConcurrent: z.number().int().min(1).default(16),
  })
  .strict();

/** Options of {@link defineAgent}. */
export interface LocalAgentOptions {
  id: string;
  capabilities: readonly string[];
  /** Default 16. */
  maxConcurrent?: number;
  handler: (task: AgentTask) => unknown;
  compensate?: (task: CompensationTask) => unknown;
}

/**
 * A local function agent.
 *
 * @throws PatternValidationError when an option is missing or malformed
 * @example
 * const validator = defineAgent({ id: 'validator', capabilities: ['validate'], handler: (t) => ({ ok: true }) });
 */
export function defineAgent(options: LocalAgentOptions): Agent {
  const { handler, compensate, ...rest } = options;
  if (typeof handler !== 'function') {
    parseWith(z.object({ handler: z.function() }), { handler }, `agent ${options.id}`);
  }
  const parsed = parseWith(agentOptionsSchema, rest, 'agent');
  const agent: Agent = {
    ...parsed,
    kind: 'local',
    execute: async (task) => handler(task),
  };
  return compensate ? { ...agent, compensate: async (task) => void (await compensate(task)) } : agent;
}
