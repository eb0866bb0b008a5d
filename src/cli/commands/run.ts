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
Ctrl-C, SIGTERM (docker stop, systemd, Kubernetes) and SIGHUP cancel the run: no further step
starts, running commands are killed with their children (SIGTERM, then SIGKILL after
NDF_KILL_GRACE_MS, default 2000 ms), completed steps are rolled back; a second signal stops at
once (no rollback), still killing the commands.
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
  $ npx ndf run workflow.yaml --nats nats://127.0.0.1:4222        # steps may go to remote agents
  $ npx ndf run workflow.yaml --nats nats://127.0.0.1:4222 --resolver nd   # locks shared via ndf resolver
  $ npx ndf run workflow.yaml --json | jq -c 'select(.type=="step.status")'`,
    )
    .action(async (file: string, options: RunOptions) => {
      process.exitCode = await runWorkflowFile(file, options);
    });
}
