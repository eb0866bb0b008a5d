import { Command, Option } from 'commander';
import { TRACE_LEVELS } from '../../tracing/levels.js';
import { runWorkflowFile } from '../runWorkflow.js';
import type { RunOptions } from '../runWorkflow.js';

/** `ndf run <file>`: runs a workflow with live progress, a summary, and optionally a trace. */
export function runCommand(): Command {
  return new Command('run')
    .description('run a workflow file: live progress, then a summary table')
    .argument('<file>', 'workflow file (.yaml, .yml or .json)')
    .option(
      '-i, --input <json|@file>',
      "run input, merged over the file's run.input (inline JSON, or @file with JSON/YAML)",
    )
    .option(
      '-t, --trace <file.jsonl>',
      'write every run event (with its timestamp `at`, epoch ms) as JSON lines',
    )
    .addOption(
      new Option(
        '--trace-level <level>',
        'how much --trace and --otlp record as spans (docs/observability.md); default standard',
      ).choices(TRACE_LEVELS),
    )
    .addOption(
      new Option(
        '--otlp <url>',
        'export spans and metrics with OTLP/HTTP to this collector (base URL: <url>/v1/traces, <url>/v1/metrics)',
      ).env('OTEL_EXPORTER_OTLP_ENDPOINT'),
    )
    .option(
      '-o, --output <file.json>',
      "write the run result with every step's output (JSON); the summary shows the last step's",
    )
    .option(
      '--json',
      'machine-readable output: one JSON event per line, then {"type":"run.result","result":…} with every step output',
    )
    .option('--dry-run', 'validate and print the plan (agents, patterns, steps) without running')
    .option(
      '--deep',
      'with --dry-run: also import module agents and connect to NATS servers (as validate --deep)',
    )
    .option(
      '--timeout <ms>',
      'timeout of the whole run, ms (overrides run.timeoutMs; default 60000, i.e. 60 s, when neither is set)',
    )
    .option('--no-progress', 'no live progress, only the summary')
    .option(
      '--store <dir>',
      'journal the run in this directory (default: NDF_STORE, else .nd in the working directory)',
    )
    .option('--no-store', 'do not journal the run (it cannot be resumed after a crash)')
    .option(
      '--run-id <id>',
      "the run's id (default: a new UUID); the same id again continues that run after a crash, or prints its recorded result",
    )
    .option('--allow-changed-pattern', 'continue a run even though its pattern changed since it started')
    .option(
      '--inspect [port]',
      'serve the live inspector page on 127.0.0.1 (port default: any free one; the address is printed on stderr); it keeps serving after the run until Ctrl-C',
    )
    .option(
      '--nats <url>',
      'also use the remote agents serving on this NATS server (discovered, like `ndf agents`)',
    )
    .option(
      '--resolver <prefix>',
      "with --nats: take the steps' locks from the conflict resolver `ndf resolver` serves under this subject prefix (its --prefix, usually nd)",
    )
    .addHelpText(
      'after',
      `
Progress is a live tree on a terminal, plain lines when stdout is not a terminal.
A run that sets no timeout (run.timeoutMs, --timeout) is cancelled after 60 s.
Every run is journaled in the run store (.nd/ unless --store or NDF_STORE says otherwise): its id
is printed first. After a crash, the same command with --run-id <id> (or npx ndf resume <id>)
continues it: completed steps are not run again. See docs/durability.md.
Ctrl-C, SIGTERM (docker stop, systemd, Kubernetes) and SIGHUP suspend a journaled run: running
commands are killed with their children (SIGTERM, then SIGKILL after NDF_KILL_GRACE_MS, default
2000 ms) and the journal is kept, to resume (ndf resume <id>) or cancel (ndf cancel <id>) later.
With --no-store they cancel the run instead: completed steps are rolled back. A second signal
stops at once, still killing the commands.
Exit codes: 0 the run succeeded, 1 it failed, 2 bad input, 128+N stopped by signal N
(130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).

Examples:
  $ npx ndf run examples/data-pipeline/workflow.yaml
  $ npx ndf run examples/data-pipeline/workflow.yaml --input '{"failAt":"write_report"}' --trace run.jsonl
  $ npx ndf run examples/project-check/workflow.yaml --input '{"dir":"."}'
  $ npx ndf run workflow.yaml --trace run.jsonl --trace-level detailed && npx ndf trace run.jsonl
  $ npx ndf run workflow.yaml --otlp http://127.0.0.1:4318         # spans + metrics to a collector
  $ npx ndf run workflow.yaml --output outputs.json                # every step's output, as JSON
  $ npx ndf run workflow.yaml --dry-run
  $ npx ndf run workflow.yaml --run-id nightly-2026-12-04          # kill it, run it again: it continues
  $ npx ndf run workflow.yaml --inspect 4800                      # watch it at http://127.0.0.1:4800/
  $ npx ndf run workflow.yaml --nats nats://127.0.0.1:4222        # steps may go to remote agents
  $ npx ndf run workflow.yaml --nats nats://127.0.0.1:4222 --resolver nd   # locks shared via ndf resolver
  $ npx ndf run workflow.yaml --json | jq -c 'select(.type=="step.status")'`,
    )
    .action(async (file: string, options: RunOptions) => {
      process.exitCode = await runWorkflowFile(file, options);
    });
}
