import { Command } from 'commander';
import pc from 'picocolors';
import type { RunResult } from '../../core/result.js';
import { redactText } from '../../core/redact.js';
import { reportCliError, withCluster, withClusterOptions, type ClusterCliOptions } from '../cluster.js';
import { ExitCode, UsageError } from '../exit.js';
import { mergeRunInput, parseDurationOption, parseInputOption } from '../input.js';
import { renderSummary } from '../output/summary.js';
import { signalExitCode } from '../signals.js';
import { loadWorkflow } from '../workflow/load.js';
import type { Workflow } from '../workflow/schema.js';
import { reportLoadError } from './validate.js';

/** `ndf submit <workflow> --nats <url>`: enqueue a run for the workers of a cluster. */

interface SubmitCliOptions extends ClusterCliOptions {
  pattern?: string;
  input?: string;
  runId?: string;
  wait?: boolean;
  timeout?: string;
  json?: boolean;
}

export function submitCommand(): Command {
  return withClusterOptions(
    new Command('submit')
      .description(
        'submit a run of a workflow to a cluster of workers (ndf worker); optionally wait for its result',
      )
      .argument('<workflow>', 'workflow file (.yaml, .yml or .json): the workers must serve the same file')
      .option('-p, --pattern <name>', "the pattern to run (default: the file's run.pattern)")
      .option(
        '-i, --input <json|@file>',
        "run input: inline JSON, or @file with JSON/YAML (merged over the file's run.input)",
      )
      .option('--run-id <id>', 'the run id (default: a new UUID); an id that exists starts nothing new')
      .option('-w, --wait', "wait for the run's end and exit with its status, as ndf run does")
      .option(
        '--timeout <duration>',
        "overall timeout of the run (e.g. 30s, 5m; default: the file's run.timeoutMs)",
      )
      .option(
        '--json',
        'machine-readable output: the submission, then (with --wait) the result, one JSON line each',
      ),
  )
    .addHelpText(
      'after',
      `
The run is queued in NATS JetStream; the first worker with a free slot takes it. Submitting a run
id the cluster already has starts nothing new (with --wait, waits for that run). Exit code with
--wait: 0 when the run succeeded, 1 when it failed, 2 for bad input; without --wait, 0 once queued.
Examples:
  $ npx ndf submit examples/data-pipeline/workflow.yaml --nats nats://127.0.0.1:4222
  $ npx ndf submit examples/data-pipeline/workflow.yaml --input '{"failAt":"write_report"}' --wait
  $ npx ndf submit wf.yaml --run-id nightly-2026-12-05 --wait   # idempotent: safe to retry
See docs/scaling.md.`,
    )
    .action(async (file: string, options: SubmitCliOptions) => {
      process.exitCode = await submit(file, options);
    });
}

/** The pattern, input, context and timeout of the run, from the file and the options. */
function jobOf(workflow: Workflow, options: SubmitCliOptions) {
  const pattern = options.pattern ?? workflow.run.pattern;
  if (pattern === undefined)
    throw new UsageError('name the pattern to run: --pattern <name>, or run.pattern in the file');
  if (workflow.patterns[pattern] === undefined) {
    throw new UsageError(
      `no pattern "${pattern}" in the workflow (patterns: ${Object.keys(workflow.patterns).join(', ')})`,
    );
  }
  const input = mergeRunInput(
    workflow.run.input,
    options.input === undefined ? undefined : parseInputOption(options.input),
  );
  const timeoutMs =
    options.timeout === undefined
      ? workflow.run.timeoutMs
      : parseDurationOption('--timeout', options.timeout);
  return {
    pattern,
    ...(input === undefined ? {} : { input }),
    ...(workflow.run.context === undefined ? {} : { context: workflow.run.context }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(options.runId === undefined ? {} : { runId: options.runId }),
  };
}

async function submit(file: string, options: SubmitCliOptions): Promise<number> {
  let workflow: Workflow;
  try {
    workflow = (await loadWorkflow(file, { buildAgents: false })).workflow;
  } catch (error) {
    return reportLoadError(error);
  }
  let job: ReturnType<typeof jobOf>;
  try {
    job = jobOf(workflow, options);
  } catch (error) {
    return reportCliError(error);
  }
  return withCluster(options, 'ndf-submit', async (client) => {
    const { runId, outcome } = await client.submitRun(job as Parameters<typeof client.submitRun>[0]);
    if (options.json) process.stdout.write(`${JSON.stringify({ type: 'run.submitted', runId, outcome })}\n`);
    else {
      const said = {
        queued: `submitted run ${runId} (pattern ${job.pattern})`,
        duplicate: `run ${runId} is already queued: nothing new submitted`,
        exists: `run ${runId} exists: nothing new submitted (npx ndf runs show ${runId} --nats ${options.nats})`,
      }[outcome];
      process.stdout.write(`${said}\n`);
    }
    if (!options.wait) return ExitCode.OK;
    const abort = new AbortController();
    let received: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      received = signal;
      abort.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let result: RunResult;
    try {
      result = await client.waitForRun(runId, { signal: abort.signal });
    } catch (error) {
      if (received) {
        process.stderr.write(`${pc.yellow('!')} stopped waiting; run ${runId} goes on in the cluster\n`);
        return signalExitCode(received);
      }
      throw error;
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    if (options.json) process.stdout.write(`${redactText(JSON.stringify({ type: 'run.result', result }))}\n`);
    else process.stdout.write(`\n${renderSummary(result)}\n`);
    return result.success ? ExitCode.OK : ExitCode.RUN_FAILED;
  });
}
