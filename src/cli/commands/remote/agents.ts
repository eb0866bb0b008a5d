import Table from 'cli-table3';
import { Command } from 'commander';
import type { DiscoveredAgent } from '../../../actors/discoverAgents.js';
import { redactText } from '../../../core/redact.js';
import { ExitCode } from '../../exit.js';
import { connectOrExplain, positiveIntOption, remoteAction } from './remoteAction.js';
import { natsModules, natsOptionsFrom, withNatsOptions, type NatsCliOptions } from './natsCliOptions.js';

interface AgentsCliOptions extends NatsCliOptions {
  json?: boolean;
  timeout: string;
}

function counter(agent: DiscoveredAgent, field: string): number {
  return agent.instances.reduce((sum, i) => {
    const value = (i.stats as Record<string, unknown> | undefined)?.[field];
    return sum + (typeof value === 'number' ? value : 0);
  }, 0);
}

/** Renders discovered agents as a table: name, capabilities, instances, slots and counters. */
export function agentsTable(agents: readonly DiscoveredAgent[]): string {
  const table = new Table({
    style: process.stdout.isTTY ? {} : { head: [], border: [] },
    head: [
      'name',
      'capabilities',
      'instances',
      'slots',
      'requests',
      'succeeded',
      'failed',
      'deduped',
      'in flight',
    ],
  });
  for (const a of agents) {
    table.push([
      a.name,
      a.capabilities.join(', '),
      a.instances.length,
      a.maxConcurrent * a.instances.length,
      a.instances.reduce((s, i) => s + i.requests, 0),
      counter(a, 'succeeded'),
      counter(a, 'failed'),
      counter(a, 'deduplicated'),
      counter(a, 'inFlight'),
    ]);
  }
  return table.toString();
}

/** `ndf agents`: lists the remote agents discovered on NATS (`$SRV.INFO` / `$SRV.STATS`). */
export function agentsCommand(): Command {
  return withNatsOptions(new Command('agents'))
    .description('list remote agents on NATS: name, capabilities, instances and stats')
    .option('--json', 'print the discovered agents as JSON')
    .option('--timeout <ms>', 'how long to collect answers', '500')
    .addHelpText(
      'after',
      `
Examples:
  $ npx ndf agents --nats nats://127.0.0.1:4222
  $ npx ndf agents --nats nats://127.0.0.1:4222 --json | jq '.[].name'`,
    )
    .action(
      remoteAction('agents', async (o: AgentsCliOptions) => {
        const timeoutMs = positiveIntOption('timeout', o.timeout);
        const { NatsTransport, discoverAgents } = await natsModules();
        const options = natsOptionsFrom(o, 'ndf-agents');
        const transport = await connectOrExplain(o.nats, () => NatsTransport.connect(options));
        try {
          const agents = await discoverAgents(transport, { timeoutMs, prefix: o.prefix });
          if (o.json) process.stdout.write(`${JSON.stringify(agents, null, 2)}\n`);
          else if (agents.length === 0)
            process.stdout.write(`no agents found on ${redactText(o.nats)} (prefix ${o.prefix})\n`);
          else process.stdout.write(`${agentsTable(agents)}\n`);
          process.exitCode = ExitCode.OK;
        } finally {
          await transport.close();
        }
      }),
    );
}
