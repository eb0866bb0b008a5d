import { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode } from '../exit.js';
import { loadWorkflow } from '../workflow/load.js';
import type { LoadOptions } from '../workflow/load.js';
import { isWorkflowError } from '../workflow/issues.js';

/** Prints a workflow error (or any error) to stderr and returns the exit code for it. */
export function reportLoadError(error: unknown): ExitCode {
  if (isWorkflowError(error)) {
    process.stderr.write(`${pc.red('✖')} ${error.message}\n${error.report()}\n`);
    return ExitCode.BAD_INPUT;
  }
  throw error;
}

/**
 * How `ndf validate` and `ndf run --dry-run` load a file: statically (commands, module and
 * .creds files checked, nothing imported or contacted) unless `deep`, which builds the agents.
 */
export function loadMode(deep: boolean): LoadOptions {
  return deep ? {} : { buildAgents: false, checkFiles: true };
}

/** `ndf validate <file>`: checks a workflow file without running it. */
export function validateCommand(): Command {
  return new Command('validate')
    .description('check a workflow file: syntax, schema, references, cycles, commands and module files')
    .argument('<file>', 'workflow file (.yaml, .yml or .json)')
    .option('--json', 'print the result as one JSON object ({ valid, issues })')
    .option('--deep', 'also import module agents and connect to the NATS servers the file names')
    .addHelpText(
      'after',
      `
Every problem is reported as  file:line:col field.path: message  and the exit code is 2.
Validation is static: commands of command agents must exist (on PATH or relative to their cwd)
and module and .creds files must be there, but no code of the file's runs and no server is
contacted. --deep imports modules (one that throws at import is reported) and connects to
the NATS servers of nats agents.

Examples:
  $ npx ndf validate examples/data-pipeline/workflow.yaml
  $ npx ndf validate my-workflow.json --json
  $ npx ndf validate workflow.yaml --deep            # imports modules, probes NATS servers`,
    )
    .action(async (file: string, options: { json?: boolean; deep?: boolean }) => {
      try {
        const { workflow, agents } = await loadWorkflow(file, loadMode(options.deep === true));
        await Promise.all(agents.map(async (agent) => agent.close?.()));
        if (options.json) process.stdout.write(`${JSON.stringify({ valid: true, file, issues: [] })}\n`);
        else {
          const target =
            workflow.run.pattern ?? `the best pattern for domain ${workflow.run.context?.domain ?? '?'}`;
          const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
          const counts = `${plural(Object.keys(workflow.agents).length, 'agent')}, ${plural(Object.keys(workflow.patterns).length, 'pattern')}`;
          process.stdout.write(`${pc.green('✔')} ${file} is valid: ${counts}; runs ${target}\n`);
        }
        process.exitCode = ExitCode.OK;
      } catch (error) {
        if (options.json && isWorkflowError(error)) {
          process.stdout.write(`${JSON.stringify({ valid: false, file, issues: error.issues })}\n`);
          process.exitCode = ExitCode.BAD_INPUT;
          return;
        }
        process.exitCode = reportLoadError(error);
      }
    });
}
