import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { remoteCommands } from './commands/remote/index.js';
import { inspectCommand } from './commands/inspect.js';
import { runCommand } from './commands/run.js';
import { cancelCommand, forkCommand, resumeCommand, signalCommand } from './commands/durable.js';
import { runsCommand } from './commands/runs.js';
import { withNatsAuthOptions } from './commands/remote/natsCliOptions.js';
import { schemaCommand } from './commands/schema.js';
import { traceCommand } from './commands/trace.js';
import { validateCommand } from './commands/validate.js';
import { statsCommand } from './commands/stats.js';
import { submitCommand } from './commands/submit.js';
import { workerCommand } from './commands/worker.js';
import { ExitCode } from './exit.js';

/** The package version (src/cli and dist/cli are both two levels below package.json). */
function packageVersion(): string {
  const pkg: unknown = createRequire(import.meta.url)('../../package.json');
  return z.object({ version: z.string() }).parse(pkg).version;
}

/**
 * The `diagram` command (src/cli/commands/diagram.ts, `diagramCommand()`), imported on demand so
 * that a build without it, or a broken one, does not take `run` and `validate` down with it.
 */
async function optionalDiagramCommand(): Promise<Command | undefined> {
  const specifier = './commands/diagram.js';
  try {
    const mod = (await import(specifier)) as { diagramCommand?: unknown };
    const made: unknown =
      typeof mod.diagramCommand === 'function' ? (mod.diagramCommand as () => unknown)() : undefined;
    return made instanceof Command ? made : undefined;
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      String(error).includes('diagram.')
    ) {
      return undefined;
    }
    const why = error instanceof Error ? error.message : String(error);
    return new Command('diagram')
      .description('draw state diagrams (unavailable: it failed to load)')
      .allowUnknownOption()
      .argument('[args...]')
      .action(() => {
        process.stderr.write(`ndf diagram is unavailable in this build: ${why}\n`);
        process.exitCode = ExitCode.RUN_FAILED;
      });
  }
}

/** Log levels of `--log-level` / `ND_LOG_LEVEL` (pino's). */
const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** Builds the `ndf` program with every subcommand. */
export async function createProgram(): Promise<Command> {
  const program = new Command('ndf')
    .description(
      'natural-delegation: run declarative workflows of agents (sequential, parallel, meta-orchestration)',
    )
    .version(packageVersion())
    .addOption(
      new Option(
        '--log-level <level>',
        'log level of the runtime and NATS clients, on stderr (pino JSON lines); default warn, ' +
          'and for ndf run silent, as it prints runs and breaker changes itself',
      )
        .choices(LOG_LEVELS)
        .env('ND_LOG_LEVEL'),
    )
    .hook('preAction', (thisCommand) => {
      // Every logger (src/core/logger.ts) reads ND_LOG_LEVEL when created; unset, each caller's
      // default holds (warn, or silent for the executor of ndf run).
      const level: unknown = thisCommand.opts()['logLevel'];
      if (level !== undefined) process.env['ND_LOG_LEVEL'] = z.enum(LOG_LEVELS).parse(level);
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  $ npx ndf run examples/data-pipeline/workflow.yaml              run the movie data pipeline
  $ npx ndf run examples/data-pipeline/workflow.yaml --input '{"failAt":"write_report"}' --trace run.jsonl
                                                                  watch a rollback, keep its trace
  $ npx ndf diagram --trace run.jsonl --out run.svg               draw that run, coloured by outcome
  $ npx ndf inspect --trace run.jsonl                             browse that run in the inspector page
  $ npx ndf trace run.jsonl                                       its timeline: critical path, waits, agent load
  $ npx ndf validate my-workflow.yaml                             check a file (exit 2 on problems)
  $ npx ndf run my-workflow.yaml --dry-run                        print the plan
  $ npx ndf schema --out docs/workflow.schema.json                JSON Schema for editors
  $ npx ndf worker wf.yaml --nats nats://127.0.0.1:4222           serve runs from NATS JetStream (scale out)
  $ npx ndf submit wf.yaml --nats nats://127.0.0.1:4222 --wait    run it on those workers

Logs (pino JSON lines on stderr) are quiet by default (warn); ask for more with
--log-level info|debug or ND_LOG_LEVEL=debug, e.g. npx ndf --log-level info agents --nats …

In a checkout the command is npx ndf (ndf is on PATH only once the package is installed).
Workflow files are documented in docs/workflow.md.`,
    );
  program.addCommand(withNatsAuthOptions(runCommand())); // credentials of `run --nats`
  program.addCommand(validateCommand());
  program.addCommand(runsCommand());
  program.addCommand(resumeCommand());
  program.addCommand(cancelCommand());
  program.addCommand(signalCommand());
  program.addCommand(forkCommand());
  program.addCommand(workerCommand());
  program.addCommand(submitCommand());
  program.addCommand(schemaCommand());
  program.addCommand(traceCommand());
  program.addCommand(statsCommand());
  const diagram = await optionalDiagramCommand();
  if (diagram) program.addCommand(diagram);
  program.addCommand(inspectCommand());
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
