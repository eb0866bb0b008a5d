import Table from 'cli-table3';
import { Command, Option } from 'commander';
import pc from 'picocolors';
import { redactText } from '../../core/redact.js';
import { runDetails, type RunDetails } from '../../runtime/durable/runDetails.js';
import type { RunSummary, StoredRunStatus } from '../../store/summary.js';
import { ExitCode, UsageError } from '../exit.js';
import { formatDuration, statusLabel } from '../output/format.js';
import { openRunStore } from '../runStore.js';
import { withCluster, withClusterOptions, type ClusterCliOptions } from '../cluster.js';
import type { ListRunsFilter } from '../../store/summary.js';

const STATUSES: StoredRunStatus[] = [
  'running',
  'waiting',
  'succeeded',
  'failed',
  'timedOut',
  'rolledBack',
  'cancelled',
];

const tableStyle = () => {
  const color = pc.isColorSupported;
  return { compact: true, head: color ? ['bold'] : [], border: color ? ['grey'] : [] };
};

const when = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function renderRuns(runs: readonly RunSummary[]): string {
  const table = new Table({
    head: ['Run', 'Pattern', 'Status', 'Started (UTC)', 'Duration'],
    style: tableStyle(),
  });
  for (const r of runs) {
    table.push([
      r.runId,
      r.pattern,
      statusLabel(r.status),
      when(r.startedAt),
      r.finishedAt === undefined ? pc.dim('—') : formatDuration(r.finishedAt - r.startedAt),
    ]);
  }
  return table.toString();
}

function renderRun(run: RunDetails): string {
  const table = new Table({
    head: ['Step', 'Status', 'Agent', 'Attempts', 'Duration', 'Compensation'],
    style: tableStyle(),
  });
  for (const s of run.steps) {
    const first = s.attempts[0];
    const last = s.attempts[s.attempts.length - 1];
    const ended = last?.endedAt;
    table.push([
      s.step,
      statusLabel(s.status === 'retryDue' ? 'retrying' : s.status),
      last?.agent ?? pc.dim('—'),
      String(s.attempts.length),
      first && ended !== undefined ? formatDuration(ended - first.dispatchedAt) : pc.dim('—'),
      s.compensation?.status ?? pc.dim('none'),
    ]);
  }
  const lines = [
    table.toString(),
    `${pc.bold(run.pattern)} ${statusLabel(run.status)} (run ${run.runId}, started ${when(run.startedAt)} UTC)`,
  ];
  const waiting = run.steps.flatMap((s) => s.attempts.filter((a) => a.waitingFor && a.outcome === undefined));
  for (const a of waiting)
    lines.push(
      `${pc.cyan('…')} waits for signal ${a.waitingFor}: npx ndf signal ${run.runId} ${a.waitingFor}`,
    );
  if (run.result?.error) lines.push(`${pc.red('error:')} ${run.result.error.message}`);
  for (const s of run.steps.filter((x) => x.status === 'failed' && x.error))
    lines.push(`${pc.red('✖')} ${s.step}: ${s.error?.message ?? ''}`);
  return redactText(lines.join('\n'));
}

/** `ndf runs [--status s] [--pattern p] [--json]` and `ndf runs show <id>`. */
export function runsCommand(): Command {
  const storeOption = new Option(
    '--store <dir>',
    'the run store: a directory (default: NDF_STORE, else .nd in the working directory)',
  );
  const show = new Command('show')
    .description("one run's steps from its journal (attempts, agents, compensations, signals awaited)")
    .argument('<run-id>', 'the run')
    .addOption(storeOption)
    .option('--json', 'the run as JSON: status, steps with attempts, outputs, errors, and the journal')
    .action(async (runId: string, _options: unknown, command: Command) => {
      // `--store` may be parsed as the parent's (`ndf runs --store d show id`) or this one's
      const options = command.optsWithGlobals<{ store?: string; json?: boolean; nats?: string }>();
      if (options.nats !== undefined) {
        process.exitCode = await withCluster(options as ClusterCliOptions, 'ndf-runs', async (client) => {
          const run = await client.getRun(runId);
          if (run === undefined) throw new UsageError(`no run "${runId}" in the cluster at ${options.nats}`);
          process.stdout.write(`${options.json ? JSON.stringify(run) : renderRun(run)}\n`);
          return ExitCode.OK;
        });
        return;
      }
      process.exitCode = await guarded(async () => {
        const store = await openRunStore(options.store);
        try {
          const run = runDetails(await store.read(runId));
          if (run === undefined) throw new UsageError(`no run "${runId}" in the store ${store.dir}`);
          process.stdout.write(`${options.json ? JSON.stringify(run) : renderRun(run)}\n`);
        } finally {
          await store.close();
        }
      });
    });
  withClusterOptions(show, { optional: true });
  const runs = new Command('runs')
    .description('list the runs journaled in the store (ndf run keeps them in .nd/ by default)')
    .addOption(storeOption)
    .addOption(new Option('--status <status...>', 'only runs with these statuses').choices(STATUSES))
    .option('--pattern <name>', 'only runs of this pattern')
    .option('--json', 'one JSON summary per line')
    .addHelpText(
      'after',
      `
Examples:
  $ npx ndf runs
  $ npx ndf runs --status running waiting
  $ npx ndf runs show 6f1c…
  $ npx ndf runs --nats nats://127.0.0.1:4222          # the runs of a cluster of workers (ndf worker)
  $ npx ndf runs show 6f1c… --nats nats://127.0.0.1:4222`,
    )
    .action(async (options: RunsOptions) => {
      const filter: ListRunsFilter = {
        ...(options.status ? { status: options.status } : {}),
        ...(options.pattern ? { pattern: options.pattern } : {}),
      };
      const print = (list: RunSummary[], where: string) => {
        if (options.json) for (const r of list) process.stdout.write(`${JSON.stringify(r)}\n`);
        else process.stdout.write(list.length === 0 ? `no runs in ${where}\n` : `${renderRuns(list)}\n`);
      };
      if (options.nats !== undefined) {
        process.exitCode = await withCluster(options as ClusterCliOptions, 'ndf-runs', async (client) => {
          print(await client.listRuns(filter), 'the cluster');
          return ExitCode.OK;
        });
        return;
      }
      process.exitCode = await guarded(async () => {
        const store = await openRunStore(options.store);
        try {
          print(await store.listRuns(filter), 'the store');
        } finally {
          await store.close();
        }
      });
    })
    .addCommand(show);
  return withClusterOptions(runs, { optional: true });
}

interface RunsOptions extends Partial<ClusterCliOptions> {
  store?: string;
  status?: StoredRunStatus[];
  pattern?: string;
  json?: boolean;
}

/** Runs `body`; a usage error or a store error is printed (no stack) with its exit code. */
async function guarded(body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return ExitCode.OK;
  } catch (error) {
    process.stderr.write(`${pc.red('✖')} ${(error as Error).message}\n`);
    return error instanceof UsageError ? ExitCode.BAD_INPUT : ExitCode.RUN_FAILED;
  }
}
