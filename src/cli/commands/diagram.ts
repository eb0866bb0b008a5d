import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import pc from 'picocolors';
import writeFileAtomic from 'write-file-atomic';
import {
  fromMachine,
  fromPatterns,
  fromTrace,
  parseTrace,
  renderSvg,
  toDot,
  toMermaid,
} from '../../diagram/index.js';
import type { Diagram } from '../../diagram/index.js';
import type { PatternSpec } from '../../core/spec.js';
import { ExitCode, UsageError } from '../exit.js';
import { isWorkflowError } from '../workflow/issues.js';
import { builtInMachines, type BuiltInMachine } from './diagramMachines.js';
import { loadPatternSpecs } from './diagramPatterns.js';
import { reportLoadError } from './validate.js';

type Format = 'mermaid' | 'dot' | 'svg';

interface DiagramOptions {
  format?: Format;
  out?: string;
  list?: boolean;
  workflow?: string;
  pattern?: string;
  trace?: string;
  direction: 'TB' | 'LR';
}

/** What `diagramCommand` reads; tests pass their own. */
export interface DiagramCommandDeps {
  /** Machines by name (default: the built-in machines). */
  readonly machines?: Readonly<Record<string, BuiltInMachine>> | undefined;
  /** Pattern specs of a workflow file by name (default: the workflow loader). */
  readonly loadPatterns?: ((file: string) => Promise<ReadonlyMap<string, PatternSpec>>) | undefined;
}

/** Extensions of --out and the format each means. */
const EXTENSIONS: Record<string, Format> = {
  '.svg': 'svg',
  '.dot': 'dot',
  '.gv': 'dot',
  '.mmd': 'mermaid',
  '.mermaid': 'mermaid',
  '.md': 'mermaid',
};
/** Image formats ndf cannot write (only text and SVG). */
const IMAGES = new Set(['.png', '.jpg', '.jpeg', '.gif', '.webp', '.pdf', '.bmp', '.tif', '.tiff']);

/**
 * The output format: --format, else from the extension of --out, else mermaid.
 * @throws UsageError for an image extension (PNG…: text would land in a file named as an image)
 *   and, without --format, for an extension it does not know
 */
function formatOf(options: DiagramOptions): Format {
  const ext = path.extname(options.out ?? '').toLowerCase();
  if (IMAGES.has(ext))
    throw new UsageError(
      `--out ${options.out}: ${ext.slice(1).toUpperCase()} is not supported; write .svg (then convert it, e.g. rsvg-convert -o x.png x.svg), .dot/.gv, .mmd or .md`,
    );
  if (options.format !== undefined) return options.format;
  if (options.out === undefined) return 'mermaid';
  const format = EXTENSIONS[ext];
  if (format === undefined)
    throw new UsageError(
      `--out ${options.out}: cannot tell the format from "${ext || '(no extension)'}"; use .svg, .dot/.gv, .mmd or .md, or give --format`,
    );
  return format;
}

async function buildDiagram(
  target: string | undefined,
  options: DiagramOptions,
  deps: Required<DiagramCommandDeps>,
): Promise<Diagram> {
  const sources = [target, options.workflow, options.trace].filter((s) => s !== undefined);
  if (sources.length !== 1)
    throw new UsageError('give one of: a machine name, --workflow <file>, --trace <file> (see --list)');
  if (options.trace !== undefined) {
    const text = await readFile(options.trace, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`--trace: cannot read ${options.trace}: ${error.code ?? String(error)}`);
    });
    return fromTrace(parseTrace(text));
  }
  if (options.workflow !== undefined) {
    const specs = await deps.loadPatterns(options.workflow);
    if (options.pattern === undefined) return fromPatterns(specs, { title: path.basename(options.workflow) });
    const spec = specs.get(options.pattern);
    if (spec === undefined)
      throw new UsageError(
        `--pattern: no pattern ${options.pattern} in ${options.workflow} (has: ${[...specs.keys()].join(', ')})`,
      );
    return fromPatterns([[options.pattern, spec]], {
      title: options.pattern,
      resolve: (name) => specs.get(name),
    });
  }
  const entry = deps.machines[target ?? ''];
  if (entry === undefined)
    throw new UsageError(`unknown machine ${target ?? ''}: one of ${Object.keys(deps.machines).join(', ')}`);
  return fromMachine(entry.machine, { title: `${target ?? ''} machine` });
}

async function render(diagram: Diagram, format: Format, options: DiagramOptions): Promise<string> {
  if (format === 'mermaid') {
    const text = toMermaid(diagram, { direction: options.direction });
    return options.out?.toLowerCase().endsWith('.md') ? `\`\`\`mermaid\n${text}\`\`\`\n` : text;
  }
  const dot = toDot(diagram, { rankdir: options.direction });
  return format === 'dot' ? dot : renderSvg(dot);
}

function fail(error: unknown): ExitCode {
  if (isWorkflowError(error)) return reportLoadError(error);
  if (error instanceof Error && ['UsageError', 'TraceParseError'].includes(error.name)) {
    process.stderr.write(`${pc.red('✖')} ${error.message}\n`);
    return ExitCode.BAD_INPUT;
  }
  throw error;
}

/**
 * `ndf diagram`: state diagrams as Mermaid stateDiagram-v2, Graphviz DOT or SVG (rendered
 * offline) of a built-in machine, of the patterns of a workflow file, or of a finished run from
 * its trace (each step coloured by its final status). Exit code 2 on bad input.
 *
 * @example
 * program.addCommand(diagramCommand());
 */
export function diagramCommand(deps: DiagramCommandDeps = {}): Command {
  const full: Required<DiagramCommandDeps> = {
    machines: deps.machines ?? builtInMachines,
    loadPatterns: deps.loadPatterns ?? loadPatternSpecs,
  };
  return new Command('diagram')
    .description(
      "draw state diagrams (Mermaid, DOT, SVG) of a built-in machine, a workflow's patterns or a finished run",
    )
    .argument('[machine]', `built-in machine: ${Object.keys(full.machines).join(', ')}`)
    .option('--list', 'list the built-in machines')
    .option(
      '-w, --workflow <file>',
      'draw the patterns of a workflow file (YAML/JSON) or a PatternSpec JSON file',
    )
    .option(
      '-p, --pattern <name>',
      "with --workflow: only this pattern (meta patterns show their phases' patterns in full)",
    )
    .option('-t, --trace <file>', 'draw a finished run from its trace (ndf run --trace <file.jsonl>)')
    .addOption(
      new Option('-f, --format <format>', 'output format (default: from --out, else mermaid)').choices([
        'mermaid',
        'dot',
        'svg',
      ]),
    )
    .option(
      '-o, --out <file>',
      'write to a file (.svg, .dot/.gv, .mmd, .md = fenced Mermaid) instead of stdout',
    )
    .addOption(new Option('--direction <dir>', 'layout direction').choices(['TB', 'LR']).default('TB'))
    .addHelpText(
      'after',
      `
Colours (trace diagrams): completed green, failed red, compensated/rolled back orange,
skipped/cancelled grey, running blue, retrying amber. Compensation edges are dashed.
Open an SVG in any browser; paste Mermaid into a Markdown file or https://mermaid.live.

Examples:
  $ npx ndf diagram --list
  $ npx ndf diagram step                                    Mermaid of the step machine
  $ npx ndf diagram circuitBreaker -o breaker.svg           SVG (format from the extension)
  $ npx ndf diagram --workflow examples/data-pipeline/workflow.yaml -f dot
  $ npx ndf diagram --workflow workflow.yaml --pattern main -o main.svg
  $ npx ndf run workflow.yaml --trace run.jsonl; npx ndf diagram --trace run.jsonl -o run.svg`,
    )
    .action(async (target: string | undefined, options: DiagramOptions) => {
      try {
        if (options.list) {
          const width = Math.max(...Object.keys(full.machines).map((n) => n.length));
          for (const [name, m] of Object.entries(full.machines))
            process.stdout.write(`${name.padEnd(width)}  ${m.description}\n`);
          process.exitCode = ExitCode.OK;
          return;
        }
        const format = formatOf(options);
        const diagram = await buildDiagram(target, options, full);
        const text = await render(diagram, format, options);
        if (options.out === undefined) process.stdout.write(text);
        else {
          await writeFileAtomic(options.out, text);
          const states = diagram.nodes.filter((n) => n.kind !== 'initial').length;
          process.stderr.write(
            `${pc.green('✔')} wrote ${options.out} (${format}, ${states} states, ${diagram.edges.length} transitions)\n`,
          );
        }
        process.exitCode = ExitCode.OK;
      } catch (error) {
        process.exitCode = fail(error);
      }
    });
}
