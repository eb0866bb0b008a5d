import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import pc from 'picocolors';
import writeFileAtomic from 'write-file-atomic';
import { ExitCode, UsageError } from '../exit.js';
import { renderTimeline } from '../output/timeline.js';
import { ganttHtml, ganttSvg } from '../../tracing/gantt.js';
import { analyzeTimeline, type RunTimeline } from '../../tracing/timeline.js';
import { readTraceFile } from '../../tracing/traceFile.js';

interface TraceOptions {
  format: 'text' | 'svg' | 'html';
  out?: string;
  run?: string;
  width?: string;
}

/** The runs of the trace, or the one named by `--run` (a prefix of its id). */
function pick(runs: RunTimeline[], run: string | undefined, file: string): RunTimeline[] {
  if (runs.length === 0) throw new UsageError(`${file}: no run in this trace (no run.started event)`);
  if (run === undefined) return runs;
  const found = runs.filter((r) => r.runId.startsWith(run));
  if (found.length === 0)
    throw new UsageError(
      `--run ${run}: no such run in ${file} (runs: ${runs.map((r) => r.runId).join(', ')})`,
    );
  return found;
}

async function traceAction(file: string, options: TraceOptions): Promise<ExitCode> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const contents = readTraceFile(text);
  const runs = pick(analyzeTimeline(contents.spans), options.run, file);
  let output: string;
  if (options.format === 'svg') {
    if (runs.length > 1)
      throw new UsageError(
        `${file} holds ${runs.length} runs: pick one with --run <id> for an SVG, or use --format html`,
      );
    output = `${ganttSvg(runs[0] as RunTimeline)}\n`;
  } else if (options.format === 'html') output = ganttHtml(runs, `Trace ${file}`);
  else {
    const width =
      options.width === undefined
        ? Math.max(20, Math.min(100, (process.stdout.columns || 100) - 50))
        : Number(options.width);
    if (!Number.isInteger(width) || width < 10 || width > 400)
      throw new UsageError(`--width: ${options.width ?? ''} is not a whole number of columns from 10 to 400`);
    output = `${runs.map((r) => renderTimeline(r, width)).join('\n\n')}\n`;
    if (contents.replayed)
      output += pc.dim(
        '(spans rebuilt from the run events: record with ndf run --trace-level detailed for waits)\n',
      );
  }
  if (options.out === undefined) process.stdout.write(output);
  else {
    await writeFileAtomic(options.out, output);
    process.stderr.write(
      `${pc.green('✔')} wrote ${options.out} (${options.format}, ${runs.length} run(s))\n`,
    );
  }
  return ExitCode.OK;
}

/**
 * `ndf trace <run.jsonl>`: timeline analysis of a trace written by `ndf run --trace` (critical
 * path, per-step running vs waiting, per-agent utilisation and concurrency, retries), as text, or
 * a Gantt chart as SVG or an HTML page. Exit code 2 on bad input.
 */
export function traceCommand(): Command {
  return new Command('trace')
    .description('analyse a run trace (ndf run --trace): timeline, critical path, waits, agent load')
    .argument('<file>', 'a JSONL trace written by ndf run --trace')
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['text', 'svg', 'html']).default('text'),
    )
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('--run <id>', 'only the run whose id starts with this (a trace file may hold several)')
    .option('--width <columns>', 'text: columns of the timeline (default: fits the terminal)')
    .addHelpText(
      'after',
      `
Examples:
  $ npx ndf run workflow.yaml --trace run.jsonl --trace-level detailed
  $ npx ndf trace run.jsonl                      timeline and tables in the terminal
  $ npx ndf trace run.jsonl --format svg -o run.svg
  $ npx ndf trace run.jsonl --format html -o run.html
Traces written before span records existed are replayed from their events (no wait spans).`,
    )
    .action(async (file: string, options: TraceOptions) => {
      try {
        process.exitCode = await traceAction(file, options);
      } catch (error) {
        if (error instanceof Error && ['UsageError', 'TraceParseError'].includes(error.name)) {
          process.stderr.write(`${pc.red('✖')} ${error.message}\n`);
          process.exitCode = ExitCode.BAD_INPUT;
          return;
        }
        throw error;
      }
    });
}
