import type { Agent } from '../core/agent.js';
import { UsageError } from './exit.js';

/** Agents discovered on a NATS server, and how to disconnect. */
export interface DiscoveredRemoteAgents {
  readonly agents: readonly Agent[];
  close(): Promise<void>;
}

/**
 * Connects to NATS and discovers the remote agents serving there (`ndf agent`, or any client
 * of docs/protocol.md), for `ndf run --nats <url>`. The NATS client is imported only then.
 *
 * @throws UsageError when no server answers at `url`
 */
export async function discoverRemoteAgents(url: string): Promise<DiscoveredRemoteAgents> {
  const { connectRemoteAgents } = await import('../transport/connectRemoteAgents.js');
  try {
    const remote = await connectRemoteAgents({ url });
    return { agents: remote.agents, close: () => remote.close() };
  } catch (error) {
    throw new UsageError(
      `--nats: cannot discover agents at ${url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
