import { z } from 'zod';
import { PROTOCOL_VERSION } from '../protocol/protocol.js';
import { decodeText, type Transport, type TransportReply } from '../transport/Transport.js';
import type { Agent } from '../core/agent.js';
import { remoteAgent, type RemoteAgentOptions } from './remoteAgent.js';

const infoSchema = z.object({
  name: z.string(),
  id: z.string(),
  version: z.string(),
  metadata: z.record(z.string(), z.string()).nullish(),
  endpoints: z.array(z.object({ name: z.string(), subject: z.string() })).nullish(),
});
const statsSchema = z.object({
  name: z.string(),
  id: z.string(),
  started: z.string().optional(),
  endpoints: z
    .array(
      z.object({
        name: z.string(),
        num_requests: z.number(),
        num_errors: z.number(),
        data: z.unknown().optional(),
      }),
    )
    .nullish(),
});

/** One running instance of a discovered agent. */
export interface AgentInstance {
  readonly id: string;
  readonly version: string;
  readonly started?: string | undefined;
  /** Requests received by its task endpoint. */
  readonly requests: number;
  /** The agent's own counters (`ServedAgentStats` for agents served by `serveAgent`). */
  readonly stats?: unknown;
}

/** An agent found through `$SRV.INFO`/`$SRV.STATS`: the instances sharing one service name. */
export interface DiscoveredAgent {
  readonly name: string;
  readonly capabilities: readonly string[];
  /** Per instance (`nd.maxConcurrent`). */
  readonly maxConcurrent: number;
  readonly prefix: string;
  readonly instances: readonly AgentInstance[];
}

function parseAll<S extends z.ZodType>(schema: S, replies: readonly TransportReply[]): z.infer<S>[] {
  const out: z.infer<S>[] = [];
  for (const reply of replies) {
    try {
      const parsed = schema.safeParse(JSON.parse(decodeText(reply.data)));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // a service answering garbage is not one of ours
    }
  }
  return out;
}

/**
 * Lists natural-delegation agents on the bus: NATS micro services whose metadata carries
 * `nd.protocol` = 1, grouped by name, with their capabilities and per-instance stats. Other
 * services (and malformed answers) are ignored.
 *
 * @param options.timeoutMs - how long to collect answers, ms (default 500)
 */
export async function discoverAgents(
  transport: Transport,
  options: { timeoutMs?: number; prefix?: string } = {},
): Promise<DiscoveredAgent[]> {
  const maxWaitMs = options.timeoutMs ?? 500;
  const empty = new Uint8Array(0);
  const [infoReplies, statsReplies] = await Promise.all([
    transport.requestMany('$SRV.INFO', empty, { maxWaitMs }),
    transport.requestMany('$SRV.STATS', empty, { maxWaitMs }),
  ]);
  const stats = new Map(parseAll(statsSchema, statsReplies).map((s) => [s.id, s]));
  const byName = new Map<
    string,
    { capabilities: Set<string>; maxConcurrent: number; prefix: string; instances: AgentInstance[] }
  >();
  for (const info of parseAll(infoSchema, infoReplies)) {
    const meta = info.metadata ?? {};
    if (meta['nd.protocol'] !== String(PROTOCOL_VERSION) || meta['nd.role'] === 'resolver') continue;
    const prefix = meta['nd.prefix'] ?? 'nd';
    if (options.prefix !== undefined && prefix !== options.prefix) continue;
    const entry = byName.get(info.name) ?? {
      capabilities: new Set<string>(),
      maxConcurrent: 1,
      prefix,
      instances: [],
    };
    for (const c of (meta['nd.capabilities'] ?? '').split(',')) if (c) entry.capabilities.add(c);
    entry.maxConcurrent = Math.max(entry.maxConcurrent, Number(meta['nd.maxConcurrent'] ?? 1) || 1);
    const s = stats.get(info.id);
    const task = s?.endpoints?.find((e) => e.name === 'task');
    entry.instances.push({
      id: info.id,
      version: info.version,
      started: s?.started,
      requests: task?.num_requests ?? 0,
      stats: task?.data,
    });
    byName.set(info.name, entry);
  }
  return [...byName.entries()]
    .map(([name, e]) => ({
      name,
      capabilities: [...e.capabilities].sort(),
      maxConcurrent: e.maxConcurrent,
      prefix: e.prefix,
      instances: e.instances,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Turns discovered agents into {@link Agent}s (one per name; `maxConcurrent` summed over the
 * instances, since the queue group spreads tasks over them).
 */
export function agentsFromDiscovery(
  transport: Transport,
  discovered: readonly DiscoveredAgent[],
  options: Pick<RemoteAgentOptions, 'timeoutMs' | 'maxMessageBytes' | 'clock' | 'traceHeaders'> = {},
): Agent[] {
  return discovered.map((d) =>
    remoteAgent({
      ...options,
      transport,
      name: d.name,
      capabilities: d.capabilities.length > 0 ? d.capabilities : [d.name],
      maxConcurrent: d.maxConcurrent * Math.max(1, d.instances.length),
      prefix: d.prefix,
    }),
  );
}
