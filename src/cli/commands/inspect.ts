import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode, UsageError } from '../exit.js';
import { inspectorPort, serveUntilStopped, startInspector } from '../inspectorSession.js';

interface InspectOptions {
  trace?: string;
  port?: string;
}

/**
 * `ndf inspect --trace <file>`: serves the inspector page (127.0.0.1) for the runs of a trace
 * written by `ndf run --trace`, until Ctrl-C. Resolves with the exit code (0 once stopped,
 * 2 for bad input: no or unreadable trace, a malformed line, a bad or busy port).
 */
export async function inspectTrace(options: InspectOptions): Promise<number> {
  try {
    if (options.trace === undefined)
      throw new UsageError('inspect: give --trace <file.jsonl> (a trace written by ndf run --trace)');
    const port = await inspectorPort(options.port, '--port');
    const { parseTrace, TraceParseError } = await import('../../diagram/index.js');
    let text: string;
    try {
      text = await readFile(options.trace, 'utf8');
    } catch (error) {
      throw new UsageError(
        `--trace: cannot read ${options.trace}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
    let events;
    try {
      events = parseTrace(text);
    } catch (error) {
      if (error instanceof TraceParseError) throw new UsageError(`${options.trace}: ${error.message}`);
      throw error;
    }
    const inspector = await startInspector(port, undefined, undefined, process.stdout);
    for (const event of events) inspector.publish(event);
    const runs = new Set(events.map((e) => e.runId)).size;
    await serveUntilStopped(
      inspector,
      `${runs} run${runs === 1 ? '' : 's'} from ${options.trace}`,
      process.stdout,
    );
    return ExitCode.OK;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${pc.red('✖')} ${error.message}\n`);
    return ExitCode.BAD_INPUT;
  }
}

/** `ndf inspect`: the inspector page for finished runs. */
export function inspectCommand(): Command {
  return new Command('inspect')
    .description('serve the inspector page (on 127.0.0.1) for the runs of a trace file, until Ctrl-C')
    .option('-t, --trace <file.jsonl>', 'a trace written by `ndf run --trace`')
    .option('-p, --port <n>', 'TCP port, 0 to 65535 (default 0: any free port; the address is printed)')
    .addHelpText(
      'after',
      `
The page shows each run as a diagram coloured by step state, a step table (status, agent,
attempts, duration, error), circuit-breaker changes and the event log. A trace holds events,
not outputs: to see outputs, watch the run live with ndf run --inspect.

Examples:
  $ npx ndf run workflow.yaml --trace run.jsonl && npx ndf inspect --trace run.jsonl
  $ npx ndf inspect --trace run.jsonl --port 4800`,
    )
    .action(async (options: InspectOptions) => {
      process.exitCode = await inspectTrace(options);
    });
}
