import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import pc from 'picocolors';
import { z } from 'zod';
import { createLogger } from '../../core/logger.js';
import { connectCluster, reportCliError, withClusterOptions, type ClusterCliOptions } from '../cluster.js';
import { ExitCode, UsageError } from '../exit.js';
import { parseDurationOption } from '../input.js';
import { onStopSignals } from '../signals.js';
import { loadWorkflow } from '../workflow/load.js';
import { reportLoadError } from './validate.js';
import { connectRemoteResolver } from '../remoteAgents.js';
import type { Workflow } from '../workflow/schema.js';

/** `ndf worker <workflow> --nats <url>`: serve the workflow's patterns from a cluster's work queue. */

interface WorkerCliOptions extends ClusterCliOptions {
  concurrency: string;
  leaseTtl: string;
  id?: string;
  resolver?: string;
}

const concurrencySchema = z.coerce.number().int().min(1).max(10_000);

/** Whether a step or task of the workflow names `locks`. */
function usesLocks(workflow: Workflow): boolean {
  return Object.values(workflow.patterns).some((p) => {
    const items: unknown[] = p.type === 'sequential' ? p.steps : p.type === 'parallel' ? p.tasks : [];
    return items.some(
      (i) => typeof i === 'object' && i !== null && (i as { locks?: string[] }).locks?.length,
    );
  });
}

export function workerCommand(): Command {
  return withClusterOptions(
    new Command('worker')
      .description(
        "serve a workflow's runs from a cluster: take submitted runs from NATS JetStream, drive them, hand them over if this process dies",
      )
      .argument(
        '<workflow>',
        'workflow file (.yaml, .yml or .json) whose patterns and agents this worker serves',
      )
      .option('-c, --concurrency <n>', 'most runs driven at once by this worker', '4')
      .option(
        '--lease-ttl <ms>',
        "lease time to live, ms: another worker takes a dead worker's runs over about 1.7 × this after it died",
        '10000',
      )
      .option('--id <name>', "this worker's name in leases and logs (default: <host>-<pid>-<random>)")
      .option(
        '--resolver <prefix>',
        "share the steps' locks with every worker through the conflict resolver `ndf resolver --prefix <prefix>` serves on this NATS server (without it, locks hold within this worker only)",
      ),
  )
    .addHelpText(
      'after',
      `
Start as many workers as you like, on any machine that reaches the NATS server (nats-server -js):
each takes runs submitted with \`ndf submit\` while it has a free slot, journals them in JetStream
under a lease, and when a worker dies another resumes its runs from their journals (completed
steps are not run again; a step in flight is sent again with the same idempotency key).
Workers share each agent's circuit breaker (KV bucket ndf_breakers: an agent failing on one is
refused by all, one half-open probe cluster-wide) and what they learn (stream NDF_LEARNING).
SIGINT or SIGTERM stops taking runs and hands the running ones to the other workers.
Examples:
  $ nats-server -js -sd /var/lib/nats &
  $ npx ndf worker examples/data-pipeline/workflow.yaml --nats nats://127.0.0.1:4222 --concurrency 8
  $ npx ndf submit examples/data-pipeline/workflow.yaml --nats nats://127.0.0.1:4222 --wait
See docs/scaling.md.`,
    )
    .action(async (file: string, options: WorkerCliOptions) => {
      process.exitCode = await serve(file, options);
    });
}

async function serve(file: string, options: WorkerCliOptions): Promise<number> {
  let concurrency: number;
  let leaseTtlMs: number;
  try {
    const c = concurrencySchema.safeParse(options.concurrency);
    if (!c.success)
      throw new UsageError(
        `--concurrency must be a whole number from 1 to 10000, not "${options.concurrency}"`,
      );
    concurrency = c.data;
    leaseTtlMs = parseDurationOption('--lease-ttl', options.leaseTtl);
    if (leaseTtlMs < 100) throw new UsageError('--lease-ttl must be at least 100ms');
  } catch (error) {
    return reportCliError(error);
  }
  let loaded;
  try {
    loaded = await loadWorkflow(file);
  } catch (error) {
    return reportLoadError(error);
  }
  const { workflow, agents } = loaded;
  let connection;
  try {
    connection = await connectCluster({ ...options, nats: options.nats }, options.id ?? 'ndf-worker');
  } catch (error) {
    return reportCliError(error);
  }
  // Whatever was opened is closed again, in reverse order, however serving ends.
  const opened: (() => unknown)[] = [() => connection.close()];
  try {
    const [{ startWorker }, { createWorkflowExecutor }, { SharedBreakerBoard }, { SharedLearningFeed }] =
      await Promise.all([
        import('../../cluster/worker/startWorker.js'),
        import('../workflow/build.js'),
        import('../../cluster/sharedBreaker/SharedBreakerBoard.js'),
        import('../../cluster/sharedLearning/SharedLearningFeed.js'),
      ]);
    const logger = createLogger('ndf-worker', 'warn');
    const workerId = options.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    const resolver =
      options.resolver === undefined
        ? undefined
        : await connectRemoteResolver(
            (await import('../../transport/NatsTransport.js')).NatsTransport.fromConnection(connection, {
              logger,
            }),
            options.resolver,
            options.nats,
          );
    if (resolver) opened.push(() => resolver.close());
    else if (usesLocks(workflow)) {
      process.stderr.write(
        `${pc.yellow('!')} the workflow's locks hold within this worker only: pass --resolver <prefix> to share them with the other workers (ndf resolver)\n`,
      );
    }
    // Every worker shares its agents' breaker states: one failing agent is refused cluster-wide.
    const breakers = await SharedBreakerBoard.open({
      connection,
      owner: workerId,
      ...(workflow.breaker?.recoveryTimeoutMs === undefined
        ? {}
        : { recoveryTimeoutMs: workflow.breaker.recoveryTimeoutMs }),
    });
    opened.push(() => breakers.close());
    // ... and learns from every worker's outcomes (the stream also keeps them across restarts).
    const learning = await SharedLearningFeed.open({ connection, owner: workerId, logger });
    opened.push(() => learning.close());
    const worker = await startWorker({
      connection,
      workerId,
      executor: (store) =>
        createWorkflowExecutor(workflow, agents, {
          store,
          sharedBreakers: breakers,
          sharedLearning: learning,
          resolver: resolver?.arbiter,
        }),
      concurrency,
      leaseTtlMs,
      source: resolve(file),
      logger,
      onRunEnd: (runId, outcome) => {
        const line =
          'result' in outcome
            ? `${outcome.result.success ? pc.green('✔') : pc.red('✖')} run ${runId} ${outcome.result.status}`
            : `${pc.yellow('!')} run ${runId} stopped here: ${(outcome.error as Error)?.message ?? String(outcome.error)}`;
        process.stdout.write(`${line}\n`);
      },
    });
    process.stdout.write(
      `worker ${worker.id} serving ${Object.keys(workflow.patterns).join(', ')} from ${options.nats} ` +
        `(concurrency ${concurrency}, lease TTL ${leaseTtlMs} ms)\n`,
    );
    const stop = onStopSignals('handing the running runs to the other workers', () => undefined);
    await stop.first;
    await worker.stop();
    stop.dispose();
    process.stdout.write(`worker ${worker.id} stopped\n`);
    return ExitCode.OK;
  } catch (error) {
    return reportCliError(error);
  } finally {
    for (const close of opened.reverse()) await Promise.resolve(close()).catch(() => undefined);
  }
}
