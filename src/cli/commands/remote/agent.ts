import path from 'node:path';
import { Command } from 'commander';
import { createCommandAgent } from '../../../actors/commandAgent.js';
import { loadModuleAgent } from '../../../actors/moduleAgent.js';
import type { Agent } from '../../../core/agent.js';
import { ExitCode } from '../../exit.js';
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
  $ ndf agent --nats nats://127.0.0.1:4222 --name summarizer --capabilities summarize --module ./summarize.js
  $ ndf agent --nats nats://127.0.0.1:4222 --name linter --capabilities lint --max-concurrent 2 --exec python3 lint.py
  $ ndf agents --nats nats://127.0.0.1:4222        # see it (and its other instances)`,
    )
    .action(async (o: AgentCliOptions) => {
      if (Boolean(o.exec) === Boolean(o.module)) {
        process.stderr.write('ndf agent: give exactly one of --exec <argv…> or --module <file>\n');
        process.exitCode = ExitCode.BAD_INPUT;
        return;
      }
      const capabilities = o.capabilities
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      const maxConcurrent = Number(o.maxConcurrent);
      let worker: Agent;
      try {
        worker = o.exec
          ? createCommandAgent({
              id: o.name,
              capabilities,
              maxConcurrent,
              command: o.exec,
              ...(o.timeout ? { timeoutMs: Number(o.timeout) } : {}),
              source: '--exec',
            })
          : await loadModuleAgent({
              id: o.name,
              capabilities,
              maxConcurrent,
              module: path.resolve(o.module ?? ''),
              ...(o.export ? { export: o.export } : {}),
              source: '--module',
            });
      } catch (error) {
        process.stderr.write(`ndf agent: ${(error as Error).message}\n`);
        process.exitCode = ExitCode.BAD_INPUT;
        return;
      }
      const { NatsTransport, serveAgent } = await natsModules();
      const transport = await NatsTransport.connect(natsOptionsFrom(o, `ndf-agent-${o.name}`));
      const served = await serveAgent({
        transport,
        name: o.name,
        capabilities,
        maxConcurrent,
        prefix: o.prefix,
        handler: (task) => worker.execute(task),
        ...(worker.compensate ? { compensate: (task) => worker.compensate?.(task) } : {}),
      });
      process.stdout.write(
        `agent ${o.name} (${served.id}) serving ${capabilities.join(', ')} on ${o.nats}; Ctrl-C to stop\n`,
      );
      await untilSignal();
      await served.stop();
      await worker.close?.();
      await transport.close();
      process.exitCode = ExitCode.OK;
    });
}
