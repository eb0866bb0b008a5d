import { Command, CommanderError } from 'commander';
import { remoteCommands } from './commands/remote/index.js';
import { runCommand } from './commands/run.js';
import { schemaCommand } from './commands/schema.js';
import { validateCommand } from './commands/validate.js';
import { ExitCode } from './exit.js';

const VERSION = '0.1.0';

/**
 * The `diagram` command, when this build has it (src/cli/commands/diagram.ts exports a
 * factory returning a commander Command).
 */
async function optionalDiagramCommand(): Promise<Command | undefined> {
  const specifier = './commands/diagram.js';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  for (const [name, value] of Object.entries(mod)) {
    if (!/diagram/i.test(name) || typeof value !== 'function') continue;
    const made: unknown = (value as () => unknown)();
    if (made instanceof Command) return made;
  }
  return undefined;
}

/** Builds the `ndf` program with every subcommand. */
export async function createProgram(): Promise<Command> {
  const program = new Command('ndf')
    .description(
      'natural-delegation: run declarative workflows of agents (sequential, parallel, meta-orchestration)',
    )
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  $ ndf run examples/data-pipeline/workflow.yaml              run the movie data pipeline
  $ ndf run examples/data-pipeline/workflow.yaml --input '{"failAt":"write_report"}'   watch a rollback
  $ ndf validate my-workflow.yaml                             check a file (exit 2 on problems)
  $ ndf run my-workflow.yaml --dry-run                        print the plan
  $ ndf schema --out docs/workflow.schema.json                JSON Schema for editors

Workflow files are documented in docs/workflow.md.`,
    );
  program.addCommand(runCommand());
  program.addCommand(validateCommand());
  program.addCommand(schemaCommand());
  const diagram = await optionalDiagramCommand();
  if (diagram) program.addCommand(diagram);
  for (const command of remoteCommands) program.addCommand(command);
  return program;
}

/** Runs the CLI on `argv` (process.argv shape); resolves with the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = await createProgram();
  program.exitOverride();
  program.commands.forEach((command) => command.exitOverride());
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
      return ok ? ExitCode.OK : ExitCode.BAD_INPUT;
    }
    throw error;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK;
}
