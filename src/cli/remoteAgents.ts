import type { Agent, ResourceArbiter } from '../core/agent.js';
import type { Transport } from '../transport/Transport.js';
import { redactSecrets, redactText } from '../core/redact.js';
import { natsOptionsFrom, natsSecrets, type NatsAuthCliOptions } from './commands/remote/natsCliOptions.js';
import { UsageError } from './exit.js';

/** Agents discovered on a NATS server, and how to disconnect. */
export interface DiscoveredRemoteAgents {
  readonly agents: readonly Agent[];
  /** The connection they use (a remote resolver can share it). */
  readonly transport: Transport;
  close(): Promise<void>;
}

/**
 * Connects to NATS and discovers the remote agents serving there (`ndf agent`, or any client
 * of docs/protocol.md), for `ndf run --nats <url>` with the authentication options of `auth`
 * (flags or their variables, see {@link natsOptionsFrom}). The NATS client is imported only then.
 *
 * @throws UsageError when no server answers at `url` or it refuses the credentials (one line,
 *   credentials redacted)
 */
export async function discoverRemoteAgents(
  url: string,
  auth: NatsAuthCliOptions = {},
): Promise<DiscoveredRemoteAgents> {
  const { connectRemoteAgents } = await import('../transport/connectRemoteAgents.js');
  try {
    const { servers, ...options } = natsOptionsFrom({ ...auth, nats: url }, 'ndf-run');
    const remote = await connectRemoteAgents({ ...options, url: servers ?? url });
    return { agents: remote.agents, transport: remote.transport, close: () => remote.close() };
  } catch (error) {
    const why = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    throw new UsageError(
      redactSecrets(`--nats: cannot discover agents at ${url}: ${why}`, natsSecrets(auth)),
    );
  }
}

/** A conflict resolver served elsewhere (`ndf resolver`), as the executor's arbiter of locks. */
export interface RemoteResolver {
  readonly arbiter: ResourceArbiter;
  /** Releases what this run still holds and stops renewing. */
  close(): Promise<void>;
}

/**
 * Connects to the conflict resolver that `ndf resolver --prefix <prefix>` serves on the bus, for
 * `ndf run --nats <url> --resolver <prefix>`: the steps' `locks` are then shared with every other
 * runtime using it. It is asked once (`detect`) so that a missing resolver is reported before
 * the run starts.
 *
 * @throws UsageError when no resolver answers under `prefix` within 2 s
 */
export async function connectRemoteResolver(
  transport: Transport,
  prefix: string,
  url: string,
): Promise<RemoteResolver> {
  const { RemoteConflictResolver } = await import('../resolver/remoteConflictResolver.js');
  const client = await RemoteConflictResolver.connect({ transport, prefix, timeoutMs: 2_000 });
  try {
    await client.detectConflicts();
  } catch (error) {
    await client.close();
    const why = error instanceof Error ? error.message : String(error);
    const where = redactText(url);
    throw new UsageError(
      `--resolver: no conflict resolver answers on ${where} under prefix "${prefix}" (start one: npx ndf resolver --nats ${where} --prefix ${prefix}): ${why}`,
    );
  }
  return { arbiter: client, close: () => client.close() };
}
