/**
 * The CLI's way into a cluster of workers (docs/scaling.md): connects to the NATS server given
 * with `--nats` (and the credentials options) and opens the {@link ClusterClient}, turning what
 * can go wrong on the way (a malformed option, no server, no JetStream) into a {@link UsageError}
 * whose message says what to fix.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Option, type Command } from 'commander';
import pc from 'picocolors';
import { ClusterClient } from '../cluster/worker/ClusterClient.js';
import { isPatternValidationError } from '../core/errors.js';
import { toConnectionOptions } from '../transport/natsOptions.js';
import {
  natsOptionsFrom,
  withNatsAuthOptions,
  type NatsAuthCliOptions,
} from './commands/remote/natsCliOptions.js';
import { ExitCode, UsageError } from './exit.js';

/** Options of the commands that reach a cluster. */
export interface ClusterCliOptions extends NatsAuthCliOptions {
  nats: string;
}

/** Adds `--nats <url>` (mandatory unless `optional`; `$NATS_URL` when `fromEnv`) and the credentials options. */
export function withClusterOptions(command: Command, how: { optional?: boolean } = {}): Command {
  const option = new Option(
    '--nats <url>',
    how.optional
      ? 'act on the runs of a cluster of workers: the NATS server with JetStream (e.g. nats://127.0.0.1:4222)'
      : 'the NATS server with JetStream the workers share, comma-separated URLs (default: $NATS_URL)',
  );
  command.addOption(how.optional ? option : option.env('NATS_URL').makeOptionMandatory());
  return withNatsAuthOptions(command);
}

/**
 * Connects to the cluster's NATS server.
 * @throws UsageError naming the server when it cannot be reached or an option is malformed
 */
export async function connectCluster(o: ClusterCliOptions, name: string): Promise<NatsConnection> {
  let connection;
  try {
    connection = toConnectionOptions(natsOptionsFrom(o, name)).connection;
  } catch (error) {
    if (isPatternValidationError(error)) throw new UsageError(`--nats: ${error.message}`);
    throw error;
  }
  try {
    return await connect(connection);
  } catch (error) {
    throw new UsageError(`cannot connect to NATS at ${o.nats}: ${(error as Error).message}`);
  }
}

/**
 * Runs `body` with a client of the cluster, then closes it; a usage or cluster error is printed
 * (no stack) and becomes the exit code.
 */
export async function withCluster(
  o: ClusterCliOptions,
  name: string,
  body: (client: ClusterClient, connection: NatsConnection) => Promise<number>,
): Promise<number> {
  let connection: NatsConnection | undefined;
  let client: ClusterClient | undefined;
  try {
    connection = await connectCluster(o, name);
    try {
      client = await ClusterClient.open({ connection });
    } catch (error) {
      throw new UsageError(
        `NATS at ${o.nats} has no usable JetStream (start nats-server with -js): ${(error as Error).message}`,
      );
    }
    return await body(client, connection);
  } catch (error) {
    return reportCliError(error);
  } finally {
    await client?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
  }
}

/** Prints an error without its stack; usage and validation errors are bad input (exit 2). */
export function reportCliError(error: unknown): number {
  process.stderr.write(`${pc.red('✖')} ${error instanceof Error ? error.message : String(error)}\n`);
  return error instanceof UsageError || isPatternValidationError(error)
    ? ExitCode.BAD_INPUT
    : ExitCode.RUN_FAILED;
}
