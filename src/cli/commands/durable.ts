import { Command, Option } from 'commander';
import pc from 'picocolors';
import { ExitCode, UsageError } from '../exit.js';
import { parseInputOption } from '../input.js';
import { runWorkflowFile, type RunAction, type RunOptions } from '../runWorkflow.js';
import { openRunStore } from '../runStore.js';
import { withCluster, withClusterOptions, type ClusterCliOptions } from '../cluster.js';
import type { ControlRequest } from '../../cluster/worker/runControl.js';
import { renderSummary } from '../output/summary.js';

/** `ndf resume`, `ndf cancel`, `ndf signal`, `ndf fork`: act on a run journaled in the store. */

interface StoreOptions {
  store?: string;
  progress?: boolean;
  json?: boolean;
  allowChangedPattern?: boolean;
}

const storeOption = () =>
  new Option(
    '--store <dir>',
    'the run store: a directory (default: NDF_STORE, else .nd in the working directory)',
  );

/** The workflow file a run was started from (recorded by `ndf run`). */
async function sourceOf(runId: string, store: string | undefined): Promise<string> {
  const s = await openRunStore(store);
  try {
    const first = (await s.read(runId))[0];
    if (first === undefined)
      throw new UsageError(`no run "${runId}" in the store ${s.dir} (list them: npx ndf runs)`);
    if (first.kind !== 'runStarted' || first.source === undefined) {
      throw new UsageError(
        `run ${runId} was not started by ndf run (no workflow file recorded): resume it from the program that started it`,
      );
    }
    return first.source;
  } finally {
    await s.close();
  }
}

/** Finds the run's workflow file and carries out `action` on it; the exit code. */
async function act(runId: string, options: StoreOptions, action: RunAction): Promise<number> {
  try {
    const file = await sourceOf(runId, options.store);
    const run: RunOptions = {
      ...(options.store === undefined ? {} : { store: options.store }),
      ...(options.progress === false ? { progress: false } : {}),
      ...(options.json ? { json: true } : {}),
      ...(options.allowChangedPattern ? { allowChangedPattern: true } : {}),
    };
    return await runWorkflowFile(file, run, action);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${pc.red('✖')} ${error.message}\n`);
      return ExitCode.BAD_INPUT;
    }
    throw error;
  }
}

const common = (command: Command): Command =>
  command
    .addOption(storeOption())
    .option('--no-progress', 'no live progress, only the summary')
    .option('--json', 'machine-readable output: one JSON event per line, then the result');

/** `ndf resume <id> | --all`. */
export function resumeCommand(): Command {
  return common(
    new Command('resume')
      .description('continue runs that stopped (a crash, Ctrl-C): completed steps are not run again')
      .argument('[run-id]', 'the run to continue (ndf runs lists them)')
      .option('--all', 'continue every unfinished run of the store, one after another')
      .option('--allow-changed-pattern', 'continue even though the pattern changed since the run started'),
  )
    .addHelpText(
      'after',
      `
The run continues with the workflow file it was started from: steps whose completion was journaled
are not executed again; steps that were in flight are sent again with the same idempotency key.
Examples:
  $ npx ndf resume 6f1c…            # continue one run
  $ npx ndf resume --all            # continue every running or waiting run`,
    )
    .action(async (runId: string | undefined, options: StoreOptions & { all?: boolean }) => {
      if ((runId === undefined) === (options.all !== true)) {
        process.stderr.write(`${pc.red('✖')} give a run id or --all (not both)\n`);
        process.exitCode = ExitCode.BAD_INPUT;
        return;
      }
      const ids = runId !== undefined ? [runId] : await unfinished(options.store);
      if (ids.length === 0) process.stdout.write('no unfinished run in the store\n');
      let code: number = ExitCode.OK;
      for (const id of ids) {
        const one = await act(id, options, { kind: 'resume', runId: id });
        if (one !== ExitCode.OK) code = one;
      }
      process.exitCode = code;
    });
}

async function unfinished(store: string | undefined): Promise<string[]> {
  const s = await openRunStore(store);
  try {
    return (await s.listRuns({ status: ['running', 'waiting'] })).map((r) => r.runId);
  } finally {
    await s.close();
  }
}

/** `ndf cancel <id>`. */
export function cancelCommand(): Command {
  return withClusterOptions(
    common(
      new Command('cancel')
        .description('cancel a run durably: its completed steps are compensated, it ends cancelled')
        .argument('<run-id>', 'the run to cancel')
        .option('--reason <text>', 'why, recorded in the journal'),
    ),
    { optional: true },
  )
    .addHelpText(
      'after',
      `
A run executing in another process (ndf run in another terminal) is asked to cancel through the
store; this command waits until it has. Exit code 0 once the run is cancelled.
With --nats, the run is one of a cluster of workers (ndf worker): the worker driving it cancels it
(or, when none drives it now, the next one to take it). Examples:
  $ npx ndf cancel 6f1c… --reason "wrong input"
  $ npx ndf cancel 6f1c… --nats nats://127.0.0.1:4222`,
    )
    .action(
      async (runId: string, options: StoreOptions & Partial<ClusterCliOptions> & { reason?: string }) => {
        if (options.nats !== undefined) {
          const request: ControlRequest = {
            kind: 'cancel',
            ...(options.reason === undefined ? {} : { reason: options.reason }),
          };
          process.exitCode = await inCluster(runId, options as ClusterCliOptions & StoreOptions, request);
          return;
        }
        process.exitCode = await act(runId, options, { kind: 'cancel', runId, reason: options.reason });
      },
    );
}

/**
 * Sends a cancel or signal request to a run of a cluster; for a cancel, waits for the run's end
 * (exit 0 once it is cancelled).
 */
function inCluster(
  runId: string,
  options: ClusterCliOptions & StoreOptions,
  request: ControlRequest,
): Promise<number> {
  return withCluster(options, 'ndf-control', async (client) => {
    const { delivery, worker } = await client.controlRun(runId, request);
    const what = request.kind === 'cancel' ? 'cancel' : `signal ${request.signal}`;
    process.stderr.write(
      delivery === 'delivered'
        ? `${pc.green('✔')} ${what} delivered to run ${runId} on worker ${worker}\n`
        : `${pc.green('✔')} ${what} journaled for run ${runId}: no worker drives it now, the next one acts on it\n`,
    );
    if (request.kind !== 'cancel') return ExitCode.OK;
    const result = await client.waitForRun(runId);
    process.stdout.write(
      options.json ? `${JSON.stringify({ type: 'run.result', result })}\n` : `\n${renderSummary(result)}\n`,
    );
    return result.status === 'cancelled' ? ExitCode.OK : ExitCode.RUN_FAILED;
  });
}

/** `ndf signal <id> <name> [--data json|@file]`. */
export function signalCommand(): Command {
  return withClusterOptions(
    common(
      new Command('signal')
        .description('deliver a signal to a run whose step waits for it (waitFor), e.g. an approval')
        .argument('<run-id>', 'the run')
        .argument('<name>', "the signal's name (the step's waitFor.signal)")
        .option('-d, --data <json|@file>', "the signal's payload: inline JSON, or @file with JSON/YAML")
        .option('--no-resume', 'only journal the signal; do not continue the run in this process'),
    ),
    { optional: true },
  )
    .addHelpText(
      'after',
      `
The waiting step completes with the payload as its output. A run executing in another process gets
the signal there; a run no process executes has it journaled and, unless --no-resume, continues
here. With --nats, the run is one of a cluster of workers (ndf worker): the worker driving it gets
the signal (or, when none drives it now, it is journaled for the next one).
Examples:
  $ npx ndf signal 6f1c… approval --data '{"approved":true,"by":"ann"}'
  $ npx ndf signal 6f1c… approval --data '{"approved":true}' --nats nats://127.0.0.1:4222`,
    )
    .action(
      async (
        runId: string,
        name: string,
        options: StoreOptions & Partial<ClusterCliOptions> & { data?: string; resume?: boolean },
      ) => {
        let payload: unknown;
        try {
          payload = options.data === undefined ? undefined : parseInputOption(options.data);
        } catch (error) {
          process.stderr.write(`${pc.red('✖')} --data: ${(error as Error).message}\n`);
          process.exitCode = ExitCode.BAD_INPUT;
          return;
        }
        if (options.nats !== undefined) {
          const request = { kind: 'signal', signal: name, ...(payload === undefined ? {} : { payload }) };
          process.exitCode = await inCluster(
            runId,
            options as ClusterCliOptions & StoreOptions,
            request as ControlRequest,
          );
          return;
        }
        process.exitCode = await act(runId, options, {
          kind: 'signal',
          runId,
          name,
          payload,
          resume: options.resume !== false,
        });
      },
    );
}

/** `ndf fork <id> --from <step>`. */
export function forkCommand(): Command {
  return common(
    new Command('fork')
      .description('run again from a step: a new run reuses the outputs of the steps before it')
      .argument('<run-id>', 'the run to fork')
      .requiredOption('--from <step>', 'the first step to execute again (a step name, or pattern/step)')
      .option('--run-id <id>', "the new run's id (default: a new UUID)"),
  )
    .addHelpText(
      'after',
      `
Fix an agent, then re-run from the step that failed without repeating the ones before it.
Example:
  $ npx ndf fork 6f1c… --from write_report`,
    )
    .action(async (runId: string, options: StoreOptions & { from: string; runId?: string }) => {
      process.exitCode = await act(runId, options, {
        kind: 'fork',
        runId,
        fromStep: options.from,
        newRunId: options.runId,
      });
    });
}
