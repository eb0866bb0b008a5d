import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { NatsTransportOptionsInput } from '../../../transport/natsOptions.js';

/** Options every remote subcommand shares (connection and subject prefix). */
export interface NatsCliOptions {
  nats: string;
  prefix: string;
  connectionName?: string;
  user?: string;
  creds?: string;
  nkey?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** Adds `--nats`, `--prefix` and the authentication / TLS options. Secrets come from files or the environment, never argv. */
export function withNatsOptions(command: Command): Command {
  return command
    .requiredOption('--nats <url>', 'NATS server URL(s), comma-separated (e.g. nats://127.0.0.1:4222)')
    .option('--prefix <prefix>', 'subject prefix', 'nd')
    .option('--connection-name <name>', 'connection name shown by the server')
    .option('--user <user>', 'user name (password from $NATS_PASSWORD)')
    .option('--creds <file>', 'JWT credentials file (.creds)')
    .option('--nkey <file>', 'file holding an NKey user seed (SU…)')
    .addOption(new Option('--tls-ca <file>', 'CA certificate (PEM) to verify the server'))
    .addOption(new Option('--tls-cert <file>', 'client certificate (PEM) for mutual TLS'))
    .addOption(new Option('--tls-key <file>', 'client key (PEM) for mutual TLS'))
    .addHelpText('after', '\nToken authentication: set $NATS_TOKEN. Password: set $NATS_PASSWORD.');
}

/** Maps the CLI options (and $NATS_TOKEN / $NATS_PASSWORD) to NatsTransport options. */
export function natsOptionsFrom(o: NatsCliOptions, defaultName: string): NatsTransportOptionsInput {
  const token = process.env['NATS_TOKEN'];
  const tls =
    o.tlsCa || o.tlsCert || o.tlsKey
      ? { caFile: o.tlsCa, certFile: o.tlsCert, keyFile: o.tlsKey }
      : undefined;
  return {
    servers: o.nats.split(',').map((s) => s.trim()),
    name: o.connectionName ?? defaultName,
    ...(token ? { token } : {}),
    ...(o.user ? { user: o.user, pass: process.env['NATS_PASSWORD'] ?? '' } : {}),
    ...(o.creds ? { credsFile: o.creds } : {}),
    ...(o.nkey ? { nkeySeed: readFileSync(o.nkey, 'utf8').trim() } : {}),
    ...(tls ? { tls: Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) } : {}),
  };
}

/** Resolves when SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/**
 * The NATS client and the services over it, imported when a remote command runs: every `ndf`
 * invocation (`run`, `--help`) would otherwise pay for loading them (about 0.1 s).
 */
export async function natsModules() {
  const [transport, served, discover, resolver, service] = await Promise.all([
    import('../../../transport/NatsTransport.js'),
    import('../../../actors/serveAgent.js'),
    import('../../../actors/discoverAgents.js'),
    import('../../../resolver/conflictResolver.js'),
    import('../../../resolver/conflictResolverService.js'),
  ]);
  return {
    NatsTransport: transport.NatsTransport,
    serveAgent: served.serveAgent,
    discoverAgents: discover.discoverAgents,
    ConflictResolver: resolver.ConflictResolver,
    serveConflictResolver: service.serveConflictResolver,
  };
}
