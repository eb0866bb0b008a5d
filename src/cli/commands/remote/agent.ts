import path from 'node:path';
import { Command } from 'commander';
import { createCommandAgent } from '../../../actors/commandAgent.js';
import { loadModuleAgent } from '../../../actors/moduleAgent.js';
import type { Agent } from '../../../core/agent.js';
import { ExitCode, UsageError } from '../../exit.js';
import { checkExecutable } from '../../workflow/agents.js';
import { connectOrExplain, nameOption, positiveIntOption, remoteAction } from './remoteAction.js';
import { parseDurationOption } from '../../input.js';
import {
  natsModules,
  natsOptionsFrom,
  untilSignal,
  withNatsOptions,
  type NatsCliOptions,
} from './natsCliOptions.js';

interface AgentCliOptions extends NatsCliOptions {
  name: string;
  capabilities: string;
  exec?: string[];
  module?: string;
  export?: string;
  maxConcurrent: string;
  timeout?: string;
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
      '--exec <argv...>',
      'command to run per task, no shell: the task JSON on stdin, stdout parsed as JSON when it is JSON (put it last)',
    )
    .option(
      '--module <file>',
      'module exporting handler(task) (or a default function), and optionally compensate(task)',
    )
    .option(
      '--export <name>',
      'name of the handler export of --module (default handler, else the default export)',
    )
    .option('--max-concurrent <n>', 'tasks run at once', '4')
    .option('--timeout <ms>', 'kill an --exec command after this many ms')
    .addHelpText(
      'after',
      `
Examples:
  $ npx ndf agent --nats nats://127.0.0.1:4222 --name summarizer --capabilities summarize --module ./summarize.js
  $ npx ndf agent --nats nats://127.0.0.1:4222 --name linter --capabilities lint --max-concurrent 2 --exec python3 lint.py
  $ npx ndf agents --nats nats://127.0.0.1:4222        # see it (and its other instances)`,
    )
    .action(
      remoteAction('agent', async (o: AgentCliOptions) => {
        if (Boolean(o.exec) === Boolean(o.module))
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
        if (timeoutMs !== undefined && !o.exec)
          throw new UsageError('--timeout applies to --exec commands only');
        const worker = await loadWorker(o, name, capabilities, maxConcurrent, timeoutMs);
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
          handler: (task) => worker.execute(task),
          ...(worker.compensate ? { compensate: (task) => worker.compensate?.(task) } : {}),
        });
        process.stdout.write(
          `agent ${name} (${served.id}) serving ${capabilities.join(', ')} on ${o.nats}; Ctrl-C to stop\n`,
        );
        await untilSignal();
        await served.stop();
        await worker.close?.();
        await transport.close();
        process.exitCode = ExitCode.OK;
      }),
    );
}

/**
 * The worker behind `ndf agent`: an `--exec` command (whose executable must exist) or a
 * `--module` (imported now, so a broken one is reported before serving).
 * @throws UsageError naming the option when the command is not found or the module fails to load
 */
async function loadWorker(
  o: AgentCliOptions,
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
