import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { NatsTransportOptionsInput } from '../../../transport/natsOptions.js';
import { UsageError } from '../../exit.js';

/** The NATS authentication, TLS and inbox options (`ndf run` and the remote commands). */
export interface NatsAuthCliOptions {
  connectionName?: string;
  token?: string;
  user?: string;
  password?: string;
  creds?: string;
  nkey?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  inboxPrefix?: string;
}

/** Options every remote subcommand shares (connection and subject prefix). */
export interface NatsCliOptions extends NatsAuthCliOptions {
  nats: string;
  prefix: string;
}

/**
 * Environment variables holding NATS credentials or the server address: read by the options
 * below, and removed from the environment of the commands `ndf agent --exec` runs (unless
 * `--keep-nats-env`), so a task's child cannot connect as the agent.
 */
export const NATS_ENV = [
  'NATS_URL',
  'NATS_TOKEN',
  'NATS_USER',
  'NATS_PASSWORD',
  'NATS_NKEY',
  'NATS_CREDS',
  'NATS_TLS_CA',
  'NATS_TLS_CERT',
  'NATS_TLS_KEY',
  'NATS_INBOX_PREFIX',
] as const;

/**
 * Adds the authentication / TLS options, each also read from its environment variable
 * (commander's `Option.env`; a flag wins over the variable). Prefer the variables for secrets:
 * argv is visible to every user of the machine (`ps`).
 */
export function withNatsAuthOptions(command: Command): Command {
  const opt = (flags: string, help: string, env: (typeof NATS_ENV)[number]) =>
    command.addOption(new Option(flags, help).env(env));
  opt('--token <token>', 'token authentication (prefer the variable)', 'NATS_TOKEN');
  opt('--user <user>', 'user name (with --password)', 'NATS_USER');
  opt('--password <password>', 'password of --user (prefer the variable)', 'NATS_PASSWORD');
  opt('--nkey <file>', 'file holding an NKey user seed (SU…)', 'NATS_NKEY');
  opt('--creds <file>', 'JWT credentials file (.creds)', 'NATS_CREDS');
  opt('--tls-ca <file>', 'CA certificate (PEM) to verify the server', 'NATS_TLS_CA');
  opt('--tls-cert <file>', 'client certificate (PEM) for mutual TLS', 'NATS_TLS_CERT');
  opt('--tls-key <file>', 'client key (PEM) for mutual TLS', 'NATS_TLS_KEY');
  opt(
    '--inbox-prefix <prefix>',
    "prefix of this client's reply subjects (default _INBOX; see docs/remote-agents.md)",
    'NATS_INBOX_PREFIX',
  );
  return command.option('--connection-name <name>', 'connection name shown by the server');
}

/** Adds `--nats` (or $NATS_URL), `--prefix` and the authentication / TLS options. */
export function withNatsOptions(command: Command): Command {
  command.addOption(
    new Option('--nats <url>', 'NATS server URL(s), comma-separated (e.g. nats://127.0.0.1:4222)')
      .env('NATS_URL')
      .makeOptionMandatory(),
  );
  command.option('--prefix <prefix>', 'subject prefix', 'nd');
  return withNatsAuthOptions(command);
}

function readOptionFile(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new UsageError(
      `${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}

/**
 * Maps the CLI options (flags or their variables) to NatsTransport options.
 * @throws UsageError when `--password` comes without `--user` (or the reverse), or a file cannot be read
 */
export function natsOptionsFrom(
  o: NatsAuthCliOptions & { nats: string },
  defaultName: string,
): NatsTransportOptionsInput {
  if (o.password !== undefined && o.user === undefined)
    throw new UsageError('--password (or $NATS_PASSWORD) needs --user (or $NATS_USER)');
  if (o.user !== undefined && o.password === undefined)
    throw new UsageError('--user needs --password (or $NATS_PASSWORD)');
  const tls =
    o.tlsCa || o.tlsCert || o.tlsKey
      ? Object.fromEntries(
          Object.entries({ caFile: o.tlsCa, certFile: o.tlsCert, keyFile: o.tlsKey }).filter(
            ([, v]) => v !== undefined,
          ),
        )
      : undefined;
  return {
    servers: o.nats.split(',').map((s) => s.trim()),
    name: o.connectionName ?? defaultName,
    ...(o.token ? { token: o.token } : {}),
    ...(o.user ? { user: o.user, pass: o.password ?? '' } : {}),
    ...(o.creds ? { credsFile: o.creds } : {}),
    ...(o.nkey ? { nkeySeed: readOptionFile('--nkey', o.nkey) } : {}),
    ...(tls ? { tls } : {}),
    ...(o.inboxPrefix ? { inboxPrefix: o.inboxPrefix } : {}),
  };
}

/** The secrets among the options, for {@link redactSecrets} (a token or password given outside a URL). */
export function natsSecrets(o: NatsAuthCliOptions): string[] {
  return [o.token, o.password].filter((s): s is string => s !== undefined);
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
