import type { Logger } from 'pino';
import type { Agent } from '../core/agent.js';
import { agentsFromDiscovery, discoverAgents, type DiscoveredAgent } from '../actors/discoverAgents.js';
import type { NatsTransportOptionsInput } from './natsOptions.js';
import { NatsTransport } from './NatsTransport.js';

/** Options of {@link connectRemoteAgents}: the NATS connection options plus discovery settings. */
export type ConnectRemoteAgentsOptions = Omit<NatsTransportOptionsInput, 'servers'> & {
  /** NATS URL(s), e.g. `nats://127.0.0.1:4222`. */
  url: string | string[];
  /** Subject prefix (default `nd`). */
  prefix?: string;
  /** How long discovery collects answers, ms (default 500). */
  discoverTimeoutMs?: number;
  /** Per-request timeout of each remote agent, ms (default 30000). */
  timeoutMs?: number;
  logger?: Logger;
};

/** What {@link connectRemoteAgents} returns. */
export interface RemoteAgents {
  readonly transport: NatsTransport;
  /** One Agent per discovered agent name (kind `nats`). */
  readonly agents: Agent[];
  readonly discovered: readonly DiscoveredAgent[];
  /** Closes the connection. */
  close(): Promise<void>;
}

/**
 * Connects to NATS and discovers the remote agents on it (`$SRV.INFO`/`$SRV.STATS`), for
 * `ndf run --nats <url>` and the library: register the returned agents with the executor next
 * to local ones.
 *
 * @throws PatternValidationError on a malformed option; the NATS client's error when no server answers
 * @example
 * const remote = await connectRemoteAgents({ url: 'nats://127.0.0.1:4222' });
 * const executor = new PatternExecutor(registry, { agents: [...localAgents, ...remote.agents] });
 * try { await executor.run('pipeline', ctx); } finally { await remote.close(); }
 */
export async function connectRemoteAgents(options: ConnectRemoteAgentsOptions): Promise<RemoteAgents> {
  const { url, prefix, discoverTimeoutMs, timeoutMs, logger, ...natsOptions } = options;
  const transport = await NatsTransport.connect({ ...natsOptions, servers: url }, logger ? { logger } : {});
  try {
    const discovered = await discoverAgents(transport, {
      timeoutMs: discoverTimeoutMs ?? 500,
      ...(prefix === undefined ? {} : { prefix }),
    });
    const agents = agentsFromDiscovery(transport, discovered, timeoutMs === undefined ? {} : { timeoutMs });
    return { transport, agents, discovered, close: () => transport.close() };
  } catch (error) {
    await transport.close();
    throw error;
  }
}
