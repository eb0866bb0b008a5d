import path from 'node:path';
import type { Agent } from '../../core/agent.js';
import { PatternValidationError } from '../../core/errors.js';
import type { AgentSpec } from './agentSchema.js';

type NatsSpec = Extract<AgentSpec, { kind: 'nats' }>;

/**
 * A `kind: nats` agent: connects to NATS (one connection per agent, closed with the agent) and
 * sends each task to the remote agent service named `agentId` (default: the agent's key).
 * The NATS modules are imported only when a workflow has such an agent.
 *
 * @throws PatternValidationError naming `agents.<id>.servers` when no server answers
 */
export async function createNatsAgent(id: string, spec: NatsSpec, dir: string): Promise<Agent> {
  const [{ NatsTransport }, { remoteAgent }] = await Promise.all([
    import('../../transport/NatsTransport.js'),
    import('../../actors/remoteAgent.js'),
  ]);
  const servers = spec.servers ?? 'nats://127.0.0.1:4222';
  let transport: Awaited<ReturnType<typeof NatsTransport.connect>>;
  try {
    transport = await NatsTransport.connect({
      servers,
      name: `ndf:${id}`,
      ...(spec.credsFile === undefined ? {} : { credsFile: path.resolve(dir, spec.credsFile) }),
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const field = `agents.${id}.servers`;
    throw new PatternValidationError(
      `${field}: cannot connect to NATS at ${String(servers)}: ${why}`,
      { field },
      error,
    );
  }
  const remote = remoteAgent({
    transport,
    id,
    name: spec.agentId ?? id,
    capabilities: spec.capabilities,
    ...(spec.maxConcurrent === undefined ? {} : { maxConcurrent: spec.maxConcurrent }),
    ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
    ...(spec.prefix === undefined ? {} : { prefix: spec.prefix }),
  });
  return {
    id: remote.id,
    capabilities: remote.capabilities,
    maxConcurrent: remote.maxConcurrent,
    kind: remote.kind,
    execute: (task) => remote.execute(task),
    ...(remote.compensate ? { compensate: (task) => remote.compensate?.(task) ?? Promise.resolve() } : {}),
    close: async () => {
      await remote.close?.();
      await transport.close();
    },
  };
}
