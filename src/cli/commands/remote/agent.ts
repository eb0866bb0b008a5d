import path from 'node:path';
import { Command } from 'commander';
import { createCommandAgent } from '../../../actors/commandAgent.js';
import { allGroupsGone } from '../../../actors/processGroup.js';
import { loadModuleAgent } from '../../../actors/moduleAgent.js';
import type { Agent } from '../../../core/agent.js';
import { ExitCode, UsageError } from '../../exit.js';
import { onStopSignals } from '../../signals.js';
import { checkExecutable } from '../../workflow/agents.js';
import { connectOrExplain, nameOption, positiveIntOption, remoteAction } from './remoteAction.js';
import { parseDurationOption } from '../../input.js';
import {
  natsModules,
  natsOptionsFrom,
  withNatsOptions,
  type NatsCliOptions,
  NATS_ENV,
} from './natsCliOptions.js';
import { redactText } from '../../../core/redact.js';

interface AgentCliOptions extends NatsCliOptions {
  name: string;
  capabilities: string;
  /** `--exec a b` gives ['a', 'b']; a bare `--exec` (the argv after `--`) gives true. */
  exec?: string[] | true;
  module?: string;
  export?: string;
  maxConcurrent: string;
  timeout?: string;
  idempotencyFile?: string;
  keepNatsEnv?: boolean;
}

/** `ndf agent`: serves a command or a module as a remote agent (a NATS micro service) until interrupted. */
export function agentCommand(): Command {
  return withNatsOptions(new Command('agent'))
    .description('run a remote agent worker: a command or a JS/TS module served over NATS')
    .requiredOption(
      '--name <name>',
      'agent (service) name, letters, digits, - and _; instances with one name share the load',
    )
    .requiredOption('--capabilities <list>', 'comma-separated capabilities, e.g. summarize,translate')
    .option(
      '--exec [argv...]',
      'command to run per task, no shell: the task JSON on stdin, stdout parsed as JSON when it is JSON (put it last; arguments starting with - go after --)',
    )
    .argument('[argv...]', 'with --exec: the rest of the command, after --')
    .option(
      '--module <file>',
      'module exporting handler(task) (or a default function), and optionally compensate(task)',
    )
    .option(
      '--export <name>',
      'name of the handler export of --module (default handler, else the default export)',
    )
    .option('--max-concurrent <n>', 'tasks run at once', '4')
    .option('--timeout <ms>', 'kill an --exec command (and its children) after this many ms')
    .option(
      '--idempotency-file <path>',
      'JSON Lines file of completed tasks, so that this agent restarted with it answers re-deliveries from the record instead of running them again (one file per instance)',
    )
    .option('--keep-nats-env', 'pass the NATS_* variables (credentials) on to --exec commands')
    .addHelpText(
      'after',
      `
Each --exec command runs in its own process group. SIGINT, SIGTERM or SIGHUP stops the agent:
it stops answering, aborts the running tasks and kills their commands with their children
(SIGTERM, then SIGKILL after NDF_KILL_GRACE_MS, default 2000 ms); a second signal exits at
once, still killing them. If the agent is killed outright (SIGKILL), a watchdog process kills them.

Examples:
  $ npx ndf agent --nats nats://127.0.0.1:4222 --name shell --capabilities run --exec -- sh -c 'cat > /dev/null; date'
  $ npx ndf agent --nats nats://127.0.0.1:4222 --name summarizer --capabilities summarize --module ./summarize.js
  $ npx ndf agent --nats nats://127.0.0.1:4222 --name linter --capabilities lint --max-concurrent 2 --exec python3 lint.py
  $ npx ndf agents --nats nats://127.0.0.1:4222        # see it (and its other instances)`,
    )
    .action((rest: string[], o: AgentCliOptions) => serve({ ...o, rest }));
}

/** The action of `ndf agent`: `o.rest` holds the arguments after `--`. */
const serve = remoteAction('agent', async ({ rest, ...o }: AgentCliOptions & { rest: string[] }) => {
  const exec = execArgv(o.exec, rest);
  if (Boolean(exec) === Boolean(o.module))
    throw new UsageError('give exactly one of --exec <argv…> or --module <file>');
  const name = nameOption(o.name);
  const capabilities = o.capabilities
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (capabilities.length === 0)
    throw new UsageError(`--capabilities: expected a comma-separated list, got "${o.capabilities}"`);
  const maxConcurrent = positiveIntOption('max-concurrent', o.maxConcurrent);
  const timeoutMs = o.timeout === undefined ? undefined : parseDurationOption('--timeout', o.timeout);
  if (timeoutMs !== undefined && !exec) throw new UsageError('--timeout applies to --exec commands only');
  const worker = await loadWorker({ ...o, exec }, name, capabilities, maxConcurrent, timeoutMs);
  const { NatsTransport, serveAgent } = await natsModules();
  const transport = await connectOrExplain(o.nats, () =>
    NatsTransport.connect(natsOptionsFrom(o, `ndf-agent-${name}`)),
  );
  const served = await serveAgent({
    transport,
    name,
    capabilities,
    maxConcurrent,
    prefix: o.prefix,
    ...(o.idempotencyFile === undefined ? {} : { idempotencyFile: o.idempotencyFile }),
    handler: (task) => worker.execute(task),
    ...(worker.compensate ? { compensate: (task) => worker.compensate?.(task) } : {}),
  });
  process.stdout.write(
    `agent ${name} (${served.id}) serving ${capabilities.join(', ')} on ${redactText(o.nats)}; Ctrl-C to stop\n`,
  );
  const stop = onStopSignals('stopping the agent (running tasks are aborted)', () => undefined);
  await stop.first;
  await served.stop(); // aborts the running tasks: their commands' groups are killed
  await allGroupsGone();
  stop.dispose();
  await worker.close?.();
  await transport.close();
  process.exitCode = ExitCode.OK;
});

/**
 * The argv of `--exec`: its values, then the arguments after `--` (so `--exec -- sh -c '…'`
 * and `--exec sh -- -c '…'` both give `['sh', '-c', '…']`); undefined without `--exec`.
 * @throws UsageError when arguments are given without `--exec`, or `--exec` gets no command
 */
function execArgv(exec: string[] | true | undefined, rest: readonly string[]): string[] | undefined {
  if (exec === undefined) {
    if (rest.length > 0)
      throw new UsageError(`unexpected arguments ${JSON.stringify(rest)}: a command goes after --exec`);
    return undefined;
  }
  const argv = [...(exec === true ? [] : exec), ...rest];
  if (argv.length === 0) throw new UsageError('--exec: give the command to run, e.g. --exec -- sh -c "…"');
  return argv;
}

/**
 * The worker behind `ndf agent`: an `--exec` command (whose executable must exist) or a
 * `--module` (imported now, so a broken one is reported before serving).
 * @throws UsageError naming the option when the command is not found or the module fails to load
 */
async function loadWorker(
  o: Omit<AgentCliOptions, 'exec'> & { exec: string[] | undefined },
  name: string,
  capabilities: string[],
  maxConcurrent: number,
  timeoutMs: number | undefined,
): Promise<Agent> {
  if (o.exec) {
    const [problem] = checkExecutable(o.exec, process.cwd(), undefined, ['--exec']);
    if (problem) throw new UsageError(`--exec: ${problem.message}`);
    return createCommandAgent({
      id: name,
      capabilities,
      maxConcurrent,
      command: o.exec,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      source: '--exec',
      unsetEnv: o.keepNatsEnv ? [] : [...NATS_ENV], // the task's command must not connect as this agent
    });
  }
  return loadModuleAgent({
    id: name,
    capabilities,
    maxConcurrent,
    module: path.resolve(o.module ?? ''),
    ...(o.export ? { export: o.export } : {}),
    source: '--module',
  });
}
