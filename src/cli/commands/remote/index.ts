import type { Command } from 'commander';

/** Subcommands that talk to NATS (`agent`, `agents`, `resolver`), added to the `ndf` program. */
export const remoteCommands: Command[] = [];
