import { readFile, stat } from 'node:fs/promises';
import { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode, UsageError } from '../exit.js';
import type { RunEvent } from '../../core/events.js';
import type { FileRunStore } from '../../store/FileRunStore.js';
import { inspectorPort, serveUntilStopped, startInspector } from '../inspectorSession.js';
import { openRunStore, storeDir } from '../runStore.js';
import { StorePatterns } from '../storePatterns.js';

interface InspectOptions {
  trace?: string;
  store?: string;
  port?: string;
}

/** How often `ndf inspect` reads the store again for runs that started or advanced, ms. */
const STORE_POLL_MS = 1000;

/**
 * `ndf inspect [--store <dir>] [--trace <file>]`: serves the inspector page (127.0.0.1) for the
 * runs of a durable run store (`--store`, default the CLI's store: NDF_STORE, else `.nd`), read
 * again every second so runs another process executes appear and advance live, and/or for the
 * runs of a trace written by `ndf run --trace`, until Ctrl-C. With `--trace` alone the store is
 * not read. Resolves with the exit code (0 once stopped, 2 for bad input: no store or an empty
 * one, an unreadable trace, a malformed line, a bad or busy port).
 */
export async function inspectRuns(options: InspectOptions): Promise<number> {
  try {
    const port = await inspectorPort(options.port, '--port');
    const events = options.trace === undefined ? [] : await readTrace(options.trace);
    const fromStore = options.store !== undefined || options.trace === undefined;
    const store = fromStore ? await openExistingStore(options.store) : undefined;
    try {
      const stored = store === undefined ? 0 : (await store.listRuns()).length;
      if (store !== undefined && stored === 0 && options.trace === undefined)
        throw new UsageError(
          `the run store ${store.dir} has no runs yet (ndf run journals its runs there; or give --trace <file.jsonl>)`,
        );
      const patterns = store === undefined ? undefined : await storePatterns();
      const inspector = await startInspector(port, patterns?.lookup, undefined, process.stdout);
      for (const event of events) inspector.publish(event);
      let stopFeed = (): void => undefined;
      if (store !== undefined && patterns !== undefined) {
        const { StoreFeed } = await import('../../inspector/index.js');
        const reported = new Set<string>();
        const feed = new StoreFeed(store, inspector, {
          patternType: patterns.kindOf,
          onRunStarted: (fact) => patterns.learn(fact),
          onError: (error, runId) => {
            const text = `${runId === undefined ? 'run store' : `run ${runId}`}: ${(error as Error).message}`;
            if (reported.has(text)) return;
            reported.add(text);
            process.stderr.write(`${pc.yellow('!')} ${text}\n`);
          },
        });
        await feed.poll();
        stopFeed = feed.start(STORE_POLL_MS);
      }
      const fromTrace = new Set(events.map((e) => e.runId)).size;
      const parts = [
        ...(store === undefined ? [] : [`${runs(stored)} from the store ${store.dir} (watching it)`]),
        ...(options.trace === undefined ? [] : [`${runs(fromTrace)} from ${options.trace}`]),
      ];
      try {
        await serveUntilStopped(inspector, parts.join(', '), process.stdout);
      } finally {
        stopFeed();
      }
    } finally {
      await store?.close();
    }
    return ExitCode.OK;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${pc.red('✖')} ${error.message}\n`);
    return ExitCode.BAD_INPUT;
  }
}

const runs = (n: number): string => `${n} run${n === 1 ? '' : 's'}`;

/**
 * The RunEvents of a trace file.
 * @throws UsageError when it cannot be read or a line is malformed
 */
async function readTrace(file: string): Promise<RunEvent[]> {
  const { parseTrace, TraceParseError } = await import('../../diagram/index.js');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--trace: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  try {
    return parseTrace(text);
  } catch (error) {
    if (error instanceof TraceParseError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

/**
 * Opens the run store of `--store` (default: NDF_STORE, else `.nd`) only if it exists: inspecting
 * must not create a store.
 * @throws UsageError naming the directory when there is none
 */
async function openExistingStore(option: string | undefined): Promise<FileRunStore> {
  const dir = storeDir(option);
  const info = await stat(dir).catch(() => undefined);
  if (info?.isDirectory() !== true) {
    throw new UsageError(
      option !== undefined
        ? `--store: no run store at ${dir}`
        : `inspect: no run store at ${dir} (the default: NDF_STORE, else .nd in the working directory); give --store <dir>, or --trace <file.jsonl> (a trace written by ndf run --trace)`,
    );
  }
  return openRunStore(option);
}

/** The stored runs' patterns, from the workflow files they were started from. */
async function storePatterns(): Promise<StorePatterns> {
  const [{ loadPatternSpecs }, { fromPattern }, { stepNodes }] = await Promise.all([
    import('./diagramPatterns.js'),
    import('../../diagram/index.js'),
    import('../../inspector/stepNodes.js'),
  ]);
  return new StorePatterns(loadPatternSpecs, (name, spec, resolve) =>
    Object.values(stepNodes(fromPattern(name, spec, { resolve })))
      .filter((n) => n.role === 'step')
      .map((n) => (JSON.parse(n.key) as string[]).join('/')),
  );
}

/** `ndf inspect`: the inspector page for the runs of the store or of a trace file. */
export function inspectCommand(): Command {
  return new Command('inspect')
    .description(
      'serve the inspector page (on 127.0.0.1) for the runs of the run store or of a trace file, until Ctrl-C',
    )
    .option(
      '--store <dir>',
      'the run store to show (default, without --trace: NDF_STORE, else .nd in the working directory)',
    )
    .option('-t, --trace <file.jsonl>', 'a trace written by `ndf run --trace`')
    .option('-p, --port <n>', 'TCP port, 0 to 65535 (default 0: any free port; the address is printed)')
    .addHelpText(
      'after',
      `
The page shows each run as a diagram coloured by step state, a step table (status, agent,
attempts, duration, error), circuit-breaker changes and the event log. Runs of the store show
their steps' outputs and are drawn as their pattern's diagram while the workflow file they were
started from still matches; the store is read again every second, so runs started by another
ndf run appear and advance live. A trace holds events, not outputs: to see outputs, inspect the
store or watch the run live with ndf run --inspect.

Examples:
  $ npx ndf inspect                              # the runs of .nd (or NDF_STORE)
  $ npx ndf inspect --store /var/lib/nd --port 4800
  $ npx ndf run workflow.yaml --trace run.jsonl && npx ndf inspect --trace run.jsonl`,
    )
    .action(async (options: InspectOptions) => {
      process.exitCode = await inspectRuns(options);
    });
}
