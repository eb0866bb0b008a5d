import { Command, Option } from 'commander';
import type { ConflictStrategy, DeadlockPrevention } from '../../../resolver/lockTypes.js';
import { redactText } from '../../../core/redact.js';
import { ExitCode } from '../../exit.js';
import {
  natsModules,
  natsOptionsFrom,
  untilSignal,
  withNatsOptions,
  type NatsCliOptions,
} from './natsCliOptions.js';
import { connectOrExplain, remoteAction } from './remoteAction.js';

interface ResolverCliOptions extends NatsCliOptions {
  strategy: ConflictStrategy;
  prevention: DeadlockPrevention;
  preemption?: boolean;
}

/** `ndf resolver`: runs the conflict resolver as a standalone service on NATS until interrupted. */
export function resolverCommand(): Command {
  return withNatsOptions(new Command('resolver'))
    .description(
      'run the conflict resolver (named resource locks with priorities, leases and deadlock detection) on NATS',
    )
    .addOption(
      new Option('--strategy <name>', 'conflict strategy')
        .choices(['priority', 'queue', 'deadline', 'adaptive'])
        .default('priority'),
    )
    .addOption(
      new Option('--prevention <name>', 'deadlock prevention on top of detection')
        .choices(['none', 'ordered', 'woundWait'])
        .default('none'),
    )
    .option('--preemption', 'let higher-priority waiters take resources from lower-priority holders')
    .addHelpText(
      'after',
      `
Run one resolver per subject prefix. Clients renew their leases; when a holder dies its
resources go to the next waiter after its lease (default 10 s).

Examples:
  $ npx ndf resolver --nats nats://127.0.0.1:4222
  $ npx ndf resolver --nats nats://127.0.0.1:4222 --strategy deadline --prevention woundWait`,
    )
    .action(
      remoteAction('resolver', async (o: ResolverCliOptions) => {
        const { NatsTransport, ConflictResolver, serveConflictResolver } = await natsModules();
        const options = natsOptionsFrom(o, 'ndf-resolver');
        const transport = await connectOrExplain(o.nats, () => NatsTransport.connect(options));
        const resolver = new ConflictResolver({
          strategy: o.strategy,
          prevention: o.prevention,
          preemption: o.preemption ?? false,
        });
        const served = await serveConflictResolver({ transport, resolver, prefix: o.prefix });
        process.stdout.write(
          `conflict resolver (${served.id}) serving ${o.prefix}.resolver.* on ${redactText(o.nats)}; Ctrl-C to stop\n`,
        );
        await untilSignal();
        await served.stop();
        resolver.close();
        await transport.close();
        process.exitCode = ExitCode.OK;
      }),
    );
}
