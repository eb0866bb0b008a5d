import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Agent } from '../../core/agent.js';
import { PatternValidationError } from '../../core/errors.js';
import { redactSecrets } from '../../core/redact.js';
import type { NatsTransportOptionsInput } from '../../transport/natsOptions.js';
import type { AgentSpec } from './agentSchema.js';

type NatsSpec = Extract<AgentSpec, { kind: 'nats' }>;

/**
 * A `kind: nats` agent: connects to NATS (one connection per agent, closed with the agent) and
 * sends each task to the remote agent service named `agentId` (default: the agent's key).
 * The NATS modules are imported only when a workflow has such an agent.
 *
 * @throws PatternValidationError naming `agents.<id>.servers` when no server answers or it refuses
 *   the credentials (redacted), or the credential field that is unusable
 */
export async function createNatsAgent(id: string, spec: NatsSpec, dir: string): Promise<Agent> {
  const [{ NatsTransport }, { remoteAgent }] = await Promise.all([
    import('../../transport/NatsTransport.js'),
    import('../../actors/remoteAgent.js'),
  ]);
  const servers = spec.servers ?? 'nats://127.0.0.1:4222';
  const auth = credentialsOf(id, spec, dir);
  let transport: Awaited<ReturnType<typeof NatsTransport.connect>>;
  try {
    transport = await NatsTransport.connect({ servers, name: `ndf:${id}`, ...auth.options });
  } catch (error) {
    const why = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    const field = `agents.${id}.servers`;
    throw new PatternValidationError(
      redactSecrets(`${field}: cannot connect to NATS at ${String(servers)}: ${why}`, auth.secrets),
      { field },
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

/**
 * The connection options of the agent's credentials: secrets from the variables the spec names,
 * files resolved against the workflow's directory.
 * @throws PatternValidationError naming `agents.<id>.<field>` when a named variable is unset or a file unreadable
 */
function credentialsOf(
  id: string,
  spec: NatsSpec,
  dir: string,
): { options: Omit<NatsTransportOptionsInput, 'servers'>; secrets: string[] } {
  const fromEnv = (field: 'tokenEnv' | 'passwordEnv'): string | undefined => {
    const name = spec[field];
    if (name === undefined) return undefined;
    const value = process.env[name];
    if (value === undefined || value === '') {
      const where = `agents.${id}.${field}`;
      throw new PatternValidationError(`${where}: $${name} is not set`, { field: where });
    }
    return value;
  };
  const file = (field: string, relative: string): string => {
    const absolute = path.resolve(dir, relative);
    if (!existsSync(absolute)) {
      const where = `agents.${id}.${field}`;
      throw new PatternValidationError(`${where}: no file ${absolute}`, { field: where });
    }
    return absolute;
  };
  const token = fromEnv('tokenEnv');
  const pass = fromEnv('passwordEnv');
  const tls = spec.tls
    ? Object.fromEntries(
        (['caFile', 'certFile', 'keyFile'] as const)
          .filter((k) => spec.tls?.[k] !== undefined)
          .map((k) => [k, file(`tls.${k}`, spec.tls?.[k] ?? '')]),
      )
    : undefined;
  return {
    secrets: [token, pass].filter((s): s is string => s !== undefined),
    options: {
      ...(token === undefined ? {} : { token }),
      ...(spec.user === undefined ? {} : { user: spec.user, pass: pass ?? '' }),
      ...(spec.nkeyFile === undefined
        ? {}
        : { nkeySeed: readFileSync(file('nkeyFile', spec.nkeyFile), 'utf8').trim() }),
      ...(spec.credsFile === undefined ? {} : { credsFile: file('credsFile', spec.credsFile) }),
      ...(tls === undefined ? {} : { tls }),
      ...(spec.inboxPrefix === undefined ? {} : { inboxPrefix: spec.inboxPrefix }),
    },
  };
}
