import type { Command } from 'commander';
import { agentCommand } from './agent.js';
import { agentsCommand } from './agents.js';
import { resolverCommand } from './resolver.js';

/** Subcommands that talk to NATS (`agent`, `agents`, `resolver`), added to the `ndf` program. */
export const remoteCommands: Command[] = [agentCommand(), agentsCommand(), resolverCommand()];
